"""MS-DRG importer: CMS IPPS Final Rule Table 5, tab-separated text.

The fixture is real (public-domain) lines of the FY2026 Final Rule Table 5, bytes kept: the two-line
quoted title with its Windows-1252 dashes (the first line ends with LF inside the quotes, the rest
with CRLF), the header row, a quoted title, a DRG whose capped weight differs from the uncapped one,
998/999 without MDC and the trailing row of tabs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.errors import SourceError
from medcodes.model import Code, Record, Release
from medcodes.sources import msdrg

DATA = Path(__file__).resolve().parents[1] / "data" / "msdrg"
TABLE5 = DATA / "FY2026-Final-Rule-Table-5.txt"
HCPCS_FIXTURE = Path(__file__).resolve().parents[1] / "data" / "hcpcs" / "HCPC2025_JAN_ANWEB_fixture.txt"
ICD9_FIXTURE = Path(__file__).resolve().parents[1] / "data" / "icd9cm" / "CMS32_DESC_LONG_DX.txt"

RELEASE = Release("msdrg", "MS-DRG v43 (FY2026 Final Rule, Table 5)", "2025-10-01")
HEADER = ("MS-DRG \tFY 2026 Final Post-Acute DRG\tFY 2026 Final Special Pay DRG\tMDC\tTYPE\tMS-DRG Title\t"
          "Weights - Before Cap\tWeights - 10% Cap Applied \tGeometric mean LOS\tArithmetic mean LOS")


def codes(records: list[Record], kind: str = "code") -> dict[str, Code]:
    return {r.code: r for r in records if isinstance(r, Code) and r.kind == kind}


def write(tmp_path: Path, data: bytes, name: str = "table5.txt") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def error_of(path: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        list(msdrg.read(path))
    return info.value


def lines_of() -> list[bytes]:
    """Physical lines with their endings (the title's first line ends with LF, the others CRLF)."""
    return TABLE5.read_bytes().splitlines(keepends=True)


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return list(msdrg.read(TABLE5))


# --- the fixture file -------------------------------------------------------


def test_fixture_is_in_the_official_layout() -> None:
    data = TABLE5.read_bytes()
    assert data.startswith(b'"TABLE 5.\x97LIST OF MEDICARE SEVERITY') and b"\x97FY 2026 Final Rule\"" in data
    assert data.split(b"\n")[0].endswith(b"FACTORS, ")  # the title's first line ends with LF alone
    assert lines_of()[2].decode("cp1252") == HEADER + "\r\n"
    assert data.endswith(b"\t" * 9 + b"\r\n")


# --- records ----------------------------------------------------------------


def test_release_first_with_version_and_effective_date(records: list[Record]) -> None:
    assert records[0] == RELEASE
    assert not any(isinstance(r, Release) for r in records[1:])


def test_drgs(records: list[Record]) -> None:
    got = codes(records)
    assert sorted(got) == ["001", "003", "010", "291", "292", "998", "999"]
    assert got["001"].title == "HEART TRANSPLANT OR IMPLANT OF HEART ASSIST SYSTEM WITH MCC"
    assert got["003"].title.startswith("ECMO OR TRACHEOSTOMY WITH MV >96 HOURS")  # quotes taken off
    assert got["003"].title.endswith("WITH MAJOR O.R. PROCEDURES")
    assert all(c.billable is True and c.system == "msdrg" for c in got.values())


def test_mdc_nodes(records: list[Record]) -> None:
    mdcs = codes(records, "mdc")
    assert sorted(mdcs) == ["MDC 05", "MDC PRE"]
    assert mdcs["MDC PRE"].title == "Pre-MDC"
    assert mdcs["MDC 05"].title == "Diseases and Disorders of the Circulatory System"
    assert mdcs["MDC 05"].attributes == {"mdc": "05"}
    assert all(m.parent is None for m in mdcs.values())
    got = codes(records)
    assert got["001"].parent == "MDC PRE" and got["010"].parent == "MDC PRE"
    assert got["291"].parent == "MDC 05" and got["292"].parent == "MDC 05"


def test_mdc_nodes_come_once_and_before_their_drgs(records: list[Record]) -> None:
    seen: set[str] = set()
    for r in records:
        if isinstance(r, Code):
            assert r.code not in seen and (r.parent is None or r.parent in seen)
            seen.add(r.code)


def test_attributes(records: list[Record]) -> None:
    assert dict(codes(records)["001"].attributes) == {
        "mdc": "PRE", "mdc_title": "Pre-MDC", "type": "SURG", "weight": 28.0239, "weight_uncapped": 28.0239,
        "gmlos": 25.8, "amlos": 36.2, "post_acute": False, "special_pay": False}
    drg291 = codes(records)["291"].attributes
    assert (drg291["type"], drg291["post_acute"], drg291["gmlos"], drg291["amlos"]) == ("MED", True, 3.8, 5.0)
    assert drg291["mdc_title"] == "Diseases and Disorders of the Circulatory System"


def test_weight_is_the_capped_one(records: list[Record]) -> None:
    drg010 = codes(records)["010"].attributes
    assert drg010["weight"] == 7.1757  # "Weights - 10% Cap Applied": what payment uses
    assert drg010["weight_uncapped"] == 3.0699  # "Weights - Before Cap"


def test_998_and_999_have_no_mdc(records: list[Record]) -> None:
    got = codes(records)
    for drg in ("998", "999"):
        assert got[drg].parent is None
        assert dict(got[drg].attributes) == {"post_acute": False, "special_pay": False}
    assert got["999"].title == "UNGROUPABLE"


@pytest.mark.parametrize(("fy", "version"), [(2008, 25), (2020, 37), (2026, 43)])
def test_grouper_version(fy: int, version: int) -> None:
    assert msdrg.grouper_version(fy) == version


def test_mdc_titles_cover_all_mdcs() -> None:
    assert list(msdrg.MDC_TITLES) == ["PRE"] + [f"{n:02d}" for n in range(1, 26)]


# --- other table layouts ----------------------------------------------------


def test_older_table_with_one_weight_column(tmp_path: Path) -> None:
    data = ("TABLE 5.--LIST OF MS-DRGS ... FY 2020 Final Rule\r\n"
            "MS-DRG\tFY 2020 Final Rule Post-Acute DRG\tFY 2020 Final Rule Special Pay DRG\tMDC\tTYPE\t"
            "MS-DRG Title\tWeights\tGeometric mean LOS\tArithmetic mean LOS\r\n"
            "1\tNo\tNo\tPRE\tSURG\tHEART TRANSPLANT OR IMPLANT OF HEART ASSIST SYSTEM W MCC\t26.2466\t29.5\t"
            "39.7\r\n"
            "189\tYes\tNo\t04\tMED\tPULMONARY EDEMA AND RESPIRATORY FAILURE\t1.2162\t3.9\t4.9\r\n")
    records = list(msdrg.read(write(tmp_path, data.encode("cp1252"))))
    assert records[0] == Release("msdrg", "MS-DRG v37 (FY2020 Final Rule, Table 5)", "2019-10-01")
    got = codes(records)
    assert sorted(got) == ["001", "189"]  # DRG numbers padded to three digits
    assert got["001"].attributes["weight"] == 26.2466 and "weight_uncapped" not in got["001"].attributes
    assert got["189"].parent == "MDC 04"


def test_table_without_a_title_has_no_fiscal_year(tmp_path: Path) -> None:
    records = list(msdrg.read(write(tmp_path, b"".join(lines_of()[2:]))))
    assert records[0] == Release("msdrg", "MS-DRG (Final Rule Table 5)", None)
    assert sorted(codes(records)) == ["001", "003", "010", "291", "292", "998", "999"]


def test_lf_line_endings(tmp_path: Path, records: list[Record]) -> None:
    assert list(msdrg.read(write(tmp_path, TABLE5.read_bytes().replace(b"\r\n", b"\n")))) == records


# --- bad input --------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"\t\t\t\r\n"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    p = write(tmp_path, data)
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 1)


def test_missing_file(tmp_path: Path) -> None:
    e = error_of(tmp_path / "table5.txt")
    assert e.path == str(tmp_path / "table5.txt") and "cannot read" in e.detail


def test_random_text_file(tmp_path: Path) -> None:
    p = write(tmp_path, b"Medicare pays hospitals per discharge.\r\nSee the Final Rule.\r\n")
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 1) and "Table 5" in e.detail


@pytest.mark.parametrize("wrong", [HCPCS_FIXTURE, ICD9_FIXTURE])
def test_other_cms_files_are_refused(wrong: Path) -> None:
    e = error_of(wrong)
    assert (e.path, e.line) == (str(wrong), 1)


def test_title_lines_only(tmp_path: Path) -> None:
    p = write(tmp_path, b"".join(lines_of()[:2]))
    assert error_of(p).line == 1


def test_header_only_gives_just_the_release(tmp_path: Path) -> None:
    records = list(msdrg.read(write(tmp_path, b"".join(lines_of()[:3]))))
    assert records == [RELEASE]


def replace_line(tmp_path: Path, line_no: int, row: str) -> Path:
    lines = lines_of()
    lines[line_no - 1] = row.encode("cp1252") + b"\r\n"
    return write(tmp_path, b"".join(lines))


def test_malformed_row_in_the_middle_names_file_and_line(tmp_path: Path) -> None:
    p = replace_line(tmp_path, 7, "29X\tYes\tNo\t05\tMED\tHEART FAILURE AND SHOCK WITH MCC\t1.2838\t1.2838\t3.8\t5.0")
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 7)
    assert str(e).startswith(f"{p}:7: ")


def test_row_without_a_title(tmp_path: Path) -> None:
    p = replace_line(tmp_path, 8, "292\tYes\tNo\t05")
    assert error_of(p).line == 8


@pytest.mark.parametrize(("column", "value"), [(6, "1,2838"), (7, "n/a"), (8, "3.8d"), (9, "five")])
def test_non_numeric_weight_or_los(tmp_path: Path, column: int, value: str) -> None:
    cells = "291\tYes\tNo\t05\tMED\tHEART FAILURE AND SHOCK WITH MCC\t1.2838\t1.2838\t3.8\t5.0".split("\t")
    cells[column] = value
    p = replace_line(tmp_path, 7, "\t".join(cells))
    e = error_of(p)
    assert (e.path, e.line) == (str(p), 7)
    assert "DRG 291" in e.detail and repr(value) in e.detail


def test_footnote_after_the_table(tmp_path: Path) -> None:
    p = write(tmp_path, TABLE5.read_bytes() + b"* Relative weights are based on FY 2024 MedPAR data.\r\n")
    assert error_of(p).line == 12


# --- embedded sources -------------------------------------------------------


def test_embedded_sources_exist_and_read() -> None:
    sources = msdrg.embedded_sources()
    if not sources:
        pytest.skip("the drg package is not installed")
    assert [p.name for p in sources] == ["drg_weights.txt"] and sources[0].is_file()
    records = list(msdrg.read(sources[0]))
    assert records[0] == RELEASE
    drgs = codes(records)
    assert len(drgs) == 772
    assert len(codes(records, "mdc")) == 26
    # 981-989 (O.R. procedures unrelated to the principal diagnosis) span MDCs; 998/999 are ungroupable
    assert sorted(d.code for d in drgs.values() if d.parent is None) == ["981", "982", "983", "987", "988", "989",
                                                                         "998", "999"]
    assert sum(d.attributes.get("weight") != d.attributes.get("weight_uncapped") for d in drgs.values()) > 0
