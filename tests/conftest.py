"""Shared fixtures: where the official files live, and skipping when they do not."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip: real-data tests never fail for lack of the files."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _forget_remembered_answers() -> None:
    """Each test starts with no remembered searches: one that replaces the search function must
    not be answered from what an earlier test asked."""
    from medcodes.app import memo

    for m in (memo.SEARCHES, memo.RESULTS, memo.SUGGESTIONS):
        m.clear()
