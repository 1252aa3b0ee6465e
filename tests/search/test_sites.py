"""A condition's place (sites.py): the body part a procedure on it is coded by."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.index import Catalog
from medcodes.search import engine_for, search
from medcodes.search.lexicon import Group
from medcodes.search.sites import Sites, placed, procedure_query

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full(full_index: Path) -> Catalog:
    return Catalog(full_index)


@pytest.fixture(scope="module")
def places(full: Catalog) -> Sites:
    engine = engine_for(full)
    assert engine.ranges is not None
    return Sites.load(full.conn, engine.ranges["icd10cm"], engine.ranges["icd10pcs"])


@pytest.mark.parametrize(("word", "place"), [
    ("pterygium", "conjunctiva"),  # H11.0-: "Other disorders of conjunctiva"
    ("goiter", "thyroid"),  # E00-E07 "Disorders of thyroid gland"
    ("appendicitis", "appendix"),
    ("phimosis", "prepuce"),
    ("cataract", "lens"),
])
def test_a_condition_is_placed_by_its_categories(full: Catalog, places: Sites, word: str, place: str) -> None:
    assert places.of(full.conn, word, engine_for(full).doc)[:1] == (place,)


@pytest.mark.parametrize("word", ["tear", "laceration", "cyst", "abscess", "kidney"])
def test_no_place_for_a_kind_of_lesion_or_a_word_procedures_say(full: Catalog, places: Sites, word: str) -> None:
    """An injury word is filed by region ("tear": mostly knee menisci); an abscess is anywhere; PCS
    titles say "kidney" themselves."""
    assert places.of(full.conn, word, engine_for(full).doc) == ()


def test_where_within_a_part_is_no_place(full: Catalog, places: Sites) -> None:
    """"constrictive" (pericarditis, ...) is not searched as "external": a word that says where within
    a part names none ("pericardiectomy for constrictive pericarditis" is Resection of Pericardium)."""
    assert "external" not in places.of(full.conn, "constrictive", engine_for(full).doc)
    found = [r["code"] for r in search(full, "pericardiectomy for constrictive pericarditis",
                                       systems=["icd10pcs"], limit=3)["results"]]
    assert found[0].startswith(("02TN", "02BN")), found


def test_only_procedure_queries_are_placed() -> None:
    groups = [Group((("goiter",),), ("goiter",))]
    assert not procedure_query(groups, procedures_only=False)
    assert procedure_query(groups, procedures_only=True)
    assert procedure_query([*groups, Group((("surgery",),), ("surgery",))], procedures_only=False)
    assert placed(groups, lambda w: ("thyroid", "gland"))[0].alternatives == (("goiter",), ("thyroid", "gland"),
                                                                              ("thyroid",))


@pytest.mark.parametrize(("q", "table"), [
    ("pterygium removal", "08B"),  # Excision of Conjunctiva
    ("goiter surgery", "0G"),  # an operation on the thyroid, not its ultrasound
    ("appendicitis surgery", "0D"),
])
def test_a_procedure_named_by_its_condition(full: Catalog, q: str, table: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10pcs"], limit=5)["results"]]
    assert found[0].startswith(table), found


def test_a_diagnosis_query_is_not_placed(full: Catalog) -> None:
    assert search(full, "goiter", limit=3)["results"][0]["code"].startswith("E0")


def test_words_the_index_does_not_know_are_not_remembered(full: Catalog) -> None:
    """Hostile queries send endless new words: only vocabulary words are looked up and remembered."""
    engine = engine_for(full)
    search(full, "zqxwvortu excision", systems=["icd10pcs"])
    search(full, "goiter excision", systems=["icd10pcs"])
    remembered = engine._sites(full.conn).remembered
    assert "zqxwvortu" not in remembered and "goiter" in remembered


def test_a_stop_word_is_no_place(full: Catalog, places: Sites) -> None:
    """"Metal on Polyethylene" made "on" a body-part word; "cloudy" (its only title is a dialysis
    effluent's) was then searched as "on" in every procedure query that said it."""
    assert "on" not in places.anatomy
    assert "on" not in places.of(full.conn, "cloudy", engine_for(full).doc)
