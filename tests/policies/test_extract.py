"""The extraction rules, one named function at a time, then whole small documents."""

from __future__ import annotations

import pytest

from medcodes.policies.documents import read_html, read_text
from medcodes.policies.extract import extract, resolve_endpoint
from medcodes.policies.linking import CatalogChecker, MemoryChecker, link
from medcodes.policies.sections import classify, clause_at, status_cell
from medcodes.policies.tokens import candidates, cue_before, in_parentheses, is_lookalike, shapes

ICD = ["E08", "E08.0", "E08.00", "E08.01", "E08.9", "E11", "E11.6", "E11.65", "E11.9", "E13", "E13.9",
       "M41", "M41.0", "M41.00", "M41.9", "M54", "M54.5", "M54.50", "M54.59", "Q10", "F18", "I13", "I13.1",
       "R10", "R10.2", "S42", "S42.0", "S42.00", "S42.001", "S42.001A", "S42.001D", "S42.009", "S42.009A",
       "S42.9", "S42.90", "S42.90XA", "S42.92", "S42.92XA", "S42.92XD", "A57", "T81.40XA"]
HCPCS = ["A4595", "E0720", "J1100", "K0800", "K0801", "K0802", "L8680", "S0140"]
PCS = ["0SG00A1", "0016070"]


@pytest.fixture()
def mem() -> MemoryChecker:
    return MemoryChecker({"icd10cm": ICD, "hcpcs": HCPCS, "icd10pcs": PCS})


def codes(text: str, checker: MemoryChecker, html: bool = False) -> set[tuple[str, str, str | None]]:
    doc = read_html(text) if html else read_text(text)
    return {m.key for m in extract(doc, checker)}


# -- candidates and shapes -------------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("codes 22200-22226 apply", [("22200", "22226")]),
    ("M41.00 - M41.9 scoliosis", [("M41.00", "M41.9")]),
    ("E08.00\u2013E13.9 diabetes", [("E08.00", "E13.9")]),
    ("0627T through 0630T", [("0627T", "0630T")]),
    ("64490 thru 64495", [("64490", "64495")]),
    ("K0800 to K0802", [("K0800", "K0802")]),
    ("E11.9, E11.65 and J1100", [("E11.9", None), ("E11.65", None), ("J1100", None)]),
])
def test_candidates_find_codes_and_ranges(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert [(c.a, c.b) for c in candidates(text)] == expected


@pytest.mark.parametrize("text", [
    "call 1-800-555-0123 today", "on 01/15/2024 or 2024-01-15", "NDC 00002-8215-01", "ZIP 55121-1234",
    "score 12345.67", "see https://plan.example/policies/22612.html", "MP-20345 and FY2024", "write to x@22612.org",
])
def test_numbers_that_are_not_codes_give_no_candidate_that_survives(text: str) -> None:
    found = [c.a for c in candidates(text) if not is_lookalike(text, c.start, c.end)]
    assert found == []


def test_candidates_mark_wildcards_and_footnote_signs() -> None:
    first, second, third = candidates("E11.- and S42.001+ and O24.4- after")
    assert (first.a, first.subtree, first.wildcard) == ("E11", True, True)
    assert (second.a, second.subtree, second.wildcard) == ("S42.001", True, False)
    assert (third.a, third.subtree) == ("O24.4", True)


def test_shapes_tell_strong_from_weak() -> None:
    assert shapes("E11.9") == [("icd10cm", "E11.9", True)]
    assert ("icd10cm", "E11.65", False) in shapes("E1165") and ("hcpcs", "E1165", True) in shapes("E1165")
    assert shapes("22612") == [("cpt", "22612", False)]
    assert shapes("0275T") == [("cpt", "0275T", True)]
    assert shapes("0SG00A1") == [("icd10pcs", "0SG00A1", True)]
    assert all(s != "hcpcs" for s, _, _ in shapes("D9420"))  # dental (CDT), never HCPCS Level II
    assert shapes("12345.6") == [] and shapes("GENE") == []


# -- lookalikes and cues -------------------------------------------------------------------------
@pytest.mark.parametrize("text,token", [
    ("Policy Number: 20345", "20345"), ("Eagan, MN 55121", "55121"), ("give 50000 units weekly", "50000"),
    ("costs $12500 a year", "12500"), ("Form 11290 applies", "11290"), ("P.O. Box 30522", "30522"),
    ("Suite 12000", "12000"), ("PMID 12345", "12345"), ("in 12450 patients", "12450"),
    ("Release R10.2 of the criteria", "R10.2"), ("n = 12345 cases", "12345"), ("F18-FDG", "F18"),
])
def test_lookalikes(text: str, token: str) -> None:
    start = text.index(token)
    assert is_lookalike(text, start, start + len(token))


@pytest.mark.parametrize("text,token", [("CPT 22612 is covered", "22612"), ("codes: 55121", "55121"),
                                        ("22612 OR 22614", "22614"), ("Policy code 22612", "22612")])
def test_not_lookalikes(text: str, token: str) -> None:
    start = text.index(token)
    assert not is_lookalike(text, start, start + len(token))


def test_cue_before_stays_in_its_sentence() -> None:
    text = "Billed with CPT codes 22612 or 22630. In 2023, 12345 members"
    assert cue_before(text, text.index("22630"))
    assert not cue_before(text, text.index("12345"))
    assert not cue_before("Postal code 84130", 12)


def test_in_parentheses() -> None:
    text = "gastric balloon (43290) and bands (43770, 43771) but not (n 12345)"
    assert in_parentheses(text, candidates(text)[0])
    assert in_parentheses(text, candidates(text)[2])
    assert not in_parentheses(text, candidates(text)[-1])


# -- sections --------------------------------------------------------------------------------
@pytest.mark.parametrize("text,section", [
    ("X is considered medically necessary when criteria are met", "covered"),
    ("X is not medically necessary", "not_covered"),
    ("X is considered experimental, investigational and not medically necessary", "investigational"),
    ("unproven and not medically necessary", "investigational"),
    ("ICD-10 codes covered if selection criteria are met", "covered"),
    ("CPT codes not covered for indications listed in the CPB", "not_covered"),
    ("Codes that DO NOT Support Medical Necessity", "not_covered"),
    ("The plan shall not cover HBOT for", "not_covered"),
    ("is not separately payable", "not_covered"),
    ("Other CPT codes related to the CPB", None),
    ("Coverage Rationale", None),
])
def test_classify(text: str, section: str | None) -> None:
    assert classify(text) == section


def test_status_cell_reads_a_coverage_column() -> None:
    header = ("Code", "Description", "Covered")
    assert status_cell(header, ("95004", "test", "Y")) == "covered"
    assert status_cell(header, ("95060", "test", "N")) == "not_covered"
    assert status_cell(("HCPCS", "Product", "Status"), ("Q4205", "graft", "E/I")) == "investigational"
    assert status_cell(("Code", "Description"), ("95004", "not covered")) is None


def test_clause_at_splits_statements_not_code_lists() -> None:
    text = "A is covered; B (E11.9) is not covered. Codes: M54.10; M54.50; M41.9."
    lo, hi = clause_at(text, text.index("E11.9"), text.index("E11.9") + 5)
    assert text[lo:hi] == "B (E11.9) is not covered."
    lo, hi = clause_at(text, text.index("M54.50"), text.index("M54.50") + 6)
    assert "M54.10" in text[lo:hi] and "M41.9" in text[lo:hi]


def test_resolve_endpoint_trims_placeholders_and_seventh_characters_only(mem: MemoryChecker) -> None:
    assert resolve_endpoint(mem, "icd10cm", "S42.00XA") == "S42.00"
    assert resolve_endpoint(mem, "icd10cm", "S42.92XA") == "S42.92XA"
    assert resolve_endpoint(mem, "icd10cm", "A57178") is None  # an article id, not A57


# -- whole documents ---------------------------------------------------------------------------
def test_cpt_codes_kept_without_cpt_data_only_in_a_coding_context(mem: MemoryChecker) -> None:
    text = "Policy\nIn 2023 we paid 22612 claims.\n\nCPT codes covered:\n22612\n22630-22633\n0275T investigational\n"
    found = codes(text, mem)
    assert ("cpt", "22612", None) in found and ("cpt", "22630", "22633") in found and ("cpt", "0275T", None) in found
    mentions = extract(read_text(text), mem)
    assert all(not m.validated for m in mentions if m.system == "cpt")
    assert {m.section for m in mentions if m.code == "22612"} == {"covered"}


def test_cpt_codes_are_checked_when_cpt_data_is_loaded() -> None:
    checker = MemoryChecker({"cpt": ["22612", "22614"], "icd10cm": ICD})
    found = codes("CPT codes: 22612, 22613, 22614", checker)
    assert found == {("cpt", "22612", None), ("cpt", "22614", None)}


def test_dates_phones_doses_and_numbers_are_not_codes(mem: MemoryChecker) -> None:
    text = """Policy
Effective 01/15/2024. Call 1-800-555-0123 or fax (612) 555-0199. Write to PO Box 64560, Eagan, MN 55121-1234.
Give 50000 IU of vitamin D3 and check B12; coenzyme Q10 and F-18 FDG or I-131 therapy. Stage T2N0M0.
In 2022 the plan had 12450 members; the fee was $12500. See page 12 of 30 and policy MP-20345.
References
Smith J. Spine. 2019;44(12):E712-E719. PMID 31234567.
"""
    assert codes(text, mem) == set()


def test_undotted_icd_codes_need_a_coding_context(mem: MemoryChecker) -> None:
    assert codes("Policy\nCoenzyme Q10 levels are not tested.", mem) == set()
    assert ("icd10cm", "Q10", None) in codes("ICD-10 codes:\nQ10 Congenital malformations", mem)


def test_links_expand_ranges_in_catalog_order(checker: CatalogChecker) -> None:
    doc = read_text("ICD-10 codes covered:\nM25.511 - M25.519 Pain in shoulder\nCPT codes:\n97161-97163\n")
    links, ranges = link(extract(doc, checker), checker)
    linked = [x.code for x in links]
    assert linked[0] == "M25.511" and linked[-1] == "M25.519" and len(linked) >= 3
    assert [(r.first, r.last) for r in ranges] == [("97161", "97163")]


def test_seventh_character_ranges_keep_their_character(mem: MemoryChecker) -> None:
    links, _ = link(extract(read_text("ICD-10 codes:\nS42.00XA-S42.92XA fracture"), mem), mem)
    assert {x.code for x in links} == {"S42.001A", "S42.009A", "S42.90XA", "S42.92XA"}


def test_html_tables_labels_and_status_columns(mem: MemoryChecker) -> None:
    html = """<h2>Coding</h2><table><tr><th>Code</th><th>Description</th><th>Coverage</th></tr>
    <tr><td>K0800</td><td>Power vehicle</td><td>Covered</td></tr>
    <tr><td>K0801</td><td>Power vehicle, heavy duty</td><td>Not covered</td></tr></table>
    <p><b>ICD-10 codes not covered:</b></p><ul><li>M54.50 - M54.59 Low back pain</li></ul>"""
    sections = {m.code: m.section for m in extract(read_html(html), mem)}
    assert sections == {"K0800": "covered", "K0801": "not_covered", "M54.50": "not_covered"}


def test_a_heading_code_takes_what_its_section_says(mem: MemoryChecker) -> None:
    text = "LUMBAR FUSION (CPT 22612)\nLumbar fusion is medically necessary for:\n  a) scoliosis (M41.00)\n"
    sections = {m.code: m.section for m in extract(read_text(text), mem)}
    assert sections == {"22612": "covered", "M41.00": "covered"}


def test_cpt_snippets_from_tables_carry_no_descriptor(mem: MemoryChecker) -> None:
    html = "<p><b>CPT codes covered:</b></p><table><tr><td>22612</td><td>Invented descriptor words</td></tr></table>"
    (m,) = extract(read_html(html), mem)
    assert m.snippet == "CPT codes covered: 22612"


def test_hcpcs_without_hcpcs_data_needs_a_coding_context() -> None:
    checker = MemoryChecker({"icd10cm": ICD})
    found = extract(read_text("Policy\nThe model A1234 pump.\n\nHCPCS codes:\nE0720, A4595\n"), checker)
    assert {(m.system, m.code, m.validated) for m in found} == {("hcpcs", "E0720", False), ("hcpcs", "A4595", False)}
