"""Similar codes: reasons, ranking, and what is left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from medcodes.content.similar import TitleIndex, similar_codes
from medcodes.errors import NotFound
from medcodes.index import Catalog


def _codes(items: list[dict[str, Any]]) -> list[str]:
    return [x["code"] for x in items]


def test_reasons_for_a_diagnosis(catalog: Catalog) -> None:
    got = {x["code"]: x for x in similar_codes(catalog, "icd10cm", "E11.9")}
    assert got["E11.8"]["reason"].startswith("same family (under E11)") and got["E11.8"]["reason_type"] == "family"
    assert got["O24.4"]["reason"] == "named in the E11 Excludes1 note"
    assert got["Z79.4"]["reason"] == "named in the E11 Use additional code note"
    assert got["250.00"] == {"system": "icd9cm", "code": "250.00", "reason": "GEMs equivalent in ICD-9-CM",
                             "reason_type": "gem", "title": got["250.00"]["title"]}
    assert got["E10.9"]["reason_type"] == "semantic"
    for x in got.values():
        assert set(x) == {"system", "code", "title", "reason", "reason_type"} and x["title"]


def test_siblings_rank_first_and_limit_holds(catalog: Catalog) -> None:
    got = similar_codes(catalog, "icd10cm", "E11.9", limit=3)
    assert len(got) == 3 and _codes(got)[:2] == ["E11.8", "E11.65"]  # closest wording first
    assert similar_codes(catalog, "icd10cm", "E11.9", limit=0) == []


def test_hierarchy_is_left_out(catalog: Catalog) -> None:
    codes = _codes(similar_codes(catalog, "icd10cm", "E11", limit=50))
    assert "E10" in codes and "E13" in codes
    assert not {"E11.9", "E11.8", "E11.65", "E08-E13", "E00-E89", "E11"} & set(codes)


def test_seventh_character_keeps_the_encounter(catalog: Catalog) -> None:
    got = similar_codes(catalog, "icd10cm", "S72.001A")
    assert got[0]["code"] == "S72.002A"
    assert got[0]["reason"].startswith("same category S72, same 7th character A")


def test_same_system_and_reason_filters(catalog: Catalog) -> None:
    assert {x["system"] for x in similar_codes(catalog, "icd10cm", "E11.9", same_system=True)} == {"icd10cm"}
    only = similar_codes(catalog, "icd10cm", "E11.9", reasons={"family"})
    assert _codes(only) == ["E11.8", "E11.65"]


def test_other_systems(catalog: Catalog) -> None:
    pcs = similar_codes(catalog, "icd10pcs", "0SR9019")
    assert _codes(pcs) == ["0SR901Z", "0SR901A"] or _codes(pcs) == ["0SR901A", "0SR901Z"]
    cane = similar_codes(catalog, "hcpcs", "E0100")
    assert cane[0]["code"] == "E0105" and "cross-reference in the HCPCS file" in cane[0]["reason"]
    assert similar_codes(catalog, "icd9cm", "250.00")[0]["code"] in {"250.01", "E11.9"}
    with pytest.raises(NotFound):
        similar_codes(catalog, "icd10cm", "X99.9")


def test_codes_cited_by_the_same_policies(catalog: Catalog, tmp_path: Path) -> None:
    from medcodes.policies.records import Link, PolicyRecord
    from medcodes.policies.store import PolicyStore

    store = tmp_path / "store.sqlite"
    policies = PolicyStore(store)
    for n, codes in enumerate([("E11.9", "J1100", "Z79.4"), ("E11.9", "J1100")]):
        links = tuple(Link(s, c, "covered", "made-up snippet", c) for s, c in
                      [("icd10cm", "E11.9"), ("hcpcs", "J1100"), ("icd10cm", "Z79.4")] if c in codes)
        policies.put(PolicyRecord(payer="Made-up plan", title=f"Made-up policy {n}", kind="document",
                                  content_hash=f"h{n}", links=links, number=f"MP-{n}"))
    policies.close()
    got = {x["code"]: x for x in similar_codes(catalog, "icd10cm", "E11.9", limit=20, store=store)}
    assert got["J1100"]["reason"] == "cited by the same 2 policies" and got["J1100"]["reason_type"] == "policy"
    assert "cited by the same 1 policy" in got["Z79.4"]["reason"]
    assert "J1100" not in _codes(similar_codes(catalog, "icd10cm", "E11.9", limit=20))  # no store given


def test_title_index() -> None:
    idx = TitleIndex("x", [("A", "Fracture of right femur"), ("B", "Fracture of left femur"),
                           ("C", "Asthma, unspecified"), ("D", "Fractures of femurs")])
    near = idx.neighbours("x", "A", "Fracture of right femur", 5)
    assert [c for _, c, _ in near] == ["B", "D"] or [c for _, c, _ in near] == ["D", "B"]
    assert idx.similarity("A", "C") == 0.0 and 0 < idx.similarity("A", "B") < 1
    assert idx.neighbours("x", "A", "of the", 5) == []


def _zipf_titles(n: int, seed: int) -> list[tuple[str, str]]:
    """Titles like PCS ones: a few words in nearly all of them ("approach", "open"), many rare."""
    import random

    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(400)]
    weights = [1 / (i + 1) ** 1.1 for i in range(len(vocab))]
    return [(f"C{i:05d}", " ".join(rng.choices(vocab, weights, k=rng.randint(2, 9)))) for i in range(n)]


@pytest.mark.parametrize("floor", [0.3, 0.5])
def test_neighbours_with_a_floor_are_the_unpruned_ones_above_it(floor: float) -> None:
    """Setting the common words aside must not lose a title that reaches the floor."""
    rows = _zipf_titles(3000, seed=11)
    idx = TitleIndex("x", rows)
    assert len(idx.postings["w0"]) > 1000  # a word of most titles, as "approach" is of PCS titles
    for code, title in rows[:300]:
        everything = idx.neighbours("x", code, title, 10_000)
        assert [(c, s) for _, c, s in idx.neighbours("x", code, title, 20, floor=floor)] == \
            [(c, s) for _, c, s in everything if s >= floor][:20]


def test_similarities_of_many_codes_at_once_equal_one_at_a_time() -> None:
    rows = _zipf_titles(500, seed=3)
    idx = TitleIndex("x", rows)
    others = [c for c, _ in rows[:200]] + ["not-a-code"]
    many = idx.similarities_to(rows[7][0])(others)
    assert many[-1] == 0.0
    assert [round(float(x), 9) for x in many[:-1]] == [round(idx.similarity(rows[7][0], c), 9) for c in others[:-1]]
    assert list(idx.similarities_to("not-a-code")(others[:3])) == [0.0, 0.0, 0.0]
