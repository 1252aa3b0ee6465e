"""Section sets by kind of code, and layer one: official facts with their source fields."""

from __future__ import annotations

import pytest

from medcodes.content.facts import explainer_facts
from medcodes.content.sections import is_hcpcs_supply, section_set, section_set_name
from medcodes.index import Catalog
from medcodes.record import CodeRecord, CodeRef, Note


@pytest.mark.parametrize(("system", "code", "expected"), [
    ("icd10cm", "E11.9", "diagnosis"), ("icd9cm", "250.00", "diagnosis"), ("icd10pcs", "0SR9019", "procedure"),
    ("cpt", "12345", "procedure"), ("hcpcs", "E0100", "supply"), ("hcpcs", "J1100", "drug"),
    ("hcpcs", "G0008", "procedure"), ("msdrg", "291", "drg"), ("hcpcs-mod", "LT", "modifier"),
])
def test_section_set_by_kind_of_code(catalog: Catalog, system: str, code: str, expected: str) -> None:
    assert section_set_name(catalog.official(system, code)) == expected


def test_the_issue_section_sets() -> None:
    titles = [s.title for s in section_set(CodeRecord.bare("icd10pcs", "0SR9019"))]
    assert titles == ["Summary", "Purpose", "Indications", "Preparation", "Procedure Description", "Duration",
                      "Setting", "Personnel", "Risks and Complications", "Benefits", "Recovery", "Alternatives",
                      "Patient Experience"]
    titles = [s.title for s in section_set(CodeRecord.bare("icd10cm", "E11.9"))]
    assert titles == ["Summary", "Causes", "Symptoms", "Diagnosis", "Treatment", "Outlook", "Coding notes"]
    titles = [s.title for s in section_set(CodeRecord.bare("hcpcs", "E0100", attributes={"betos": "D1E"}))]
    assert titles == ["What it is", "Who uses it", "How it is used", "Coverage basics"]


def test_encounters_and_drugs_have_sections_of_their_own() -> None:
    encounter = [s.title for s in section_set(CodeRecord.bare("icd10cm", "Z95.1"))]
    assert "Causes" not in encounter and "Treatment" not in encounter and encounter[0] == "Summary"
    assert section_set_name(CodeRecord.bare("icd10cm", "O80")) == "encounter"
    assert section_set_name(CodeRecord.bare("icd10cm", "O24.410")) == "diagnosis"
    drug = [s.title for s in section_set(CodeRecord.bare("hcpcs", "J9271"))]
    assert drug == ["What it is", "What it treats", "How it is given", "Coverage basics"]


def test_hcpcs_supply_from_betos_then_section() -> None:
    assert is_hcpcs_supply("A4253", {"betos": "D1A"})
    assert not is_hcpcs_supply("A4253", {"betos": "P6C"})  # BETOS wins over the section letter
    assert is_hcpcs_supply("Q2035", {"betos": "O1G"}) and not is_hcpcs_supply("G0008", {"betos": "O1G"})
    assert is_hcpcs_supply("L3000", {}) and not is_hcpcs_supply("A0425", {}) and not is_hcpcs_supply("G0101", {})


def test_every_fact_is_official_and_names_its_fields(catalog: Catalog) -> None:
    for system, code in [("icd10cm", "E11.9"), ("icd10pcs", "0SR9019"), ("hcpcs", "E0100"), ("msdrg", "291"),
                         ("icd9cm", "250.00"), ("cpt", "12345"), ("hcpcs-mod", "LT"), ("icd10cm", "E08-E13")]:
        facts = explainer_facts(catalog.official(system, code))
        assert facts[0]["title"] in ("Summary", "What it is")
        for f in facts:
            assert f["text"] and f["source"]["type"] == "official" and f["source"]["fields"]


def _by_title(facts: list[dict]) -> dict[str, dict]:
    return {f["title"]: f for f in facts}


def test_icd10cm_summary_says_the_notes_once_elsewhere(catalog: Catalog) -> None:
    facts = _by_title(explainer_facts(catalog.official("icd10cm", "E11.9")))
    assert list(facts) == ["Summary", "Coding notes"]
    summary = facts["Summary"]["text"]
    assert "E11.9 is the ICD-10-CM code for “Type 2 diabetes mellitus without complications”" in summary
    assert "valid for submission" in summary
    assert "block E08-E13 “Diabetes mellitus”, category E11 “Type 2 diabetes mellitus”" in summary
    assert facts["Summary"]["source"]["fields"][:2] == ["title", "billable"]
    # the notes themselves are not repeated: a count of each kind, pointing to the Notes section
    notes = facts["Coding notes"]
    assert "Excludes1 (1)" in notes["text"] and "under Notes" in notes["text"]
    assert "gestational" not in notes["text"] and "items" not in notes
    assert notes["source"]["fields"][0] == "notes[excludes1]"
    header = _by_title(explainer_facts(catalog.official("icd10cm", "E11")))
    assert "header, not valid for submission: one of the 3 more specific codes" in header["Summary"]["text"]


def test_no_fact_repeats_a_note_or_the_written_on_suffix(catalog: Catalog) -> None:
    for system, code in [("icd10cm", "E11.9"), ("icd10cm", "E11"), ("icd9cm", "250.00")]:
        data = catalog.official(system, code)
        text = " ".join(f["text"] for f in explainer_facts(data))
        assert "written on" not in text
        for n in data.notes:
            assert n.text not in text


def test_prompt_notes_leave_out_a_chapter_s_lists() -> None:
    from medcodes.content.facts import note_lines

    data = CodeRecord.bare(
        "icd10cm", "X00.0", "Invented",
        ancestors=(CodeRef("icd10cm", "X00-X99", "c", "chapter", None),
                   CodeRef("icd10cm", "X00", "g", "category", None)),
        notes=(Note("excludes2", "snake bite (T63.0-)", "X00-X99"), Note("excludes1", "other thing (X01.-)", "X00"),
               Note("code_first", "cause", None)))
    assert note_lines(data) == ["Excludes1: other thing (X01.-)", "Code first: cause"]


def test_pcs_summary_procedure_description_and_setting(catalog: Catalog) -> None:
    facts = _by_title(explainer_facts(catalog.official("icd10pcs", "0SR9019")))
    assert list(facts) == ["Summary", "Procedure Description", "Setting"]
    summary = facts["Summary"]["text"]
    assert "attributes.axes" in facts["Summary"]["source"]["fields"]
    assert ("Medical and Surgical section, Lower Joints body system: root operation “Replacement”, body part"
            " “Hip Joint, Right”, approach “Open”") in summary
    assert "Replacement is officially defined as: Putting in or on biological" in summary
    steps = facts["Procedure Description"]
    assert steps["items"][4].startswith("Character 5 · Approach: 0 = Open — Cutting through the skin")
    assert "inpatient" in facts["Setting"]["text"]
    no_qualifier = _by_title(explainer_facts(catalog.official("icd10pcs", "0SR901Z")))
    assert "No Qualifier" not in no_qualifier["Summary"]["text"]
    assert "No Qualifier" in no_qualifier["Procedure Description"]["items"][6]


def test_hcpcs_what_it_is_and_coverage_basics(catalog: Catalog) -> None:
    facts = _by_title(explainer_facts(catalog.official("hcpcs", "E0100")))
    assert facts["Coverage basics"]["text"].startswith("Medicare coverage code D: Special coverage instructions apply.")
    what = facts["What it is"]["text"]
    assert "BETOS category is D1E: Other DME." in what
    assert "cross-refers to E0105." in what
    assert "section E0100-E9999 “Durable Medical Equipment”" in what


def test_msdrg_summary_and_expected_stay(catalog: Catalog) -> None:
    facts = _by_title(explainer_facts(catalog.official("msdrg", "291")))
    summary = facts["Summary"]["text"]
    assert ("It belongs to major diagnostic category (MDC) 05 “Diseases and Disorders"
            " of the Circulatory System”. It is a medical DRG.") in summary
    assert "grouper" in summary and "valid for submission" not in summary
    assert "relative weight is 1.2" in summary
    assert facts["Duration"]["text"].startswith("Expected length of stay published by CMS: geometric mean")


def test_a_deleted_code_says_so_and_not_billable() -> None:
    facts = explainer_facts(CodeRecord.bare("hcpcs", "C9290", "Injection", billable=False, deleted_in="HCPCS 2025"))
    assert "deleted in HCPCS 2025" in facts[0]["text"] and "not valid for submission" not in facts[0]["text"]


def test_facts_from_a_bare_record() -> None:
    facts = explainer_facts(CodeRecord.bare("icd10cm", "X00.0", "Invented", billable=None))
    assert [f["title"] for f in facts] == ["Summary"]
