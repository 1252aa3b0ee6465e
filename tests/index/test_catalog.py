"""Builder and catalog on hand-made records: hierarchy, order, notes inheritance, atomicity."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.errors import MedcodesError, NotFound, SourceError
from medcodes.index import Catalog
from medcodes.index.build import build_from_records, build_index
from medcodes.model import Code, Note, Relation, Release, Term

RECORDS = [
    Release("icd10cm", "ICD-10-CM test release"),
    Code("icd10cm", "E00-E89", "Endocrine, nutritional and metabolic diseases", kind="chapter"),
    Code("icd10cm", "E08-E13", "Diabetes mellitus", kind="block", parent="E00-E89",
         notes=(Note("note", "block note"),)),
    Code("icd10cm", "E11", "Type 2 diabetes mellitus", kind="category", parent="E08-E13", billable=False,
         notes=(Note("inclusion", "diabetes NOS"), Note("excludes1", "gestational diabetes (O24.4-)"),
                Note("use_additional", "code to identify insulin use (Z79.4)"))),
    Code("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications", parent="E11", billable=True),
    Code("icd10cm", "E11.65", "Type 2 diabetes mellitus with hyperglycemia", parent="E11", billable=True),
    Code("icd10cm", "E10", "Type 1 diabetes mellitus", kind="category", parent="E08-E13", billable=False),
    Code("icd10cm", "E11.9", short_title="Type 2 diabetes mellitus w/o complications"),
    Term("icd10cm", "E11.9", "Diabetes, type 2", "index"),
    Release("icd9cm", "ICD-9-CM test release"),
    Code("icd9cm", "250.00", "Diabetes mellitus without mention of complication, type II", billable=True),
    Code("msdrg", "250", "Percutaneous cardiovascular procedures", billable=True),
    Relation("gem", "icd9cm", "250.00", "icd10cm", "E11.9", {"approximate": True}),
]


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    out = tmp_path / "idx.sqlite"
    build_from_records(RECORDS, out)
    return Catalog(out)


def test_official_data_merges_sources_and_resolves_hierarchy(catalog: Catalog) -> None:
    d = catalog.official("icd10cm", "e119").to_json()
    assert d["code"] == "E11.9" and d["title"] == "Type 2 diabetes mellitus without complications"
    assert d["short_title"] == "Type 2 diabetes mellitus w/o complications"
    assert d["billable"] is True and d["release"] == "ICD-10-CM test release"
    assert [a["code"] for a in d["ancestors"]] == ["E00-E89", "E08-E13", "E11"]
    assert d["index_terms"] == [{"term": "Diabetes, type 2", "source": "index", "path": [], "refs": [],
                                 "referred_by": []}]


def test_notes_inherited_from_ancestors_but_not_inclusion_terms(catalog: Catalog) -> None:
    notes = catalog.official("icd10cm", "E11.9").to_json()["notes"]
    assert {"type": "excludes1", "text": "gestational diabetes (O24.4-)", "from": "E11"} in notes
    assert {"type": "note", "text": "block note", "from": "E08-E13"} in notes
    assert not any(n["type"] == "inclusion" for n in notes)


def test_children_in_code_order_and_ranges(catalog: Catalog) -> None:
    assert [c["code"] for c in catalog.official("icd10cm", "E08-E13").to_json()["children"]] == ["E10", "E11"]
    assert [r["code"] for r in catalog.code_range("icd10cm", "E10", "E11")] == ["E10", "E11", "E11.65", "E11.9"]


def test_crosswalks_both_directions(catalog: Catalog) -> None:
    x = catalog.official("icd10cm", "E11.9").to_json()["crosswalks"]
    assert x == [{"direction": "from", "type": "gem", "system": "icd9cm", "code": "250.00",
                  "attributes": {"approximate": True},
                  "title": "Diabetes mellitus without mention of complication, type II"}]


def test_ambiguous_code_found_in_every_system(catalog: Catalog) -> None:
    assert {r["system"] for r in catalog.find("250")} == {"msdrg"}
    assert {r["system"] for r in catalog.find("25000")} == {"icd9cm"}
    with pytest.raises(NotFound):
        catalog.row("icd10cm", "Z99.99")


def test_failed_build_leaves_previous_index(tmp_path: Path) -> None:
    out = tmp_path / "idx.sqlite"
    build_from_records(RECORDS, out)
    before = out.read_bytes()
    with pytest.raises(SourceError, match="no such file"):
        build_index([("icd10cm", tmp_path / "missing.xml")], out)
    bad = tmp_path / "bad.xml"
    bad.write_text("<ICD10CM.tabular><chapter>")
    with pytest.raises(MedcodesError):
        build_index([("icd10cm", bad)], out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".building")] == []


def test_not_an_index_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(MedcodesError, match="not a medcodes index"):
        Catalog(junk)


def _release(name: str, effective: str, codes: dict[str, str]) -> list:  # type: ignore[type-arg]
    return [Release("icd10cm", name, effective)] + [
        Code("icd10cm", c, t, billable=True) for c, t in codes.items()
    ]


def test_two_releases_give_history_and_newest_titles(tmp_path: Path) -> None:
    old = _release("FY2025", "2024-10-01", {"A00.0": "Cholera old", "A00.1": "Gone", "A00.9": "Same"})
    new = _release("FY2026", "2025-10-01", {"A00.0": "Cholera new", "A00.2": "Added", "A00.9": "same"})
    out = tmp_path / "h.sqlite"
    build_from_records(new + old, out)  # given newest first: order of effective dates decides
    cat = Catalog(out)
    rows = cat.conn.execute("SELECT code, change, old_title, new_title FROM history ORDER BY code").fetchall()
    assert [tuple(r) for r in rows] == [
        ("A00.0", "revised", "Cholera old", "Cholera new"),
        ("A00.1", "deleted", "Gone", None),
        ("A00.2", "added", None, "Added"),
    ]
    assert cat.row("icd10cm", "A00.0")["title"] == "Cholera new"
    gone = cat.row("icd10cm", "A00.1")
    assert gone["billable"] == 0 and gone["deleted_in"] == "FY2026"


def test_as_of_a_date(tmp_path: Path) -> None:
    old = _release("FY2025", "2024-10-01", {"A00.0": "Cholera old", "A00.1": "Gone"})
    new = _release("FY2026", "2025-10-01", {"A00.0": "Cholera new", "A00.10": "Split one", "A00.11": "Two"})
    out = tmp_path / "h.sqlite"
    build_from_records(old + new, out)
    cat = Catalog(out)
    then = cat.as_of("icd10cm", "A00.0", "2025-01-15").to_json()
    assert then["valid"] and then["title"] == "Cholera old" and then["release"] == "FY2025"
    assert cat.as_of("icd10cm", "A00.0", "2025-11-01").to_json()["title"] == "Cholera new"
    assert cat.as_of("icd10cm", "A00.1", "2025-01-15").to_json()["valid"] is True
    gone = cat.as_of("icd10cm", "A00.1", "2025-11-01").to_json()
    assert not gone["valid"] and "deleted in FY2026" in gone["reason"]
    assert not cat.as_of("icd10cm", "A00.10", "2025-01-15").to_json()["valid"]
    deleted = cat.official("icd10cm", "A00.1").to_json()["history"]
    assert deleted[0]["change"] == "deleted" and deleted[0]["replaced_by"] == ["A00.10", "A00.11"]


def test_a_code_carries_the_newest_release_that_lists_it(tmp_path: Path) -> None:
    old = _release("FY2025", "2024-10-01", {"A00.0": "Cholera", "A00.1": "Gone"})
    new = _release("FY2026", "2025-10-01", {"A00.0": "Cholera", "A00.2": "Added"})
    out = tmp_path / "r.sqlite"
    build_from_records(new + old, out)
    cat = Catalog(out)
    assert cat.official("icd10cm", "A00.0").to_json()["release"] == "FY2026"  # unchanged, still listed by FY2026
    assert cat.official("icd10cm", "A00.1").to_json()["release"] == "FY2025"  # the last release that had it
    assert cat.official("icd10cm", "A00.2").to_json()["release"] == "FY2026"


@pytest.mark.slow
def test_a_terminated_build_leaves_no_temporary_file(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "idx.sqlite"
    build_from_records(RECORDS, out)
    before = out.read_bytes()
    env = {**os.environ, "MEDCODES_SEMANTIC": "off"}
    proc = subprocess.Popen([sys.executable, "-m", "medcodes", "build", "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not any(p.name.endswith(".building") for p in tmp_path.iterdir()):  # wait until it is writing
        assert proc.poll() is None and time.monotonic() < deadline, "the build ended before writing"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".building")] == []
    assert out.read_bytes() == before
