"""History in the build: official changes first, the diff of releases for the rest (issue 7)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from medcodes.index import Catalog
from medcodes.index.build import build_from_records, build_index
from medcodes.index.history import DIFF_SOURCE, Snapshot, history, prefer_official
from medcodes.index.schema import SCHEMA_VERSION
from medcodes.model import Change, Code, Record, Release

DATA = Path(__file__).resolve().parents[1] / "data" / "icd10cm"
FY2025 = Release("icd10cm", "FY2025", "2024-10-01")
FY2026 = Release("icd10cm", "FY2026", "2025-10-01")


def release(rel: Release, codes: dict[str, str]) -> list[Record]:
    return [rel] + [Code("icd10cm", c, t, billable=True) for c, t in codes.items()]


def official(rel: Release, code: str, kind: str, old: str | None = None, new: str | None = None) -> Change:
    return Change("icd10cm", code, rel.name, kind, old, new, "addenda")


def rows(out: Path, where: str = "1") -> list[tuple[object, ...]]:
    conn = sqlite3.connect(out)
    try:
        return [tuple(r) for r in conn.execute(
            f"SELECT code, release, change, old_title, new_title, source FROM history WHERE {where}"
            " ORDER BY release, code, change")]
    finally:
        conn.close()


# --- the merge, as a function -------------------------------------------------


def test_official_wins_and_the_diff_fills_in() -> None:
    diff = [Change("hcpcs", "J1100", "2025", "revised", "Old", "New", DIFF_SOURCE, "2025-01-01"),
            Change("hcpcs", "J1200", "2025", "added", None, "Added", DIFF_SOURCE, "2025-01-01")]
    action = Change("hcpcs", "J1100", "2025", "revised", None, "New", "hcpcs action code C", "2024-10-01")
    merged = prefer_official([action, action], diff)  # read twice: still one row
    assert merged == [Change("hcpcs", "J1100", "2025", "revised", "Old", "New", "hcpcs action code C", "2024-10-01"),
                      diff[1]]


def test_official_revision_takes_the_old_title_from_the_release_before() -> None:
    old = Snapshot("hcpcs", "2020", "2020-01-01", 0, {"J1100": "Old text", "J1300": "Same"})
    new = Snapshot("hcpcs", "2025", "2025-01-01", 1, {"J1100": "Old text", "J1300": "Same"})
    # the titles did not change between the loaded files (the change came and went in between)
    found, newest = history([old, new], [Change("hcpcs", "J1100", "2025", "revised", None, "New text", "C"),
                                         Change("hcpcs", "J1300", "2025", "revised", None, "Same", "C")])
    assert [(c.code, c.old_title) for c in found] == [("J1100", "Old text"), ("J1300", None)]
    assert newest["hcpcs"] is not None and newest["hcpcs"].release == "2025"


def test_changes_come_oldest_first_in_the_order_of_change_types() -> None:
    a = Change("x", "B", "r2", "revised", "o", "n", "s", "2025-01-01")
    b = Change("x", "A", "r2", "added", None, "n", "s", "2025-01-01")
    c = Change("x", "C", "r1", "deleted", "o", None, "s", "2024-01-01")
    assert prefer_official([a, b, c], []) == [c, b, a]


# --- the build ---------------------------------------------------------------------


def test_one_release_with_its_official_changes(tmp_path: Path) -> None:
    records = release(FY2025, {"A00.0": "Cholera new", "A00.1": "Added", "T81.320A": "Split"}) + [
        Code("icd10cm", "T81.32", "Disruption", kind="subcategory", billable=False),
        official(FY2025, "A00.0", "revised", "Cholera old", "Cholera new"),
        official(FY2025, "A00.1", "added", None, "Added"),
        official(FY2025, "T81.32XA", "deleted", "Gone, initial encounter"),  # no record lists it any more
    ]
    out = tmp_path / "one.sqlite"
    build_from_records(records, out)
    assert rows(out) == [("A00.0", "FY2025", "revised", "Cholera old", "Cholera new", "addenda"),
                         ("A00.1", "FY2025", "added", None, "Added", "addenda"),
                         ("T81.32XA", "FY2025", "deleted", "Gone, initial encounter", None, "addenda")]
    cat = Catalog(out)
    gone = cat.row("icd10cm", "T81.32XA")
    assert (gone["title"], gone["billable"], gone["parent"], gone["deleted_in"], gone["release"]) == (
        "Gone, initial encounter", 0, "T81.32", "FY2025", None)
    assert json.loads(gone["attributes"]) == {"known_from": "addenda"}
    assert cat.row("icd10cm", "A00.0")["title"] == "Cholera new"
    assert [e.change for e in cat.history("icd10cm", "A00.1")] == ["added"]


def test_official_changes_take_precedence_over_the_diff(tmp_path: Path) -> None:
    old = release(FY2025, {"A00.0": "Cholera  old", "A00.1": "Gone", "A00.9": "Same"})
    new = release(FY2026, {"A00.0": "Cholera new", "A00.2": "Added", "A00.9": "Same"})
    addenda = [FY2026, official(FY2026, "A00.0", "revised", "Cholera old", "Cholera new"),
               official(FY2026, "A00.2", "added", None, "Added")]
    out = tmp_path / "two.sqlite"
    build_from_records(old + new + addenda, out)
    assert rows(out) == [
        ("A00.0", "FY2026", "revised", "Cholera old", "Cholera new", "addenda"),  # the addenda's old text
        ("A00.1", "FY2026", "deleted", "Gone", None, DIFF_SOURCE),  # the diff fills in what it lacks
        ("A00.2", "FY2026", "added", None, "Added", "addenda"),
    ]
    assert Catalog(out).row("icd10cm", "A00.1")["deleted_in"] == "FY2026"


def test_addenda_of_a_release_newer_than_every_code_list(tmp_path: Path) -> None:
    old = release(FY2025, {"A00.0": "Cholera old", "A00.1": "Gone", "A00.9": "Same"})
    addenda = [FY2026, official(FY2026, "A00.0", "revised", "Cholera old", "Cholera new"),
               official(FY2026, "A00.1", "deleted", "Gone"), official(FY2026, "A00.10", "added", None, "Split")]
    out = tmp_path / "newer.sqlite"
    build_from_records(addenda + old, out)  # order given does not matter
    cat = Catalog(out)
    assert cat.row("icd10cm", "A00.0")["title"] == "Cholera new"
    gone = cat.row("icd10cm", "A00.1")
    assert (gone["billable"], gone["deleted_in"]) == (0, "FY2026")
    split = cat.row("icd10cm", "A00.10")
    assert (split["title"], split["billable"], split["parent"], split["release"]) == ("Split", 1, "A00.1", "FY2026")
    assert cat.row("icd10cm", "A00.9")["billable"] == 1


def test_a_code_deleted_then_added_back_is_not_deleted(tmp_path: Path) -> None:
    records = release(FY2025, {"A00.0": "Cholera"}) + release(FY2026, {"A00.0": "Cholera"}) + [
        official(FY2026, "A00.0", "added", None, "Cholera"), official(FY2025, "A00.0", "deleted", "Cholera")]
    out = tmp_path / "back.sqlite"
    build_from_records(records, out)
    assert [e.change for e in Catalog(out).history("icd10cm", "A00.0")] == ["deleted", "added"]
    assert Catalog(out).row("icd10cm", "A00.0")["deleted_in"] is None


def test_history_table_says_where_each_row_came_from(tmp_path: Path) -> None:
    out = tmp_path / "s.sqlite"
    build_from_records(release(FY2025, {"A00.0": "Cholera"}), out)
    conn = sqlite3.connect(out)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(history)")]
    assert columns == ["system", "code", "release", "effective", "change", "old_title", "new_title", "source"]
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    conn.close()


# --- from files: the importer and the build together --------------------------------------


def test_order_file_and_its_addenda_alone(tmp_path: Path) -> None:
    out = tmp_path / "files.sqlite"
    report = build_index([("icd10cm", DATA / "icd10cm_order_2026.txt"),
                          ("icd10cm", DATA / "icd10cm_codes_addenda_2026.txt")], out)
    assert report.sources[1].counts == {"codes": 0, "terms": 0, "relations": 0, "changes": 5}
    assert report.orphans == 0
    assert [r[:3] + r[5:] for r in rows(out)] == [
        ("C50.019", "ICD-10-CM FY2026", "deleted", "addenda"), ("E11.9", "ICD-10-CM FY2026", "revised", "addenda"),
        ("QA0.0101", "ICD-10-CM FY2026", "added", "addenda"), ("S06.1X7", "ICD-10-CM FY2026", "deleted", "addenda"),
        ("S06.1X7A", "ICD-10-CM FY2026", "added", "addenda")]
    cat = Catalog(out)
    header = cat.row("icd10cm", "S06.1X7")  # deleted as a code, still a header
    assert (header["kind"], header["billable"], header["deleted_in"]) == ("subcategory", 0, "ICD-10-CM FY2026")
    stub = cat.row("icd10cm", "C50.019")  # deleted, in no list: placed under its stem
    assert (stub["parent"], stub["billable"], stub["deleted_in"]) == ("C50.01", 0, "ICD-10-CM FY2026")
    assert cat.row("icd10cm", "E11.9")["billable"] == 1
