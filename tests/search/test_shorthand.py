"""Clinician shorthand read as words (shorthand.py), and its status table checked against the titles."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.index import Catalog
from medcodes.search import search, shorthand


@pytest.mark.parametrize(("typed", "read"), [
    ("s/p CABG x3", "status post CABG three arteries"),
    ("hx of DVT on eliquis", "history of DVT on eliquis"),
    ("h/o PE", "history of PE"),
    ("UTI 2/2 klebsiella", "UTI due to klebsiella"),
    ("acute PE, no cor pulm", "acute PE, without cor pulm"),
    ("cannabis use d/o", "cannabis use disorder"),
    ("ACDF C4 thru C6", "ACDF 2 or more cervical vertebral joints"),
    ("DM2 w/o complications", "DM2 without complications"),
    ("DM2 w/neuropathy", "DM2 with neuropathy"),
    ("DM2 c/b gastroparesis", "DM2 with gastroparesis"),
    ("fever POD 2", "fever postprocedural"),
    ("lumbar radiculopathy, R>L", "lumbar radiculopathy, bilateral"),
    ("DVT LLE", "DVT left lower limb"),
    ("ORIF L ankle", "ORIF left ankle"),
    ("OA b/l knees", "OA bilateral knees"),
    ("CKD 3b", "chronic kidney disease stage 3b"),
    ("ckd stage IV", "chronic kidney disease stage 4"),
    ("pressure ulcer stg 2", "pressure ulcer stage 2"),
    ("r/o sepsis", "sepsis"),
    ("L5 radiculopathy", "lumbar radiculopathy"),  # a spine level: its region, not "left 5"
    ("L4-5 HNP", "lumbar HNP"),
    ("L5-S1 fusion", "lumbosacral joint fusion"),  # a fusion: the joints it spans (Fusion of Lumbosacral Joint)
    ("ACDF C5-6", "ACDF cervical vertebral joint"),
    ("ACDF C4-6", "ACDF 2 or more cervical vertebral joints"),
    ("T4-T10 fusion", "2 to 7 thoracic vertebral joints fusion"),
    ("DDD C5-6", "DDD cervical c5 c6"),  # the cervical disc codes name the level
    ("L1 compression fx", "first lumbar compression fx"),  # one vertebra: "fracture of first lumbar vertebra"
    ("T12 compression fx and L1", "T12 compression fx and first lumbar"),  # titles: "T11-T12 vertebra"
    ("kyphoplasty T12", "kyphoplasty thoracic vertebra"),  # an operation: PCS names the region, no level
    ("L5 S1 fusion", "lumbosacral joint fusion"),  # two levels with a space are a span too
    ("FHx breast ca", "family history of breast ca"),
    ("POAG OD", "POAG right eye"),  # beside an eye's condition, the eye's side
    ("wet AMD OS", "wet AMD left eye"),
    ("cataract OU", "cataract bilateral"),
    ("1° hyperPTH", "primary hyperPTH"),
    ("2° HTN", "secondary HTN"),
])
def test_shorthand_is_spelled_out(typed: str, read: str) -> None:
    assert shorthand.read(typed).text == read


@pytest.mark.parametrize("typed", ["T2 N0 M0 breast ca", "C50.911 breast", "L89.1 ulcer",
                                   "cord syndrome C5 level", "T7-T12 level with spinal cord injury", "vitamin b12",
                                   "type 2 diabetes", "E11.9", "level 2",
                                   "OD on heroin", "os trigonum syndrome",  # no eye: an overdose, a bone
                                   "bruises for no reason"])  # a "no" that is no title's "without"
def test_words_that_look_like_shorthand_stay(typed: str) -> None:
    assert shorthand.read(typed).text == typed


def test_status_history_and_drugs() -> None:
    got = shorthand.read("hx of DVT on eliquis").status
    assert [(s.system, s.code) for s in got] == [("icd10cm", "Z86.718"), ("icd10cm", "Z79.01")]
    assert [s.code for s in shorthand.read("s/p CABG x3").status] == ["Z95.1"]
    assert [s.code for s in shorthand.read("s/p MI").status] == ["I25.2"]  # a condition had: its history code
    assert [s.code for s in shorthand.read("hx CABG x3").status] == ["Z95.1"]  # an operation had: its status
    assert [s.code for s in shorthand.read("s/p mechanical AVR").status] == ["Z95.2"]  # a word qualifying the term
    assert [s.code for s in shorthand.read("morbid obesity BMI 42").status] == ["Z68.41"]
    assert [s.code for s in shorthand.read("bmi of 27.5 overweight").status] == ["Z68.27"]
    assert [s.code for s in shorthand.read("obese bmi 18 adult").status] == ["Z68.1"]
    assert [s.code for s in shorthand.read("super obesity BMI 72").status] == ["Z68.45"]
    assert shorthand.read("family history of breast ca").status == []  # a relative's history: not Z85.3
    assert shorthand.read("FHx breast ca").status == []
    assert shorthand.read("CABG").status == []


def test_two_conditions_and_their_cause() -> None:
    r = shorthand.read("UTI 2/2 klebsiella")
    assert r.parts == ("UTI", "klebsiella") and r.cause
    r = shorthand.read("DM2 w/ neuropathy")
    assert r.parts == ("DM2", "neuropathy") and not r.cause
    assert shorthand.read("Diabetes with").parts == ()


@pytest.fixture(scope="module")
def full(full_index: Path) -> Catalog:
    return Catalog(full_index)


@pytest.mark.slow
def test_every_status_code_is_the_official_one(full: Catalog) -> None:
    titles = {}
    for kind, term, system, code in shorthand.rows():
        row = full.conn.execute("SELECT title FROM codes WHERE system=? AND code=?", (system, code)).fetchone()
        assert row is not None, f"status.tsv: {kind} {term}: no {system} {code}"
        titles[(system, code)] = row[0]
    for (_kind, _terms, system, code), title in shorthand.titled().items():
        assert titles[(system, code)] == title, f"status.tsv: {code} is {titles[(system, code)]!r}, not {title!r}"


@pytest.mark.parametrize(("typed", "asked"), [
    ("s/p R great toe amp", ("Z89", ("acquired", "absence", "right", "great", "toe"))),
    ("s/p L 2nd finger amputation", ("Z89", ("acquired", "absence", "left", "finger"))),
    ("s/p pancreas tx", ("Z94", ("pancreas", "transplant", "status"))),
    ("s/p R shoulder replacement", ("Z96.6", ("artificial", "right", "shoulder"))),
    ("s/p gastrectomy", ("Z90", ("acquired", "absence", "stomach"))),
    ("s/p ileostomy", ("Z93", ("ileostomy", "status"))),
    ("hx of appendectomy", ("Z90", ("acquired", "absence", "appendix"))),  # had, as "s/p" says
])
def test_a_status_no_row_names_is_searched_among_its_kind(typed: str, asked: tuple[str, tuple[str, ...]]) -> None:
    assert shorthand.status_search(shorthand.read(typed).text) == asked


def test_no_status_search_without_status_post() -> None:
    assert shorthand.status_search(shorthand.read("R great toe amputation").text) is None


@pytest.mark.slow
@pytest.mark.parametrize(("q", "code"), [
    ("s/p R great toe amp", "Z89.411"),  # not the traumatic amputation S98.111A
    ("s/p L 2nd finger amputation", "Z89.022"),
    ("s/p R shoulder replacement", "Z96.611"),
    ("s/p cornea transplant", "Z94.7"),
])
def test_status_post_an_operation_status_tsv_lacks(full: Catalog, q: str, code: str) -> None:
    found = search(full, q, systems=["icd10cm"], limit=5)["results"]
    assert found[0]["code"] == code, [r["code"] for r in found]


def test_each_status_of_a_problem_list_is_read() -> None:
    """"h/o RCC s/p L nephrectomy": the history runs to the next status, which is read too."""
    codes = [st.code for st in shorthand.read("h/o RCC s/p L nephrectomy").status]
    assert codes == ["Z90.5"]
    assert [st.code for st in shorthand.read("on MTX for RA").status] == ["Z79.631"]


def test_a_pasted_page_after_status_post_is_read_to_a_few_words() -> None:
    asked = shorthand.status_search("status post " + "right great toe amputation " * 400)
    assert asked is not None and len(asked[1]) <= 2 + shorthand.STATUS_WORDS


@pytest.mark.slow
def test_a_history_code_without_what_the_query_says_is_not_its_status(full: Catalog) -> None:
    """Z86.73 is a stroke "without residual deficits": not the history a note with residual deficits names."""
    first = search(full, "h/o CVA w/ residual L hemiparesis", systems=["icd10cm"], limit=1)["results"][0]
    assert first["code"] != "Z86.73"
    assert search(full, "h/o CVA", systems=["icd10cm"], limit=1)["results"][0]["code"] == "Z86.73"


@pytest.mark.slow
def test_a_side_after_the_status_term_is_its_side(full: Catalog) -> None:
    assert search(full, "s/p TKR rt knee", systems=["icd10cm"], limit=1)["results"][0]["code"] == "Z96.651"
    assert search(full, "s/p TKA", systems=["icd10cm"], limit=1)["results"][0]["code"] == "Z96.65"


@pytest.mark.slow
def test_a_side_a_body_part_does_not_have(full: Catalog) -> None:
    """The buttock has no side in ICD-10-PCS: "R" leaves only the Drainage table matching every word."""
    top = search(full, "I&D R buttock abscess", systems=["icd10pcs"], limit=1)["results"][0]
    assert top["code"].startswith("0J99"), top
    assert search(full, "L BKA", systems=["icd10pcs"], limit=1)["results"][0]["code"].startswith("0Y6J")


@pytest.mark.slow
def test_status_post_an_event_is_its_cause(full: Catalog) -> None:
    """"s/p fall" beside an injury says how it happened, not a history of falling (Z91.81)."""
    found = [r["code"] for r in search(full, "fx L hip s/p fall", systems=["icd10cm"], limit=5)["results"]]
    assert found[0].startswith("S72") and "Z91.81" not in found, found


@pytest.mark.slow
@pytest.mark.parametrize(("q", "code"), [("R TKA 2019", "Z96.651"), ("MI in 2019", "I25.2"),
                                         ("breast ca 2015", "Z85.3")])
def test_a_year_says_it_was_had(full: Catalog, q: str, code: str) -> None:
    assert search(full, q, systems=["icd10cm"], limit=1)["results"][0]["code"] == code


def test_a_disease_named_by_its_year_is_no_history() -> None:
    assert "status post" not in shorthand.read("covid 2019").text
    assert shorthand.read("R TKA 2019").text.startswith("status post")


def test_w_without_its_slash_is_with() -> None:
    assert shorthand.read("ercp w stent").text == "ercp with stent"
    assert shorthand.read("vitamin d def w").text == "vitamin d def w"  # a letter at the end stays


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix"), [("CABG x4", "0213"), ("3v CABG", "0212"),
                                           ("quadruple heart bypass", "0213")])
def test_the_count_of_a_coronary_bypass_is_its_arteries(full: Catalog, q: str, prefix: str) -> None:
    assert search(full, q, systems=["icd10pcs"], limit=1)["results"][0]["code"].startswith(prefix)


@pytest.mark.slow
@pytest.mark.parametrize(("q", "code"), [("s/p ICD", "Z95.810"), ("h/o C/S", "Z98.891"), ("CKD 2/2 HTN", "I12.9")])
def test_more_statuses_and_a_cause_that_is_no_stage(full: Catalog, q: str, code: str) -> None:
    assert search(full, q, systems=["icd10cm"], limit=1)["results"][0]["code"] == code


def test_the_eyes_side_beside_an_eye_operation() -> None:
    assert "left eye" in shorthand.read("dmek os").text
    assert "right eye" in shorthand.read("phaco iol od").text


@pytest.mark.parametrize("q", ["I+D R thigh abscess", "i and d R thigh abscess", "I&D R thigh abscess"])
def test_incision_and_drainage_is_one_operation_not_two_conditions(q: str) -> None:
    reading = shorthand.read(q)
    assert reading.text == "incision and drainage right thigh abscess" and reading.parts == (), reading


@pytest.mark.slow
def test_a_table_comes_after_its_code_that_says_as_much(full: Catalog) -> None:
    found = [r["code"] for r in search(full, "R hemicolon resection", systems=["icd10pcs"], limit=3)["results"]]
    assert found[0].startswith("0DTF") and "0DT" in found, found


@pytest.mark.slow
def test_a_side_the_substance_route_lacks(full: Catalog) -> None:
    """The pleural cavity of 3E0L has no side: "talc pleurodesis L" is still the talc, not a left pleura's code only."""
    found = [r["code"] for r in search(full, "talc pleurodesis L", systems=["icd10pcs"], limit=3)["results"]]
    assert any(c.startswith("3E0L") for c in found), found


def test_weeks_and_sides_as_notes_write_them() -> None:
    assert shorthand.read("iup at 32w").text == "iup at 32 weeks"
    assert shorthand.read("kidney stone on left side").text == "kidney stone left"


@pytest.mark.slow
@pytest.mark.parametrize(("q", "code"), [("PPM in situ", "Z95.0"), ("pacer in place", "Z95.0")])
def test_a_device_in_place_is_its_status(full: Catalog, q: str, code: str) -> None:
    assert search(full, q, systems=["icd10cm"], limit=1)["results"][0]["code"] == code


@pytest.mark.slow
def test_in_situ_after_a_condition_stays_its_word(full: Catalog) -> None:
    assert search(full, "melanoma in situ", systems=["icd10cm"], limit=1)["results"][0]["code"].startswith("D03")


@pytest.mark.slow
@pytest.mark.parametrize(("q", "code"), [
    ("prior CABG, grafts patent", "Z95.1"), ("remote LLE DVT, completed 6 mo AC", "Z86.718"),
    ("L BKA status", "Z89.512"), ("L knee replacement status", "Z96.652"),
    ("L breast ca in remission, done w/ tx", "Z85.3"), ("hx of BCC skin, excised", "Z85.828"),
    ("h/o SCC L forearm", "Z85.828")])
def test_a_problem_lists_own_words_for_what_was_had(full: Catalog, q: str, code: str) -> None:
    """"prior", "remote", a trailing "status", a solid cancer treated: the history or status code first."""
    assert search(full, q, systems=["icd10cm"], limit=1)["results"][0]["code"] == code


@pytest.mark.parametrize("q", ["prior auth for mri", "DNR status", "AML in remission", "remote control injury"])
def test_words_that_only_look_like_a_history_stay(q: str) -> None:
    """No status or history the tables know: the text as typed (a blood cancer's remission has codes of its own)."""
    assert "history of" not in shorthand.read(q).text and "status post" not in shorthand.read(q).text


@pytest.mark.slow
@pytest.mark.parametrize(("q", "codes"), [
    ("h/o CVA w/ residual L hemiparesis", ("I69.352", "I69.354")),
    ("R hemiparesis 2/2 old CVA", ("I69.351", "I69.353")),
    ("aphasia after stroke", ("I69.320",)), ("one sided weakness after stroke", ("I69.35",))])
def test_a_deficit_a_stroke_left_is_its_sequela(full: Catalog, q: str, codes: tuple[str, ...]) -> None:
    """Not the stroke again (I63), nor a history "without residual deficits" (Z86.73), nor a family's (Z82.3)."""
    assert search(full, q, systems=["icd10cm"], limit=1)["results"][0]["code"].startswith(codes)


def test_a_stroke_alone_or_a_deficit_alone_stays() -> None:
    assert "following" not in shorthand.read("old CVA").text
    assert "following" not in shorthand.read("L hemiparesis").text


@pytest.mark.slow
@pytest.mark.parametrize(("q", "code"), [
    ("mri of brain with and without contrast", "B030Y0Z"), ("CT chest w/wo contrast", "BB24Y0Z"),
    ("cat scan of neck with dye", "BW2FYZZ"), ("ct abdomen without contrast", "BW20ZZZ")])
def test_contrast_as_imaging_orders_say_it(full: Catalog, q: str, code: str) -> None:
    assert search(full, q, systems=["icd10pcs"], limit=1)["results"][0]["code"] == code


@pytest.mark.slow
def test_dye_away_from_a_scan_stays_dye(full: Catalog) -> None:
    assert shorthand.read("allergic to iodine dye").text == "allergic to iodine dye"
    assert search(full, "allergic to iodine dye", systems=["icd10cm"], limit=1)["results"][0]["code"] == "Z91.041"


@pytest.mark.slow
@pytest.mark.parametrize(("q", "code"), [
    ("pre-e at 34w", "O14.93"), ("AMA G1 at 20wks", "O09.512"), ("G2P1 at 36 wks AMA", "O09.523"),
    ("pregnant at 38 years old", "O09.5"), ("15 yo pregnant", "O09.6"), ("IUP at 32 wks", "Z3A.32")])
def test_a_pregnancys_weeks_and_the_mothers_age(full: Catalog, q: str, code: str) -> None:
    """Weeks say the trimester the titles name, beside a condition (not alone: its weeks code); an age or
    AMA beside a pregnancy is an elderly or young primigravida or multigravida, not weeks."""
    assert search(full, q, systems=["icd10cm"], limit=1)["results"][0]["code"] == code


def test_ama_away_from_a_pregnancy_stays() -> None:
    assert "elderly" not in shorthand.read("left AMA").text
    assert "trimester" not in shorthand.read("lost the baby at 8 weeks").text


@pytest.mark.parametrize("q", ["6 week post op visit", "6 wk post op visit", "rash for 3 weeks"])
def test_weeks_that_are_no_pregnancys_say_no_trimester(q: str) -> None:
    assert "trimester" not in shorthand.read(q).text


@pytest.mark.slow
@pytest.mark.parametrize(("q", "code"), [("acute PE, no cor pulm", "I26.99"), ("h/o CVA no residual", "Z86.73"),
                                         ("DKA in type 1, no coma", "E10.10")])
def test_no_is_the_titles_without(full: Catalog, q: str, code: str) -> None:
    assert search(full, q, systems=["icd10cm"], limit=1)["results"][0]["code"] == code


def test_no_at_the_start_stays() -> None:
    assert shorthand.read("no show appointment").text == "no show appointment"


def test_a_result_written_with_a_plus_is_positive() -> None:
    assert shorthand.read("GBS+ at 36 wks").text.startswith("GBS positive")
    assert shorthand.read("ER+ breast ca").text == "ER positive breast ca"
    assert shorthand.read("i+d of abscess").text == "incision and drainage of abscess"  # no result
    assert "+" in shorthand.read("HTN + DM").text  # between words: no result either


def test_keeps_falling_is_repeated_falls() -> None:
    assert "repeated falls" in shorthand.read("keeps falling down").text
    assert "repeated falls" not in shorthand.read("fell down the stairs").text


@pytest.mark.parametrize(("typed", "region"), [("L-spine stenosis", "lumbar spine"), ("L spine DJD", "lumbar spine"),
                                               ("LS spine sprain", "lumbosacral spine")])
def test_an_l_before_spine_is_lumbar_not_left(typed: str, region: str) -> None:
    text = shorthand.read(typed).text
    assert region in text and "left" not in text, text


@pytest.mark.parametrize(("typed", "side"), [("VH OD", "right eye"), ("NAION OS", "left eye"), ("ERM OU", "bilateral")])
def test_more_eye_conditions_take_the_latin_sides(typed: str, side: str) -> None:
    assert side in shorthand.read(typed).text


def test_more_or_less_than_a_number_is_said_as_the_titles_say_it() -> None:
    assert shorthand.read("MV >96 hrs").text == "MV greater than 96 hrs"
    assert shorthand.read("vent <24 hours").text == "vent less than 24 hours"
