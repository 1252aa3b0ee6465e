"""Words whose meaning the rest of the query decides (context.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.index import Catalog
from medcodes.search import context, search
from medcodes.search.lexicon import Group


def _groups(*ws: str) -> list[Group]:
    return [Group(((w,),), (w,)) for w in ws]


def test_cervical_is_the_cervix_in_womens_health_and_the_neck_elsewhere() -> None:
    found = context.cervix(_groups("removing", "cervical", "polyp"))
    assert ("cervix",) in found[1].alternatives
    assert context.cervix(_groups("cervical", "radiculopathy")) == _groups("cervical", "radiculopathy")


@pytest.fixture(scope="module")
def full(full_index: Path) -> Catalog:
    return Catalog(full_index)


@pytest.mark.slow
def test_a_cervical_polyp_removed_is_an_excision_of_the_cervix(full: Catalog) -> None:
    found = [r["code"] for r in search(full, "removing a cervical polyp", systems=["icd10pcs"], limit=3)["results"]]
    assert found[0].startswith("0UBC"), found
    assert search(full, "cervical radiculopathy", systems=["icd10cm"], limit=1)["results"][0]["code"] == "M54.12"


def test_after_x_is_post_x_where_the_index_knows_it() -> None:
    known = {"postherpetic", "postmenopausal"}.__contains__
    found = context.after(_groups("nerve", "pain", "after", "shingles"), known)
    assert [g.words for g in found] == [("nerve",), ("pain",), ("shingles",)]
    assert ("postherpetic",) in found[2].alternatives
    assert ("postmenopausal",) in context.after(_groups("dryness", "after", "menopause"), known)[1].alternatives
    unknown = _groups("pain", "after", "lunch")
    assert context.after(unknown, known) == unknown  # no "postlunch": "after" stays
