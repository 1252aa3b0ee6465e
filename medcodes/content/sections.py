"""Which plain-language sections a code's explainer has, by the kind of thing the code names.

A procedure page answers what happens and how it feels; a diagnosis page answers what the
condition is and how it is coded; a supply, drug or equipment page answers what it is and
who pays for it (issue: "Section sets by kind of code").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..record import CodeRecord


@dataclass(frozen=True, slots=True)
class Section:
    key: str  # the JSON key a model answers under
    title: str  # what a page shows
    guide: str  # what the section must say, sent in the prompt
    as_list: bool = False  # best written as a list of short items


PROCEDURE: tuple[Section, ...] = (
    Section("summary", "Summary", "two or three sentences saying what the procedure is, in plain words"),
    Section("purpose", "Purpose", "what the procedure is done for and what it aims to achieve"),
    Section("indications", "Indications", "conditions or situations in which it is done", True),
    Section("preparation", "Preparation", "what a patient usually does or has done beforehand", True),
    Section("procedure_description", "Procedure Description", "the usual steps, in order", True),
    Section("duration", "Duration", "how long it usually takes, as a range"),
    Section("setting", "Setting", "where it is usually done (office, outpatient centre, hospital)"),
    Section("personnel", "Personnel", "who usually takes part", True),
    Section("risks_and_complications", "Risks and Complications", "the usual risks, common ones first", True),
    Section("benefits", "Benefits", "what a patient can expect to gain", True),
    Section("recovery", "Recovery", "what recovery usually looks like", True),
    Section("alternatives", "Alternatives", "other usual options", True),
    Section("patient_experience", "Patient Experience", "what a patient usually feels during and after"),
)

DIAGNOSIS: tuple[Section, ...] = (
    Section("summary", "Summary", "two or three sentences saying what the condition is, in plain words"),
    Section("causes", "Causes", "usual causes and risk factors", True),
    Section("symptoms", "Symptoms", "usual signs and symptoms", True),
    Section("diagnosis", "Diagnosis", "how it is usually diagnosed", True),
    Section("treatment", "Treatment", "usual treatment options", True),
    Section("outlook", "Outlook", "the usual course and prognosis"),
    Section("coding_notes", "Coding notes",
            "the official notes in the data said plainly for a coder; if there are none, say that the code"
            " carries no instructional notes of its own"),
)

SUPPLY: tuple[Section, ...] = (
    Section("what_it_is", "What it is", "two or three sentences saying what the item, drug or equipment is"),
    Section("who_uses_it", "Who uses it", "which patients usually need it and why", True),
    Section("how_it_is_used", "How it is used", "how it is usually used, given or worn", True),
    Section("coverage_basics", "Coverage basics",
            "coverage basics in general terms, consistent with the official coverage status in the data;"
            " no prices and no promises of payment"),
)

# Codes for a reason to be seen or a status (ICD-10-CM Z codes, a normal delivery): no disease, so no
# causes, symptoms or treatment to invent.
ENCOUNTER: tuple[Section, ...] = (
    Section("summary", "Summary", "two or three sentences saying what visit, status or circumstance the code"
            " records, in plain words"),
    Section("when_it_is_used", "When it is used", "typical situations in which this code is recorded", True),
    Section("what_it_means_for_the_patient", "What it means for the patient",
            "what the visit or status usually involves for the person, in general terms"),
    Section("coding_notes", "Coding notes",
            "the official notes in the data said plainly for a coder; if there are none, say that the code"
            " carries no instructional notes of its own"),
)

DRUG: tuple[Section, ...] = (
    Section("what_it_is", "What it is", "two or three sentences saying what the drug is and the form the"
            " official descriptor names"),
    Section("what_it_treats", "What it treats", "conditions it is usually given for", True),
    Section("how_it_is_given", "How it is given", "how it is usually given (injection, infusion, ...), without"
            " doses", True),
    Section("coverage_basics", "Coverage basics",
            "coverage basics in general terms, consistent with the official coverage status in the data;"
            " no prices and no promises of payment"),
)

MODIFIER: tuple[Section, ...] = (
    Section("summary", "Summary", "what the modifier says about the service it is added to"),
    Section("when_it_is_used", "When it is used", "typical situations in which a coder adds it", True),
)

DRG: tuple[Section, ...] = (
    Section("summary", "Summary", "what kind of hospital stay this group covers, in plain words"),
    Section("what_it_groups", "What it groups", "typical diagnoses or procedures that lead to this group", True),
)

SECTION_SETS: Mapping[str, tuple[Section, ...]] = {
    "procedure": PROCEDURE, "diagnosis": DIAGNOSIS, "supply": SUPPLY, "modifier": MODIFIER, "drg": DRG,
    "encounter": ENCOUNTER, "drug": DRUG,
}

# ICD-10-CM codes that record an encounter or a status rather than a disease: chapter 21 (Z00-Z99)
# and the outcome-of-delivery and normal-delivery codes.
_ENCOUNTER_PREFIXES = ("Z", "O80", "O82")
# HCPCS Level II drug codes: J (drugs given other than by mouth) and the drug and biological Q codes
_DRUG_PREFIXES = ("J", "Q0", "Q2", "Q3", "Q4", "Q5", "Q9")

# HCPCS Level II: BETOS categories that name things rather than services. Immunizations (O1G)
# hold both vaccine products (Q, J codes) and their administration (G codes): decided by letter.
_SUPPLY_BETOS_PREFIXES = ("D", "O1C", "O1D", "O1E", "O1L")
# HCPCS sections that hold supplies, drugs and equipment when no BETOS category is given
# (A0 is ambulance transport, A9 radiopharmaceuticals and miscellaneous items).
_SUPPLY_HCPCS_PREFIXES = ("A2", "A4", "A5", "A6", "A7", "A8", "A9", "B", "E", "J", "K", "L", "V2", "V5")


def section_set_name(code_data: CodeRecord) -> str:
    """The name of the section set that fits the kind of thing the code names."""
    system, code = code_data.system, code_data.code
    if system == "icd10cm" and code.startswith(_ENCOUNTER_PREFIXES):
        return "encounter"
    if system in ("icd10cm", "icd9cm"):
        return "diagnosis"
    if system == "hcpcs-mod":
        return "modifier"
    if system == "msdrg":
        return "drg"
    if system == "hcpcs" and is_hcpcs_supply(code, code_data.attributes):
        return "drug" if code.startswith(_DRUG_PREFIXES) else "supply"
    return "procedure"


def is_hcpcs_supply(code: str, attributes: Mapping[str, Any]) -> bool:
    """Whether a HCPCS Level II code names a supply, drug or piece of equipment (not a service)."""
    betos = attributes.get("betos")
    if betos == "O1G":
        return code.startswith(("J", "Q"))
    if isinstance(betos, str) and betos:
        return betos.startswith(_SUPPLY_BETOS_PREFIXES)
    return code.startswith(_SUPPLY_HCPCS_PREFIXES)


def section_set(code_data: CodeRecord) -> tuple[Section, ...]:
    return SECTION_SETS[section_set_name(code_data)]
