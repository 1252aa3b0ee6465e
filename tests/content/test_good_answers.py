"""Well-written explainers pass every check: the checks stop what small models got wrong, not good text.

Each answer below is written by hand the way the prompt asks (plain words, short sentences, the code's
own facts only) for a real code of each section set; a check that starts to fire on any of them is
over-strict and would keep every model's text off the pages."""

from __future__ import annotations

import json

import pytest

from medcodes.content.checks import check_answer
from medcodes.content.prompt import validation_schema
from medcodes.content.quality import CODER_SECTIONS, MAX_GRADE, flesch_kincaid_grade
from medcodes.content.sections import section_set, section_set_name
from medcodes.record import CodeRecord, CodeRef, Note

DIABETES = CodeRecord.bare(
    "icd10cm", "E11.9", "Type 2 diabetes mellitus without complications",
    ancestors=(CodeRef("icd10cm", "E11", "Type 2 diabetes mellitus", "category", None),),
    notes=(Note("use_additional", "code to identify control using insulin (Z79.4)", "E11"),))
DIABETES_ANSWER = {
    "summary": "Type 2 diabetes is a long-term condition in which the body does not use sugar well. Sugar"
               " builds up in the blood. This code is for type 2 diabetes that has not caused other health"
               " problems.",
    "causes": ["Extra body weight", "Not being active", "Family history of diabetes", "Getting older"],
    "symptoms": ["Feeling very thirsty", "Passing urine often", "Feeling tired", "Blurry eyesight",
                 "Often no signs at first"],
    "diagnosis": ["A blood test of sugar after fasting", "An A1C blood test that shows sugar levels over months",
                  "A check-up with your doctor"],
    "treatment": ["Healthy food choices", "Regular exercise", "Medicine to lower blood sugar",
                  "Regular blood sugar checks"],
    "outlook": "Many people keep their blood sugar in a good range for years. Good care lowers the risk of"
               " problems later with the eyes, kidneys, nerves and heart.",
    "coding_notes": "For type 2 diabetes, the notes ask for an additional code to show when the person uses"
                    " insulin (Z79.4).",
}

BED = CodeRecord.bare("hcpcs", "E0255",
                      "Hospital bed, variable height, hi-lo, with any type side rails, with mattress")
BED_ANSWER = {
    "what_it_is": "This is a hospital bed for use at home. Its height can be raised and lowered. It comes with"
                  " side rails and a mattress.",
    "who_uses_it": ["People who must stay in bed most of the day", "People who need the bed at a safe height"
                    " to get in and out", "People at risk of falling out of bed"],
    "how_it_is_used": ["It is set up in the home by the supplier", "A carer raises the bed to help with care",
                       "The rails are put up to keep the person safe"],
    "coverage_basics": "Health plans may cover a home hospital bed when a doctor says it is needed. The plan"
                       " may ask for notes from the doctor first. Ask your plan what it covers.",
}

APPENDIX = CodeRecord.bare("icd10pcs", "0DTJ4ZZ", "Resection of Appendix, Percutaneous Endoscopic Approach")
APPENDIX_ANSWER = {
    "summary": "The surgeon takes out the appendix through a few small cuts in the belly. A thin tube with a"
               " camera lets the surgeon see inside.",
    "purpose": "To remove an appendix that is swollen or infected, before it bursts.",
    "indications": ["Appendicitis", "A growth in the appendix"],
    "preparation": ["No food or drink for some hours before", "Blood tests", "A scan of the belly"],
    "procedure_description": ["You are put to sleep", "The surgeon makes a few small cuts",
                              "Gas fills the belly to give room to work", "The appendix is cut free and taken out",
                              "The cuts are closed"],
    "duration": "It usually takes about one hour.",
    "setting": "It is done in a hospital.",
    "personnel": ["A surgeon", "A doctor who puts you to sleep", "Nurses"],
    "risks_and_complications": ["Infection of the wound", "Bleeding", "Harm to nearby organs"],
    "benefits": ["The pain goes away", "A burst appendix is prevented"],
    "recovery": ["Most people go home in a day or two", "Back to usual tasks in one to three weeks"],
    "alternatives": ["Surgery through one larger cut", "Antibiotics alone in some mild cases"],
    "patient_experience": "You sleep through it. Afterward your belly and shoulders may ache for a few days.",
}

KNOWN_CODES = {"E11.9", "Z79.4", "E0255", "0DTJ4ZZ"}


@pytest.mark.parametrize(("code_data", "answer", "kind"), [
    (DIABETES, DIABETES_ANSWER, "diagnosis"), (BED, BED_ANSWER, "supply"), (APPENDIX, APPENDIX_ANSWER, "procedure"),
], ids=["diagnosis", "supply", "procedure"])
def test_a_well_written_answer_passes_every_check(code_data: CodeRecord, answer: dict, kind: str) -> None:
    assert section_set_name(code_data) == kind
    sections = section_set(code_data)
    stored, problems = check_answer(json.dumps(answer), sections, validation_schema(sections), code_data,
                                    KNOWN_CODES.__contains__)
    assert problems == []
    assert [s["key"] for s in stored] == [s.key for s in sections]
    patient_text = "\n".join(s["text"] for s in stored if s["key"] not in CODER_SECTIONS)
    assert flesch_kincaid_grade(patient_text) <= MAX_GRADE
