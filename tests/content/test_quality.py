"""The checks of what a model wrote beyond its form (medcodes.content.quality), each on the failure it
exists for: answers real small models gave (loops, copied notes, invented drugs, "no notes")."""

from __future__ import annotations

import json
from dataclasses import replace

from medcodes.content.checks import check_answer
from medcodes.content.prompt import answer_schema, build_messages, grounding, validation_schema
from medcodes.content.quality import (
    descriptor_only,
    drugs_not_in_the_data,
    facts_copied,
    flesch_kincaid_grade,
    fragments,
    labels_copied,
    notes_copied,
    notes_misreported,
    prices,
    reading_level,
    repeated,
    syllable_count,
    too_short,
)
from medcodes.content.sections import DIAGNOSIS, section_set
from medcodes.record import CodeRecord, CodeRef, Note

HIP = CodeRecord.bare(
    "icd10cm", "S72.001A", "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture",
    notes=(Note("excludes2", "snake bite (T63.0-)", "S00-T88"),
           Note("excludes1", "traumatic amputation of hip and thigh (S78.-)", "S72")))


def _s(key: str, text: str, items: list[str] | None = None) -> dict:
    return {"key": key, "text": text, **({"items": items} if items is not None else {})}


def test_repeated_items_sentences_and_loops() -> None:
    assert repeated([_s("causes", "a\nfall\na", ["A fall", "a fall!"])])[0].startswith("section 'causes' repeats")
    twice = "The thigh bone breaks near the hip joint."
    assert "written more than once" in repeated([_s("summary", f"{twice} {twice}")])[0]
    loop = " ".join(["the bone may heal slowly over time"] * 3)
    assert "repeated 3 times" in repeated([_s("outlook", loop)])[0]
    assert repeated([_s("causes", "a fall", ["a fall"]), _s("symptoms", "a fall", ["a fall"])]) == []


def test_no_notes_claimed_for_a_code_with_notes() -> None:
    said = [_s("coding_notes", "This code carries no instructional notes of its own.")]
    assert "says there are no notes" in notes_misreported(HIP, said)[0]
    assert notes_misreported(replace(HIP, notes=()), said) == []


def test_excluded_conditions_written_as_causes() -> None:
    causes = [_s("causes", "A snake bite or traumatic amputation of hip and thigh.")]
    problems = notes_copied(HIP, causes)
    assert len(problems) == 1 and "snake bite" in problems[0]  # one line a section, the first excluded entry
    assert notes_copied(HIP, [_s("coding_notes", "Do not use it for a snake bite.")]) == []  # coders may say so


def test_a_summary_that_only_repeats_the_descriptor() -> None:
    d = CodeRecord.bare("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications")
    assert descriptor_only(d, [_s("summary", "This code is for type 2 diabetes mellitus without complications.")])
    assert descriptor_only(d, [_s("summary", "Type 2 diabetes mellitus, group 3D, without complications")])
    assert descriptor_only(d, [_s("summary", "Type 2 diabetes is a long-term condition of high blood sugar.")]) == []


def test_sections_that_are_only_a_section_name_or_words_of_the_descriptor() -> None:
    """SmolLM2 135M's answer for A9800 passed every other check: section names as items, descriptor words
    cut off mid-word as the summary and the duration. E11.9's causes were the descriptor again."""
    a9800 = CodeRecord.bare("hcpcs", "A9800", "Gallium ga-68 gozetotide, diagnostic, (locametz), 1 millicurie")
    recorded = {"summary": "Gallium locametz 1 millicuri", "purpose": "Gallium locametz 1 millicuri",
                "indications": ["summary"], "duration": "1 millicuri", "setting": "office"}
    said = [_s(k, v if isinstance(v, str) else "\n".join(v), None if isinstance(v, str) else v)
            for k, v in recorded.items()]
    problems = fragments(a9800, said)
    assert [p.split("“")[0] for p in problems] == [f"section {k!r} says only " for k in list(recorded)[1:]]
    assert "a section name" in problems[1] and "words of the descriptor" in problems[0]
    assert descriptor_only(a9800, said)  # the summary: the descriptor again, one word cut off
    e11 = CodeRecord.bare("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications")
    assert fragments(e11, [_s("causes", "", ["Obesity", "Type 2 diabetes mellitus (M)"])])
    written = [_s("summary", "Type 2 diabetes is a long-term condition of high blood sugar."),
               _s("causes", "", ["Extra weight", "Family history"]), _s("outlook", "Most people live well with it.")]
    assert fragments(e11, written) == []
    # the summary that only repeats the descriptor is descriptor_only's finding, not counted twice
    assert fragments(e11, [_s("summary", "This code is for type 2 diabetes mellitus without complications.")]) == []


def test_answers_of_a_few_words_and_short_texts_saying_their_words_twice() -> None:
    """A made-up answer in the shape of the shortest SmolLM2 135M answers (a dozen words for four
    sections, "Each item, each item"): too short for the reading-level check, nothing explained."""
    thin = [_s("what_it_is", "A battery for a power wheelchair, each"), _s("who_uses_it", "Medical equipment users"),
            _s("how_it_is_used", "Each item, each item"), _s("coverage_basics", "Covered, each")]
    assert too_short(thin) == ["the answer says too little (16 words in 4 sections); explain each section in whole"
                               " sentences"]
    assert repeated(thin) == ["section 'how_it_is_used' says its words twice (“Each item, each item”); say each"
                              " thing once"]
    enough = [_s("summary", "Type 2 diabetes means the body cannot use sugar in the blood well."),
              _s("causes", "Extra weight\nFamily history", ["Extra weight", "Family history"]),
              _s("outlook", "Most people live well with it for many years.")]
    assert too_short(enough) == [] and repeated(enough) == []
    assert too_short([*enough, _s("coding_notes", "No notes. " * 30)]) == []  # coders' words are not counted


def test_sections_that_start_with_a_label_of_the_official_data() -> None:
    """SmolLM2 135M wrote "System: HCPCS Level II" as what J2252 treats and how it is given."""
    facts = "System: HCPCS Level II\nCode: J2252\nOfficial descriptor: Injection, midazolam\nCoverage basics: D."
    items = ["System: HCPCS, System: HCPCS Level I", "Sleepiness before a procedure"]
    problems = labels_copied(facts, [_s("what_it_is", "Midazolam is a medicine that makes you calm and sleepy."),
                                     _s("what_it_treats", "\n".join(items), items)])
    assert problems == ["section 'what_it_treats' starts with “System:”, a label of the official data; write"
                        " about the code instead"]
    assert labels_copied(facts, [_s("what_it_is", "Note: it is given by a nurse.")]) == []  # not a label here


def test_sections_that_only_copy_the_official_data() -> None:
    """SmolLM2 135M's first answer for 03L94CZ: the facts' lines copied out as its sections."""
    facts = ("Official descriptor: Occlusion of Right Ulnar Artery with Extraluminal Device, Percutaneous Endoscopic"
             " Approach\nSummary: Read character by character, 03L94CZ is a procedure in the Medical and Surgical"
             " section, Upper Arteries body system. Occlusion is officially defined as: Completely closing an orifice"
             " or the lumen of a tubular body part.")
    copied = [_s("purpose", "Read character by character, 03L94CZ is a procedure in the Medical and Surgical section"),
              _s("indications", "", ["A blocked or bleeding artery", "Completely closing an orifice or the lumen of a"
                                     " tubular body part."])]
    problems = facts_copied(facts, copied)
    assert [p.split(" copies")[0] for p in problems] == ["section 'purpose'", "section 'indications'"]
    own = [_s("summary", "The doctor closes off the right ulnar artery, an artery in the forearm, from outside it."),
           _s("purpose", "To stop blood flowing through the Right Ulnar Artery with Extraluminal Device.")]
    assert facts_copied(facts, own) == []  # the descriptor quoted in a sentence of its own is fine
    assert facts_copied(facts, [_s("coding_notes", "Occlusion is officially defined as: Completely closing")]) == []


def test_drugs_and_doses_the_official_data_does_not_name() -> None:
    mi = "Official descriptor: Non-ST elevation (NSTEMI) myocardial infarction"
    said = [_s("treatment", "Aspirin and ibuprofen 400 mg help.")]
    problems = drugs_not_in_the_data(mi, said)
    assert problems[0] == "names the dose “400 mg”; give no doses" and "aspirin" in problems[1]
    j = "Official descriptor: Injection, dexamethasone sodium phosphate, 1 mg"
    assert drugs_not_in_the_data(j.lower(), [_s("what_it_is", "Dexamethasone 1 mg is a steroid.")]) == []


def test_prices_the_official_data_does_not_state() -> None:
    items = ["Rental: 10% of the price is capped at 100 dollars", "About $50 a month"]
    said = [_s("how_it_is_used", "\n".join(items), items)]
    assert prices("Official descriptor: Power wheelchair", said) == ["names the price “100 dollars”; give no prices"]
    assert prices("Official descriptor: Power wheelchair", [_s("what_it_is", "It costs $1,200.")])
    assert prices("Official descriptor: Power wheelchair", [_s("what_it_is", "It carries up to 600 pounds.")]) == []
    assert prices("payment limit $25.00 per visit", [_s("coverage_basics", "Payment is up to $25.00.")]) == []


def test_reading_level() -> None:
    assert syllable_count("the") == 1 and syllable_count("complication") == 4 and syllable_count("bone") == 1
    plain = "The bone in the top of the leg breaks. It hurts a lot. You may need a cast. " * 4
    hard = ("Osteoporotic comminuted intracapsular fractures necessitate multidisciplinary orthopaedic"
            " intervention incorporating arthroplasty considerations. ") * 4
    assert flesch_kincaid_grade(plain) < 4 < 12 < flesch_kincaid_grade(hard)
    assert reading_level([_s("summary", plain)]) == []
    assert "school grade" in reading_level([_s("summary", hard)])[0]
    assert reading_level([_s("coding_notes", hard)]) == []  # written for coders


def test_lengths_are_checked_not_sent() -> None:
    sent, checked = answer_schema(DIAGNOSIS), validation_schema(DIAGNOSIS)
    assert "maxLength" not in json.dumps(sent)
    assert {json.dumps(s["anyOf"][0]["maxItems"]) for s in sent["properties"].values() if "anyOf" in s} == {"6"}
    long = {s.key: ("word " * 600 if not s.as_list else ["a"]) for s in DIAGNOSIS}
    word = CodeRecord.bare("icd10cm", "X", "word")
    _, problems = check_answer(json.dumps(long), DIAGNOSIS, checked, word, lambda t: False)
    assert any("longer than 2500 characters" in p for p in problems)


def test_prompt_grounding_leaves_out_a_chapter_s_lists_and_the_written_on_suffix() -> None:
    data = replace(HIP, system_name="ICD-10-CM",
                   ancestors=(CodeRef("icd10cm", "S00-T88", "Injury", "chapter", None),
                              CodeRef("icd10cm", "S72", "Fracture of femur", "category", None)))
    text = grounding(data)
    assert "snake bite" not in text and "written on" not in text
    assert "Excludes1: traumatic amputation of hip and thigh (S78.-)" in text
    assert [s.key for s in section_set(CodeRecord.bare("icd10cm", "Z95.1"))][:2] == ["summary", "when_it_is_used"]


def test_the_prompt_starts_with_what_every_code_of_a_section_set_shares() -> None:
    """A server's prompt cache reuses the longest shared beginning: the instructions, section guide and
    JSON shape come first, the same for every code of a set; the code's own facts come last."""
    other = CodeRecord.bare("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications")
    first, second = build_messages(HIP), build_messages(other)
    assert first[0] == second[0] and "S72.001A" not in first[0]["content"] and '"causes": [""]' in first[0]["content"]
    assert first[1]["content"].startswith("Official data:\nSystem: icd10cm\nCode: S72.001A\n")


def test_only_the_code_s_own_7th_character_is_in_the_prompt() -> None:
    """Every 7th character of the category (17 lines for S72) read as facts of the code: the model wrote
    "subsequent encounter" and "nonunion" for an initial encounter for a closed fracture."""
    seventh = tuple(Note("seventh_character", f"{c}: {text}", "S72") for c, text in
                    (("A", "initial encounter for closed fracture"), ("D", "subsequent encounter for closed fracture"
                                                                          " with routine healing"), ("S", "sequela")))
    data = replace(HIP, ancestors=(CodeRef("icd10cm", "S72", "Fracture of femur", "category", None),),
                   notes=(*HIP.notes, *seventh))
    text = grounding(data)
    assert "7th character of this code: A: initial encounter for closed fracture" in text
    assert "subsequent encounter" not in text and "sequela" not in text


def test_placeholders_and_template_tokens_from_a_real_small_model() -> None:
    """Gemma 3 270M (Q4_K_M, llama.cpp server) copied the prompt's "…" placeholders into every section
    and ended the last one with its chat template's stop token: this answer, verbatim, is rejected."""
    recorded = {"summary": "…", "causes": ["…", "…"], "symptoms": ["…", "…"], "diagnosis": ["…", "…"],
                "treatment": ["…", "…"], "outlook": "…", "coding_notes": "…<|im_end|>"}
    d = CodeRecord.bare("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications")
    _, problems = check_answer(json.dumps(recorded, ensure_ascii=False), DIAGNOSIS, validation_schema(DIAGNOSIS),
                               d, lambda t: False)
    assert "section 'coding_notes' is empty" in problems  # a placeholder with a stop token is still empty
    assert any("chat-template token (“<|im_end|>”)" in p for p in problems)
    written = {**recorded, "summary": "Type 2 diabetes means the body cannot use sugar in the blood well.",
               "causes": ["Extra weight", "Family history"], "symptoms": ["Thirst", "Tiredness"],
               "diagnosis": ["A blood test"], "treatment": ["Healthy food and exercise"],
               "outlook": "Most people live well with it.", "coding_notes": "No complications are coded here."}
    assert check_answer(json.dumps(written), DIAGNOSIS, validation_schema(DIAGNOSIS), d, lambda t: False)[1] == []
    no_shape_to_copy = build_messages(d)[0]["content"]
    assert "…" not in no_shape_to_copy and '"summary": ""' in no_shape_to_copy
