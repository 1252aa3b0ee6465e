"""The Alphabetic Index's main terms read inside longer queries (index_terms.py), the weight of a rare
word (engine._rarity) and the code a term means (rank.rescore)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from medcodes.index import Catalog
from medcodes.search import index_terms, lexicon, search


def _index(terms: list[tuple[str, str, str]], refs: list[tuple[str, str]],
           titles: dict[str, str]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.executescript("""
        CREATE TABLE codes (system TEXT, code TEXT, title TEXT);
        CREATE TABLE terms (system TEXT, code TEXT, term TEXT, source TEXT, path TEXT);
        CREATE TABLE term_refs (system TEXT, term TEXT, path TEXT, kind TEXT, target TEXT, source TEXT);
    """)
    conn.executemany("INSERT INTO codes VALUES ('icd10cm', ?, ?)", titles.items())
    conn.executemany("INSERT INTO terms VALUES ('icd10cm', ?, ?, 'index', ?)", terms)
    conn.executemany("INSERT INTO term_refs VALUES ('icd10cm', ?, ?, 'see', ?, 'index')",
                     [(t, f'["{t}"]', target) for t, target in refs])
    return conn


def test_a_main_term_no_descriptor_says_means_the_words_of_its_code() -> None:
    conn = _index([("H00.019", "Hordeolum (eyelid) (externum) (recurrent)", '["Hordeolum"]'),
                   ("L21.0", "Cradle cap", '["Cradle cap"]'),
                   ("J05.0", "Croup, croupous (catarrhal)", '["Croup, croupous (catarrhal)"]'),
                   ("T14.91", "Suicide, suicidal (attempted)", '["Suicide, suicidal (attempted)"]'),
                   ("N42.31", "PIN", '["PIN"]')],
                  [("Sty, stye (external) (internal)", "Hordeolum"), ("Bladder", "condition")],
                  {"H00.019": "Hordeolum externum unspecified eye, unspecified eyelid", "L21.0": "Seborrhea capitis",
                   "J05.0": "Acute obstructive laryngitis [croup]", "T14.91": "Suicide attempt",
                   "N42.31": "Prostatic intraepithelial neoplasia", "R45.851": "Suicidal ideations"})
    found = index_terms.vocabulary(conn)
    assert found[("sty",)].means == (("hordeolum",),) and found[("stye",)].expect == (("icd10cm", "H00019"),)
    assert found[("cradle", "cap")].means == (("seborrhea", "capitis"),)
    assert index_terms.path_of(found[("cradle", "cap")]) == "Cradle cap"
    # a rare name its own code says: only that code as its default
    assert found[("croup",)].means == (("croup",),) and found[("croup",)].expect == (("icd10cm", "J050"),)
    # a word the descriptors use says what they say ("Suicidal ideations"); an abbreviation is also a word
    # ("pin"); "see condition" leads nowhere
    assert ("suicidal",) not in found and ("pin",) not in found and ("bladder",) not in found


def test_a_main_term_is_read_inside_a_longer_query() -> None:
    entry = lexicon.Entry(("sty",), (("hordeolum",),), "lay", (("icd10cm", "H00019"),), 0)
    got = lexicon.groups(("sty", "on", "upper", "eyelid"), more={("sty",): entry})
    assert got[0].alternatives == (("sty",), ("hordeolum",)) and got[0].entry is entry
    assert lexicon.groups(("sty", "on", "upper", "eyelid"))[0].entry is None


def test_plural_ies_is_the_entrys_singular() -> None:
    assert lexicon.key(("egd", "with", "biopsies")) == lexicon.key(("egd", "with", "biopsy"))
    assert lexicon.key(("abscess",)) == ("abscess",)


@pytest.fixture(scope="module")
def full(full_index: Path) -> Catalog:
    return Catalog(full_index)


@pytest.mark.slow
def test_a_main_term_beside_other_words_finds_its_code(full: Catalog) -> None:
    found = [r["code"] for r in search(full, "sty on upper eyelid", systems=["icd10cm"], limit=4)["results"]]
    assert {"H00.011", "H00.014"} <= set(found[:2]), found  # the upper eyelid's, not the unspecified eyelid's
    top = search(full, "cradle cap on baby", systems=["icd10cm"], limit=1)["results"][0]
    assert top["code"] == "L21.0" and top["match"]["path"] == "Cradle cap"


@pytest.mark.slow
def test_the_rare_word_is_what_was_asked(full: Catalog) -> None:
    """"croup" (J05.0, whose other words define croup) before "cough"; the drug before the dose."""
    assert search(full, "croup cough baby", systems=["icd10cm"], limit=1)["results"][0]["code"] == "J05.0"
    assert search(full, "ceftriaxone 1 gram im", systems=["hcpcs"], limit=1)["results"][0]["code"] == "J0696"


@pytest.mark.slow
def test_biopsies_is_biopsy(full: Catalog) -> None:
    found = search(full, "EGD with biopsies", systems=["icd10pcs"], limit=3)["results"]
    assert found[0]["code"].startswith("0DB") and found[0]["code"].endswith("X"), found


def test_a_dose_is_found_apart_and_the_route_after_it_is_a_route() -> None:
    from medcodes.search.engine import _doses

    groups = [lexicon.Group(((w,),), (w,)) for w in ("naloxone", "0", "4", "mg", "iv")]
    found, dose = _doses(groups)
    assert dose == {1, 2, 3}
    assert ("intravenous",) in found[4].alternatives and ("injection",) in found[4].alternatives
    assert _doses(groups[:1] + groups[4:])[1] == frozenset()  # no dose: "iv" is what it is


def test_a_contraction_is_one_word() -> None:
    from medcodes.search.query import words

    assert words("I can’t pee") == ["i", "cant", "pee"] and words("don't") == ["dont"]


@pytest.mark.slow
def test_the_drug_comes_before_the_dose(full: Catalog) -> None:
    for query, code in (("vancomycin 1 gram", "J3370"), ("ondansetron 4 mg iv", "J2405"),
                        ("naloxone 0.4 mg", "J2310")):
        found = [r["code"] for r in search(full, query, systems=["hcpcs"], limit=3)["results"]]
        assert code in found, (query, found)


@pytest.mark.slow
def test_the_rarest_group_finds_codes_of_its_own(full: Catalog) -> None:
    """No code says necrotizing fasciitis, left and thigh: the many left-thigh codes do not crowd out
    the one that says the rare words."""
    assert search(full, "nec fasc L thigh", systems=["icd10cm"], limit=1)["results"][0]["code"] == "M72.6"


@pytest.mark.slow
def test_a_side_is_no_answer_where_the_condition_has_none(full: Catalog) -> None:
    """N20 has no code for a side: "R ureteral stone" is a stone of the ureter (N20.1), not a right-sided
    endometriosis of it; "nephrolithiasis L" a kidney stone, not a left eyelid."""
    assert search(full, "R ureteral stone", systems=["icd10cm"], limit=1)["results"][0]["code"] == "N20.1"
    assert search(full, "nephrolithiasis L", limit=1)["results"][0]["code"] == "N20.0"


def test_how_long_is_set_apart_unless_the_query_names_whose_weeks() -> None:
    from medcodes.search.engine import _durations

    groups = [lexicon.Group(((w,),), (w,)) for w in ("fever", "3", "days")]
    assert _durations(groups) == {1, 2}
    pregnant = [lexicon.Group(((w,),), (w,)) for w in ("pregnant", "32", "weeks")]
    assert _durations(pregnant) == frozenset()


@pytest.mark.slow
def test_how_long_a_complaint_lasted_is_no_week_of_pregnancy(full: Catalog) -> None:
    assert search(full, "night sweats for weeks", systems=["icd10cm"], limit=1)["results"][0]["code"] == "R61"
    assert search(full, "24 hour stomach virus", systems=["icd10cm"], limit=1)["results"][0]["code"].startswith("A08")
    assert search(full, "pregnant 32 weeks", systems=["icd10cm"], limit=1)["results"][0]["code"] == "Z3A.32"


def test_d_and_c_spelled_out_is_the_same_term() -> None:
    """The shorthand reads "D&C" as "dilation and curettage" before the lexicon: one key for both."""
    assert lexicon.key(("dilation", "and", "curettage", "after", "miscarriage")) == \
        lexicon.key(("d", "and", "c", "after", "miscarriage"))


@pytest.mark.slow
def test_an_index_path_that_says_all_but_one_word(full: Catalog) -> None:
    """No path says "poison oak blisters"; "Poison oak" (Dermatitis, due to, plants) says two of three words,
    which no descriptor does, so it comes before blisters of the hip and thigh."""
    top = search(full, "poison oak blisters", systems=["icd10cm"], limit=1)["results"][0]
    assert top["code"] == "L23.7", top
    # a path that says no more than the descriptor does not move it: fractures, not pathological ones
    found = [r["code"] for r in search(full, "fell and broke hip", systems=["icd10cm"], limit=10)["results"]]
    assert not any(c.startswith("M84") for c in found[:3]), found


@pytest.mark.slow
def test_the_injury_before_its_cause(full: Catalog) -> None:
    """No code says "hip fx after fall": the hip fractures the term means compete although "fracture" is
    too common a word to be among the any-word matches, and the fall (W19, an external cause) comes after."""
    found = [r["code"] for r in search(full, "hip fx after fall", systems=["icd10cm"], limit=20)["results"]]
    first_fracture = next(i for i, c in enumerate(found) if c.startswith("S72"))
    assert first_fracture < 3 and first_fracture < found.index("W19.XXXA"), found


@pytest.mark.slow
def test_who_has_it_qualifies_what_was_asked(full: Catalog) -> None:
    """"baby" is a rarer word than "pertussis" in the code sets; it says who, not what."""
    found = [r["code"] for r in search(full, "pertussis in baby", systems=["icd10cm"], limit=3)["results"]]
    assert any(c.startswith("A37") for c in found), found


@pytest.mark.slow
def test_a_person_at_the_end_is_no_word_being_typed(full: Catalog) -> None:
    """"kid" typed last, after other words, is a child, not the start of "kidney"."""
    assert search(full, "chicken pox in kid", systems=["icd10cm"], limit=1)["results"][0]["code"].startswith("B01")


@pytest.mark.slow
@pytest.mark.parametrize(("q", "prefix"), [("stage iii bladder cancer", "C67"), ("stage ii kidney cancer", "C6")])
def test_a_cancer_stage_qualifies_the_site(full: Catalog, q: str, prefix: str) -> None:
    """ICD-10-CM codes the site, not the stage: not the stages of kidney disease or pressure ulcers."""
    assert search(full, q, systems=["icd10cm"], limit=1)["results"][0]["code"].startswith(prefix)


@pytest.mark.slow
@pytest.mark.parametrize("q", ["gastroscopy for my mum", "gastroscopy for my bro"])
def test_a_relative_at_the_end_is_no_word_being_typed(full: Catalog, q: str) -> None:
    """"mum" last is a mother, not the start of "mumford"; "bro" a brother, not bronchoscopy."""
    assert search(full, q, systems=["icd10pcs"], limit=1)["results"][0]["code"].startswith("0DJ0")


def test_a_size_or_weight_is_found_apart_as_a_dose_is() -> None:
    """"walker wheels 5 inch": "5 inch" qualifies the wheels; it is no 5 mg of a drug."""
    from medcodes.search.engine import _doses

    groups = [lexicon.Group(((w,),), (w,)) for w in ("walker", "wheels", "5", "inch")]
    assert _doses(groups)[1] == {2, 3}


@pytest.mark.slow
def test_a_size_is_no_dose_of_a_drug(full: Catalog) -> None:
    found = [r["code"] for r in search(full, "walker wheels 5 inch", systems=["hcpcs"], limit=3)["results"]]
    assert found[0] == "E0155", found


def test_an_age_is_found_apart_as_a_duration_is() -> None:
    """"fever in 2 month old": the age qualifies the fever; "old" is no word to match on its own."""
    from medcodes.search.engine import _durations

    groups = [lexicon.Group(((w,),), (w,)) for w in ("fever", "2", "month", "old")]
    assert _durations(groups) == {1, 2, 3}


@pytest.mark.slow
def test_a_fever_in_an_infant_is_the_fever(full: Catalog) -> None:
    found = [r["code"] for r in search(full, "fever in 2 month old", systems=["icd10cm"], limit=3)["results"]]
    assert found[0] == "R50.9", found
