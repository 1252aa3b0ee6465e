"""Reading code mentions, the schema validator, and the checks a model's answer must pass."""

from __future__ import annotations

import json

import pytest

from medcodes.content import validate
from medcodes.content.checks import check_answer, contradictions, parse_json_answer
from medcodes.content.mentions import NoteCode, code_mentions, codes_in_note
from medcodes.content.prompt import answer_schema
from medcodes.content.sections import DIAGNOSIS
from medcodes.record import CodeRecord


def test_codes_in_notes() -> None:
    assert codes_in_note("gestational diabetes (O24.4-)") == [NoteCode("O24.4")]
    assert codes_in_note("diabetes (E08-E13), E10.-, insulin use (Z79.4)") == [
        NoteCode("E08", "E13"), NoteCode("E10"), NoteCode("Z79.4")]


def test_code_mentions_take_codes_not_prose() -> None:
    prose = "Vitamin B12, the T12 vertebra, H2O, COVID19, a fever of 101.5 and HbA1c levels"
    assert code_mentions(prose) == []
    text = "See E11.9, J1100, 0SR9019, code E11, (E13), ICD-9-CM 250.00, V45.81 and DRG 291."
    assert set(code_mentions(text)) == {"E11.9", "J1100", "0SR9019", "E11", "E13", "250.00", "V45.81", "291"}


def test_validator() -> None:
    schema = answer_schema(DIAGNOSIS)
    good = {s.key: ("text" if not s.as_list else ["a"]) for s in DIAGNOSIS}
    assert validate.errors(good, schema) == []
    bad = {**good, "extra": 1, "causes": [], "summary": ""}
    del bad["outlook"]
    problems = validate.errors(bad, schema)
    assert "$: missing 'outlook'" in problems and "$: unexpected 'extra'" in problems
    assert any(p.startswith("$.causes: matches none") for p in problems)
    assert "$.summary: shorter than 1 characters" in problems
    assert validate.errors(True, {"type": "integer"}) == ["$: expected integer, got boolean"]
    with pytest.raises(ValueError, match="not supported"):
        validate.errors({}, {"type": "object", "patternProperties": {}})


def test_parse_json_answer_tolerates_fences_and_words() -> None:
    assert parse_json_answer('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_answer('Sure! {"a": 1} Hope this helps.') == {"a": 1}
    with pytest.raises(json.JSONDecodeError):
        parse_json_answer("no json here")


DATA = CodeRecord.bare("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications")


def _answer(**overrides: object) -> str:
    body = {s.key: ("Type 2 diabetes is a long-term condition." if s.key == "summary" else
                    [f"one usual point about the {s.key}"] if s.as_list else f"A plain sentence about the {s.key}.")
            for s in DIAGNOSIS}
    body.update(overrides)
    return json.dumps(body)


def _check(text: str, exists: set[str] | None = None) -> list[str]:
    known = exists or {"E11.9", "Z79.4"}
    _, problems = check_answer(text, DIAGNOSIS, answer_schema(DIAGNOSIS), DATA, lambda t: t in known)
    return problems


def test_a_good_answer_passes_and_keeps_lists() -> None:
    sections, problems = check_answer(_answer(), DIAGNOSIS, answer_schema(DIAGNOSIS), DATA, lambda t: False)
    assert problems == []
    assert sections[1] == {"key": "causes", "title": "Causes", "text": "one usual point about the causes",
                           "items": ["one usual point about the causes"]}


def test_rejections() -> None:
    assert _check("{not json")[0].startswith("the answer is not valid JSON")
    dropped = json.loads(_answer())
    del dropped["outlook"]
    assert _check(json.dumps(dropped)) == ["does not match the schema: $: missing 'outlook'"]
    assert _check(_answer(outlook="N/A")) == ["section 'outlook' is empty"]
    assert _check(_answer(coding_notes="Add code Z79.4 when it applies; never use E11.99.")) == [
        "names code E11.99 which does not exist; name only codes given in the official data"]
    assert _check(_answer(summary="Type 2 diabetes with complications affecting the kidneys.")) == [
        "says “with complications”; the official descriptor says “without complications”"]
    assert _check(_answer(summary="Type 1 diabetes is an autoimmune condition.")) == [
        "says type 1; the official descriptor says type 2"]
    assert _check(_answer(summary="A broken bone of the wrist.")) == [
        "section 'summary' does not mention what the official descriptor names"
        " (“Type 2 diabetes mellitus without complications”)"]


def test_contradiction_rules() -> None:
    right = CodeRecord.bare("icd10cm", "M16.11", "Unilateral primary osteoarthritis, right hip")
    bad = [{"key": "summary", "text": "Wear of the cartilage in the left hip joint."}]
    assert contradictions(right, bad) == ["describes the left side; the official descriptor is for the right side"]
    ok = [{"key": "summary", "text": "Wear and tear arthritis of one hip, if left untreated it worsens."}]
    assert contradictions(right, ok) == []
    fracture = CodeRecord.bare("icd10cm", "S72.001A", "Fracture of unspecified part of neck of right femur,"
                               " initial encounter for closed fracture")
    later = [{"key": "summary", "text": "A broken right femur neck, seen at a subsequent encounter."}]
    assert contradictions(fracture, later) == ["says “subsequent encounter”; the official descriptor says"
                                               " “initial encounter”"]
    tumour = CodeRecord.bare("icd10cm", "C50.911", "Malignant neoplasm of unspecified site of right female breast")
    assert contradictions(tumour, [{"key": "summary", "text": "A benign neoplasm of the breast."}]) == [
        "says “benign”; the official descriptor says “malignant”"]


def test_prompt_changes_need_a_new_version() -> None:
    from medcodes.content.prompt import PROMPT_FINGERPRINT, PROMPT_VERSION, prompt_fingerprint

    assert prompt_fingerprint() == PROMPT_FINGERPRINT, (
        f"the prompt changed: bump PROMPT_VERSION (now {PROMPT_VERSION}) and set PROMPT_FINGERPRINT"
        f" = {prompt_fingerprint()!r}")


def test_each_problem_names_the_check_that_found_it() -> None:
    from medcodes.content.quality import check_name

    dropped = json.loads(_answer())
    del dropped["outlook"]
    cases = {"{not json": "json", json.dumps(dropped): "schema", _answer(outlook="N/A"): "empty",
             _answer(coding_notes="Never use E11.99."): "invented_code",
             _answer(summary="Type 1 diabetes is an autoimmune condition."): "type_number",
             _answer(summary="A broken bone of the wrist."): "off_topic"}
    for text, check in cases.items():
        assert [check_name(p) for p in _check(text)] == [check]
    assert check_name("a line from elsewhere") == "other"


def test_the_condition_said_of_another_body_part() -> None:
    """SmolLM2 135M listed other sites of the same disease as the symptoms of N80.532."""
    d = CodeRecord.bare("icd10cm", "N80.532", "Deep endometriosis of the cecum")
    said = [{"key": "summary", "text": "Deep endometriosis of the cecum is tissue like the womb lining on the bowel."},
            {"key": "symptoms", "text": "Deep endometriosis of the vaginal peritoneum", "items": []}]
    assert [p.check for p in contradictions(d, said)] == ["other_site"]
    assert contradictions(d, said)[0] == ("says “deep endometriosis of vaginal peritoneum”; the official descriptor"
                                          " is for the cecum")
    assert contradictions(d, said[:1]) == []
    l2 = CodeRecord.bare("icd10cm", "S34.112A", "Complete lesion of L2 level of lumbar spinal cord, initial encounter")
    same = [{"key": "summary", "text": "Complete lesion of L2 level of lumbar spinal cord\nof the back"}]
    assert contradictions(l2, same) == []  # "L2" is the code's own level, not another body part
    coder = [said[0], {"key": "coding_notes", "text": "Not for deep endometriosis of the rectum."}]
    assert contradictions(d, coder) == []  # a coder is told what the code is not for
