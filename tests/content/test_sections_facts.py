"""Section sets by kind of code, and layer one: official facts with their source fields."""

from __future__ import annotations

import pytest

from medcodes.content.facts import explainer_facts
from medcodes.content.sections import is_hcpcs_supply, section_set, section_set_name
from medcodes.index import Catalog


@pytest.mark.parametrize(("system", "code", "expected"), [
    ("icd10cm", "E11.9", "diagnosis"), ("icd9cm", "250.00", "diagnosis"), ("icd10pcs", "0SR9019", "procedure"),
    ("cpt", "12345", "procedure"), ("hcpcs", "E0100", "supply"), ("hcpcs", "J1100", "supply"),
    ("hcpcs", "G0008", "procedure"), ("msdrg", "291", "drg"), ("hcpcs-mod", "LT", "modifier"),
])
def test_section_set_by_kind_of_code(catalog: Catalog, system: str, code: str, expected: str) -> None:
    assert section_set_name(catalog.official(system, code)) == expected


def test_the_issue_section_sets() -> None:
    titles = [s.title for s in section_set({"system": "icd10pcs", "code": "0SR9019"})]
    assert titles == ["Summary", "Purpose", "Indications", "Preparation", "Procedure Description", "Duration",
                      "Setting", "Personnel", "Risks and Complications", "Benefits", "Recovery", "Alternatives",
                      "Patient Experience"]
    titles = [s.title for s in section_set({"system": "icd10cm", "code": "E11.9"})]
    assert titles == ["Summary", "Causes", "Symptoms", "Diagnosis", "Treatment", "Outlook", "Coding notes"]
    titles = [s.title for s in section_set({"system": "hcpcs", "code": "E0100", "attributes": {"betos": "D1E"}})]
    assert titles == ["What it is", "Who uses it", "How it is used", "Coverage basics"]


def test_hcpcs_supply_from_betos_then_section() -> None:
    assert is_hcpcs_supply("A4253", {"betos": "D1A"})
    assert not is_hcpcs_supply("A4253", {"betos": "P6C"})  # BETOS wins over the section letter
    assert is_hcpcs_supply("Q2035", {"betos": "O1G"}) and not is_hcpcs_supply("G0008", {"betos": "O1G"})
    assert is_hcpcs_supply("L3000", {}) and not is_hcpcs_supply("A0425", {}) and not is_hcpcs_supply("G0101", {})


def test_every_fact_is_official_and_names_its_fields(catalog: Catalog) -> None:
    for system, code in [("icd10cm", "E11.9"), ("icd10pcs", "0SR9019"), ("hcpcs", "E0100"), ("msdrg", "291"),
                         ("icd9cm", "250.00"), ("cpt", "12345"), ("hcpcs-mod", "LT"), ("icd10cm", "E08-E13")]:
        facts = explainer_facts(catalog.official(system, code))
        assert facts[0]["title"] == "Official description"
        for f in facts:
            assert f["text"] and f["source"]["type"] == "official" and f["source"]["fields"]


def _by_title(facts: list[dict]) -> dict[str, dict]:
    return {f["title"]: f for f in facts}


def test_icd10cm_notes_inclusion_terms_and_placement(catalog: Catalog) -> None:
    facts = _by_title(explainer_facts(catalog.official("icd10cm", "E11.9")))
    assert "E11.9 is the ICD-10-CM code for “Type 2 diabetes mellitus without complications”" in \
        facts["Official description"]["text"]
    assert "valid for submission" in facts["Official description"]["text"]
    where = facts["Where it sits"]["text"]
    assert "block E08-E13 “Diabetes mellitus”, category E11 “Type 2 diabetes mellitus”" in where
    excludes1 = ["gestational diabetes (O24.4-) (written on E11, applies to the codes below it)"]
    assert facts["Excludes1"]["items"] == excludes1
    assert facts["Excludes1"]["source"]["fields"] == ["notes[excludes1]"]
    assert "never coded together" in facts["Excludes1"]["text"]
    assert facts["Crosswalks"]["items"][0].startswith("maps both ways to ICD-9-CM 250.00")
    header = _by_title(explainer_facts(catalog.official("icd10cm", "E11")))
    assert header["Inclusion terms"]["items"] == ["diabetes NOS"]
    assert "header, not valid for submission: one of the 3 more specific codes" in \
        header["Official description"]["text"]


def test_pcs_description_composed_from_axes_and_definitions(catalog: Catalog) -> None:
    fact = _by_title(explainer_facts(catalog.official("icd10pcs", "0SR9019")))["What each character means"]
    assert fact["source"]["fields"] == ["attributes.axes"]
    assert ("Medical and Surgical section, Lower Joints body system: root operation “Replacement”, body part"
            " “Hip Joint, Right”, approach “Open”") in fact["text"]
    assert "Replacement is officially defined as: Putting in or on biological" in fact["text"]
    assert fact["items"][4].startswith("Character 5 · Approach: 0 = Open — Cutting through the skin")
    no_qualifier = _by_title(explainer_facts(catalog.official("icd10pcs", "0SR901Z")))["What each character means"]
    assert "No Qualifier" not in no_qualifier["lead"] and "No Qualifier" in no_qualifier["items"][6]
    assert no_qualifier["text"].startswith(no_qualifier["lead"][:-1])  # text = lead + the items


def test_hcpcs_descriptor_coverage_and_betos(catalog: Catalog) -> None:
    facts = _by_title(explainer_facts(catalog.official("hcpcs", "E0100")))
    assert facts["Coverage"]["text"] == "Medicare coverage code D: Special coverage instructions apply."
    assert facts["Category"]["text"] == "BETOS category D1E: Other DME."
    assert facts["Cross-references"]["text"] == "The HCPCS file cross-refers to E0105."
    assert "section E0100-E9999 “Durable Medical Equipment”" in facts["Where it sits"]["text"]


def test_msdrg_mdc_type_and_figures(catalog: Catalog) -> None:
    facts = _by_title(explainer_facts(catalog.official("msdrg", "291")))
    assert facts["Grouping"]["text"] == ("It belongs to major diagnostic category (MDC) 05 “Diseases and Disorders"
                                         " of the Circulatory System”. It is a medical DRG.")
    assert "relative weight 1.2" in facts["Payment figures"]["text"]


def test_facts_from_a_bare_dict() -> None:
    facts = explainer_facts({"system": "icd10cm", "code": "X00.0", "title": "Invented", "billable": None})
    assert [f["title"] for f in facts] == ["Official description"]
