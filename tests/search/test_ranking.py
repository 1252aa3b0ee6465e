"""What a coder expects first, on a small index with the rare specialisations and the neighbours
that used to win: as-you-type prefixes, scoped ranges, ranking principles, the ICD-9 pool, speed
paths (one statement for few matches, shortest descriptors for many)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from medcodes.index import Catalog
from medcodes.model import Code, Record, Release
from medcodes.search import engine as engine_mod
from medcodes.search import engine_for, rank, search, suggest

from ..indexes import build_index

PCS = "icd10pcs"
EXTRA: list[Record] = [
    Release("icd10cm", "ICD-10-CM FY2026", "2025-10-01"),
    Code("icd10cm", "A00", "Cholera", kind="category", billable=False),
    Code("icd10cm", "A00.9", "Cholera, unspecified", parent="A00", billable=True),
    Code("icd10cm", "A01", "Typhoid and paratyphoid fevers", kind="category", billable=False),
    Code("icd10cm", "A15.0", "Tuberculosis of lung", billable=True),
    Code("icd10cm", "E13.69", "Other specified diabetes mellitus with other specified complication", billable=True),
    Code("icd10cm", "E13.9", "Other specified diabetes mellitus without complications", billable=True),
    Code("icd10cm", "E23.2", "Diabetes insipidus", billable=True),
    Code("icd10cm", "H10.89", "Other conjunctivitis", parent="H10", billable=True),
    Code("icd10cm", "I1A", "Other hypertension", billable=True),
    Code("icd10cm", "I21.A1", "Myocardial infarction type 2", parent="I21", billable=True),
    Code("icd10cm", "I21.A9", "Other myocardial infarction type", parent="I21", billable=True),
    Code("icd10cm", "I82.409", "Acute embolism and thrombosis of unspecified deep veins of unspecified lower extremity",
         billable=True),
    Code("icd10cm", "I82.621", "Acute embolism and thrombosis of deep veins of right upper extremity", billable=True),
    Code("icd10cm", "S72.90XA", "Unspecified fracture of unspecified femur, initial encounter for closed fracture",
         billable=True),
    Code("icd10cm", "S72.90XD", "Unspecified fracture of unspecified femur, subsequent encounter for closed"
         " fracture with routine healing", billable=True),
    Code("icd10cm", "S72.90XS", "Unspecified fracture of unspecified femur, sequela", billable=True),
    Release(PCS, "ICD-10-PCS FY2026", "2025-10-01"),
    Code(PCS, "0SRC0EZ", "Replacement of Right Knee Joint with Articulating Spacer, Open Approach", parent="0SR",
         billable=True),
    Code(PCS, "02", "Heart and Great Vessels", kind="body_system", parent="0", billable=False),
    Code(PCS, "021", "Bypass", kind="table", parent="02", billable=False),
    Code(PCS, "02100Z3", "Bypass Coronary Artery, One Artery from Coronary Artery, Open Approach", parent="021",
         billable=True),
    Code(PCS, "021009W", "Bypass Coronary Artery, One Artery from Aorta with Autologous Venous Tissue, Open Approach",
         parent="021", billable=True),
    Release("icd9cm", "ICD-9-CM v32"),
    # ICD-9 short titles spell words that are only the start of a current one: "diab", "hypert"
    Code("icd9cm", "362.02", "Proliferative diabetic retinopathy", billable=True,
         short_title="Prolif diab retinopathy"),
    Code("icd9cm", "405.19", "Other benign secondary hypertension", billable=True,
         short_title="Benign secondary hypert NEC"),
    # ... and many short "TB" titles that would fill every BM25 place
    *(Code("icd9cm", f"01{i // 10}.{i % 10}", f"Tuberculosis of site {i}", billable=True, short_title=f"TB site {i}")
      for i in range(40)),
    Release("hcpcs-mod", "HCPCS 2025 January"),
    Code("hcpcs-mod", "X3", "Episodic/broad services", kind="modifier", billable=True),
    Release("msdrg", "MS-DRG v43"),
    Code("msdrg", "637", "DIABETES WITH MCC", billable=True),
    Code("msdrg", "001", "HEART TRANSPLANT OR IMPLANT OF HEART ASSIST SYSTEM WITH MCC", billable=True),
    Code("msdrg", "999", "UNGROUPABLE", billable=True),
]


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return Catalog(build_index(tmp_path_factory.mktemp("ranking") / "index.sqlite", "search", extra=EXTRA))


def codes(result: dict[str, Any]) -> list[str]:
    return [r["code"] for r in result["results"]]


def first(cat: Catalog, q: str, **kw: Any) -> str:
    found = codes(search(cat, q, **kw))
    assert found, f"nothing for {q!r}"
    return found[0]


# -- as you type ---------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "family"), [("diab", "E1"), ("hypert", "I10"), ("conjunctiv", "H10")])
def test_the_last_word_completes_even_when_icd9_spells_it(cat: Catalog, typed: str, family: str) -> None:
    r = search(cat, typed, limit=20)
    assert r["total"] > 2 and r["results"][0]["system"] == "icd10cm", codes(r)
    assert r["results"][0]["code"].startswith(family), codes(r)
    assert suggest(cat, typed)[0]["code"].startswith(family)


def test_a_finished_word_is_not_a_prefix(cat: Catalog) -> None:
    assert engine_for(cat).vocab.unfinished("diab") and not engine_for(cat).vocab.unfinished("diabetes")
    assert codes(search(cat, "eye ", limit=50)) == codes(search(cat, "eye", limit=50))


# -- ranges --------------------------------------------------------------------------
def test_a_range_belongs_to_the_systems_of_its_ends(cat: Catalog) -> None:
    hcpcs = search(cat, "A0021-A0999")
    assert set(r["system"] for r in hcpcs["results"]) == {"hcpcs"} and hcpcs["total"] == 4  # not ICD-10 A00.9, A01
    icd = search(cat, "A00-Z99", limit=1000)
    assert set(icd["facets"]) == {"icd10cm"}, icd["facets"]  # no PCS "B...", HCPCS, ICD-9 or DRG
    # three digits: ICD-9-CM or MS-DRG, whichever has the ends (never PCS, ICD-9 Vol. 3 or HCPCS)
    assert set(search(cat, "001-999", limit=1000)["facets"]) == {"msdrg"}
    assert set(search(cat, "010-405", limit=1000)["facets"]) == {"icd9cm"}
    assert codes(search(cat, "1-999")) == ["001", "250", "637", "999"]  # DRGs, in number order


@pytest.mark.parametrize("q", ["a-z", "x-y"])
def test_letters_are_not_a_range_nor_a_word(cat: Catalog, q: str) -> None:
    r = search(cat, q)
    assert r["results"] == [] and r["total"] == 0


def test_repeated_ranges_and_codes_are_done_once(cat: Catalog) -> None:
    r = search(cat, "A00-Z99 " * 60)  # bench/search.py times queries; here: one range, one answer
    assert r["total"] == search(cat, "A00-Z99")["total"] and len(r["parsed"]["ranges"]) == 1
    assert codes(search(cat, "E11.9 e119 E11.9 I10")) == ["E11.9", "I10"]


# -- ranking principles --------------------------------------------------------------
@pytest.mark.parametrize(("q", "want"), [
    ("heart attack", {"I21.9"}),  # acute MI, unspecified: not "Other myocardial infarction type"
    ("mi", {"I21.9"}),
    ("diabetes", {"E11.9", "E11"}),  # not the DRG, not "Other specified", not insipidus
    ("sugar diabetes", {"E11.9", "E11"}),
    ("diabetis", {"E11.9", "E11"}),  # a corrected word brings its meaning
    ("hypertnesion", {"I10"}),  # not "Other hypertension"
    ("hypertension", {"I10"}),
    ("pink eye", {"H10.9", "H10"}),  # unspecified before "Other conjunctivitis"
    ("dvt", {"I82.409", "I82.40"}),  # lower extremity before upper
    ("tka", {"0SRC0JZ"}),  # the prosthesis, not the spacer
    ("cabg", {"021009W"}),  # a graft from the aorta, not coronary-to-coronary
    ("cabg x3", {"021009W"}),  # "x3" is a count here, not the modifier X3
    ("dm", {"E11.9", "E11"}),  # a lexicon word before a code that spells it (the PCS section "DM")
])
def test_the_code_a_coder_means_comes_first(cat: Catalog, q: str, want: set[str]) -> None:
    assert first(cat, q) in want, codes(search(cat, q))


def test_initial_encounter_before_subsequent_and_sequela(cat: Catalog) -> None:
    found = codes(search(cat, "billable:yes fracture femur", limit=20))
    order = [c for c in found if c.startswith("S72.90X")]
    assert order == ["S72.90XA", "S72.90XD", "S72.90XS"] and found[0].endswith("A"), found


def test_diagnoses_before_drgs_unless_asked(cat: Catalog) -> None:
    assert search(cat, "diabetes")["results"][0]["system"] == "icd10cm"
    assert first(cat, "diabetes drg") == "637"
    assert first(cat, "diabetes", systems=["msdrg"]) == "637"


def test_current_codes_before_icd9(cat: Catalog) -> None:
    r = search(cat, "tuberculosis", limit=50)
    assert r["results"][0]["code"] == "A15.0" and r["facets"]["icd9cm"] == 40


@pytest.mark.parametrize("small", [10_000, 1])  # the one-statement path and the pooled path
def test_icd9_cannot_crowd_icd10_out_of_the_pool(cat: Catalog, monkeypatch: pytest.MonkeyPatch, small: int) -> None:
    monkeypatch.setattr(engine_mod, "CANDIDATES", 5)
    monkeypatch.setattr(engine_mod, "SMALL", small)
    engine_for(cat)._cache.clear()
    assert first(cat, "tb") == "A15.0"


def test_many_matches_rank_from_the_shortest_descriptors(cat: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = codes(search(cat, "fracture", limit=5))
    monkeypatch.setattr(engine_mod, "SMALL", 1)
    monkeypatch.setattr(engine_mod, "WINDOW_FROM", 2)
    engine_for(cat)._cache.clear()
    windowed = search(cat, "fracture", limit=5)
    assert windowed["total"] == search(cat, "fracture")["total"]  # counts stay exact
    assert codes(windowed)[0] == everything[0] and windowed["parsed"]["relaxed"] is False


def test_rows_are_ordered_shortest_descriptor_first(cat: Catalog) -> None:
    eng = engine_for(cat)
    assert eng.ordered
    titles = dict(cat.conn.execute("SELECT id, title FROM codes WHERE system='icd10pcs'").fetchall())
    lo, hi = eng.ranges["icd10pcs"]  # type: ignore[index]
    lengths = [len(titles[int(eng.doc[r])].split()) for r in range(lo, hi + 1)]
    assert lengths == sorted(lengths)


# -- lexicon defaults ----------------------------------------------------------------
def test_a_lexicon_default_ranks_its_family_first(cat: Catalog) -> None:
    r = search(cat, "heart attack")["results"][0]
    assert r["code"] == "I21.9" and "heart attack = acute myocardial infarction" in r["match"]["lexicon"][0]


def test_cached_matches_answer_the_same(cat: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_mod, "COSTLY", 0)  # remember everything
    engine_for(cat)._cache.clear()
    once = search(cat, "fracture femur", limit=20)
    assert search(cat, "fracture femur", limit=20) == once and engine_for(cat)._cache


def _rescored(rows: list[tuple[str, str, str]], groups: list[Any]) -> list[Any]:
    """Candidates (system, code, descriptor) re-scored for the query groups, in the order given."""
    from medcodes.search import rank

    cands = [rank.Candidate(i, system, code, "code", 1, False, 1.0) for i, (system, code, _) in enumerate(rows, 1)]
    rank.rescore(cands, rank.title_words([rank.title_parts(text) for *_, text in rows]), groups, prefix_last=False)
    return cands


def test_a_body_part_without_sides_is_not_blamed_for_the_side_asked() -> None:
    """ICD-10-PCS names a side only for body parts that have one: for "left carpal tunnel release"
    Release Median Nerve says all it can, as much as Release Left Wrist Joint does."""
    from medcodes.search.lexicon import Group

    carpal_tunnel = Group((("release", "median", "nerve"), ("release", "wrist")), ("carpal", "tunnel", "release"))
    nerve, wrist = _rescored([(PCS, "01N50ZZ", "Release Median Nerve, Open Approach"),
                              (PCS, "0RNP0ZZ", "Release Left Wrist Joint, Open Approach")],
                             [carpal_tunnel, Group((("left",),), ("left",))])
    assert nerve.coverage == wrist.coverage == 1.0


def test_no_side_asked_the_unspecified_side_comes_first() -> None:
    """"ear infection" names no ear: the code of the unspecified ear before the bilateral one, as a
    coder codes what is not documented."""
    from medcodes.search.lexicon import Group

    both, unsaid = _rescored([("icd10cm", "H66.93", "Otitis media, unspecified, bilateral"),
                              ("icd10cm", "H66.90", "Otitis media, unspecified, unspecified ear")],
                             [Group((("ear", "infection"), ("otitis", "media")), ("ear", "infection"))])
    assert unsaid.score > both.score


@pytest.mark.slow
def test_pure_is_the_plain_kind(full_index: Path) -> None:
    """"Pure hypercholesterolemia" is the plain kind, before the familial one: "high cholesterol"."""
    found = search(Catalog(full_index), "high cholesterol", systems=["icd10cm"], limit=3)["results"]
    assert found[0]["code"] == "E78.00", [r["code"] for r in found]


def test_a_kind_word_alone_is_a_quarter_of_an_answer() -> None:
    """"kawasaki disease": the code that says Kawasaki, not the shortest "Disease of spleen", which says
    only the kind of thing asked."""
    from medcodes.search.lexicon import Group

    named, kind = _rescored([("icd10cm", "M30.3", "Mucocutaneous lymph node syndrome [Kawasaki]"),
                             ("icd10cm", "D73.9", "Disease of spleen, unspecified")],
                            [Group((("kawasaki",),), ("kawasaki",)), Group((("disease",),), ("disease",))])
    assert named.coverage > kind.coverage
    assert named.score > kind.score


@pytest.mark.slow
@pytest.mark.parametrize(("q", "system", "prefix"), [
    ("athritis in my knee", "icd10cm", "M17"),  # corrected, "arthritis ... knee" is the term knee arthritis
    ("gallblader removal", "icd10pcs", "0FT4"),
])
def test_a_misspelt_word_of_a_term_is_read_in_the_term(full_index: Path, q: str, system: str, prefix: str) -> None:
    found = search(Catalog(full_index), q, systems=[system], limit=3)
    assert found["results"][0]["code"].startswith(prefix), [r["code"] for r in found["results"]]
    assert found["parsed"]["corrected"], found["parsed"]


@pytest.mark.slow
def test_the_lower_back_is_lumbar(full_index: Path) -> None:
    found = search(Catalog(full_index), "fusing vertebrae in lower back", systems=["icd10pcs"], limit=3)["results"]
    assert found[0]["code"].startswith("0SG0"), [r["code"] for r in found]


@pytest.mark.slow
@pytest.mark.parametrize(("q", "system", "prefix"), [
    # "wisdom teeth" (impacted teeth) is a diagnosis term: in a procedure search its words keep their own
    # meanings, and "teeth" is the tooth of the titles
    ("all four wisdom teeth extracted", "icd10pcs", "0CD"),
    # only a table says four of the five words ("eye" is its body system): the codes that say three compete
    ("cloudy lens replaced left eye", "icd10pcs", "08RK"),
    # a body part with no side cannot say it: the codes that say all but the side are blended in
    ("R gluteal abscess I&D", "icd10pcs", "0J99"),
    ("I&D R palm abscess in OR", "icd10pcs", "0J9J"),
    # the index path ends at L89.15- ("Ulcer, pressure, stage 2, coccyx"): the code under it that it names
    ("stage 2 pressure ulcer on tailbone", "icd10cm", "L89.152"),
])
def test_procedure_words_blends_and_completed_paths(full_index: Path, q: str, system: str, prefix: str) -> None:
    found = search(Catalog(full_index), q, systems=[system], limit=3)["results"]
    assert found[0]["code"].replace(".", "").startswith(prefix.replace(".", "")), [r["code"] for r in found]


@pytest.mark.slow
def test_an_english_word_is_not_corrected_to_its_neighbour(full_index: Path) -> None:
    """"worse" is one letter from "horse", "throbbing" two from "thrombin": words people write are left as
    written, unless the correction makes a term with the words beside it ("whopping cough")."""
    cat = Catalog(full_index)
    memory = search(cat, "my memory is getting worse with age", systems=["icd10cm"], limit=10)
    assert not any("horse" in r["title"].lower() for r in memory["results"]), [r["title"] for r in memory["results"]]
    assert "worse" not in memory["parsed"]["corrected"]
    heel = search(cat, "throbbing heel first steps in morning", systems=["icd10cm"], limit=10)
    assert not any("thrombin" in r["title"].lower() for r in heel["results"])
    cough = search(cat, "whopping cough in baby", systems=["icd10cm"], limit=3)["results"]
    assert cough[0]["code"].startswith("A37"), [r["code"] for r in cough]


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix"), [
    ("cesarean section", "10D00Z"),  # the PCS Index: "Cesarean section" -> table 10D, whose codes no word says
    ("manual removal of placenta", "10D1"),  # "... see Extraction, Products of Conception, Retained"
])
def test_a_pcs_index_path_to_a_table_leads_to_its_codes(full_index: Path, q: str, prefix: str) -> None:
    found = search(Catalog(full_index), q, systems=["icd10pcs"], limit=3)["results"]
    assert found[0]["code"].startswith(prefix), [r["code"] for r in found]
    assert found[0]["kind"] == "code"


@pytest.mark.slow
def test_an_index_path_may_leave_two_words_of_a_sentence_out(full_index: Path) -> None:
    """No path says all but one of "hand foot and mouth blisters from daycare"; the index's "Disease,
    diseased, hand, foot and mouth" says all but two, and its "disease, diseased" (no word asked)
    costs nothing."""
    found = search(Catalog(full_index), "hand foot and mouth blisters from daycare", systems=["icd10cm"],
                   limit=5)["results"]
    assert "B08.4" in [r["code"] for r in found], [r["code"] for r in found]


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix"), [
    # "... without cholangitis or cholecystitis" does not say the cholangitis asked
    ("choledocho c/b cholangitis", "K80.3"),
    ("choledocholithiasis with cholangitis", "K80.3"),
    # and says the esophagitis a query says is not there, where "with esophagitis" does not
    ("reflux no esophagitis", "K21.9"),
    ("gerd without esophagitis", "K21.9"),
])
def test_what_a_descriptor_says_is_not_there(full_index: Path, q: str, prefix: str) -> None:
    found = search(Catalog(full_index), q, systems=["icd10cm"], limit=3)["results"]
    assert found[0]["code"].startswith(prefix), [r["code"] for r in found]


def test_a_without_clause_marks_what_is_not_there() -> None:
    from medcodes.search.rank import ABSENT, title_parts

    parts = title_parts("Laceration without foreign body of left index finger without damage to nail")
    absent = {w for w, f in zip(parts.words, parts.flags, strict=True) if f & ABSENT}
    assert {"foreign", "body", "damage", "nail"} <= absent
    assert not {"left", "index", "finger", "laceration"} & absent  # where it is, and what it is, are there


@pytest.mark.slow
@pytest.mark.parametrize("q", ["inguinal hernia", "R inguinal hernia, reducible"])
def test_a_hernia_with_no_more_said_is_the_unilateral_default(full_index: Path, q: str) -> None:
    """"Unilateral" is a side, said or not like "bilateral"; "not specified as recurrent" is what the code
    does not know: K40.90 (the Index's "Hernia, inguinal") is not behind the bilateral and gangrenous ones."""
    found = search(Catalog(full_index), q, systems=["icd10cm"], limit=4)["results"]
    assert "K40.90" in [r["code"] for r in found], [r["code"] for r in found]


def test_what_a_code_does_not_know_costs_nothing() -> None:
    parts = rank.title_parts("Unilateral inguinal hernia, without obstruction or gangrene, not specified as recurrent")
    kinds = dict(zip(parts.words, (f & rank.KIND for f in parts.flags), strict=True))
    assert kinds["recurrent"] == kinds["specified"] == rank._FREE
    assert kinds["unilateral"] == rank._GENERIC
    assert rank.title_parts("Unilateral inguinal hernia, with gangrene, recurrent").flags[-1] & rank.KIND == rank._EXTRA


@pytest.mark.slow
def test_an_unfinished_last_word_one_letter_from_a_common_word_is_corrected(full_index: Path) -> None:
    """"cancr" begins only "cancrum" (cancrum oris, a few codes) and is one letter from "cancer"."""
    found = search(Catalog(full_index), "pancreatic cancr", systems=["icd10cm"], limit=3)
    assert found["results"][0]["code"].startswith("C25"), [r["code"] for r in found["results"]]
    assert found["parsed"]["corrected"] == {"cancr": "cancer"}


@pytest.mark.slow
def test_the_injury_comes_before_how_it_happened(full_index: Path) -> None:
    """A sprain "from stepping off a curb": the sprain is coded, its cause (W10.1, fall from a curb) after it."""
    found = search(Catalog(full_index), "ankle sprain from stepping off curb", systems=["icd10cm"], limit=3)["results"]
    assert found[0]["code"].startswith("S93.4"), [r["code"] for r in found]


@pytest.mark.slow
@pytest.mark.parametrize(("q", "first"), [
    # a catheter goes in through the skin: the open code only came first by its lower code value
    ("R heart cath", "4A023N6"),
    ("PICC R basilic", "05HB33Z"),
    # "blocked heart arteries" is a diagnosis: in a procedure query its heart artery is still read
    ("stent put in a blocked heart artery", "02703DZ"),
    # a heart cath with a stent put in is the stent's dilation, done through the catheter
    ("heart cath with one stent", "02703DZ"),
])
def test_what_goes_in_through_a_catheter(full_index: Path, q: str, first: str) -> None:
    found = search(Catalog(full_index), q, systems=["icd10pcs"], limit=3)["results"]
    assert found[0]["code"] == first, [r["code"] for r in found]


@pytest.mark.slow
def test_an_open_stent_stays_open(full_index: Path) -> None:
    q = "open stent placement abdominal aorta"
    found = search(Catalog(full_index), q, systems=["icd10pcs"], limit=3)["results"]
    assert found[0]["code"][4] == "0", [r["code"] for r in found]


@pytest.mark.slow
def test_a_terminated_hcpcs_code_comes_after_the_live_one(full_index: Path) -> None:
    """J1040 (methylprednisolone acetate, 80 mg) was terminated in 2024; the file keeps it, not billable.
    Its words say the dose asked, yet the live J1010 (per 1 mg) is what is billed now."""
    found = search(Catalog(full_index), "methylprednisolone acetate 80 mg", systems=["hcpcs"], limit=3)["results"]
    assert found[0]["code"] == "J1010", [r["code"] for r in found]


def test_a_word_that_says_an_injury_puts_its_cause_after_it() -> None:
    """"broke" is a word entry (fracture) with no code of its own: the fall that broke the bone is still
    its cause, coded after it."""
    from medcodes.search.lexicon import Group
    cands = [rank.Candidate(1, "icd10cm", "W06.XXXA", "code", 1, False, 1.0),
             rank.Candidate(2, "icd10cm", "S42.002A", "code", 1, False, 1.0)]
    broke = [Group((("broke",), ("fracture",)), ("broke",)), Group((("bed",),), ("bed",))]
    costs = rank._cause_beside_condition(cands, broke, np.array([0.5, 0.5]))
    assert costs[0] == rank.CAUSE_COST and costs[1] == 0.0
    fell = [Group((("fell",), ("fall",)), ("fell",)), Group((("bed",),), ("bed",))]
    assert not rank._cause_beside_condition(cands, fell, np.array([0.5, 0.5])).any()


@pytest.mark.slow
def test_a_term_said_with_the_words_its_word_entries_rewrite(full_index: Path) -> None:
    """"broke her left collarbone" is the term "broken collarbone" (both read "broke" as fracture), with
    the side; the fall off the bed is its cause."""
    q = "broke her left collarbone falling off the bunk bed"
    found = search(Catalog(full_index), q, systems=["icd10cm"], limit=3)["results"]
    assert found[0]["code"].startswith("S42.0"), [r["code"] for r in found]


@pytest.mark.slow
@pytest.mark.parametrize(("q", "first"), [("took too much tylenol", "T39.1X1A"),
                                          ("my mom took too many of her sleeping pills on purpose", "T42.72XA")])
def test_a_poisoning_of_no_stated_intent_is_accidental(full_index: Path, q: str, first: str) -> None:
    """ICD-10-CM codes a poisoning whose intent is not documented as accidental (guideline I.C.19.e.5.b):
    "accidental" is a default, not a specialisation that costs more than "assault"."""
    found = search(Catalog(full_index), q, systems=["icd10cm"], limit=3)["results"]
    assert found[0]["code"] == first, [r["code"] for r in found]


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix"), [("appendix removed", "0DTJ"), ("tonsils removed", "0CTP"),
                                           ("keyhole surgery to remove gall bladder", "0FT44"),
                                           ("part of my liver removed", "0FB0")])
def test_a_body_part_removed_is_all_of_it_unless_a_part_is_said(full_index: Path, q: str, prefix: str) -> None:
    found = search(Catalog(full_index), q, systems=["icd10pcs"], limit=3)["results"]
    assert found[0]["code"].startswith(prefix), [r["code"] for r in found]


def test_stop_words_between_a_term_said_apart_do_not_count() -> None:
    from medcodes.search import lexicon
    found = lexicon.groups(("ultrasound", "to", "check", "on", "the", "baby"))
    assert any(g.entry is not None and g.words == ("ultrasound", "baby") for g in found), [g.words for g in found]


def test_a_pregnancy_or_newborn_code_costs_where_neither_is_said() -> None:
    from medcodes.search.lexicon import Group
    cands = [rank.Candidate(1, "icd10cm", "O23.10", "code", 1, False, 1.0),
             rank.Candidate(2, "icd10cm", "P59.9", "code", 1, False, 1.0),
             rank.Candidate(3, "icd10cm", "N30.90", "code", 1, False, 1.0)]
    plain = [Group((("infected",), ("infection",)), ("infected",)), Group((("bladder",),), ("bladder",))]
    assert rank._not_asked_of(cands, plain).tolist() == [rank.WHOSE_COST, rank.WHOSE_COST, 0.0]
    pregnant = [*plain, Group((("pregnant",), ("pregnancy",)), ("pregnant",))]
    assert rank._not_asked_of(cands, pregnant).tolist() == [0.0, rank.WHOSE_COST, 0.0]


@pytest.mark.slow
def test_an_infected_bladder_is_cystitis(full_index: Path) -> None:
    """"infected" is the word entry "infection": in another order, the term "bladder infection"."""
    found = search(Catalog(full_index), "infected bladder", systems=["icd10cm"], limit=3)["results"]
    assert found[0]["code"].startswith("N30"), [r["code"] for r in found]


@pytest.mark.slow
def test_one_code_that_says_both_conditions_comes_before_each_ones(full_index: Path) -> None:
    """"AKI 2/2 ATN": N17.0 says both (acute kidney failure with tubular necrosis), so it is not put after
    the best code of each part, as "UTI 2/2 klebsiella" (no code says both) puts N39.0 and B96.1 first."""
    found = search(Catalog(full_index), "AKI 2/2 ATN", systems=["icd10cm"], limit=3)["results"]
    assert found[0]["code"] == "N17.0", [r["code"] for r in found]
    found = search(Catalog(full_index), "UTI 2/2 klebsiella", systems=["icd10cm"], limit=3)["results"]
    assert [r["code"] for r in found[:2]] == ["N39.0", "B96.1"], [r["code"] for r in found]
