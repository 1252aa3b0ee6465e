"""One date-of-service rule (medcodes.service_date): a code page and a search result say the same of a
code on a date, for billable, header, revised, deleted and not-yet-added codes."""

from __future__ import annotations

from typing import Any

import pytest

from medcodes.app import codes
from medcodes.index import Catalog
from medcodes.search import search
from medcodes.service_date import HEADER, Event, existence, on_date, release_in_force, title_on

from .indexes import build_index

DATES = ("2024-06-01", "2025-01-15", "2025-10-01", "2025-11-01")  # before both, between, on and after FY2026
CODES = ("A00", "A00.0", "A00.1", "A00.2", "A00.9")


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return Catalog(build_index(tmp_path_factory.mktemp("dated") / "index.sqlite", "releases"))


def _page(catalog: Catalog, code: str, date: str) -> dict[str, Any]:
    then = codes.code_data(catalog, "icd10cm", code, date, extra=False).as_of
    assert then is not None
    return then.to_json()


@pytest.mark.parametrize("date", DATES)
def test_a_code_page_and_a_search_result_agree(catalog: Catalog, date: str) -> None:
    found = {r["code"]: r for r in search(catalog, "cholera", as_of=date, limit=20)["results"]}
    for code in CODES:
        page = _page(catalog, code, date)
        if code not in found:  # search leaves out only what did not exist yet
            assert page["exists"] is False and page["reason"].startswith("added in"), (code, page)
            continue
        mark = found[code]["as_of"]
        assert {k: mark[k] for k in ("date", "valid", "exists", "reason")} == \
               {k: page[k] for k in ("date", "valid", "exists", "reason")}, (code, date)
        assert mark.get("title", found[code]["title"]) == (page["title"] or found[code]["title"]), (code, date)


def test_what_each_kind_of_code_was_on_a_date(catalog: Catalog) -> None:
    between = {code: _page(catalog, code, "2025-01-15") for code in CODES}
    assert between["A00.9"]["valid"] is True and between["A00.9"]["release"] == "FY2025"
    assert between["A00"] == {**between["A00"], "valid": False, "exists": True, "reason": HEADER}
    assert between["A00.0"]["title"] == "Cholera due to Vibrio cholerae old"
    assert between["A00.1"]["valid"] is True  # deleted later: valid then
    assert between["A00.2"] == {**between["A00.2"], "valid": False, "exists": False,
                                "reason": "added in FY2026 (effective 2025-10-01)"}
    after = _page(catalog, "A00.1", "2025-11-01")
    assert after["valid"] is False and after["reason"] == "deleted in FY2026 (effective 2025-10-01)"
    before = _page(catalog, "A00.9", "2024-06-01")
    assert before["valid"] is None and before["exists"] is None
    assert before["reason"] == ("no release of ICD-10-CM loaded in force on 2024-06-01;"
                                " the first loaded is FY2025, effective 2024-10-01")


def test_a_header_code_is_marked_in_search_too(catalog: Catalog) -> None:
    """The rule the search marks lacked: a chapter or category is not valid for submission."""
    found = {r["code"]: r for r in search(catalog, "cholera", as_of="2025-01-15", limit=20)["results"]}
    assert found["A00"]["as_of"] == {"date": "2025-01-15", "valid": False, "exists": True, "reason": HEADER}


def test_the_release_in_force() -> None:
    loaded = [("Q1", "2025-01-01"), ("Q1 again", "2025-01-01"), ("undated", ""), ("Q2", "2025-04-01")]
    assert release_in_force(loaded, "2025-02-01") == "Q1 again"  # same day: the one loaded later
    assert release_in_force(loaded, "2025-04-01") == "Q2"
    assert release_in_force(loaded, "2024-01-01") == "undated"
    assert release_in_force(loaded[:2], "2024-12-31") is None


def test_a_code_deleted_and_added_again_exists_after_its_return() -> None:
    events = [Event("2024-10-01", "deleted", "FY2025", None), Event("2025-10-01", "added", "FY2026", None)]
    assert existence(events, "2025-01-01") == (False, events[0])
    assert existence(events, "2025-11-01") == (True, None)
    assert existence(events, "2024-01-01") == (True, None)  # in the releases before its deletion


def test_the_title_then_is_the_first_later_revision() -> None:
    events = [Event("2025-01-01", "revised", "Q1", "first"), Event("2025-04-01", "revised", "Q2", "second"),
              Event("2025-07-01", "revised", "Q3", None)]
    assert title_on(events, "2024-12-31", "now") == "first"
    assert title_on(events, "2025-02-01", "now") == "second"
    assert title_on(events, "2025-05-01", "now") == "now"  # a revision that names no old title


def test_a_code_added_after_the_date_did_not_exist_even_before_every_loaded_release() -> None:
    then = on_date("2024-06-01", "hcpcs", [Event("2025-01-01", "added", "2025 Q1", None)], [("2025 Q1", "2025-01-01")],
                   title="New", billable=True, deleted_in=None)
    assert (then.valid, then.exists, then.release) == (False, False, None)
    assert then.reason == "added in 2025 Q1 (effective 2025-01-01)"
