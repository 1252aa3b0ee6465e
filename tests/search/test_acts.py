"""What a plain-words procedure query says is done (acts.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.index import Catalog
from medcodes.search import acts, lexicon, rank, search
from medcodes.search.lexicon import Group


def _groups(*ws: str) -> list[Group]:
    return [Group(((w,),), (w,)) for w in ws]


def test_matter_that_comes_out_is_extirpation() -> None:
    found = acts.matter_removed(_groups("sucking", "clot", "out", "lung", "arteries"))
    assert ("extirpation", "matter") in found[1].alternatives
    stuck = acts.matter_removed(_groups("peanut", "stuck", "windpipe", "removed"))
    assert ("extirpation", "matter") in stuck[1].alternatives


def test_matter_that_stays_is_a_diagnosis() -> None:
    assert acts.matter_removed(_groups("blood", "clot", "leg")) == _groups("blood", "clot", "leg")


def test_a_break_is_put_back_in_place() -> None:
    found = acts.broken_set([Group((("broken", "nose"), ("fracture", "nasal", "bones")), ("broken", "nose"))])
    assert ("reposition", "nose") in found[0].alternatives
    assert ("reposition", "nasal", "bones") in found[0].alternatives
    assert acts.broken_set(_groups("nose", "bleed")) == _groups("nose", "bleed")


@pytest.fixture(scope="module")
def full(full_index: Path) -> Catalog:
    return Catalog(full_index)


@pytest.mark.slow
@pytest.mark.parametrize(("q", "table"), [
    ("sucking the clot out of the lung arteries", "02C"),  # Extirpation of Matter from Pulmonary Artery
    ("removing a peanut stuck in a toddler's windpipe", "0BC1"),  # from the trachea
    ("fixing a broken eye socket", "0NS"),  # Reposition of the orbit
])
def test_procedures_in_plain_sentences(full: Catalog, q: str, table: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10pcs"], limit=5)["results"]]
    assert found[0].startswith(table), found


@pytest.mark.slow
def test_a_break_without_an_operation_stays_a_diagnosis(full: Catalog) -> None:
    assert search(full, "broken wrist", limit=3)["results"][0]["system"] == "icd10cm"


def test_a_device_taken_out_is_its_removal() -> None:
    cath = Group((("pd", "cath"), ("insertion", "infusion", "device", "peritoneal", "cavity")), ("pd", "cath"))
    found = acts.device_removed([cath, *_groups("removal")])
    assert ("removal", "infusion", "device", "peritoneal", "cavity") in found[0].alternatives
    assert acts.device_removed([cath]) == [cath]  # put in, not taken out


@pytest.mark.slow
def test_removing_a_device_answers_its_removal(full: Catalog) -> None:
    found = [r["code"] for r in search(full, "PD cath removal", systems=["icd10pcs"], limit=5)["results"]]
    assert found[0].startswith("0WPG"), found


def test_a_device_named_by_another_operation_is_taken_out_too() -> None:
    band = Group((("lap", "band"), ("restriction", "stomach", "extraluminal", "device")), ("lap", "band"))
    found = acts.device_removed([band, *_groups("removal")])
    assert ("removal", "stomach", "extraluminal", "device") in found[0].alternatives
    assert not any(alt[0] == "restriction" for alt in found[0].alternatives)  # taken out, no longer put on
    iud = Group((("iud",), ("contraceptive", "device", "uterus")), ("iud",))
    taken_out = acts.device_removed([iud, *_groups("removal")])[0]
    assert ("removal", "contraceptive", "device", "uterus") in taken_out.alternatives


REMOVING = Group((("excision",), ("resection",), ("extraction",), ("removal",)), ("removing",))


def test_a_growth_removed_is_cut_out_and_a_device_removed_is_taken_out() -> None:
    growth = acts.what_is_removed([REMOVING, *_groups("heart", "tumor")])
    assert growth[0].alternatives == (("excision",), ("resection",))
    device = acts.what_is_removed([REMOVING, *_groups("sternal", "wires")])
    assert device[0].alternatives == (("removal",),)
    both = [REMOVING, *_groups("tumor", "stent")]
    assert acts.what_is_removed(both) == both  # says both: every reading stays open


def test_take_and_a_later_out_are_one_removal() -> None:
    found = acts.what_is_removed(_groups("taking", "the", "wires", "out", "breastbone"))
    assert [g.words for g in found] == [("taking", "out"), ("the",), ("wires",), ("breastbone",)]
    assert found[0].alternatives == (("removal",),)
    assert acts.what_is_removed(_groups("out", "taking", "breath")) == _groups("out", "taking", "breath")


@pytest.mark.slow
@pytest.mark.parametrize(("q", "table"), [
    ("taking the wires out of my breastbone", "0PP0"),  # Removal from the sternum, not Excision
    ("lap band removal", "0DP6"),  # Removal of Extraluminal Device from Stomach
    ("iud removal", "0UPD"),
])
def test_what_is_removed_decides_the_operation(full: Catalog, q: str, table: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10pcs"], limit=5)["results"]]
    assert found[0].startswith(table), found


def test_a_scope_with_an_operation_is_that_operation_done_through_it() -> None:
    scope = lexicon.Entry(("cysto",), (("inspection", "bladder", "endoscopic"),), "abbr", (("icd10pcs", "0TJB8ZZ"),), 1)
    groups = [Group((("cysto",), ("inspection", "bladder", "endoscopic")), ("cysto",), scope),
              Group((("litholapaxy",), ("fragmentation", "bladder")), ("litholapaxy",))]
    found = acts.scope_with_act(groups)
    assert ("bladder", "endoscopic") in found[0].alternatives and found[0].entry is not None
    assert found[0].entry.expect == ()  # the Inspection is no longer what "cysto" means here
    # nothing else done, or the other operation denied: the scope is an Inspection
    assert acts.scope_with_act(groups[:1]) == groups[:1]
    denied = [groups[0], *_groups("no"), Group((("biopsy",), ("excision", "diagnostic")), ("biopsy",))]
    assert acts.scope_with_act(denied) == denied


def test_stone_is_no_inflection_of_stomach() -> None:
    assert not rank.word_match("stone", "stomach")
    assert rank.word_match("nerve", "nervous") and rank.word_match("fracture", "fractured")


@pytest.mark.slow
def test_a_colonoscopy_with_polyp_removal_is_an_endoscopic_excision(full: Catalog) -> None:
    found = [r["code"] for r in search(full, "colonoscopy with polyp removal", limit=3)["results"]]
    assert found[0].startswith("0DB") and found[0][4] == "8", found
    knee = [r["code"] for r in search(full, "knee scope torn meniscus trimmed", systems=["icd10pcs"],
                                      limit=3)["results"]]
    assert knee[0].startswith(("0SBC4", "0SBD4")), knee


def test_what_a_procedure_query_denies_is_set_apart() -> None:
    kept, denied = acts.refused(_groups("ptca", "rca", "no", "stent"))
    assert [g.words for g in kept] == [("ptca",), ("rca",)] and [g.words for g in denied] == [("stent",)]
    assert acts.refused(_groups("no", "stent")) == (_groups("no", "stent"), [])  # nothing asked but the denial


@pytest.mark.slow
def test_a_denied_device_is_not_in_the_first_code(full: Catalog) -> None:
    assert search(full, "PTCA RCA, no stent", systems=["icd10pcs"], limit=1)["results"][0]["code"] == "02703ZZ"
    assert search(full, "PTCA RCA with stent", systems=["icd10pcs"], limit=1)["results"][0]["code"].endswith("DZ")


@pytest.mark.slow
def test_a_diagnosis_term_preferring_diagnoses_is_words_in_a_procedure_search(full: Catalog) -> None:
    """"cut on the face" is a lexicon term for a laceration (ICD-10-CM preferred): where only procedures
    are searched, its words name the place (Repair Face)."""
    found = search(full, "stitching a cut on the face", systems=["icd10pcs"], limit=3)["results"]
    assert found[0]["code"].startswith("0WQ2"), found


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix"), [("lumbar puncture for meningitis", "009U"),
                                           ("weight loss bypass operation", "0D16")])
def test_tables_alone_saying_every_word_let_their_codes_compete(full: Catalog, q: str, prefix: str) -> None:
    """Only the Drainage tables say "lumbar puncture" and "meningitis" together (by an index term of
    theirs): the spinal canal's code, which says the operation, comes first, not a table."""
    found = [r["code"] for r in search(full, q, systems=["icd10pcs"], limit=3)["results"]]
    assert found[0].startswith(prefix), found


@pytest.mark.slow
def test_a_contraction_typed_without_its_apostrophe_is_no_misspelling(full: Catalog) -> None:
    """"doesnt" is no word of a code; corrected, it became "descent" and pulled other codes in."""
    r = search(full, "seat belt for wheelchair so he doesnt slide out", systems=["hcpcs"], limit=3)
    assert "doesnt" not in r["parsed"]["corrected"] and r["results"][0]["code"] == "E0978", r["parsed"]


def test_a_vague_verb_means_the_operation_another_word_names() -> None:
    hip = Group((("new", "hip"), ("replacement", "hip", "joint")), ("new", "hip"))
    found = acts.vague_act([hip, *_groups("left"), Group((("put",), ("insertion",)), ("put",))])
    assert ("replacement",) in found[2].alternatives and ("insertion",) in found[2].alternatives
    # with no operation named elsewhere, "put in" stays an insertion
    alone = [Group((("put",), ("insertion",)), ("put",)), *_groups("pacemaker")]
    assert acts.vague_act(alone) == alone


@pytest.mark.slow
@pytest.mark.parametrize(("q", "table"), [
    ("artificial hip put in", "0SR"),  # Replacement, not an Insertion of Spacer into the hip joint
    ("new left hip joint put in", "0SRB"),
    ("great toe amputated", "0Y6P"),  # Detachment, not its Reattachment
    ("taking off both breasts", "0HTV"),
])
def test_what_is_put_in_or_taken_off_is_the_operation_named(full: Catalog, q: str, table: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10pcs"], limit=3)["results"]]
    assert found[0].startswith(table), found


def test_a_word_that_begins_with_another_is_not_its_form() -> None:
    assert not rank.word_match("test", "testes") and not rank.word_match("tube", "tuberculosis")
    assert not rank.word_match("hear", "heart")
    assert rank.word_match("test", "tests") and rank.word_match("tube", "tubes") and rank.word_match("hear", "hearing")
    assert rank.word_match("nerve", "nervous")


def test_a_term_naming_matter_where_it_is_reads_as_its_extirpation() -> None:
    sdh = Group((("sdh",), ("subdural", "hemorrhage")), ("sdh",))
    found = acts.matter_removed([*_groups("evac"), sdh])
    assert ("extirpation", "matter", "subdural") in found[1].alternatives
    # nothing taken out: the hemorrhage stays a diagnosis
    assert acts.matter_removed([sdh]) == [sdh]


def test_a_break_beside_another_operation_is_why_it_is_done() -> None:
    kypho = Group((("kyphoplasty",), ("supplement", "vertebra")), ("kyphoplasty",))
    found = acts.broken_set([kypho, *_groups("compression", "fx")])
    assert ("supplement", "vertebra") in found[2].alternatives
    assert not any(alt[0] == "reposition" for alt in found[2].alternatives)
    # ORIF names the Reposition itself: the break is read as before
    orif = Group((("orif",), ("reposition", "internal", "fixation", "device")), ("orif",))
    assert ("reposition",) in acts.broken_set([orif, *_groups("fx")])[1].alternatives


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix", "within"), [
    ("kyphoplasty L1 compression fx", "0QU0", 1),  # Supplement, not a Reposition of the vertebra
    ("evacuation of retained products of conception", "10D1", 1),
    ("craniotomy evac acute SDH", "00C4", 10),  # Extirpation of Matter from the subdural space
])
def test_what_an_operation_is_done_for_does_not_replace_it(full: Catalog, q: str, prefix: str, within: int) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10pcs"], limit=10)["results"]]
    assert any(c.startswith(prefix) for c in found[:within]), found


def test_a_stone_broken_up_is_its_fragmentation() -> None:
    found = acts.stone_broken_up(_groups("laser", "stone", "ureter"))
    assert ("fragmentation",) in found[0].alternatives and ("fragmentation",) in found[1].alternatives
    assert found[2].alternatives == (("ureter",),)
    assert acts.stone_broken_up(_groups("kidney", "stone")) == _groups("kidney", "stone")


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix"), [("laser for stone in ureter", "0TF6"), ("crushing bladder stone", "0TFB"),
                                           ("picc line L arm", "02HV33Z")])
def test_a_stone_broken_up_and_a_line_in_an_arm(full: Catalog, q: str, prefix: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10pcs"], limit=3)["results"]]
    assert found[0].startswith(prefix), found


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix"), [
    ("endometrial curettage for abnormal bleeding", "0UDB"),  # a curettage is the Extraction of the endometrium
    ("surgery to straighten the nose septum", "09SM"),  # straightened: Reposition of the nasal septum
    ("fusing vertebrae in lumbar spine", "0SG0"),  # the spine is its vertebral joints, not the spine's imaging
    ("renal transplant living donor", "0TY"),  # a living donor's kidney is allogeneic
    ("ORIF L IT hip fx", "0QS7"),  # a broken hip, fixed, is the upper femur's, not the hip joint's
])
def test_verbs_and_places_in_plain_words(full: Catalog, q: str, prefix: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10pcs"], limit=3)["results"]]
    assert found[0].startswith(prefix), found


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix"), [
    ("cortisone shot into lumbar epidural space", "3E0S33Z"),  # a steroid shot is an anti-inflammatory's Introduction
    ("shot of antibiotics in the vein", "3E03"),
])
def test_a_shot_in_a_procedure_search_is_its_introduction(full: Catalog, q: str, prefix: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10pcs"], limit=3)["results"]]
    assert any(c.startswith(prefix) for c in found[:2]), found


def test_a_broken_hip_is_the_upper_femur_a_dislocated_one_the_joint() -> None:
    found = acts.broken_set(_groups("broken", "hip", "pinned"))
    assert found[1].alternatives == (("upper", "femur"),)
    assert acts.broken_set(_groups("dislocated", "hip"))[1].alternatives == (("hip",),)


def test_an_operation_named_by_a_generic_word_may_be_on_another_word_of_the_query() -> None:
    entry = lexicon.entry_for(("bypass", "surgery"))
    term = Group((("bypass", "surgery"), ("bypass", "coronary", "artery")), ("bypass", "surgery"), entry)
    found = acts.operation_elsewhere([Group((("stomach",),), ("stomach",)), term])
    assert ("bypass",) in found[1].alternatives
    assert acts.operation_elsewhere([term]) == [term]  # alone, it is the term's own meaning


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix"), [("stomach bypass surgery", "0D16"), ("bypass surgery", "021")])
def test_bypass_surgery_on_the_stomach_is_the_stomach_s(full: Catalog, q: str, prefix: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10pcs"], limit=3)["results"]]
    assert any(c.startswith(prefix) for c in found), found


def test_nothing_removed_is_said_not_done() -> None:
    kept, denied = acts.refused(_groups("colonoscopy", "look", "nothing", "removed"))
    assert [g.words for g in denied] == [("removed",)] and [g.words for g in kept] == [("colonoscopy",), ("look",)]


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix"), [("colonscopy where they snipped off a polyp", "0DB"),
                                           ("colonscopy just to look, nothing removed", "0DJD8")])
def test_a_misspelt_scope_with_polyps_snipped_off(full: Catalog, q: str, prefix: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10pcs"], limit=3)["results"]]
    assert found[0].startswith(prefix), found


def test_a_broken_wrist_is_the_radius_a_dislocated_one_the_joint() -> None:
    assert acts.broken_set(_groups("broken", "wrist", "set"))[1].alternatives == (("radius",),)
    assert acts.broken_set(_groups("dislocated", "wrist"))[1].alternatives == (("wrist",),)


def test_a_digit_of_a_tendon_is_the_hand_or_the_foot() -> None:
    tendon = Group((("flexor", "tendon", "repair"), ("repair", "hand", "tendon")), ("flexor", "tendon", "repair"))
    finger = Group((("ring", "finger"),), ("ring", "finger"))
    read = acts.digit_of_a_tendon([tendon, finger])
    assert ("hand",) in read[1].alternatives and read[0] == tendon
    assert acts.digit_of_a_tendon([Group((("repair",),), ("repair",)), finger])[1] == finger  # no tendon said
