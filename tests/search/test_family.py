"""Family history codes for the condition a relative had (family.py, family.tsv), and pregnancy codes for a
condition in a pregnancy (pregnancy.tsv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.index import Catalog
from medcodes.search import family, search


@pytest.mark.parametrize("condition, code", [
    ("C18.9", "Z80.0"),  # colon cancer: digestive organs
    ("C34.90", "Z80.1"), ("C50.911", "Z80.3"), ("C57.00", "Z80.44"), ("C61", "Z80.42"), ("C92.10", "Z80.6"),
    ("I21.9", "Z82.49"), ("I25.10", "Z82.49"), ("I63.9", "Z82.3"), ("I46.9", "Z82.41"),
    ("E11.9", "Z83.3"), ("E78.01", "Z83.42"), ("E78.5", "Z83.438"), ("E03.9", "Z83.49"),
    ("H40.9", "Z83.511"), ("H25.9", "Z83.518"), ("H90.3", "Z82.2"), ("J45.909", "Z82.5"), ("J18.9", "Z83.6"),
    ("M17.11", "Z82.61"), ("M81.0", "Z82.62"), ("N18.30", "Z84.19"), ("N40.0", "Z84.2"), ("Q61.3", "Z82.71"),
    ("F10.20", "Z81.1"), ("F32.9", "Z81.8"), ("G40.909", "Z82.0"), ("K63.5", "Z83.719"), ("D12.6", "Z83.719"),
])
def test_the_narrowest_block_gives_the_code(condition: str, code: str) -> None:
    rule = family.code_for(condition)
    assert rule is not None and rule.code == code


def test_no_family_history_code_for_an_injury() -> None:
    assert family.code_for("S72.001A") is None


def test_the_condition_is_read_from_the_spelled_out_query() -> None:
    assert family.condition(" family history of colon cancer") == "colon cancer"
    assert family.condition("family history of MI and on eliquis") == "MI"
    assert family.condition("history of colon cancer") is None


@pytest.fixture(scope="module")
def full(full_index: Path) -> Catalog:
    return Catalog(full_index)


@pytest.mark.slow
@pytest.mark.parametrize("table", [family.FAMILY, family.PREGNANCY, family.CANCER_HISTORY])
def test_every_family_code_is_the_official_one(full: Catalog, table: str) -> None:
    for rule in family.rules(table):
        row = full.conn.execute("SELECT title FROM codes WHERE system='icd10cm' AND code=?", (rule.code,)).fetchone()
        assert row is not None and row[0] == rule.title, f"{table}: {rule.code} is {row!r}, not {rule.title!r}"


@pytest.mark.slow
@pytest.mark.parametrize("q, code", [
    ("FHx colon ca", "Z80.0"),  # the family history titles say "digestive organs", not colon
    ("FHx CAD", "Z82.49"),
    ("family history of heart attack", "Z82.49"),
    ("FH of DM2", "Z83.3"),
])
def test_family_history_of_a_condition_comes_first(full: Catalog, q: str, code: str) -> None:
    found = search(full, q, systems=["icd10cm"], limit=5)["results"]
    assert found[0]["code"] == code, [r["code"] for r in found]


@pytest.mark.slow
def test_history_without_family_is_the_patients_own(full: Catalog) -> None:
    """The words of "hx of kidney cancer" fit a relative's history (Z80.51) as well as the patient's
    (Z85.528); a note says "FHx" when it means a relative."""
    found = [r["code"] for r in search(full, "hx of kidney cancer", systems=["icd10cm"], limit=5)["results"]]
    assert found[0].startswith("Z85.52"), found


@pytest.mark.parametrize("condition, code", [
    ("J45.909", "O99.51"), ("F32.A", "O99.34"), ("F17.210", "O99.33"), ("E03.9", "O99.28"), ("E66.9", "O99.21"),
    ("E11.9", "O24.11"), ("G43.909", "O99.35"), ("B37.9", "O98.81"), ("B20", "O98.71"), ("N39.0", "O23.4"),
    ("D64.9", "O99.01"), ("C50.911", "O9A.11")])
def test_a_condition_in_pregnancy_by_its_block(condition: str, code: str) -> None:
    rule = family.code_for(condition, family.PREGNANCY)
    assert rule is not None and rule.code == code


def test_the_condition_of_a_pregnancy_is_read() -> None:
    assert family.in_pregnancy("asthma while pregnant") == "asthma"
    assert family.in_pregnancy("pregnant with hypothyroidism") == "hypothyroidism"
    assert family.in_pregnancy("pregnancy test") is None
    assert family.in_pregnancy("asthma") is None


@pytest.mark.slow
@pytest.mark.parametrize("q, code", [
    ("asthma while pregnant", "O99.51"), ("depression during pregnancy", "O99.34"),
    ("pregnant with hypothyroidism", "O99.28"), ("migraines while pregnant", "O99.35")])
def test_a_condition_in_pregnancy_comes_first(full: Catalog, q: str, code: str) -> None:
    """The pregnancy code of the condition's chapter, or its code for an unspecified trimester."""
    found = search(full, q, systems=["icd10cm"], limit=5)["results"]
    assert found[0]["code"].startswith(code), [r["code"] for r in found]


@pytest.mark.slow
@pytest.mark.parametrize("q, prefix", [("bleeding while pregnant", "O20"), ("uti while pregnant", "O23.4"),
                                       ("pregnant", "Z33")])
def test_a_pregnancy_the_titles_name_keeps_their_code(full: Catalog, q: str, prefix: str) -> None:
    """A condition the obstetric titles say with the pregnancy is theirs; "pregnant" alone is no pregnancy test."""
    found = search(full, q, systems=["icd10cm"], limit=5)["results"]
    assert found[0]["code"].startswith(prefix), [r["code"] for r in found]


@pytest.mark.parametrize("cancer, code", [
    ("C18.7", "Z85.038"), ("C20", "Z85.048"), ("C7A.026", "Z85.040"), ("C50.912", "Z85.3"), ("C01", "Z85.810"),
    ("C57.00", "Z85.4A"), ("C63.00", "Z85.48"), ("C83.30", "Z85.72"), ("D05.10", "Z86.000"),
])
def test_a_cancer_had_is_the_history_code_of_its_category(cancer: str, code: str) -> None:
    rule = family.code_for(cancer, family.CANCER_HISTORY)
    assert rule is not None and rule.code == code


@pytest.mark.slow
@pytest.mark.parametrize("q, code", [
    ("h/o sigmoid ca", "Z85.038"),  # the history titles say "large intestine", not sigmoid
    ("PMHx sigmoid ca, s/p colectomy '19", "Z85.038"),  # the history ends at the comma
    ("hx hodgkin lymphoma", "Z85.71"),
])
def test_a_cancer_had_comes_first_as_its_history(full: Catalog, q: str, code: str) -> None:
    found = [r["code"] for r in search(full, q, systems=["icd10cm"], limit=5)["results"]]
    assert found[0] == code, found
