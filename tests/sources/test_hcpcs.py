"""HCPCS Level II importer: the CMS ANWEB fixed-width file, bare or in its zip.

The fixtures are real (public-domain) lines of the January 2025 and 2020 CMS
files, cut down to a few codes and modifiers.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from medcodes.errors import SourceError
from medcodes.model import Change, Code, Note, Record, Release
from medcodes.sources import hcpcs, reader

DATA = Path(__file__).resolve().parents[1] / "data" / "hcpcs"
FIXTURE = DATA / "HCPC2025_JAN_ANWEB_fixture.txt"
NOTES = DATA / "proc_notes_JAN2025.txt"
FIXTURE_2020 = DATA / "2020" / "HCPC2020_ANWEB_w_disclaimer.txt"
ZIP_2025 = "cms_hcpcs_2025_jan/january-2025-alpha-numeric-hcpcs-file.zip"
ZIP_2020 = "cms_hcpcs_2020/2020-Alpha-Numeric-HCPCS-File.zip"

RELEASE_2025 = "HCPCS Level II 2025 January (Q1)"


def codes(records: list[Record], system: str = "hcpcs", kind: str | None = None) -> dict[str, Code]:
    return {r.code: r for r in records if isinstance(r, Code) and r.system == system and kind in (None, r.kind)}


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return list(hcpcs.read(FIXTURE))


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\r\n")


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


# --- the fixture file -------------------------------------------------------


def test_fixture_is_in_the_official_layout() -> None:
    lines = [ln for ln in lines_of(FIXTURE) if ln]
    assert all(len(ln) == hcpcs.RECORD_WIDTH for ln in lines)
    assert {ln[10:11] for ln in lines} == {b"3", b"4", b"7", b"8"}


def test_releases_come_first_for_both_systems(records: list[Record]) -> None:
    assert records[:2] == [Release("hcpcs", RELEASE_2025, "2025-01-01"), Release("hcpcs-mod", RELEASE_2025,
                                                                                  "2025-01-01")]
    assert not any(isinstance(r, Release) for r in records[2:])


def test_codes_modifiers_and_sections(records: list[Record]) -> None:
    assert sorted(codes(records, kind="code")) == ["A0021", "A0384", "A9506", "C7558", "G0027", "G0124",
                                                   "J1100", "S0012"]
    assert sorted(codes(records, "hcpcs-mod")) == ["AD", "AM"]
    sections = codes(records, kind="section")
    assert sections["A0021-A0999"].title == "Transportation Services Including Ambulance"
    assert sections["A0021-A0999"].billable is False
    assert codes(records)["A0384"].parent == "A0021-A0999"
    assert codes(records)["J1100"].parent == "J0100-J8499"
    assert all(m.parent is None and m.kind == "modifier" for m in codes(records, "hcpcs-mod").values())


def test_sections_are_yielded_before_their_codes(records: list[Record]) -> None:
    seen: set[str] = set()
    for r in records:
        if isinstance(r, Code) and r.system == "hcpcs":
            assert r.parent is None or r.parent in seen
            seen.add(r.code)


def test_continuation_lines_join_into_the_long_description(records: list[Record]) -> None:
    a0384 = codes(records)["A0384"]
    assert a0384.title == ("Bls specialized service disposable supplies; defibrillation (used by als ambulances "
                           "and bls ambulances in jurisdictions where defibrillation is permitted in bls "
                           "ambulances)")
    assert a0384.short_title == "Bls defibrillation supplies"
    ad = codes(records, "hcpcs-mod")["AD"]
    assert ad.title == "Medical supervision by a physician: more than four concurrent anesthesia procedures"
    assert ad.short_title == "Md supervision, >4 anes proc"


def test_attributes_are_decoded(records: list[Record]) -> None:
    a = codes(records)["A0021"].attributes
    assert a["pricing_indicators"] == ["00"]
    assert a["pricing_indicators_labels"][0].startswith("Service not separately priced by Part B")
    assert a["multiple_pricing_indicator"] == "9"
    assert a["cross_references"] == ["A0030"]
    assert (a["coverage"], a["coverage_label"]) == ("I", "Not payable by Medicare")
    assert (a["betos"], a["betos_label"]) == ("O1A", "Ambulance")
    assert (a["types_of_service"], a["types_of_service_labels"]) == (["D"], ["Ambulance"])
    assert (a["added"], a["action_effective"]) == ("1985-01-01", "1996-09-10")
    assert (a["action_code"], a["action_code_label"]) == ("N", "No maintenance for this code")
    assert a["anesthesia_base_units"] == 0
    assert "terminated" not in a and "statute" not in a


def test_lab_pricing_asc_and_manual_references(records: list[Record]) -> None:
    c = codes(records)
    assert c["G0027"].attributes["lab_certifications"] == ["400"]
    assert c["G0027"].attributes["lab_certifications_labels"] == ["Hematology"]
    assert c["G0124"].attributes["pricing_indicators"] == ["11", "21"]
    assert c["A9506"].attributes["asc_payment_group"] == "YY"
    assert c["A9506"].attributes["asc_payment_group_effective"] == "2024-07-01"
    assert (c["A9506"].attributes["betos"], c["A9506"].attributes["betos_label"]) == ("Z2", "Undefined codes")
    assert c["J1100"].attributes["carriers_manual_refs"] == ["2049"]
    assert codes(records, "hcpcs-mod")["AD"].attributes["carriers_manual_refs"] == ["3350.5"]


def test_discontinued_code_is_not_billable(records: list[Record]) -> None:
    c7558 = codes(records)["C7558"]
    assert c7558.attributes["action_code"] == "D" and c7558.attributes["terminated"] == "2024-12-31"
    assert c7558.billable is False
    assert codes(records)["A0021"].billable is True


def test_processing_notes_become_notes(records: list[Record]) -> None:
    s0012 = codes(records)["S0012"]
    assert s0012.attributes["processing_note"] == "0088"
    assert s0012.notes == (Note("note", 'Processing note 0088: "S" CODES ARE UNIQUE TEMPORARY CODES ESTABLISHED '
                                        "BY BCBSA AND HIAA FOR PRIVATE PAYOR USE. THEY ARE NOT VALID NOR PAYABLE "
                                        "BY MEDICARE."),)
    assert codes(records, "hcpcs-mod")["AM"].notes[0].text.startswith("Processing note 0069: FOR ASSISTANT")


def test_notes_parser_handles_tab_indented_notes() -> None:
    notes = hcpcs.parse_notes((i, ln) for i, ln in enumerate(NOTES.read_text().splitlines(), 1))
    assert notes["0133"] == "SEE ONLINE MANUAL 100-02.9."
    assert notes["0135"] == "MEDICARE BENEFIT POLICY MANUAL, PUB 100.2, CHAPTER 15, SECTION 110.3 (100.02,15,110.3)."
    assert set(notes) == {"0069", "0088", "0133", "0135"}


# --- named rules ------------------------------------------------------------


@pytest.mark.parametrize(("code", "section"), [
    ("A0021", "A0021-A0999"), ("A0999", "A0021-A0999"), ("A2001", "A2001-A2999"), ("A4100", "A4000-A8999"),
    ("A9999", "A9000-A9999"), ("J8499", "J0100-J8499"), ("J8501", "J8500-J9999"), ("L4631", "L0100-L4999"),
    ("L5000", "L5000-L9999"), ("M1425", "M1000-M9999"), ("V5364", "V5300-V5399"), ("V2799", "V2000-V2999"),
    ("A0001", None), ("T0001", None),
])
def test_section_of(code: str, section: str | None) -> None:
    found = hcpcs.section_of(code)
    assert (found[0] if found else None) == section


def test_sections_do_not_overlap() -> None:
    bounds = [(first, last) for first, last, _ in hcpcs.SECTIONS]
    assert bounds == sorted(bounds)
    assert all(a[1] < b[0] for a, b in zip(bounds, bounds[1:], strict=False))


@pytest.mark.parametrize(("attrs", "valid"), [
    ({}, True),
    ({"terminated": "2024-12-31"}, False),
    ({"terminated": "2025-01-01"}, True),  # the termination date is the last day of use
    ({"terminated": "2025-03-31"}, True),
    ({"action_code": "D"}, False),
])
def test_is_valid_on(attrs: dict[str, str], valid: bool) -> None:
    assert hcpcs.is_valid_on(attrs, "2025-01-01") is valid


@pytest.mark.parametrize(("names", "expected"), [
    (["HCPC2025_JAN_ANWEB_12172024.txt"], (RELEASE_2025, "2025-01-01")),
    (["HCPC2024_OCT_ANWEB_v3.txt"], ("HCPCS Level II 2024 October (Q4)", "2024-10-01")),
    (["HCPC2020_ANWEB_w_disclaimer.txt", "2020-Alpha-Numeric-HCPCS-File.zip"],
     ("HCPCS Level II 2020 January (Q1)", "2020-01-01")),
    (["HCPC2025_ANWEB.txt", "april-2025-alpha-numeric-hcpcs-file.zip"],
     ("HCPCS Level II 2025 April (Q2)", "2025-04-01")),
    (["anweb.txt"], None),
])
def test_release_from_names(names: list[str], expected: tuple[str, str] | None) -> None:
    assert hcpcs.release_from_names(*names) == expected


# --- other shapes of the same data -----------------------------------------


def test_zip_gives_the_same_records_as_the_txt(tmp_path: Path, records: list[Record]) -> None:
    z = tmp_path / "january-2025-alpha-numeric-hcpcs-file.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(FIXTURE, "HCPC2025_JAN_ANWEB_fixture.txt")
        zf.write(NOTES, "proc_notes_JAN2025.txt")
        zf.writestr("HCPC2025_recordlayout.txt", "layout")
        zf.writestr("HCPC2025_JAN_ANWEB_fixture.xlsx", b"PK not really")
    assert list(hcpcs.read(z)) == records


def test_2020_file_with_disclaimer_header_and_short_continuation_lines() -> None:
    recs = list(hcpcs.read(FIXTURE_2020))
    assert recs[0] == Release("hcpcs", "HCPCS Level II 2020 January (Q1)", "2020-01-01")
    assert sorted(codes(recs, kind="code")) == ["A0021", "A0384", "J1100"]
    assert codes(recs)["A0384"].title.endswith("permitted in bls ambulances)")
    assert codes(recs, "hcpcs-mod")["AD"].title.endswith("concurrent anesthesia procedures")
    assert all(not c.notes for c in codes(recs).values())  # no notes file beside it


def test_renamed_file_takes_its_release_from_the_data(tmp_path: Path) -> None:
    p = write(tmp_path, "hcpcs.txt", FIXTURE.read_bytes())
    recs = list(hcpcs.read(p))
    assert recs[0] == Release("hcpcs", RELEASE_2025, "2025-01-01")  # latest action effective date
    assert all(not c.notes for c in codes(recs).values())


def test_lf_line_ends_and_trimmed_filler(tmp_path: Path, records: list[Record]) -> None:
    text = b"\n".join(ln.rstrip() for ln in lines_of(FIXTURE))
    p = write(tmp_path, FIXTURE.name, text)
    write(tmp_path, NOTES.name, NOTES.read_bytes())
    assert list(hcpcs.read(p)) == records


def test_embedded_source_is_the_january_2025_file_of_the_data_layer() -> None:
    found = hcpcs.embedded_sources()
    assert [p.name for p in found] == ["hcpcs-anweb-2025-january-q1.jsonl.gz"]
    records = list(reader("hcpcs")(found[0]))
    assert records[:2] == [Release("hcpcs", "HCPCS Level II 2025 January (Q1)", "2025-01-01"),
                           Release("hcpcs-mod", "HCPCS Level II 2025 January (Q1)", "2025-01-01")]
    # CMS's own record counts for the January 2025 file
    assert len(codes(records, "hcpcs", "code")) == 8_259
    assert len(codes(records, "hcpcs-mod", "modifier")) == 383


# --- action codes: the release's official changes (issue 7) -------------------


def with_actions(tmp_path: Path, actions: dict[str, str], retitle: tuple[bytes, bytes] | None = None) -> Path:
    """The 2025 fixture with the action code (column 293) of some records replaced, and a title edited."""
    out = []
    for line in lines_of(FIXTURE):
        key = (line[3:5] if line[10:11] in b"78" else line[0:5]).decode()
        if line[10:11] in b"37" and key in actions:
            line = line[:292] + actions[key].encode() + line[293:]
        out.append(line)
    data = b"\r\n".join(out)
    if retitle:
        assert len(retitle[0]) == len(retitle[1]) and retitle[0] in data
        data = data.replace(*retitle)
    return write(tmp_path, FIXTURE.name, data)


def changes_of(records: list[Record]) -> list[Change]:
    return [r for r in records if isinstance(r, Change)]


def test_discontinued_code_yields_its_deletion_after_it(records: list[Record]) -> None:
    c7558 = codes(records)["C7558"]
    assert changes_of(records) == [Change("hcpcs", "C7558", RELEASE_2025, "deleted", c7558.title, None,
                                          "hcpcs action code D", "2025-01-01")]
    assert records[records.index(c7558) + 1] == changes_of(records)[0]


@pytest.mark.parametrize(("attrs", "expected"), [
    ({"action_code": "A", "action_effective": "2019-07-01"}, ("added", None, "T", "2019-07-01")),
    ({"action_code": "R"}, ("added", None, "T", "2025-01-01")),  # no date: the release's
    ({"action_code": "C", "action_effective": "2025-01-01"}, ("revised", None, "T", "2025-01-01")),
    ({"action_code": "B"}, ("revised", None, "T", "2025-01-01")),
    ({"action_code": "S"}, ("revised", None, "T", "2025-01-01")),
    ({"action_code": "D", "action_effective": "2025-01-01", "terminated": "2024-12-31"},
     ("deleted", "T", None, "2025-01-01")),
    ({"action_code": "D", "terminated": "2024-06-30"}, ("deleted", "T", None, "2024-07-01")),  # the day after
    ({"action_code": "N"}, None), ({"action_code": "P"}, None), ({"action_code": "T"}, None),
    ({"action_code": "F"}, None), ({}, None),
])
def test_change_of(attrs: dict[str, str], expected: tuple[str, str | None, str | None, str] | None) -> None:
    found = hcpcs.change_of(Code("hcpcs", "J1100", "T", attributes=attrs), RELEASE_2025, "2025-01-01")
    if expected is None:
        assert found is None
    else:
        assert found is not None and found.source == f"hcpcs action code {attrs['action_code']}"
        assert (found.change, found.old_title, found.new_title, found.effective) == expected
        assert (found.system, found.code, found.release) == ("hcpcs", "J1100", RELEASE_2025)


def test_action_codes_of_codes_and_modifiers(tmp_path: Path) -> None:
    recs = list(hcpcs.read(with_actions(tmp_path, {"A0384": "C", "J1100": "A", "AD": "D", "A0021": "P",
                                                    "G0027": "S", "S0012": "R"})))
    found = [(c.system, c.code, c.change, c.source[-1]) for c in changes_of(recs)]
    assert found == [("hcpcs-mod", "AD", "deleted", "D"), ("hcpcs", "A0384", "revised", "C"),
                     ("hcpcs", "C7558", "deleted", "D"), ("hcpcs", "G0027", "revised", "S"),
                     ("hcpcs", "J1100", "added", "A"), ("hcpcs", "S0012", "added", "R")]


def test_history_from_action_codes_and_an_earlier_release(tmp_path: Path) -> None:
    from medcodes.index import Catalog
    from medcodes.index.build import build_index

    # 2025 revises J1100 (action C): the file gives the new text, the 2020 file the old one
    path = with_actions(tmp_path, {"J1100": "C"}, (b"sodium phosphate, 1 mg ", b"sodium phosphate, 2 mg "))
    build_index([("hcpcs", FIXTURE_2020), ("hcpcs", path)], tmp_path / "h.sqlite")
    cat = Catalog(tmp_path / "h.sqlite")
    rows = cat.conn.execute("SELECT system, code, change, old_title, new_title, source FROM history"
                            " WHERE release=? ORDER BY system, code", (RELEASE_2025,)).fetchall()
    assert [tuple(r) for r in rows] == [
        ("hcpcs", "A9506", "added", None, codes(list(hcpcs.read(FIXTURE)))["A9506"].title, "release diff"),
        ("hcpcs", "C7558", "deleted", codes(list(hcpcs.read(FIXTURE)))["C7558"].title, None, "hcpcs action code D"),
        ("hcpcs", "G0027", "added", None, "Semen analysis; presence and/or motility of sperm excluding huhner",
         "release diff"),
        ("hcpcs", "G0124", "added", None, codes(list(hcpcs.read(FIXTURE)))["G0124"].title, "release diff"),
        ("hcpcs", "J1100", "revised", "Injection, dexamethasone sodium phosphate, 1 mg",
         "Injection, dexamethasone sodium phosphate, 2 mg", "hcpcs action code C"),
        ("hcpcs", "S0012", "added", None, "Butorphanol tartrate, nasal spray, 25 mg", "release diff"),
        ("hcpcs-mod", "AM", "added", None, "Physician, team member service", "release diff"),
    ]
    assert cat.row("hcpcs", "C7558")["deleted_in"] == RELEASE_2025


def test_one_release_alone_records_its_action_codes(tmp_path: Path) -> None:
    from medcodes.index import Catalog
    from medcodes.index.build import build_index

    build_index([("hcpcs", with_actions(tmp_path, {"J1100": "C"}))], tmp_path / "h.sqlite")
    cat = Catalog(tmp_path / "h.sqlite")
    rows = cat.conn.execute("SELECT code, change, old_title IS NULL, source FROM history ORDER BY code").fetchall()
    assert [tuple(r) for r in rows] == [("C7558", "deleted", 0, "hcpcs action code D"),
                                        ("J1100", "revised", 1, "hcpcs action code C")]  # old text unknown
    c7558 = cat.row("hcpcs", "C7558")
    assert (c7558["billable"], c7558["deleted_in"]) == (0, RELEASE_2025)


def test_builds_into_an_index_without_orphans(tmp_path: Path) -> None:
    from medcodes.index import Catalog
    from medcodes.index.build import build_index

    report = build_index([("hcpcs", FIXTURE)], tmp_path / "idx.sqlite")
    assert report.orphans == 0
    d = Catalog(tmp_path / "idx.sqlite").official("hcpcs", "a0384").to_json()
    assert [a["code"] for a in d["ancestors"]] == ["A0021-A0999"]
    assert d["release"] == RELEASE_2025


# --- bad input --------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        list(hcpcs.read(tmp_path / "nope.txt"))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not a CMS HCPCS ANWEB file"):
        list(hcpcs.read(write(tmp_path, "HCPC2025_JAN_ANWEB.txt", b"")))


def test_wrong_file(tmp_path: Path) -> None:
    icd = b"".join(b"%05d A%04d   1 Some short title   Some long title\r\n" % (i, i) for i in range(80))
    with pytest.raises(SourceError, match="first 50 lines") as err:
        list(hcpcs.read(write(tmp_path, "icd10cm_order_2025.txt", icd)))
    assert "icd10cm_order_2025.txt" in str(err.value)


def test_notes_file_given_as_the_data_file() -> None:
    with pytest.raises(SourceError, match="not a CMS HCPCS ANWEB file"):
        list(hcpcs.read(NOTES))


def test_truncated_line(tmp_path: Path) -> None:
    lines = lines_of(FIXTURE)
    i = next(i for i, ln in enumerate(lines) if ln.startswith(b"A0021"))
    lines[i] = lines[i][:150]
    with pytest.raises(SourceError, match="truncated record: 150 characters") as err:
        list(hcpcs.read(write(tmp_path, FIXTURE.name, b"\r\n".join(lines))))
    assert err.value.line == i + 1


def test_file_cut_off_mid_record(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes()
    cut = data[: data.rindex(b"S0012") + 200]
    with pytest.raises(SourceError, match="truncated record") as err:
        list(hcpcs.read(write(tmp_path, FIXTURE.name, cut)))
    assert err.value.line == len(cut.split(b"\r\n"))


def test_continuation_without_first_line(tmp_path: Path) -> None:
    lines = [ln for ln in lines_of(FIXTURE) if not ln.startswith(b"A0384001")]
    with pytest.raises(SourceError, match="continuation line for 'A0384' without its first line"):
        list(hcpcs.read(write(tmp_path, FIXTURE.name, b"\r\n".join(lines))))


def test_garbage_line_after_records(tmp_path: Path) -> None:
    lines = lines_of(FIXTURE)
    lines.insert(4, b"this is not a record")
    with pytest.raises(SourceError, match="not a HCPCS record") as err:
        list(hcpcs.read(write(tmp_path, FIXTURE.name, b"\r\n".join(lines))))
    assert err.value.line == 5


def test_bad_date(tmp_path: Path) -> None:
    lines = lines_of(FIXTURE)
    i = next(i for i, ln in enumerate(lines) if ln.startswith(b"A0021"))
    lines[i] = lines[i][:268] + b"19851301" + lines[i][276:]
    with pytest.raises(SourceError, match="added is not a YYYYMMDD date: '19851301'") as err:
        list(hcpcs.read(write(tmp_path, FIXTURE.name, b"\r\n".join(lines))))
    assert err.value.line == i + 1


def test_bad_encoding(tmp_path: Path) -> None:
    lines = lines_of(FIXTURE)
    lines[3] = lines[3][:20] + b"\x81" + lines[3][21:]
    with pytest.raises(SourceError, match="bad encoding: byte 0x81") as err:
        list(hcpcs.read(write(tmp_path, FIXTURE.name, b"\r\n".join(lines))))
    assert err.value.line == 4


def test_utf16_file(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes().decode("ascii").encode("utf-16")
    with pytest.raises(SourceError, match="bad encoding: NUL bytes"):
        list(hcpcs.read(write(tmp_path, FIXTURE.name, data)))


def test_zip_without_member(tmp_path: Path) -> None:
    z = tmp_path / "january-2025-alpha-numeric-hcpcs-file.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("HCPC2025_recordlayout.txt", "layout only")
    with pytest.raises(SourceError, match=r"no HCPCS ANWEB file \(HCPC\*ANWEB\*\.txt\)"):
        list(hcpcs.read(z))


def test_damaged_zip_member(tmp_path: Path) -> None:
    z = tmp_path / "hcpcs.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        zf.write(FIXTURE, "HCPC2025_JAN_ANWEB_fixture.txt")
    data = bytearray(z.read_bytes())
    at = data.index(b"A0021")
    data[at:at + 5] = b"X9999"  # the stored bytes no longer match the CRC
    z.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="damaged zip"):
        list(hcpcs.read(z))


def test_procedure_record_with_a_cpt_code(tmp_path: Path) -> None:
    lines = lines_of(FIXTURE)
    i = next(i for i, ln in enumerate(lines) if ln.startswith(b"A0021"))
    lines[i] = b"99213" + lines[i][5:]
    with pytest.raises(SourceError, match="not a HCPCS record") as err:
        list(hcpcs.read(write(tmp_path, FIXTURE.name, b"\r\n".join(lines))))
    assert err.value.line == i + 1


# --- real data --------------------------------------------------------------


def real_file(shared_data: Path, name: str) -> Path:
    path = shared_data / name
    if not path.is_file():
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.mark.realdata
def test_real_2025_january_counts(shared_data: Path) -> None:
    recs = list(hcpcs.read(real_file(shared_data, ZIP_2025)))
    assert recs[:2] == [Release("hcpcs", RELEASE_2025, "2025-01-01"), Release("hcpcs-mod", RELEASE_2025,
                                                                              "2025-01-01")]
    procs, mods = codes(recs, kind="code"), codes(recs, "hcpcs-mod")
    assert len(procs) == 8259
    assert len(mods) == 383
    assert all(c.parent for c in procs.values())  # every code falls in a section
    assert len(codes(recs, kind="section")) == 25
    # 81 codes and 10 modifiers discontinued this release; 1,064 more codes terminated before it
    assert sum(1 for c in procs.values() if c.attributes.get("action_code") == "D") == 81
    assert sum(1 for c in mods.values() if c.attributes.get("action_code") == "D") == 10
    assert sum(1 for c in procs.values() if not c.billable) == 1145
    assert codes(recs)["S0012"].notes[0].text.startswith("Processing note 0088:")
    labels = [v for c in [*procs.values(), *mods.values()] for k, v in c.attributes.items() if "_label" in k]
    assert None not in labels and not any(None in v for v in labels if isinstance(v, list))


@pytest.mark.realdata
def test_real_2020_counts(shared_data: Path) -> None:
    recs = list(hcpcs.read(real_file(shared_data, ZIP_2020)))
    assert recs[0] == Release("hcpcs", "HCPCS Level II 2020 January (Q1)", "2020-01-01")
    procs = codes(recs, kind="code")
    assert len(procs) == 6710
    assert len(codes(recs, "hcpcs-mod")) == 369
    assert all(c.parent for c in procs.values())
    assert codes(recs)["A0021"].title == "Ambulance service, outside state per mile, transport (medicaid only)"


@pytest.mark.realdata
def test_real_history_2020_to_2025(shared_data: Path, tmp_path: Path) -> None:
    from medcodes.index import Catalog
    from medcodes.index.build import build_index

    sources = [("hcpcs", real_file(shared_data, ZIP_2020)), ("hcpcs", real_file(shared_data, ZIP_2025))]
    report = build_index(sources, tmp_path / "h.sqlite")
    assert report.orphans == 0
    cat = Catalog(tmp_path / "h.sqlite")
    changes = [c["change"] for c in cat.changes("hcpcs", RELEASE_2025)]
    # valid on 2020-01-01: 6,105 codes; on 2025-01-01: 7,114 (counted from the files' termination dates):
    # the diff gives 1,381 added and 372 deleted; 40 more deleted codes came and went in between (action D)
    assert (changes.count("added"), changes.count("deleted")) == (1381, 372 + 40)
    sources = {tuple(r) for r in cat.conn.execute(
        "SELECT release, change, source, COUNT(*) FROM history WHERE system='hcpcs' GROUP BY 1, 2, 3")}
    assert sources == {
        # the 2020 annual file's actions (A and D of the 2019 quarters included), with no earlier release loaded
        ("HCPCS Level II 2020 January (Q1)", "added", "hcpcs action code A", 242),
        ("HCPCS Level II 2020 January (Q1)", "deleted", "hcpcs action code D", 98),
        ("HCPCS Level II 2020 January (Q1)", "revised", "hcpcs action code C", 70),
        ("HCPCS Level II 2020 January (Q1)", "revised", "hcpcs action code S", 2),
        (RELEASE_2025, "added", "hcpcs action code A", 168),
        (RELEASE_2025, "added", "release diff", 1381 - 168),
        (RELEASE_2025, "deleted", "hcpcs action code D", 81),
        (RELEASE_2025, "deleted", "release diff", 412 - 81),
        (RELEASE_2025, "revised", "hcpcs action code C", 56),
        (RELEASE_2025, "revised", "hcpcs action code S", 2),
        (RELEASE_2025, "revised", "release diff", 242),
    }
    e1800 = cat.history("hcpcs", "E1800")[-1].to_json()  # action C: the old text is the 2020 file's
    assert e1800["old_title"].startswith("Dynamic adjustable elbow extension/flexion device")
    assert e1800["new_title"].startswith("Dynamic adjustable elbow extension and flexion device")
