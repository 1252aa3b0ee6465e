"""Words typed apart or cut short: a word cut short inside a query also stands for the words it
starts; two words the code sets write as one are also that word."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.index import Catalog
from medcodes.search import engine_for, search

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full(full_index: Path) -> Catalog:
    return Catalog(full_index)


@pytest.mark.parametrize(("q", "code"), [
    ("hepatic enceph", "K76.82"),  # "enceph" is only an ICD-9 short-title word
    ("rhabdo 2/2 fall", "M62.82"),  # "rhabdo" is no word at all
])
def test_a_truncated_word_inside_a_query(full: Catalog, q: str, code: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10cm"], limit=5)["results"]]
    assert found[0] == code, found


@pytest.mark.parametrize(("q", "system", "code"), [
    ("tail bone pain", "icd10cm", "M53.3"),  # "tailbone", the coccyx: coccygodynia
    ("chin strap for my cpap", "hcpcs", "A7036"),  # "Chinstrap used with positive airway pressure device"
])
def test_two_words_the_code_sets_write_as_one(full: Catalog, q: str, system: str, code: str) -> None:
    found = [r["code"] for r in search(full, q, systems=[system], limit=5)["results"]]
    assert code in found[:3], found


@pytest.mark.parametrize(("q", "code"), [
    ("lowback pain", "M54.5"),  # "low back", as "Low back pain" says it
    ("bloodclot in lung", "I26"),
])
def test_two_words_typed_as_one(full: Catalog, q: str, code: str) -> None:
    found = search(full, q, systems=["icd10cm"], limit=3)
    assert found["results"][0]["code"].startswith(code), found["results"]


def test_a_word_the_lexicon_spells_is_not_split(full: Catalog) -> None:
    engine = engine_for(full)
    assert engine._split_run_together(full.conn, ("numbing", "denver", "kneepain"), False) == {
        "kneepain": ("knee", "pain")}
    # a prefix is no word, even where a descriptor says it beside the rest ("anti-infective")
    assert engine._split_run_together(full.conn, ("antiinfective", "transcolon"), False) == {}


@pytest.mark.parametrize(("q", "code"), [("solumedrol", "J2930"), ("depoprovera shot", "J1050")])
def test_a_two_word_name_typed_as_one(full: Catalog, q: str, code: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["hcpcs"], limit=3)["results"]]
    assert code in found, found


def test_a_dose_is_searched_with_its_drug_not_inside_a_code_family(full: Catalog) -> None:
    """"125" is MS-DRG 125 too: the words are not looked for inside its family, and no DRG comes first."""
    found = [(r["system"], r["code"]) for r in search(full, "methylprednisolone 125 mg", limit=5)["results"]]
    assert ("hcpcs", "J2930") in found and found[0][0] == "hcpcs", found
