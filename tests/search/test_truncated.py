"""A word cut short inside a query, as notes write them, also stands for the words it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.index import Catalog
from medcodes.search import search

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full(full_index: Path) -> Catalog:
    return Catalog(full_index)


@pytest.mark.parametrize(("q", "code"), [
    ("hepatic enceph", "K76.82"),  # "enceph" is only an ICD-9 short-title word
    ("rhabdo 2/2 fall", "M62.82"),  # "rhabdo" is no word at all
])
def test_a_truncated_word_inside_a_query(full: Catalog, q: str, code: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10cm"], limit=5)["results"]]
    assert found[0] == code, found
