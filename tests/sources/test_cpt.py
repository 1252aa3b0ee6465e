"""CPT importer: AMA descriptor files, alone or zipped.

CPT text is AMA-licensed: every descriptor in tests/data/cpt is made up
("Made-up descriptor for fixture 99990"), and so is every code number.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from medcodes.errors import SourceError
from medcodes.model import Code, Record, Release
from medcodes.sources import cpt

DATA = Path(__file__).resolve().parents[1] / "data" / "cpt"
FILES = ("LONGULT.txt", "MEDU.txt", "SHORTU.txt", "ConsumerDescriptor.txt", "ClinicianDescriptor.txt")
FIXTURE_CODES = ["99990", "99991", "9999A", "9999F", "9999M", "9999T", "9999U"]


def codes(records: list[Record]) -> dict[str, Code]:
    return {r.code: r for r in records if isinstance(r, Code)}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def fixture_zip(tmp_path: Path, name: str = "cpt2099_standard_fixture.zip") -> Path:
    z = tmp_path / name
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in FILES:
            zf.write(DATA / f, f"CPT Standard/{f}")
        zf.writestr("CPT Standard/README.txt", "Made-up readme for the fixture.")
        # CPT Link zips hold other tables; a CSV without a CPT code column is passed over
        zf.writestr("CPT Link/Type.csv", "Type Id,Made-up Type Name,Descriptor\r\n1,Made-up,Made-up\r\n")
    return z


def test_fixtures_hold_only_made_up_text() -> None:
    for f in DATA.iterdir():
        body = [ln for ln in f.read_text().splitlines() if any(code in ln for code in FIXTURE_CODES)]
        assert body and all("made-up" in ln.lower() for ln in body), f


def test_long_descriptors_are_the_code_list() -> None:
    recs = list(cpt.read(DATA / "LONGULT.txt"))
    assert recs[0] == Release("cpt", "CPT 2099", "2099-01-01")  # year from the notice
    c = codes(recs)
    assert sorted(c) == FIXTURE_CODES
    assert c["99990"].title == "Made-up descriptor for fixture 99990, long form"
    assert all(x.billable is True and x.kind == "code" and x.parent is None for x in c.values())


@pytest.mark.parametrize(("code", "category", "code_type"), [
    ("99990", "I", None), ("9999F", "II", "Performance measurement"), ("9999T", "III", "Emerging technology"),
    ("9999U", "I", "Proprietary Laboratory Analyses (PLA)"), ("9999A", "I", "Vaccine administration"),
    ("9999M", None, "Administrative MAAA"),
])
def test_category_in_attributes(code: str, category: str | None, code_type: str | None) -> None:
    assert cpt.category_of(code) == (category, code_type)
    attrs = codes(list(cpt.read(DATA / "LONGULT.txt")))[code].attributes
    assert attrs.get("category") == category and attrs.get("code_type") == code_type


def test_medium_and_short_files_are_supplements() -> None:
    medium = codes(list(cpt.read(DATA / "MEDU.txt")))["99990"]
    assert medium.attributes["medium_descriptor"] == "MADE-UP MEDIUM DESCRIPTOR 99990"
    assert medium.title == "" and medium.billable is None
    short = codes(list(cpt.read(DATA / "SHORTU.txt")))["9999T"]
    assert short.short_title == "MADE-UP SHORT 9999T" and short.billable is None


def test_consumer_and_clinician_descriptors() -> None:
    consumer = codes(list(cpt.read(DATA / "ConsumerDescriptor.txt")))["99991"]
    assert consumer.attributes["consumer_descriptor"] == "Made-up consumer descriptor for fixture 99991"
    assert consumer.attributes["concept_id"] == "1001"
    assert consumer.synonyms == ("Made-up consumer descriptor for fixture 99991",)
    clinician = codes(list(cpt.read(DATA / "ClinicianDescriptor.txt")))["99990"]
    # two rows for one code; the bare inch mark is kept (tab files are not quoted)
    assert clinician.synonyms == ("Made-up clinician descriptor 1 for fixture 99990",
                                  'Made-up clinician descriptor 2 for fixture 99990 (6" made-up size)')


def test_csv_with_header_and_quoting() -> None:
    recs = list(cpt.read(DATA / "cpt_pcm_fixture.csv"))
    assert recs[0] == Release("cpt", "CPT (AMA data files, year not stated)", None)
    c = codes(recs)
    assert sorted(c) == ["99990", "99991", "9999F"]
    assert c["99990"].title == "Made-up descriptor for fixture 99990, from the CSV"
    assert c["9999F"].title == 'Made-up descriptor for fixture 9999F with a "quoted" word'
    assert c["99991"].short_title == "MADE-UP SHORT 99991 CSV"
    assert c["99991"].attributes["medium_descriptor"] == "MADE-UP MEDIUM 99991 CSV"
    assert c["99990"].billable is True and c["99990"].attributes["concept_id"] == "1000"


def test_zip_merges_every_descriptor_file(tmp_path: Path) -> None:
    recs = list(cpt.read(fixture_zip(tmp_path)))
    assert recs[0] == Release("cpt", "CPT 2099", "2099-01-01")
    assert not any(isinstance(r, Release) for r in recs[1:])
    c = codes(recs)
    assert sorted(c) == FIXTURE_CODES
    code = c["99990"]
    assert code.title == "Made-up descriptor for fixture 99990, long form"
    assert code.short_title == "MADE-UP SHORT 99990"
    assert code.attributes["medium_descriptor"] == "MADE-UP MEDIUM DESCRIPTOR 99990"
    assert code.attributes["consumer_descriptor"] == "Made-up consumer descriptor for fixture 99990"
    assert len(code.synonyms) == 3 and code.billable is True


def test_release_year_from_a_file_name(tmp_path: Path) -> None:
    p = write(tmp_path, "cpt-2098-longult.txt", (DATA / "LONGULT.txt").read_bytes())
    assert next(cpt.read(p)) == Release("cpt", "CPT 2098", "2098-01-01")


def test_utf16_with_bom_and_lf_line_ends(tmp_path: Path) -> None:
    text = (DATA / "LONGULT.txt").read_text().replace("\r\n", "\n")
    recs = list(cpt.read(write(tmp_path, "LONGULT.txt", text.encode("utf-16"))))
    assert codes(recs)["9999U"].title == "Made-up descriptor for fixture 9999U, long form"


def test_windows_1252_text(tmp_path: Path) -> None:
    data = b"99990\tMade-up descriptor for fixture 99990 \x96 with an en dash\r\n"
    assert codes(list(cpt.read(write(tmp_path, "LONGULT.txt", data))))["99990"].title.endswith(
        "99990 \u2013 with an en dash")


def test_embedded_sources_is_empty() -> None:
    assert cpt.embedded_sources() == []


# --- bad input --------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        list(cpt.read(tmp_path / "LONGULT.txt"))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="empty file"):
        list(cpt.read(write(tmp_path, "LONGULT.txt", b"\r\n\r\n")))


def test_wrong_file_hcpcs() -> None:
    hcpcs_file = Path(__file__).resolve().parents[1] / "data" / "hcpcs" / "HCPC2025_JAN_ANWEB_fixture.txt"
    with pytest.raises(SourceError, match="not an AMA CPT data file"):
        list(cpt.read(hcpcs_file))


def test_hcpcs_code_among_cpt_codes(tmp_path: Path) -> None:
    data = (DATA / "LONGULT.txt").read_bytes() + b"A0021\tMade-up descriptor for fixture A0021\r\n"
    with pytest.raises(SourceError, match="not a CPT code: 'A0021'") as err:
        list(cpt.read(write(tmp_path, "LONGULT.txt", data)))
    assert err.value.line == len(data.split(b"\r\n")) - 1


def test_truncated_line(tmp_path: Path) -> None:
    data = (DATA / "MEDU.txt").read_bytes() + b"99992\r\n"
    with pytest.raises(SourceError, match="expected a CPT code, a tab or space, and a descriptor") as err:
        list(cpt.read(write(tmp_path, "MEDU.txt", data)))
    assert err.value.line == 11


def test_csv_row_with_missing_columns(tmp_path: Path) -> None:
    data = (DATA / "cpt_pcm_fixture.csv").read_bytes() + b"1003,99993,Made-up descriptor\r\n"
    with pytest.raises(SourceError, match="row has 3 columns, the header names 5") as err:
        list(cpt.read(write(tmp_path, "cpt.csv", data)))
    assert err.value.line == 5


def test_bad_encoding(tmp_path: Path) -> None:
    data = (DATA / "LONGULT.txt").read_bytes().replace(b"fixture 99991", b"fixture \x81 99991")
    with pytest.raises(SourceError, match="bad encoding: byte 0x81") as err:
        list(cpt.read(write(tmp_path, "LONGULT.txt", data)))
    assert err.value.line == 5


def test_utf16_without_bom(tmp_path: Path) -> None:
    data = (DATA / "LONGULT.txt").read_text().encode("utf-16-le")
    with pytest.raises(SourceError, match="bad encoding: NUL bytes"):
        list(cpt.read(write(tmp_path, "LONGULT.txt", data)))


def test_zip_without_member(tmp_path: Path) -> None:
    z = tmp_path / "cpt.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("README.txt", "Made-up readme")
    with pytest.raises(SourceError, match="zip holds no CPT descriptor file"):
        list(cpt.read(z))


def test_damaged_zip(tmp_path: Path) -> None:
    z = tmp_path / "cpt.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        zf.write(DATA / "LONGULT.txt", "LONGULT.txt")
    data = bytearray(z.read_bytes())
    at = data.index(b"99990")
    data[at:at + 5] = b"99980"
    z.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="damaged zip"):
        list(cpt.read(z))


def test_error_names_the_zip_member(tmp_path: Path) -> None:
    z = tmp_path / "cpt2099.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("MEDU.txt", "99990 MADE-UP MEDIUM\r\nnot a code line\r\n")
    with pytest.raises(SourceError, match=r"cpt2099\.zip!MEDU\.txt:2: expected a CPT code"):
        list(cpt.read(z))
