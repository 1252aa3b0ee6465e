"""ICD-10-CM importer: tabular and index XML, CMS order and codes files.

The fixtures follow the official layouts with a few real (public-domain)
nodes, plus made-up ones where a rule needs a case: S72.9 carries its own
sevenChrDef, and chapter 22 holds a block with the chapter's own range.
"""

from __future__ import annotations

import gzip
import unicodedata
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from medcodes.errors import SourceError
from medcodes.model import Change, Code, Note, Record, Reference, Release, Term
from medcodes.sources import icd10cm
from medcodes.sources.icd10cm.index import column_labels, index_kind
from medcodes.systems import normalize

DATA = Path(__file__).resolve().parents[1] / "data" / "icd10cm"
TABULAR = DATA / "icd10cm_tabular_2026.xml"
ORDER = DATA / "icd10cm_order_2026.txt"
CODES = DATA / "icd10cm_codes_2026.txt"
INDEX = DATA / "icd10cm_index_2026.xml"
EINDEX = DATA / "icd10cm_eindex_2026.xml"
DRUG = DATA / "icd10cm_drug_2026.xml"
NEOPLASM = DATA / "icd10cm_neoplasm_2026.xml"
INDEX_CSV = DATA / "ICD10CM_2025_Index.csv"
CODES_ADDENDA = DATA / "icd10cm_codes_addenda_2026.txt"
ORDER_ADDENDA = DATA / "icd10cm_order_addenda_2026.txt"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"

FY2026 = Release("icd10cm", "ICD-10-CM FY2026", "2025-10-01")
APRIL_2026 = Release("icd10cm", "ICD-10-CM FY2026, April 2026 update", "2026-04-01")
FIXTURE_BILLABLE = [
    "C00.0", "C00.9", "C50.011", "C7A.1", "E11.3211", "E11.3212", "E11.3213", "E11.3219", "E11.9", "QA0.0101",
    "S06.1X1A", "S06.1X1D", "S06.1X1S", "S06.1X7A", "S72.001A", "S72.001B", "S72.001S", "S72.9XXA", "S72.9XXS",
    "T07.XXXA", "T07.XXXD", "T07.XXXS", "U07.1",
]


def codes(records: list[Record], kind: str | None = None) -> dict[str, Code]:
    return {r.code: r for r in records if isinstance(r, Code) and kind in (None, r.kind)}


def terms(records: list[Record]) -> list[tuple[str, str, str]]:
    return [(t.code, t.term, t.source) for t in records if isinstance(t, Term)]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def line_of(data: bytes, marker: bytes) -> int:
    return data[: data.index(marker)].count(b"\n") + 1


@pytest.fixture(scope="module")
def tabular() -> list[Record]:
    return list(icd10cm.read(TABULAR))


@pytest.fixture(scope="module")
def order() -> list[Record]:
    return list(icd10cm.read(ORDER))


# --- domain rules as functions ----------------------------------------------


@pytest.mark.parametrize(("raw", "code"), [
    ("S72.001A", "S72.001A"), ("s72001a", "S72.001A"), (" E119 ", "E11.9"), ("E11.9", "E11.9"), ("E11", "E11"),
    ("S72.0-", "S72.0"), ("D24.-", "D24"), ("C79.8-", "C79.8"), ("QA00101", "QA0.0101"), ("qa0.0101", "QA0.0101"),
    ("T07.XXXA", "T07.XXXA"), ("X58", "X58"),
    ("--", None), ("-", None), ("", None), ("see text", None), ("E1", None), ("E11.91234", None), ("1", None),
    ("11.9", None), ("ventral surface", None),
])
def test_canonical_code_takes_dotted_undotted_and_see_subcategory_forms(raw: str, code: str | None) -> None:
    assert icd10cm.canonical_code(raw) == code


@pytest.mark.parametrize("raw", ["e119", "S72001A", "T07XXXA", "C7A1", "Z68.41"])
def test_canonical_code_is_the_registry_normal_form(raw: str) -> None:
    assert icd10cm.canonical_code(raw) == normalize("icd10cm", raw)


def test_seventh_character_codes_pad_with_placeholder_x() -> None:
    defs = (("A", "initial encounter"), ("D", "subsequent encounter"), ("S", "sequela"))
    assert icd10cm.seventh_character_codes("T07", "Unspecified multiple injuries", defs) == [
        ("T07.XXXA", "Unspecified multiple injuries, initial encounter", "A"),
        ("T07.XXXD", "Unspecified multiple injuries, subsequent encounter", "D"),
        ("T07.XXXS", "Unspecified multiple injuries, sequela", "S"),
    ]
    assert [c for c, _, _ in icd10cm.seventh_character_codes("S02.0", "t", defs)] == ["S02.0XXA", "S02.0XXD",
                                                                                        "S02.0XXS"]
    assert [c for c, _, _ in icd10cm.seventh_character_codes("S72001", "t", defs)] == ["S72.001A", "S72.001D",
                                                                                         "S72.001S"]
    assert icd10cm.seventh_character_codes("S72.001A", "t", defs) == []  # already 7 characters


def test_seventh_character_limits_follow_the_s06_note() -> None:
    defs = (("A", "initial encounter"), ("D", "subsequent encounter"), ("S", "sequela"))
    assert [c for c, _, _ in icd10cm.seventh_character_codes("S06.1X7", "t", defs)] == ["S06.1X7A"]
    assert [c for c, _, _ in icd10cm.seventh_character_codes("S06.308", "t", defs)] == ["S06.308A"]
    assert len(icd10cm.seventh_character_codes("S06.1X1", "t", defs)) == 3
    assert len(icd10cm.seventh_character_codes("S07.0", "t", defs)) == 3  # another category: no limit


@pytest.mark.parametrize(("section_id", "code"), [("E08-E13", "E08-E13"), ("C50", "C50-C50"), ("QA0", "QA0-QA0")])
def test_block_code_never_equals_a_category(section_id: str, code: str) -> None:
    assert icd10cm.block_code(section_id) == code


def test_chapter_code_is_its_range_unless_a_block_has_it() -> None:
    assert icd10cm.chapter_code("E00-E89", "4", {"E08-E13", "E00-E07"}) == "E00-E89"
    assert icd10cm.chapter_code("U00-U85", "22", {"U00-U85"}) == "U00-U85 (CHAPTER 22)"


@pytest.mark.parametrize(("desc", "split"), [
    ("Diabetes mellitus (E08-E13)", ("Diabetes mellitus", "E08-E13")),
    ("Malignant neoplasms of breast (C50)", ("Malignant neoplasms of breast", "C50")),
    ("Congenital malformations (Q00-QA0)", ("Congenital malformations", "Q00-QA0")),
    ("Fracture of femur", ("Fracture of femur", None)),
    ("Sequelae (of) (late effects)", ("Sequelae (of) (late effects)", None)),
])
def test_split_range(desc: str, split: tuple[str, str | None]) -> None:
    assert icd10cm.split_range(desc) == split


def test_nest_blocks_puts_sections_under_the_heading_that_holds_them() -> None:
    blocks = [("C00-C96", True), ("C00-C75", True), ("C00-C14", False), ("C50-C50", False), ("C7A-C7A", False),
              ("C81-C96", False), ("D00-D09", False), ("V00-X58", True), ("V00-V99", True), ("V00-V09", False),
              ("W00-X58", True), ("W00-W19", False), ("X92-Y09", False)]
    assert icd10cm.nest_blocks(blocks) == [None, "C00-C96", "C00-C75", "C00-C75", "C00-C96", "C00-C96", None,
                                           None, "V00-X58", "V00-V99", "V00-X58", "W00-X58", None]


@pytest.mark.parametrize(("version", "names", "release"), [
    ("2026", ["icd10c-tabular-April-1-2026.xml"], APRIL_2026),
    ("2026", ["icd10cm_tabular_2026.xml"], FY2026),
    (None, ["icd10cm_order_2026.txt", "april-1-2026-code-descriptions-tabular-order.zip"], APRIL_2026),
    (None, ["icd10cm-order-april_2026.txt"], APRIL_2026),
    ("2025", ["icd-10-cm-eindex.xml", "icd10cm-table-index-April-2025.zip"],
     Release("icd10cm", "ICD-10-CM FY2025, April 2025 update", "2025-04-01")),
    ("2025", ["tabular_2024.xml"], Release("icd10cm", "ICD-10-CM FY2025", "2024-10-01")),  # <version> wins
    (None, ["codes.txt", "approach.zip"], Release("icd10cm", "ICD-10-CM (release not stated)", None)),
])
def test_release_for(version: str | None, names: list[str], release: Release) -> None:
    assert icd10cm.release_for(version, names) == release


@pytest.mark.parametrize(("head", "kind"), [
    (TABULAR.read_bytes()[:4096], "tabular"),
    (INDEX.read_bytes()[:4096], "index"),
    (b"<?xml version='1.0'?>\n<!-- x -->\n<ICD10CM.index isAddenda=\"true\"><version>2026</version>", "addenda"),
    (ORDER.read_bytes()[:4096], "order"),
    (CODES.read_bytes()[:4096], "codes"),
    (b"1\r\nA00-A09\r\nA00\r\nA000\r\n", "code_list"),
    (b"Revise from: A7741   Ehrlichiosis chafeensis\r\n", "codes_addenda"),
    (b"Add:         1 C810A   Nodular lymphocyte predom Hodgkin lymphoma, in remission", "order_addenda"),
    (b"Add: 1 E119 Type 2\n", "order_addenda"),  # sniffed as one; its reader refuses the layout
    (b"", "empty"),
    (b" \n\n", "empty"),
    (b"<ICD10PCS.tabular/>", None),
    (b"code,title\nE119,Type 2\n", None),
])
def test_sniff(head: bytes, kind: str | None) -> None:
    assert icd10cm.sniff(head) == kind


def test_index_kind_and_column_labels() -> None:
    assert index_kind(DRUG.read_text()[:4096], "x.xml") == "drug"
    assert index_kind(NEOPLASM.read_text()[:4096], "x.xml") == "neoplasm"
    assert index_kind(EINDEX.read_text()[:4096], "x.xml") == "eindex"
    assert index_kind(INDEX.read_text()[:4096], "x.xml") == "index"
    assert index_kind("<ICD10CM.index><version>2026</version><letter>", "icd10cm_eindex_2026.xml") == "eindex"
    assert index_kind("<ICD10CM.index><version>2026</version><letter>", "icd10cm_drug_2026.xml") == "drug"
    assert column_labels({1: "Substance", 2: "Poisoning Accidental (unintentional)", 3: "Poisoning Assault",
                          6: "Adverse effect", 7: "Underdosing"}) == {
        1: "substance", 2: "poisoning, accidental (unintentional)", 3: "poisoning, assault", 6: "adverse effect",
        7: "underdosing"}
    assert column_labels({2: "Malignant Primary", 3: "Malignant Secondary", 4: "Ca in situ"}) == {
        2: "malignant, primary", 3: "malignant, secondary", 4: "ca in situ"}


# --- tabular XML -------------------------------------------------------------


def test_tabular_release_and_counts(tabular: list[Record]) -> None:
    assert tabular[0] == FY2026
    assert [r for r in tabular if isinstance(r, Release)] == [FY2026]
    found = codes(tabular)
    assert len(found) == len([r for r in tabular if isinstance(r, Code)])  # no code twice
    assert sorted(c for c, r in found.items() if r.billable) == FIXTURE_BILLABLE
    assert all(r.parent is None or r.parent in found for r in found.values())  # every parent is a node
    seen: set[str] = set()
    for r in tabular:
        if isinstance(r, Code):
            assert r.parent is None or r.parent in seen  # parents come first
            seen.add(r.code)


def test_tabular_chapters(tabular: list[Record]) -> None:
    chapters = codes(tabular, "chapter")
    assert list(chapters) == ["C00-D49", "E00-E89", "Q00-QA0", "S00-T88", "U00-U85 (CHAPTER 22)"]
    assert chapters["E00-E89"].title == "Endocrine, nutritional and metabolic diseases"
    assert chapters["E00-E89"].attributes == {"chapter": "4"} and chapters["E00-E89"].billable is False
    assert chapters["C00-D49"].notes[0] == Note("note", "Functional activity")
    assert codes(tabular)["U00-U85"].parent == "U00-U85 (CHAPTER 22)"


def test_tabular_blocks_nest_and_single_category_blocks_are_told_apart(tabular: list[Record]) -> None:
    blocks = codes(tabular, "block")
    parents = {code: b.parent for code, b in blocks.items()}
    assert parents == {"C00-C96": "C00-D49", "C00-C75": "C00-C96", "C00-C14": "C00-C75", "C50-C50": "C00-C75",
                       "C7A-C7A": "C00-C96", "E08-E13": "E00-E89", "QA0-QA0": "Q00-QA0", "S00-S09": "S00-T88",
                       "S70-S79": "S00-T88", "T07-T07": "S00-T88", "U00-U85": "U00-U85 (CHAPTER 22)"}
    assert blocks["C50-C50"].title == "Malignant neoplasms of breast"
    assert blocks["C50-C50"].attributes == {"tabular_id": "C50"}
    assert blocks["QA0-QA0"].title == "Genetic disorders, not elsewhere classified"
    assert blocks["E08-E13"].attributes == {} and blocks["E08-E13"].kind == "block"
    c50 = codes(tabular)["C50"]
    assert (c50.kind, c50.parent, c50.billable) == ("category", "C50-C50", False)


def test_tabular_kinds_and_parents(tabular: list[Record]) -> None:
    found = codes(tabular)
    expected = {
        "E11": ("category", "E08-E13", False), "E11.9": ("code", "E11", True),
        "E11.32": ("subcategory", "E11.3", False), "E11.321": ("subcategory", "E11.32", False),
        "E11.3211": ("code", "E11.321", True), "QA0.0101": ("code", "QA0.010", True),
        "S06.1X": ("subcategory", "S06.1", False), "S06.1X7": ("subcategory", "S06.1X", False),
        "T07": ("category", "T07-T07", False), "T07.XXXA": ("code", "T07", True),
        "U07.1": ("code", "U07", True),
    }
    assert {c: (found[c].kind, found[c].parent, found[c].billable) for c in expected} == expected
    assert found["S06.1X"].attributes == {"placeholder": True}


def test_seventh_character_expansion(tabular: list[Record]) -> None:
    found = codes(tabular)
    assert found["S72.001A"].title == ("Fracture of unspecified part of neck of right femur, initial encounter for "
                                       "closed fracture")
    assert found["S72.001A"].attributes == {"seventh_character": "A"}
    assert found["E11.3219"].title.endswith("with macular edema, unspecified eye")
    assert [c for c in found if c.startswith("S72.9")] == ["S72.9", "S72.9XXA", "S72.9XXS"]  # its own definition wins
    assert [c for c in found if c.startswith("S06.1X7")] == ["S06.1X7", "S06.1X7A"]  # the S06 note


def test_expanded_titles_match_the_codes_file(tabular: list[Record]) -> None:
    listed = codes(list(icd10cm.read(CODES)))
    billable = {c: r for c, r in codes(tabular).items() if r.billable}
    assert listed.keys() == billable.keys()
    assert {c: r.title for c, r in billable.items()} == {c: r.title for c, r in listed.items()}


def test_tabular_agrees_with_the_order_file(tabular: list[Record], order: list[Record]) -> None:
    tree = {c: r for c, r in codes(tabular).items() if r.kind not in ("chapter", "block")}
    flat = codes(order)
    assert tree.keys() == flat.keys()
    for code, node in tree.items():
        assert (node.kind, node.billable, node.title) == (flat[code].kind, flat[code].billable, flat[code].title)
        if node.kind != "category":
            assert node.parent == flat[code].parent


def test_tabular_notes_are_the_nodes_own(tabular: list[Record]) -> None:
    found = codes(tabular)
    assert found["C00"].notes == (
        Note("use_additional", "to identify:"), Note("use_additional", "alcohol abuse and dependence (F10.-)"),
        Note("excludes1", "malignant melanoma of lip (C43.0)"))
    assert found["C00.0"].notes == (Note("inclusion", "Malignant neoplasm of lipstick area of upper lip"),)
    assert found["C50"].notes == (Note("includes", "connective tissue of breast"),
                                  Note("code_also", "estrogen receptor status (Z17.0, Z17.1)"))
    assert found["C7A"].notes[0].type == "code_first"
    assert found["S72"].notes == (
        Note("note", "A fracture not indicated as open or closed should be coded to closed"),
        Note("excludes2", "fracture of lower leg and ankle (S82.-)"),
        Note("seventh_character", "The appropriate 7th character is to be added to all codes from category S72"),
        Note("seventh_character", "A: initial encounter for closed fracture"),
        Note("seventh_character", "B: initial encounter for open fracture type I or II (initial encounter for open "
                                  "fracture NOS)"),
        Note("seventh_character", "S: sequela"))
    assert found["S72.001"].notes == () and found["S72.001A"].notes == ()


def test_tabular_reads_the_same_gzipped(tmp_path: Path, tabular: list[Record]) -> None:
    path = write(tmp_path, "icd10cm_tabular_2026.xml.gz", gz(TABULAR.read_bytes()))
    assert list(icd10cm.read(path)) == tabular


# --- order and codes files ---------------------------------------------------


def test_order_file(order: list[Record]) -> None:
    assert order[0] == FY2026
    found = codes(order)
    assert len(found) == 48 and sorted(c for c, r in found.items() if r.billable) == FIXTURE_BILLABLE
    s72001b = found["S72.001B"]
    assert s72001b.short_title == "Fx unsp part of neck of right femur, init for opn fx typ I/2"
    assert s72001b.title == ("Fracture of unspecified part of neck of right femur, initial encounter for open "
                             "fracture type I or II")
    parents = {c: found[c].parent for c in ("E11", "E11.3211", "T07.XXXA", "S06.1X1", "S06.1X1A", "QA0.0101")}
    assert parents == {"E11": None, "E11.3211": "E11.321", "T07.XXXA": "T07", "S06.1X1": "S06.1X",
                       "S06.1X1A": "S06.1X1", "QA0.0101": "QA0.010"}


def test_codes_file_plain_and_gzipped(tmp_path: Path) -> None:
    records = list(icd10cm.read(CODES))
    assert records[0] == FY2026
    found = codes(records)
    assert sorted(found) == FIXTURE_BILLABLE
    assert all(r.billable and r.parent is None for r in found.values())
    assert found["E11.9"].title == "Type 2 diabetes mellitus without complications"
    path = write(tmp_path, "icd10cm_codes_2026.txt.gz", gz(CODES.read_bytes()))
    assert list(icd10cm.read(path)) == records


def test_codes_file_takes_lf_bom_and_cp1252(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbfA5216   Charc\xf4t's arthropathy (tabetic)\nE119    Type 2 diabetes mellitus\n\x1a"
    found = codes(list(icd10cm.read(write(tmp_path, "icd10cm_codes_2026.txt", data))))
    assert found["A52.16"].title == "Charcôt's arthropathy (tabetic)" and list(found) == ["A52.16", "E11.9"]


def test_zip_reads_the_order_file_and_skips_what_it_repeats(tmp_path: Path, order: list[Record]) -> None:
    path = tmp_path / "april-1-2026-code-descriptions-tabular-order.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(CODES, "icd10cm_codes_2026.txt")
        zf.write(ORDER, "icd10cm_order_2026.txt")
        zf.write(ORDER_ADDENDA, "icd10cm_order_addenda_2026.txt")
        zf.write(CODES_ADDENDA, "icd10cm_codes_addenda_2026.txt")
        zf.writestr("icd10OrderFiles.pdf", b"%PDF-1.4")
    records = list(icd10cm.read(path))
    assert records[0] == APRIL_2026 and [r for r in records if isinstance(r, Release)] == [APRIL_2026]
    changes = [r for r in records if isinstance(r, Change)]
    assert records[1:-len(changes)] == order[1:]  # the codes file says nothing the order file does not
    # then the codes addenda's changes (the order addenda repeats them), in the zip's release
    codes_addenda = [r for r in icd10cm.read(CODES_ADDENDA) if isinstance(r, Change)]
    assert changes == [replace(c, release=APRIL_2026.name, effective=APRIL_2026.effective) for c in codes_addenda]


def test_zip_with_codes_file_only(tmp_path: Path) -> None:
    path = tmp_path / "codes.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(CODES, "2026/icd10cm_codes_2026.txt")
    assert sorted(codes(list(icd10cm.read(path)))) == FIXTURE_BILLABLE


def test_cdc_zip_reads_tabular_then_indexes_as_one_release(tmp_path: Path) -> None:
    path = tmp_path / "icd10cm-table-index-April-2026.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for source in (NEOPLASM, INDEX, TABULAR, DRUG, EINDEX):
            zf.write(source, source.name)
        zf.writestr("icd10cm-tabular-2026.xsd", "<xsd:schema/>")
    records = list(icd10cm.read(path))
    assert [r for r in records if isinstance(r, Release)] == [APRIL_2026]
    first_term = next(i for i, r in enumerate(records) if isinstance(r, Term))
    assert all(isinstance(r, Code) for r in records[1:first_term])
    assert list(dict.fromkeys(s for _, _, s in terms(records))) == ["drug", "eindex", "index", "neoplasm"]


# --- index XML ---------------------------------------------------------------


def test_alphabetic_index_terms() -> None:
    records = list(icd10cm.read(INDEX))
    assert records[0] == FY2026
    assert terms(records) == [
        ("U07.1", "COVID-19", "index"),
        ("F03.90", "Dementia (degenerative (primary)) (old age) (persisting)", "index"),
        ("G20.C", "Dementia (degenerative (primary)) (old age) (persisting), in (due to), Parkinson's disease",
         "index"),
        ("F02.80", "Dementia (degenerative (primary)) (old age) (persisting), in (due to), Parkinson's disease",
         "index"),
        ("E11.9", "Diabetes, diabetic (mellitus) (sugar)", "index"),
        ("E11.9", "Diabetes, diabetic (mellitus) (sugar), type 2", "index"),
        ("E11.329", "Diabetes, diabetic (mellitus) (sugar), type 2, with, retinopathy, mild nonproliferative",
         "index"),
        ("T14.8", "Fracture, traumatic (abduction) (adduction) (separation)", "index"),
        ("S72.9", "Fracture, traumatic (abduction) (adduction) (separation), femur, femoral", "index"),
        ("S72.00", "Fracture, traumatic (abduction) (adduction) (separation), femur, femoral, neck", "index"),
    ]


def test_external_cause_index_terms() -> None:
    assert terms(list(icd10cm.read(EINDEX))) == [
        ("X58", "Accident (to)", "eindex"),
        ("V94.11", "Accident (to), boat, boating, striking swimmer, powered", "eindex"),
        ("T75.0", "Accident (to), caused by, due to, lightning", "eindex"),
        ("T71", "Suffocation (accidental), in bed linen", "eindex"),
    ]


def test_drug_table_terms_name_their_column() -> None:
    found = terms(list(icd10cm.read(DRUG)))
    assert len(found) == 10  # "--" cells are empty
    assert found[0] == ("T51.3X1", "1-propanol — poisoning, accidental (unintentional)", "drug")
    assert found[4:] == [
        ("T39.011", "Aspirin (aluminum) (soluble) — poisoning, accidental (unintentional)", "drug"),
        ("T39.012", "Aspirin (aluminum) (soluble) — poisoning, intentional self-harm", "drug"),
        ("T39.013", "Aspirin (aluminum) (soluble) — poisoning, assault", "drug"),
        ("T39.014", "Aspirin (aluminum) (soluble) — poisoning, undetermined", "drug"),
        ("T39.015", "Aspirin (aluminum) (soluble) — adverse effect", "drug"),
        ("T39.016", "Aspirin (aluminum) (soluble) — underdosing", "drug"),
    ]


def test_neoplasm_table_terms_point_dashed_codes_at_their_stem() -> None:
    found = terms(list(icd10cm.read(NEOPLASM)))
    breast = "Neoplasm, neoplastic, breast (connective tissue) (glandular tissue) (soft parts)"
    assert found[6:12] == [
        ("C50.9", f"{breast} — malignant, primary", "neoplasm"),
        ("C79.81", f"{breast} — malignant, secondary", "neoplasm"),
        ("D05", f"{breast} — ca in situ", "neoplasm"),
        ("D24", f"{breast} — benign", "neoplasm"),
        ("D48.6", f"{breast} — uncertain behavior", "neoplasm"),
        ("D49.3", f"{breast} — unspecified behavior", "neoplasm"),
    ]
    assert found[12:] == [("C06.89", f"{breast}, book-leaf (mouth) — malignant, primary", "neoplasm")]


def test_table_cells_without_headings_name_the_column_number(tmp_path: Path) -> None:
    data = DRUG.read_bytes()
    start, end = data.index(b"<indexHeading>"), data.index(b"</indexHeading>") + len(b"</indexHeading>")
    found = terms(list(icd10cm.read(write(tmp_path, "icd10cm_drug_2026.xml", data[:start] + data[end:]))))
    assert found[0] == ("T51.3X1", "1-propanol — column 2", "drug")


def test_see_and_see_also_become_references() -> None:
    refs = [(r.term, r.kind, r.target, r.path, r.source) for r in icd10cm.read(EINDEX) if isinstance(r, Reference)]
    assert refs and all(kind in ("see", "see_also") for _, kind, _, _, _ in refs)
    assert all(source == "eindex" and ", ".join(path) == term for term, _, _, path, source in refs)
    index = [(r.term, r.kind, r.target) for r in icd10cm.read(INDEX) if isinstance(r, Reference)]
    assert ("Dementia (degenerative (primary)) (old age) (persisting), in (due to), Alzheimer's disease", "see",
            "Disease, Alzheimer's") in index


def test_terms_keep_their_levels() -> None:
    found = [t for t in icd10cm.read(NEOPLASM) if isinstance(t, Term)]
    assert all(t.path[-1] in t.term and t.term.startswith(t.path[0]) for t in found)
    book_leaf = next(t for t in found if "book-leaf" in t.term)
    assert book_leaf.path == ("Neoplasm, neoplastic", "breast (connective tissue) (glandular tissue) (soft parts)",
                              "book-leaf (mouth)", "malignant, primary")


# --- index CSV ---------------------------------------------------------------


def test_index_csv() -> None:
    records = list(icd10cm.read(INDEX_CSV))
    assert records[0] == Release("icd10cm", "ICD-10-CM FY2025", "2024-10-01")
    assert [(t.code, t.term, t.path) for t in records if isinstance(t, Term)] == [
        ("Q87.19", "Aarskog's syndrome", ("Aarskog's syndrome",)),
        ("R10.0", "Abdomen, abdominal, acute", ("Abdomen, abdominal", "acute")),
        ("Q27.8", "Aberrant (congenital), artery (peripheral)", ("Aberrant (congenital)", "artery (peripheral)")),
        ("Q28.1", "Aberrant (congenital), artery (peripheral), basilar NEC",
         ("Aberrant (congenital)", "artery (peripheral)", "basilar NEC")),
        ("Q83.8", "Aberrant (congenital), breast", ("Aberrant (congenital)", "breast")),
        # a subterm of nonessential modifiers alone
        ("F45.41", "Disorder, persistent, (somatoform)", ("Disorder", "persistent", "(somatoform)")),
        ("F03.90", "Dementia (degenerative (primary))", ("Dementia (degenerative (primary))",)),
        ("R50.9", "Fever", ("Fever",)),
        ("I01", "Fever, rheumatic, active with heart involvement",
         ("Fever", "rheumatic", "active with heart involvement")),
        ("C80.1", "Fever, neoplastic", ("Fever", "neoplastic")),  # "C80.1-": its stem
    ]
    assert all(t.source == "index" for t in records if isinstance(t, Term))
    assert [(r.term, r.kind, r.target) for r in records if isinstance(r, Reference)] == [
        ("Abandonment", "see", "Maltreatment"),
        ("Abdomen, abdominal", "see_also", "condition"),
        ("Aberrant (congenital)", "see_also", "Malposition, congenital"),
        ("Dementia (degenerative (primary)), in (due to), Alzheimer's disease", "see", "Disease, Alzheimer's"),
    ]  # "see category" beside its code says nothing the code does not


def test_index_csv_gzipped_reads_the_same(tmp_path: Path) -> None:
    path = write(tmp_path, "ICD10CM_2025_Index.csv.gz", gzip.compress(INDEX_CSV.read_bytes()))
    assert list(icd10cm.read(path)) == list(icd10cm.read(INDEX_CSV))


@pytest.mark.parametrize(("change", "message", "line"), [
    ((b"7,A,2,basilar NEC", b"7,A,4,basilar NEC"), "level '4' of 'basilar NEC' does not follow", 8),
    ((b",,,,Q28.1", b",,,,Q28.1,extra"), "9 fields where the index CSV has 8", 8),
    ((b",,,,Q28.1", b",,,,not-a-code"), "'not-a-code' is not an ICD-10-CM code", 8),
    ((b"RowID,Letter", b"Row,Letter"), "not an ICD-10-CM file", 1),
])
def test_bad_index_csv(tmp_path: Path, change: tuple[bytes, bytes], message: str, line: int) -> None:
    path = write(tmp_path, "ICD10CM_2025_Index.csv", INDEX_CSV.read_bytes().replace(*change))
    with pytest.raises(SourceError, match=message) as e:
        list(icd10cm.read(path))
    assert e.value.path == str(path) and e.value.line == line


def test_truncated_index_csv(tmp_path: Path) -> None:
    data = INDEX_CSV.read_bytes()
    path = write(tmp_path, "ICD10CM_2025_Index.csv", data[: data.index(b"Aberrant") + 3])
    with pytest.raises(SourceError, match="fields where the index CSV has 8") as e:
        list(icd10cm.read(path))
    assert e.value.line == 6


@pytest.mark.realdata
def test_real_index_csv() -> None:
    records = list(icd10cm.read(real("cdc_icd10cm_2025_index/ICD10CM_2025_Index.csv.gz")))
    found = [r for r in records if isinstance(r, Term)]
    assert len(found) == 62_721  # every row with a code (SOURCES.md)
    assert any(t.code == "F45.41" and t.path[-1] == "(somatoform)" for t in found)
    assert sum(isinstance(r, Reference) for r in records) == 14_192


# --- bad input ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.txt", b"", "empty file"),
    ("blank.xml", b"\n \n", "empty file"),
    ("pcs.xml", b'<?xml version="1.0"?><ICD10PCS.tabular></ICD10PCS.tabular>', "not an ICD-10-CM file"),
    ("codes.csv", b"code,title\nE119,Type 2 diabetes\n", "not an ICD-10-CM file"),
    ("utf16.txt", "E119    Type 2 diabetes mellitus\n".encode("utf-16"), "not an ICD-10-CM file"),
    ("addenda.xml", b'<ICD10CM.tabular isAddenda="true"><version>2026</version></ICD10CM.tabular>', "addenda"),
    ("code-list-April-2026.txt", b"1\nA00-A09\nA00\nA000\n", "not a source"),
])
def test_wrong_files(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message) as exc:
        list(icd10cm.read(write(tmp_path, name, data)))
    assert name in str(exc.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        list(icd10cm.read(tmp_path / "nope.xml"))


@pytest.mark.parametrize("source", [TABULAR, INDEX, NEOPLASM])
def test_truncated_xml(tmp_path: Path, source: Path) -> None:
    data = source.read_bytes()
    with pytest.raises(SourceError, match="not well-formed XML") as exc:
        list(icd10cm.read(write(tmp_path, source.name, data[: len(data) * 2 // 3])))
    assert exc.value.line is not None


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gz(ORDER.read_bytes())
    with pytest.raises(SourceError, match="cannot read"):
        list(icd10cm.read(write(tmp_path, "icd10cm_order_2026.txt.gz", data[: len(data) - 40])))


def test_xml_with_bad_encoding(tmp_path: Path) -> None:
    data = TABULAR.read_bytes().replace(b"Fracture of femur", b"Fracture of f\xe9mur", 1)
    with pytest.raises(SourceError, match="not well-formed XML") as exc:
        list(icd10cm.read(write(tmp_path, "t.xml", data)))
    assert exc.value.line == line_of(data, b"Fracture of f")


@pytest.mark.parametrize(("old", "new", "message"), [
    (b'<section id="E08-E13">', b'<section id="E08 to E13">', "not a category or a range"),
    (b'<section id="E08-E13">', b"<section>", "not a category or a range"),
    (b"<name>E11.9</name>", b"<name>E11.9-</name>", "not an ICD-10-CM code"),
    (b"<name>E11.9</name>", b"<name>Type 2</name>", "not an ICD-10-CM code"),
    (b"<name>E11.9</name>", b"<name>E12.9</name>", "E12.9 is filed under E11"),
    (b'<extension char="A">initial encounter</extension>', b'<extension char="AB">initial encounter</extension>',
     "7th character 'AB'"),
])
def test_broken_tabular(tmp_path: Path, old: bytes, new: bytes, message: str) -> None:
    data = TABULAR.read_bytes()
    assert old in data
    broken = data.replace(old, new, 1)
    with pytest.raises(SourceError, match=message) as exc:
        list(icd10cm.read(write(tmp_path, "t.xml", broken)))
    assert exc.value.line == line_of(broken, new)


def test_chapter_without_range_takes_its_blocks_or_fails(tmp_path: Path) -> None:
    data = TABULAR.read_bytes().replace(b"metabolic diseases (E00-E89)", b"metabolic diseases", 1)
    # Its one block spans the same range, so the chapter is told apart from it.
    assert "E08-E13 (CHAPTER 4)" in codes(list(icd10cm.read(write(tmp_path, "a.xml", data))), "chapter")
    bare = b"<ICD10CM.tabular><version>2026</version>\n<chapter><name>4</name><desc>Endocrine</desc></chapter>" \
           b"</ICD10CM.tabular>"
    with pytest.raises(SourceError, match="chapter 4 has neither a code range nor sections") as exc:
        list(icd10cm.read(write(tmp_path, "b.xml", bare)))
    assert exc.value.line == 2


def test_tabular_without_chapters(tmp_path: Path) -> None:
    data = b"<ICD10CM.tabular><version>2026</version><introduction/></ICD10CM.tabular>"
    with pytest.raises(SourceError, match="without a <chapter>"):
        list(icd10cm.read(write(tmp_path, "t.xml", data)))


def test_index_cell_with_a_bad_column(tmp_path: Path) -> None:
    data = DRUG.read_bytes().replace(b'<cell col="3">T39.012', b'<cell col="x">T39.012', 1)
    with pytest.raises(SourceError, match="col 'x' is not a column number") as exc:
        list(icd10cm.read(write(tmp_path, "icd10cm_drug_2026.xml", data)))
    assert exc.value.line == line_of(data, b'<cell col="x">')


@pytest.mark.parametrize(("data", "message"), [
    (b"00001 A00     0 Cholera" + b" " * 53 + b"Cholera\r\n00002 A000    1 Cholera due to Vibrio\r\n",
     "not an order-file line"),
    (b"00001 A00     0 Cholera" + b" " * 53 + b"Cholera\r\n00002 A0-0    1 " + b"C" * 61 + b"Cholera\r\n",
     "not an order-file line"),
])
def test_order_file_bad_line(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message) as exc:
        list(icd10cm.read(write(tmp_path, "icd10cm_order_2026.txt", data)))
    assert exc.value.line == 2


def test_codes_file_bad_line(tmp_path: Path) -> None:
    data = CODES.read_bytes() + b"\r\nnot a code line\r\n"
    with pytest.raises(SourceError, match="not a codes-file line") as exc:
        list(icd10cm.read(write(tmp_path, "icd10cm_codes_2026.txt", data)))
    assert exc.value.line == 25


@pytest.mark.parametrize(("data", "message"), [
    (b"E119    Type 2 diabetes mellitus\nE11A    Type 2 \x81\n", "neither UTF-8 nor Windows-1252"),
    (b"E119    Type 2 diabetes mellitus\nE11A \x00 Type 2\n", "NUL bytes"),
])
def test_codes_file_bad_encoding(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message) as exc:
        list(icd10cm.read(write(tmp_path, "icd10cm_codes_2026.txt", data)))
    assert exc.value.line == 2


def test_zip_without_icd10cm_files(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
        zf.writestr("icd10cm_tabular_addenda_2026.xml", '<ICD10CM.tabular isAddenda="true"></ICD10CM.tabular>')
    with pytest.raises(SourceError, match="zip holds no ICD-10-CM"):
        list(icd10cm.read(path))


def test_damaged_zip_member(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(ORDER, "icd10cm_order_2026.txt")
    data = bytearray(path.read_bytes())
    data[100:140] = b"\x00" * 40  # inside the deflated member
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="cannot read|not an order-file line|bad encoding") as exc:
        list(icd10cm.read(path))
    assert "icd10cm_order_2026.txt" in str(exc.value)


# --- the embedded default ------------------------------------------------------


def embedded() -> Path:
    found = icd10cm.tabular_sources()
    if not found:
        pytest.skip("simple-icd-10-cm is not installed")
    return found[0]


@pytest.fixture(scope="module")
def embedded_records() -> list[Record]:
    return list(icd10cm.read(embedded()))


def test_embedded_sources_are_the_april_2026_tabular_then_the_layer_indexes() -> None:
    layer = ["icd10cm-index-fy2025.jsonl.gz", "icd10cm-eindex-fy2025.jsonl.gz", "icd10cm-drug-fy2025.jsonl.gz",
             "icd10cm-neoplasm-fy2025.jsonl.gz"]
    assert [p.name for p in icd10cm.embedded_sources()] in (layer, ["icd10c-tabular-April-1-2026.xml", *layer])


@pytest.mark.slow  # reads the whole embedded tabular (the module's embedded_records)
def test_embedded_tabular_gives_the_fy2026_billable_count(embedded_records: list[Record]) -> None:
    assert embedded_records[0] == APRIL_2026
    found = codes(embedded_records)
    assert sum(1 for r in found.values() if r.billable) == 74_719
    assert len(found) == 98_505
    kinds = {k: sum(1 for r in found.values() if r.kind == k) for k in ("chapter", "block", "category")}
    assert kinds == {"chapter": 22, "block": 297, "category": 1_918}
    assert sum(1 for r in found.values() if "seventh_character" in r.attributes) == 51_305
    assert all(r.parent is None or r.parent in found for r in found.values())


@pytest.mark.slow  # reads the whole embedded tabular (the module's embedded_records)
def test_embedded_tabular_holds_every_node_of_the_packages_code_list(embedded_records: list[Record]) -> None:
    with (embedded().parent / "code-list-April-2026.txt").open() as f:
        listed = sorted(line.strip() for line in f if line.strip())
    ours = sorted(r.attributes["chapter"] if r.kind == "chapter" else
                  str(r.attributes.get("tabular_id", r.code)).replace(".", "")
                  for r in embedded_records if isinstance(r, Code))
    assert ours == listed


def without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# --- real data -------------------------------------------------------------------


def real(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.mark.realdata
@pytest.mark.slow
def test_real_fy2026_codes_file_is_what_the_embedded_tabular_expands_to(embedded_records: list[Record]) -> None:
    listed = codes(list(icd10cm.read(real("cms_icd10_fy2026_codes/icd10cm_codes_2026.txt.gz"))))
    assert len(listed) == 74_719 and all(r.billable for r in listed.values())
    billable = {c: r for c, r in codes(embedded_records).items() if r.billable}
    assert billable.keys() == listed.keys()
    # The XML keeps diacritics the CMS text files spell without (Ménière, Sjögren): 119 titles.
    differ = [c for c in listed if billable[c].title != listed[c].title]
    assert len(differ) == 119
    assert all(without_accents(billable[c].title) == listed[c].title for c in differ)


@pytest.mark.realdata
def test_real_fy2025_order_file_from_the_cms_zip() -> None:
    records = list(icd10cm.read(real("cms_icd10cm_fy2025_code_descriptions/2025-code-descriptions-tabular-order.zip")))
    assert [r for r in records if isinstance(r, Release)] == [Release("icd10cm", "ICD-10-CM FY2025", "2024-10-01")]
    found = [r for r in records if isinstance(r, Code)]
    assert len(found) == len({r.code for r in found}) == 97_584
    assert sum(1 for r in found if r.billable) == 74_260
    by_code = {r.code: r for r in found}
    assert by_code["S72.001A"].short_title == "Fracture of unsp part of neck of right femur, init"
    assert all(r.parent is None or r.parent in by_code for r in found)
    assert sum(1 for r in found if r.parent is None) == 1_917  # the categories


@pytest.mark.realdata
def test_real_fy2025_tabular_excerpt_matches_the_order_file() -> None:
    tree = codes(list(icd10cm.read(real("cdc_icd10cm_2025_april/icd-10-cm-tabular-2025_ch2.xml"))))
    flat = codes(list(icd10cm.read(real("cms_icd10cm_fy2025_code_descriptions/"
                                         "2025-code-descriptions-tabular-order.zip"))))
    assert len(tree) == 2_174 + 23 + 1  # <diag>s, blocks (two of them headings), the chapter
    nodes = {c: r for c, r in tree.items() if r.kind not in ("chapter", "block")}
    assert nodes.keys() == {c for c in flat if "C00" <= c[:3] <= "D49"}
    for code, node in nodes.items():
        assert (node.kind, node.billable) == (flat[code].kind, flat[code].billable)
        assert without_accents(node.title) == flat[code].title
        assert node.parent == flat[code].parent or node.kind == "category"


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "source", "count", "example"), [
    ("icd-10-cm-eindex-2025.xml", "eindex", 6_664,
     Term("icd10cm", "V94.11", "Accident (to), boat, boating, striking swimmer, powered", "eindex",
          ("Accident (to)", "boat, boating", "striking swimmer", "powered"))),
    ("icd-10-cm-drug-2025.xml.gz", "drug", 40_026,
     Term("icd10cm", "T39.011", "Aspirin (aluminum) (soluble) — poisoning, accidental (unintentional)", "drug",
          ("Aspirin (aluminum) (soluble)", "poisoning, accidental (unintentional)"))),
    ("icd-10-cm-neoplasm-2025.xml", "neoplasm", 9_018,
     Term("icd10cm", "C79.8", "Neoplasm, neoplastic, abdomen, abdominal — malignant, secondary", "neoplasm",
          ("Neoplasm, neoplastic", "abdomen, abdominal", "malignant, secondary"))),
])
def test_real_index_files(name: str, source: str, count: int, example: Term) -> None:
    records = list(icd10cm.read(real(f"cdc_icd10cm_2025_april/{name}")))
    assert records[0] == Release("icd10cm", "ICD-10-CM FY2025", "2024-10-01")
    found = [r for r in records if isinstance(r, Term)]
    assert len(found) == count and {t.source for t in found} == {source}
    assert example in found
    assert all(icd10cm.canonical_code(t.code) == t.code for t in found)
