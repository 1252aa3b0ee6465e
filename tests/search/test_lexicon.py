"""The lexicon file: well-formed entries, and (slow, on the full index) each entry finds its code."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes import systems
from medcodes.index import Catalog
from medcodes.search import lexicon, search


def test_every_line_parses_and_terms_are_unique() -> None:
    entries = lexicon.entries()
    assert len(entries) >= 250
    keys = [lexicon.key(e.term) for e in entries]
    assert len(keys) == len(set(keys)), "a term is listed twice"
    for e in entries:
        assert e.kind in ("abbr", "lay", "term", "word")
        assert e.kind == "word" or e.expect, f"line {e.line}: {e.term} names no expected code"
        for system, _code in (*e.expect, *((p, "") for p in e.prefer)):
            assert system in systems.SYSTEMS, f"line {e.line}: unknown system {system}"


@pytest.mark.parametrize("line", ["mi\tmyocardial infarction", "x\t\tabbr", "mi\tx\tnoun", "mi\tx\tabbr\tI21"])
def test_bad_lines_are_refused(line: str) -> None:
    with pytest.raises(ValueError):
        lexicon.parse_line(line, 1)


def test_no_term_is_a_lone_letter_once_stop_words_go() -> None:
    # "i and d" would be looked up as "d": "vitamin d" would mean incision and drainage
    assert not [e.term for e in lexicon.entries() if len(lexicon.key(e.term)) == 1 and len(lexicon.key(e.term)[0]) == 1]


def test_groups_rewrite_the_longest_phrase() -> None:
    gs = lexicon.groups(("broken", "wrist", "and", "chf"))
    assert [g.words for g in gs] == [("broken", "wrist"), ("and",), ("chf",)]
    assert ("fracture", "wrist") in gs[0].alternatives and gs[0].alternatives[0] == ("broken", "wrist")
    assert lexicon.groups(("ringing", "in", "my", "ear"))[0].entry is not None  # stop words, plurals
    assert lexicon.groups(("heart", "att"), partial=True)[0].entry.term == ("heart", "attack")


def test_a_word_being_typed_completes_to_the_term_most_people_mean() -> None:
    """"hypert" is hypertension (I10), though hyperthyroid's meaning is longer; "trach" is a
    tracheostomy before the word rewrite "trachea"."""
    group = lexicon.groups(("hypert",), partial=True)[0]
    assert group.entry is not None and group.entry.term == ("hypertension",)
    assert not any("thyrotoxicosis" in alt for alt in group.alternatives)
    assert lexicon.completions(("trach",))[0].term == ("tracheostomy",)


def test_a_phrase_with_other_endings_finds_its_entry() -> None:
    """"leaking urine when I cough": the entry says "when coughing"."""
    group = lexicon.groups(("leaking", "urine", "when", "i", "cough"))[0]
    assert group.entry is not None and group.entry.term == ("leaking", "urine", "when", "coughing")
    assert lexicon.groups(("cough",))[0].entry is None or lexicon.groups(("cough",))[0].entry.term == ("cough",)


def test_a_phrase_says_an_abbreviated_word_as_its_entry_does() -> None:
    """"hip fx" is the entry "hip fracture"; "fracture" alone is no abbreviation's entry (an old
    description's words stay plain words, for the GEMs)."""
    group = lexicon.groups(("hip", "fx"))[0]
    assert group.entry is not None and group.entry.term == ("hip", "fracture")
    assert lexicon.groups(("fracture",))[0].entry is None
    assert lexicon.groups(("hernia", "operation"))[0].entry.term == ("hernia", "surgery")


def test_a_phrase_said_in_another_order_finds_its_entry() -> None:
    """"repair of the hernia" is the entry "hernia repair"; not where a later word says what the last
    word is of ("stent in the kidney artery" is no "kidney stent")."""
    group = lexicon.groups(("repair", "of", "the", "hernia"))[0]
    assert group.entry is not None and group.entry.term == ("hernia", "repair")
    assert lexicon.groups(("removal", "of", "the", "gallbladder"))[0].entry.term == ("gallbladder", "removal")
    first = lexicon.groups(("stent", "in", "the", "kidney", "artery"))[0]
    assert first.entry is None or first.entry.term != ("kidney", "stent")


def test_a_side_inside_a_term_is_read_beside_it() -> None:
    """"ORIF left elbow" is the entry "ORIF elbow" and the side, left."""
    found = lexicon.groups(("orif", "left", "elbow"))
    assert found[0].entry is not None and found[0].entry.term == ("orif", "elbow")
    assert [g.words for g in found] == [("orif", "elbow"), ("left",)]


def test_the_words_a_complaint_is_stressed_with_say_nothing() -> None:
    """"passing a lot of gas" is the entry "passing gas"; "pee a lot" stays an entry of its own, not
    the word "pee"; "really" and "feels like" are not searched."""
    assert lexicon.key(("passing", "a", "lot", "of", "gas")) == lexicon.key(("passing", "gas"))
    assert lexicon.key(("pee", "a", "lot")) != lexicon.key(("pee",))
    assert lexicon.key(("really", "dry", "skin")) == ("dry", "skin")
    assert lexicon.key(("feels", "like", "a", "lump")) == ("lump",)
    assert lexicon.key(("epidural", "while", "in", "labor")) == lexicon.key(("epidural", "in", "labor"))


def test_a_contraction_and_the_past_of_is_say_what_the_term_says() -> None:
    """"my thyroid isnt making enough" is the entry "thyroid not making enough"; "was knocked out" is
    "knocked out"; "since" says when it began, as "after" does."""
    assert lexicon.key(("thyroid", "isnt", "making", "enough")) == \
        lexicon.key(("thyroid", "not", "making", "enough"))
    assert lexicon.key(("was", "knocked", "out")) == lexicon.key(("knocked", "out"))
    assert lexicon.key(("headache", "since", "hitting", "head")) == \
        lexicon.key(("headache", "after", "hitting", "head"))


@pytest.mark.slow
def test_a_common_word_is_no_eponym(full: Catalog) -> None:
    """"down" in "pain down my leg" is a direction, not Down syndrome (a term "downs" would be looked up as
    "down": the plural s goes)."""
    found = [r["code"] for r in search(full, "sciatica pain down my leg", systems=["icd10cm"])["results"]]
    assert not any(c.startswith("Q90") for c in found), found


@pytest.mark.slow
def test_a_stressed_complaint_finds_its_code(full: Catalog) -> None:
    assert search(full, "really dry skin", systems=["icd10cm"], limit=3)["results"][0]["code"] == "L85.3"


@pytest.fixture(scope="module")
def full(full_index: Path) -> Catalog:
    return Catalog(full_index)


@pytest.mark.slow
def test_a_known_last_word_is_not_completed_after_other_words(full: Catalog) -> None:
    """"breast lump" typed without a space after it is a lump, not "breast lumpectomy" on the way:
    the lump codes, not excisions of the breast, come first."""
    found = [r["code"] for r in search(full, "breast lump", limit=5)["results"]]
    assert found[0].startswith("N63"), found


@pytest.mark.slow
@pytest.mark.parametrize("entry", [e for e in lexicon.entries() if e.expect], ids=lambda e: " ".join(e.term))
def test_entry_finds_its_code(full: Catalog, entry: lexicon.Entry) -> None:
    loaded = set(full.counts())
    wanted = [(s, systems.compact(c)) for s, c in entry.expect if s in loaded]
    if not wanted:
        pytest.skip("the expected system is not in this index")
    got = [(r["system"], systems.compact(r["code"])) for r in search(full, " ".join(entry.term))["results"]]
    assert any(s == ws and c.startswith(wc) for s, c in got for ws, wc in wanted), got


@pytest.mark.slow
@pytest.mark.parametrize(("q", "wanted", "want"), [
    ("T&A", None, ("0CTP", "0CTQ")),  # one token of shorthand: read, not split into letters
    ("D&C", None, ("0UDB",)),
    ("ovarian cyst removal", ["icd10pcs"], ("0UB0", "0UB1", "0UB2")),  # ovarian -> ovary, as the tables say
    ("lymph node removal from armpit", ["icd10pcs"], ("07B5", "07B6", "07T5", "07T6")),
    ("draining an abscess on the leg", ["icd10pcs"], ("0J9L", "0J9M")),  # a verb: the root operation it names
    ("widening a narrowed esophagus", ["icd10pcs"], ("0D75",)),
    ("tore the cartilage in my knee meniscus", ["icd10cm"], ("S832",)),  # an irregular verb: tore is tear
    ("L hip aspiration", ["icd10pcs"], ("0S9B",)),  # aspiration is drainage
    ("insulin pump for type 1 diabetes", ["hcpcs"], ("E0784",)),  # "type 1" is one thing, not a "1 mg" dose
    ("R 5th MT fx", ["icd10cm"], ("S9235",)),  # ICD-10-CM spells ordinals out: fifth metatarsal
    ("PAD w/ claudication RLE", ["icd10cm"], ("I70211",)),  # the right lower limb is also the right leg
    ("repair retinal tear", ["icd10pcs"], ("08QE", "08QF")),  # a diagnosis term, read word by word: the retina
    ("nerve pain after shingles", ["icd10cm"], ("B022",)),  # after shingles: postherpetic
    ("depression after having a baby", ["icd10cm"], ("F530",)),  # after a baby: postpartum
    ("thyroid problems", ["icd10cm"], ("E079",)),  # a problem is a disorder
    ("R femur IM nail", ["icd10pcs"], ("0QS8",)),  # the femur is also its shaft, as the tables name it
    ("ORIF distal femur", ["icd10pcs"], ("0QSB", "0QSC")),  # distal: the tables' lower femur
    ("ERCP w/ CBD stone extraction", ["icd10pcs"], ("0FC98",)),  # the common bile duct, through the scope
])
def test_lay_and_shorthand_words_reach_the_table_words(full: Catalog, q: str, wanted: list[str] | None,
                                                       want: tuple[str, ...]) -> None:
    got = [systems.compact(r["code"]) for r in search(full, q, systems=wanted)["results"]]
    assert any(c.startswith(w) for c in got for w in want), got


def test_fix_is_repair_in_a_phrase() -> None:
    assert lexicon.key(("umbilical", "hernia", "fix")) == lexicon.key(("umbilical", "hernia", "repair"))


def test_a_side_inside_a_term_said_in_another_order() -> None:
    """"fx L hip" is the entry "hip fx", and the side after it."""
    first, side = lexicon.groups(("fx", "l", "hip"))[:2]
    assert first.entry is not None and set(first.words) == {"fx", "hip"} and side.words == ("l",)


def test_whose_it_is_inside_a_phrase() -> None:
    assert lexicon.key(("fluid", "in", "her", "lungs")) == lexicon.key(("fluid", "in", "lungs"))


def test_one_word_inside_a_term() -> None:
    """"perc dilational trach" is the term "perc trach" and the word "dilational"; a word of another
    term stays where it is ("depo provera shot" is no "depo shot")."""
    groups = lexicon.groups(("perc", "dilational", "trach"))
    assert groups[0].entry is not None and groups[0].words == ("perc", "trach") and groups[1].words == ("dilational",)
    first = lexicon.groups(("depo", "provera", "shot"))[0]
    assert first.entry is not None and first.words[:2] == ("depo", "provera")


@pytest.mark.slow
def test_a_word_being_typed_keeps_its_commonest_completion(full: Catalog) -> None:
    """"pneum" is pneumonia on the way (J18.9): an entry for an operation that starts the same
    ("pneumonectomy", which the ICD-10-PCS Index already gives) must not take the prefix."""
    assert search(full, "pneum", limit=1)["results"][0]["code"] == "J18.9"


def test_a_letter_naming_a_kind_is_no_article() -> None:
    """"flu a" is influenza A, not "flu" with an article; "influenza a" no longer stands for "influenza"."""
    assert lexicon.key(("flu", "a")) == ("flu", "a") and lexicon.key(("influenza", "a")) != ("influenza",)
    assert lexicon.key(("have", "a", "cold")) == ("have", "cold")
    assert [g.entry.term for g in lexicon.groups(("flu", "a")) if g.entry] == [("flu", "a")]


def test_a_word_inside_a_term_keeps_its_own_meaning() -> None:
    """"earwax plugging both ears": the term, then "both", still bilateral; "both" is a side inside a term."""
    found = lexicon.groups(("resurfacing", "of", "both", "knees"))
    assert found[0].entry is not None and found[0].entry.term == ("knee", "resurfacing")
    assert ("bilateral",) in found[1].alternatives


@pytest.mark.slow
def test_both_inside_a_term_is_bilateral(full: Catalog) -> None:
    found = search(full, "earwax plugging both ears", systems=["icd10cm"], limit=3)["results"]
    assert found[0]["code"] == "H61.23", [r["code"] for r in found]


def test_words_that_only_stress_a_phrase_are_left_out_of_it() -> None:
    """"potassium too low" is the entry "low potassium", "scope of colon just to look" the phrase
    without "just"; alone, such a word stays (the entry "pee a lot")."""
    said = ("scope", "of", "colon", "just", "to", "look")
    assert lexicon.key(said) == lexicon.key(tuple(w for w in said if w != "just"))
    assert lexicon.key(("potassium", "too", "low")) == lexicon.key(("potassium", "low"))
    assert lexicon.key(("pee", "a", "lot")) == ("pee", "lot")


def test_a_two_word_term_said_apart_is_read_as_the_term() -> None:
    """"shoulder stiff and frozen" says the frozen shoulder with a word between; "PTCA RCA, no stent"
    says no stent, and is no "PTCA with stent"."""
    apart = lexicon.groups(("shoulder", "stiff", "and", "frozen"))
    term = next(g for g in apart if g.entry is not None and len(g.words) == 2)
    assert term.words == ("shoulder", "frozen") and ("adhesive", "capsulitis") in term.alternatives
    assert [g.words for g in apart if g is not term] == [("stiff",), ("and",)]
    assert all(len(g.words) == 1 for g in lexicon.groups(("ptca", "rca", "no", "stent")))


def test_a_phrase_says_a_word_as_its_word_entry_rewrites_it() -> None:
    """"blood in my pee" is the entry "blood in urine"; "stomach bypass" the entry "gastric bypass".
    A word an entry gives two meanings ("sx": surgery or symptoms) is not rewritten inside a phrase."""
    assert lexicon.entry_for(("blood", "in", "pee")) is None
    held = lexicon.groups(("blood", "in", "my", "pee"))
    assert len(held) == 1 and held[0].entry is not None and held[0].entry.term == ("blood", "in", "urine")
    bypass = lexicon.groups(("stomach", "bypass"))
    assert len(bypass) == 1 and bypass[0].entry is not None and bypass[0].entry.term == ("gastric", "bypass")
    assert [g.words for g in lexicon.groups(("bph", "sx"))] == [("bph",), ("sx",)]  # not "BPH surgery"


def test_two_things_joined_by_and_are_no_term_said_in_another_order() -> None:
    """"pregnant and can't keep anything down" is no "can't get pregnant"; the "and" of a term
    ("abscess incision and drainage") still finds the term said in another order."""
    read = lexicon.groups(("pregnant", "and", "cant", "keep", "anything", "down"))
    assert all(g.entry is None or g.entry.term != ("cant", "get", "pregnant") for g in read)
    drained = lexicon.groups(("abscess", "incision", "and", "drainage"))
    assert len(drained) == 1 and drained[0].entry is not None


def test_a_term_of_two_words_and_a_stop_word_said_apart() -> None:
    """"sunburn that blistered" is the entry "blistered sunburn", though the bag of its words also
    names "sunburn with blisters", a term of three words and two that count."""
    read = lexicon.groups(("bad", "sunburn", "that", "blistered"))
    assert any(g.entry is not None and ("icd10cm", "L55.1") in g.entry.expect for g in read)


@pytest.mark.slow
@pytest.mark.parametrize(("q", "wanted", "want"), [
    ("R IH, reducible", "icd10cm", "K4090"),  # reducible: without obstruction or gangrene
    ("perf appy", "icd10cm", "K352"),
    ("amniocentisis to check for chromosome problems", "icd10pcs", "10903ZU"),  # a misspelt lexicon term
    ("CTH w/o contrast", "icd10pcs", "B020ZZZ"),  # a head CT is the brain's in the tables
    ("upper bleph b/l", "icd10pcs", "08BN"),
    ("DDKT", "icd10pcs", "0TY00Z0"),
])
def test_note_words_and_a_misspelt_term(full: Catalog, q: str, wanted: str, want: str) -> None:
    got = [systems.compact(r["code"]) for r in search(full, q, systems=[wanted], limit=3)["results"]]
    assert got[0].startswith(want), got


def test_a_term_refused_whole_is_read_by_the_terms_inside_it() -> None:
    found = lexicon.within(("blocked", "heart", "artery"), lambda e: e.term != ("blocked", "heart", "arteries"))
    assert [g.words for g in found] == [("blocked",), ("heart", "artery")]
    assert ("coronary", "artery") in found[1].alternatives


def test_a_term_is_found_as_its_word_entries_rewrite_it() -> None:
    found = lexicon.groups(("broke", "her", "collarbone"))
    assert found[0].entry is not None and found[0].entry.term == ("broken", "collarbone")


def test_a_word_ending_in_s_that_is_no_plural_is_no_abbreviation() -> None:
    """"does" is no plural of DOE (dyspnea on exertion), "this" none of "thi"."""
    assert all(g.entry is None for g in lexicon.groups(("he", "does", "dialysis")) if g.words == ("does",))
    assert lexicon.key(("does",)) == ("does",) and lexicon.key(("tubes",)) == ("tube",)
