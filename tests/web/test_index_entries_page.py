"""A code page's "Index entries": each entry with its path through the official index, the references
made on it or on an entry above it, and the entries that send the coder to it (terms.path, term_refs)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from medcodes.app.build import build_from_records
from medcodes.index import Catalog
from medcodes.model import Code, Record, Reference, Release, Term
from medcodes.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

MAIN = "Pain(s) (see also Painful)"
RECORDS: list[Record] = [
    Release("icd10cm", "ICD-10-CM test release", "2025-10-01"),
    Code("icd10cm", "R10.9", "Unspecified abdominal pain", billable=True),
    Code("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications", billable=True),
    Term("icd10cm", "R10.9", f"{MAIN}, abdominal", "index", (MAIN, "abdominal")),
    Term("icd10cm", "E11.9", "Diabetes, diabetic (mellitus) (sugar), type 2", "index",
         ("Diabetes, diabetic (mellitus) (sugar)", "type 2")),
    Term("icd10cm", "E11.9", "Insulin, adverse effect — Adverse effect", "drug", ("Insulin", "adverse effect",
                                                                             "Adverse effect")),
    Reference("icd10cm", MAIN, "see_also", "Painful", "index", (MAIN,)),
    Reference("icd10cm", "Abdominalgia", "see", "Pain, abdominal", "index", ("Abdominalgia",)),
    Reference("icd10cm", "Colic, abdominal", "see", "Pain, abdominal", "index", ("Colic", "abdominal")),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("index-entries") / "idx.sqlite"
    build_from_records(RECORDS, out)
    return out


@pytest.fixture(scope="module")
def client(index: Path) -> Iterator[TestClient]:
    with TestClient(create_app(index, store=index.with_name("store.sqlite")), follow_redirects=False) as c:
        yield c


def _section(html: str) -> str:
    m = re.search(r'<section aria-labelledby="index-h".*?</section>', html, re.S)
    assert m, "no Index entries section"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(0)))


def test_the_code_data_carries_paths_and_references(index: Path) -> None:
    terms = {t["term"]: t for t in Catalog(index).official("icd10cm", "R10.9").to_json()["index_terms"]}
    entry = terms[f"{MAIN}, abdominal"]
    assert entry["path"] == [MAIN, "abdominal"]
    assert entry["refs"] == [{"kind": "see_also", "term": MAIN, "target": "Painful"}]  # made on the main term
    assert [r["term"] for r in entry["referred_by"]] == ["Abdominalgia", "Colic, abdominal"]


def test_the_page_shows_each_path_and_its_references(client: TestClient) -> None:
    s = _section(client.get("/codes/icd10cm/R10.9").text)
    assert f"{MAIN} › abdominal — Alphabetic Index" in s
    assert f"see also Painful (at {MAIN})" in s
    assert "Reached also from: Abdominalgia see Pain, abdominal; Colic, abdominal see Pain, abdominal" in s


def test_a_table_entry_shows_its_column(client: TestClient) -> None:
    s = _section(client.get("/codes/icd10cm/E11.9").text)
    assert "Diabetes, diabetic (mellitus) (sugar) › type 2 — Alphabetic Index" in s
    assert "Insulin › adverse effect › Adverse effect — Table of Drugs and Chemicals" in s
    assert "see also" not in s and "Reached also from" not in s
