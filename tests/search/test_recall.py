"""Search that never comes back empty: partial matches after the filters, the official indexes as
vocabulary, GEMs equivalents of old descriptions, clinician shorthand, brand names and plain words,
CPT codes that policies cite, and bad input.

The index is the small hand-made one of conftest.py plus the codes these behaviours need, with
index terms read from tiny files in the official index layouts (tests/data/search).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medcodes.index import Catalog
from medcodes.model import Code, Record, Reference, Relation, Release, Term
from medcodes.search import search
from medcodes.sources import reader
from tests.web import fixture_store

from ..indexes import SEARCH_RECORDS, build_index

DATA = Path(__file__).resolve().parents[1] / "data" / "search"
GEM = {"approximate": True, "no_map": False, "combination": False, "scenario": 0, "choice_list": 0}

MORE: list[Record] = [
    Code("icd10cm", "O10.019", "Pre-existing essential hypertension complicating pregnancy, unspecified trimester",
         billable=True),
    Code("icd10cm", "O10.919", "Unspecified pre-existing hypertension complicating pregnancy, unspecified trimester",
         billable=True),
    Code("icd10cm", "I15.9", "Secondary hypertension, unspecified", billable=True),
    Code("icd10cm", "I16.9", "Hypertensive crisis, unspecified", billable=True),
    Code("icd10cm", "I27.20", "Pulmonary hypertension, unspecified", billable=True),
    Code("icd10cm", "R62.0", "Delayed milestone in childhood", billable=True),
    Code("icd10cm", "R10.9", "Unspecified abdominal pain", billable=True),
    Code("icd10cm", "R52", "Pain, unspecified", billable=True),
    Code("icd10cm", "T42.6X3", "Poisoning by other antiepileptic and sedative-hypnotic drugs, assault",
         billable=False),
    Code("icd10cm", "T36.2X3", "Poisoning by chloramphenicol group, assault", billable=False),
    Code("icd10cm", "T37.0X3", "Poisoning by sulfonamides, assault", billable=False),
    Code("icd10cm", "Z95.1", "Presence of aortocoronary bypass graft", billable=True),
    Code("icd10cm", "I82.621", "Acute embolism and thrombosis of deep veins of right upper extremity", billable=True),
    Code("icd10cm", "G56.91", "Unspecified mononeuropathy of right upper limb", billable=True),
    Code("icd10cm", "Z96.64", "Presence of artificial hip joint", billable=False),
    Code("icd10cm", "Z96.641", "Presence of right artificial hip joint", billable=True),
    Code("icd10cm", "Z96.642", "Presence of left artificial hip joint", billable=True),
    Code("icd10cm", "Z96.643", "Presence of artificial hip joint, bilateral", billable=True),
    Code("icd10cm", "Z89.51", "Acquired absence of leg below knee", billable=False),
    Code("icd10cm", "Z89.511", "Acquired absence of right leg below knee", billable=True),
    Code("icd10cm", "Z89.512", "Acquired absence of left leg below knee", billable=True),
    Code("icd10cm", "Z86.718", "Personal history of other venous thrombosis and embolism", billable=True),
    Code("icd10cm", "Z79.01", "Long term (current) use of anticoagulants", billable=True),
    Code("icd10cm", "I82.401", "Acute embolism and thrombosis of unspecified deep veins of right lower extremity",
         billable=True),
    Code("icd10cm", "I82.402", "Acute embolism and thrombosis of unspecified deep veins of left lower extremity",
         billable=True),
    Code("icd10cm", "B96.1", "Klebsiella pneumoniae [K. pneumoniae] as the cause of diseases classified elsewhere",
         billable=True),
    Code("icd10cm", "J15.0", "Pneumonia due to Klebsiella pneumoniae", billable=True),
    Code("icd10cm", "E16.A2", "Hypoglycemia level 2", billable=True),
    Code("icd10cm", "N18.31", "Chronic kidney disease, stage 3a", billable=True),
    Code("icd10cm", "N18.32", "Chronic kidney disease, stage 3b", billable=True),
    Code("icd10cm", "N18.4", "Chronic kidney disease, stage 4 (severe)", billable=True),
    Code("icd10pcs", "0SS", "Reposition", kind="table", parent="0S", billable=False),
    Code("icd10pcs", "0SSF04Z", "Reposition Right Ankle Joint with Internal Fixation Device, Open Approach",
         parent="0SS", billable=True),
    Code("icd10pcs", "0SSG04Z", "Reposition Left Ankle Joint with Internal Fixation Device, Open Approach",
         parent="0SS", billable=True),
    Code("icd10pcs", "0H", "Skin and Breast", kind="body_system", parent="0", billable=False),
    Code("icd10pcs", "0HB", "Excision", kind="table", parent="0H", billable=False),
    Code("icd10pcs", "0HBT0ZZ", "Excision of Right Breast, Open Approach", parent="0HB", billable=True),
    Code("icd10pcs", "0HBU0ZZ", "Excision of Left Breast, Open Approach", parent="0HB", billable=True),
    Code("icd10pcs", "0C", "Mouth and Throat", kind="body_system", parent="0", billable=False),
    Code("icd10pcs", "0CB", "Excision", kind="table", parent="0C", billable=False),
    Code("icd10pcs", "0CB00ZZ", "Excision of Upper Lip, Open Approach", parent="0CB", billable=True),
    Code("icd10pcs", "021", "Bypass", kind="table", parent="0", billable=False),
    Code("icd10pcs", "0210093", "Bypass Coronary Artery, One Artery from Coronary Artery with Autologous Venous"
         " Tissue, Open Approach", parent="021", billable=True),
    Code("hcpcs", "J9271", "Injection, pembrolizumab, 1 mg", billable=True),
    Code("hcpcs", "J1200", "Injection, diphenhydramine hcl, up to 50 mg", billable=True),
    Code("hcpcs", "J1644", "Injection, heparin sodium, per 1000 units", billable=True),
    Code("hcpcs", "E0431", "Portable gaseous oxygen system, rental; includes portable container, regulator,"
         " flowmeter, humidifier, cannula or mask, and tubing", billable=True),
    Code("hcpcs", "A4615", "Cannula, nasal", billable=True),
    Code("icd9cm", "401.9", "Unspecified essential hypertension", billable=True),
    Code("icd9cm", "250.02", "Diabetes mellitus without mention of complication, type II or unspecified type,"
         " uncontrolled", billable=True),
    Code("icd9cm", "427.31", "Atrial fibrillation", billable=True),
    Relation("gem", "icd9cm", "250.00", "icd10cm", "E11.9", GEM),
    Relation("gem", "icd9cm", "401.9", "icd10cm", "I10", GEM),
]


def _official_terms() -> list[Record]:
    """Terms of the tiny index files, read by the importers as the real files are."""
    out: list[Record] = []
    for name, file in (("icd10cm", "icd10cm_index_mini.xml"), ("icd10cm", "icd10cm_drug_mini.xml"),
                       ("icd10pcs", "icd10pcs_index_mini.xml")):
        out += [r for r in reader(name)(DATA / file) if isinstance(r, Term | Reference)]
    return out


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    records = [*SEARCH_RECORDS, *MORE, *_official_terms()]
    assert not any(isinstance(r, Release) and r.system == "cpt" for r in records)  # no CPT data loaded
    path = build_index(tmp_path_factory.mktemp("recall") / "index.sqlite", "search", records=records)
    fixture_store.build(path)  # policies that cite CPT codes, beside the index
    return Catalog(path)


def codes(result: dict[str, Any], n: int = 10) -> list[str]:
    return [r["code"] for r in result["results"][:n]]


# -- 1. partial matches after the filters ------------------------------------------------
def test_an_old_description_filtered_to_icd10cm_is_not_empty(cat: Catalog) -> None:
    # every word matches the ICD-9-CM descriptor only: the relaxed match must run within ICD-10-CM
    found = search(cat, "Diabetes mellitus without mention of complication", systems=["icd10cm"])
    assert found["results"], found
    assert "E11.9" in codes(found, 3)
    assert all(r["system"] == "icd10cm" for r in found["results"])


def test_partial_matches_blend_with_few_all_word_ones(cat: Catalog) -> None:
    # O10.019 says all three words; I10 says two and nothing else: I10 first
    found = search(cat, "Essential hypertension, unspecified", systems=["icd10cm"])
    assert codes(found)[0] == "I10"
    assert "O10.019" in codes(found)
    assert found["parsed"]["relaxed"]


@pytest.mark.parametrize("billable", [True, None])
def test_filters_apply_before_relaxing(cat: Catalog, billable: bool | None) -> None:
    found = search(cat, "Diabetes mellitus without mention of complication", systems=["icd10cm"], billable=billable)
    assert found["results"]
    if billable:
        assert all(r["billable"] for r in found["results"])


def test_a_known_word_is_never_empty(cat: Catalog) -> None:
    # "chronic" and "kidney" are known; "glomerulus" is not a word of this index
    found = search(cat, "chronic kidney glomerulus zzzq", systems=["icd10cm"])
    assert found["results"] and found["results"][0]["code"].startswith("N18")


# -- 2. the official indexes -----------------------------------------------------------------
def test_an_alphabetic_index_path_leads_to_its_code(cat: Catalog) -> None:
    found = search(cat, "late walker")
    top = found["results"][0]
    assert top["code"] == "R62.0"
    assert top["match"]["field"] == "index"
    assert top["match"]["path"] == "Late, walker"
    assert top["match"]["index"] == "ICD-10-CM Alphabetic Index"


def test_a_see_reference_leads_to_the_codes_of_its_target(cat: Catalog) -> None:
    top = search(cat, "abdominalgia")["results"][0]
    assert top["code"] == "R10.9"
    assert top["match"]["path"] == "Abdominalgia — see Pain, abdominal"


def test_a_drug_table_path_beats_descriptors_that_share_words(cat: Catalog) -> None:
    found = search(cat, "chloral hydrate poisoning assault", systems=["icd10cm"])
    top = found["results"][0]
    assert top["code"] == "T42.6X3", codes(found)
    assert top["match"]["index"] == "ICD-10-CM Table of Drugs and Chemicals"
    assert top["match"]["path"] == "Chloral, hydrate — poisoning, assault"


def test_lumpectomy_leads_to_breast_excision_not_the_mouth(cat: Catalog) -> None:
    found = codes(search(cat, "lumpectomy"), 3)
    assert found and all(c.startswith("0HB") for c in found), found


def test_pcs_index_path_is_shown(cat: Catalog) -> None:
    found = search(cat, "excision breast right", systems=["icd10pcs"])
    assert found["results"][0]["code"].startswith("0HB")
    paths = [r["match"] for r in found["results"] if r["match"].get("field") == "index"]
    assert any(m["index"] == "ICD-10-PCS Index" and m["path"] == "Excision, Breast, Right" for m in paths), paths


# -- 3. legacy codes -------------------------------------------------------------------------
def test_an_old_description_brings_its_gems_equivalent_labelled(cat: Catalog) -> None:
    found = search(cat, "Unspecified essential hypertension")
    top = found["results"][0]
    assert (top["system"], top["code"]) == ("icd10cm", "I10")
    assert top["match"]["how"] == "gems" and top["match"]["label"] == "GEMs equivalent of ICD-9-CM 401.9"
    assert ("icd9cm", "401.9") in [(r["system"], r["code"]) for r in found["results"][:3]]


def test_gems_equivalents_respect_the_system_filter(cat: Catalog) -> None:
    found = search(cat, "Diabetes mellitus without mention of complication, type II", systems=["icd10cm"])
    assert found["results"][0]["code"] == "E11.9"
    assert found["results"][0]["match"]["how"] == "gems"
    assert all(r["system"] == "icd10cm" for r in found["results"])


def test_a_current_word_brings_no_gems_label(cat: Catalog) -> None:
    found = search(cat, "atrial fibrillation")
    assert all(r["match"].get("how") != "gems" for r in found["results"])


# -- 4. plain names ---------------------------------------------------------------------------
@pytest.mark.parametrize(("q", "code"), [("keytruda", "J9271"), ("benadryl shot", "J1200"),
                                         ("blood thinner shot", "J1644"), ("oxygen tank", "E0431")])
def test_brand_and_plain_names(cat: Catalog, q: str, code: str) -> None:
    assert codes(search(cat, q))[0] == code


@pytest.mark.parametrize("q", ["keytrudda", "keytrooda infusion"])
def test_a_misspelt_brand_is_the_brand(cat: Catalog, q: str) -> None:
    """No code says "keytruda": the lexicon's names are corrections too, or a misspelt brand finds nothing
    or the wrong drug."""
    found = search(cat, q, systems=["hcpcs"])
    assert codes(found)[0] == "J9271", codes(found)[:3]


def test_brand_pairs_name_their_source() -> None:
    from medcodes.search import lexicon

    drugs = lexicon.drug_entries()
    assert len(drugs) >= 50
    assert all(e.origin.startswith("drugs.tsv (FDA label") for e in drugs)
    keytruda = next(e for e in drugs if e.term == ("keytruda",))
    assert ("pembrolizumab",) in keytruda.means and keytruda.expect == (("hcpcs", "J9271"),)


# -- 6. clinician shorthand --------------------------------------------------------------------
def test_status_post_is_the_status_code(cat: Catalog) -> None:
    found = search(cat, "s/p CABG x3")
    assert codes(found)[0] == "Z95.1"
    assert found["results"][0]["match"]["how"] == "status"
    assert found["parsed"]["shorthand"] == "status post CABG three arteries"


@pytest.mark.parametrize(("q", "code"), [("s/p L THA", "Z96.642"), ("s/p R THA", "Z96.641"),
                                         ("s/p b/l THA", "Z96.643"), ("s/p R BKA", "Z89.511"),
                                         ("status post left below knee amputation", "Z89.512"), ("s/p THA", "Z96.64")])
def test_a_status_with_a_side_is_the_sided_code(cat: Catalog, q: str, code: str) -> None:
    """"s/p L THA" found no status at all (status.tsv names THA without a side); the side now picks
    the code under the status code whose title says it."""
    found = search(cat, q)
    assert codes(found)[0] == code, codes(found)[:3]
    assert found["results"][0]["match"]["how"] == "status"


def test_a_limb_is_an_extremity(cat: Catalog) -> None:
    """"DVT RUE" reads "right upper limb", and the DVT codes say "extremity": the limb codes of other
    conditions came first."""
    assert codes(search(cat, "DVT RUE"))[0] == "I82.621"


def test_history_and_long_term_drug(cat: Catalog) -> None:
    assert codes(search(cat, "hx of DVT on eliquis"), 2) == ["Z86.718", "Z79.01"]


@pytest.mark.parametrize("q", ["eliquis", "Xarelto", "taking eliquis"])
def test_a_drug_name_alone_is_its_long_term_use_code(cat: Catalog, q: str) -> None:
    """A brand no code set names: its long-term use code, labelled, not codes whose words look
    alike ("xarelto" was exposure to ignition of clothing, "eliquis" hemiplegia)."""
    found = search(cat, q)
    assert found["results"][0]["code"] == "Z79.01", found["results"][:3]
    assert found["results"][0]["match"]["how"] == "status"


def test_a_drug_name_the_code_sets_know_keeps_its_word_matches(cat: Catalog) -> None:
    assert codes(search(cat, "heparin"))[0] == "J1644"  # "heparin" is a descriptor word: no status first


def test_due_to_is_not_a_level(cat: Catalog) -> None:
    found = codes(search(cat, "UTI 2/2 klebsiella"))
    assert found[:2] == ["N39.0", "B96.1"], found
    assert "E16.A2" not in found[:5]


@pytest.mark.parametrize(("q", "code"), [("DVT LLE", "I82.402"), ("dvt RLE", "I82.401"),
                                         ("ORIF L ankle", "0SSG04Z"), ("orif rt ankle", "0SSF04Z"),
                                         ("CKD 3b", "N18.32"), ("ckd stage IV", "N18.4")])
def test_laterality_and_stages(cat: Catalog, q: str, code: str) -> None:
    assert codes(search(cat, q))[0] == code


def test_a_lone_modifier_stays_a_code(cat: Catalog) -> None:
    assert search(cat, "LT")["results"][0]["code"] == "LT"


# -- 7. CPT codes that policies cite -----------------------------------------------------------
def test_a_cited_cpt_code_is_found_instead_of_did_you_mean(cat: Catalog) -> None:
    found = search(cat, "63685")
    top = found["results"][0]
    assert (top["system"], top["code"]) == ("cpt", "63685")
    assert top["match"]["how"] == "cited" and "1 loaded policy" in top["match"]["label"]
    assert found["did_you_mean"] is None and found["total"] >= 1


def test_an_uncited_cpt_shaped_code_finds_nothing_made_up(cat: Catalog) -> None:
    found = search(cat, "99999")
    assert all(r["system"] != "cpt" for r in found["results"])


def test_an_uncited_cpt_code_says_where_cpt_comes_from(cat: Catalog) -> None:
    """"22214" with no CPT data loaded and no policy citing it: "did you mean 222.1" alone (an ICD-9
    code that shares its first digits) told a biller nothing; the answer says CPT is licensed and how
    to load it."""
    found = search(cat, "22214")
    assert found["notice"] is not None and "22214 has the shape of a CPT code" in found["notice"]
    assert "--source cpt=" in found["notice"]
    assert search(cat, "63685")["notice"] is None  # cited: its page is the answer
    assert search(cat, "22214", systems=["icd10cm"])["notice"] is None  # CPT filtered out
    assert search(cat, "E11.9")["notice"] is None and search(cat, "heart attack")["notice"] is None


def test_no_cpt_notice_where_cpt_is_loaded(tmp_path: Path) -> None:
    loaded = Catalog(build_index(tmp_path / "web.sqlite", "web"))  # holds an (invented) CPT release
    assert search(loaded, "22214")["notice"] is None


def test_a_system_filter_leaves_cited_cpt_out(cat: Catalog) -> None:
    assert all(r["system"] != "cpt" for r in search(cat, "63685", systems=["icd10cm"])["results"])


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("q", [
    "x" * 10_000, "heart " * 2_000, 'fracture" OR NEAR(a b) * ^title: -"x', "\x00\x00 diabetes\x00",
    "diab\u0000etes", "\U0001F600 heart attack \u202e\u200b", "ｈｅａｒｔ　ａｔｔａｃｋ", "s/p " * 500,
    "AND OR NOT", "title:E11 {title short}: x", "''''''\"\"\"", "\ud800", "2/2 " * 300, "w/ w/o r/o",
])
def test_bad_input_gets_an_answer(cat: Catalog, q: str) -> None:
    found = search(cat, q)
    assert isinstance(found["results"], list) and found["total"] >= 0


# -- the search page and the API say how a result was found ----------------------------------
@pytest.fixture(scope="module")
def client(cat: Catalog) -> Iterator[Any]:
    from medcodes.web.app import create_app
    from tests.web.conftest import TestClient

    with TestClient(create_app(cat.path, store=cat.store_path), follow_redirects=False) as c:
        yield c


def test_the_page_shows_the_index_path_and_the_gems_label(client: Any) -> None:
    html = client.get("/search", params={"q": "late walker"}).text
    assert "found through the ICD-10-CM Alphabetic Index" in html and "<mark>Late</mark>, <mark>walker</mark>" in html
    html = client.get("/search", params={"q": "Unspecified essential hypertension"}).text
    assert "GEMs equivalent of ICD-9-CM 401.9" in html
    html = client.get("/search", params={"q": "63685"}).text
    assert "/codes/cpt/63685" in html and "cited by 1 loaded policy" in html and "Did you mean" not in html
    html = client.get("/search", params={"q": "22214"}).text
    assert 'class="notice"' in html and "22214 has the shape of a CPT code" in html


@pytest.mark.parametrize("q", ["x" * 10_000, "a\x00b", 'NEAR("a" "b")', "\U0001F600\u202e"])
def test_bad_input_is_never_a_500(client: Any, q: str) -> None:
    for url in ("/search", "/api/v1/search"):
        r = client.get(url, params={"q": q})
        assert r.status_code in (200, 400), (url, r.status_code)


def test_a_word_only_other_systems_know_does_not_hide_one_the_filter_knows(cat: Catalog,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # "mention" and "uncontrolled" are ICD-9-CM words and the rarest; the any-word match keeps only the
    # rarest (a budget of one match here); "complications" is an ICD-10-CM word all the same
    from medcodes.search import engine

    monkeypatch.setattr(engine, "ANY_WORD_BUDGET", 1)
    found = search(cat, "mention uncontrolled complications", systems=["icd10cm"])
    assert found["results"] and all(r["system"] == "icd10cm" for r in found["results"])
    assert {r["code"] for r in found["results"]} & {"E10.9", "E11.9"}


def test_a_scale_and_its_value_are_one_group() -> None:
    from medcodes.search import lexicon
    from medcodes.search.engine import _scaled

    found = _scaled(lexicon.groups(("insulin", "pump", "for", "type", "1", "diabetes")))
    assert ("type", "1") in [g.words for g in found]
    assert ("1",) not in [g.words for g in found]
    assert [g.words for g in _scaled(lexicon.groups(("type", "of", "pump")))][0] == ("type",)
