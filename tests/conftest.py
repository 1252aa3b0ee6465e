"""Shared fixtures: where the official files live (skipping when they do not), and the full index."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def full_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index `make run` builds from the embedded default data, built once per test run by
    `medcodes build` (about a minute); MEDCODES_TEST_FULL_DB names an existing one to use instead.
    Tests that read it are marked slow: `pytest -m "not slow"` leaves them out.

    Under pytest-xdist every worker asks for it: the first builds it in the folder the workers of
    the run share, under a file lock, and the others wait for it and read the same file."""
    given = os.environ.get("MEDCODES_TEST_FULL_DB")
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            pytest.fail(f"MEDCODES_TEST_FULL_DB={given}: no index there")
        return path
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # each worker's folder is inside the run's
    out = root / "full" / "medcodes.sqlite"
    out.parent.mkdir(exist_ok=True)
    with FileLock(str(out.parent / "build.lock")):
        if not out.is_file():  # the build renames the index into place only once it is whole
            proc = subprocess.run([sys.executable, "-m", "medcodes", "build", "--out", str(out)],
                                  capture_output=True, text=True, timeout=1200)
            assert proc.returncode == 0, proc.stderr
    return out


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need the PostgreSQL server run in `make check` only (see store_location)."""
    for item in items:
        if "pg_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server for the store tests: MEDCODES_TEST_PG, else a throwaway cluster from
    Debian's server binaries (tests/postgres.py); the tests skip when neither is there."""
    from . import postgres

    # CI sets MEDCODES_TEST_PG_REQUIRED: there a missing PostgreSQL fails the tests instead of skipping them
    missing = pytest.fail if os.environ.get("MEDCODES_TEST_PG_REQUIRED") else pytest.skip
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing("psycopg is not installed")
    given = os.environ.get("MEDCODES_TEST_PG")
    if given:
        yield given
        return
    if postgres.binaries() is None:
        missing("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres.cluster() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """An empty database of its own for one test."""
    from medcodes import storage

    from . import postgres

    url = postgres.new_database(pg_server)
    yield url
    storage.forget(url)
    postgres.drop_database(pg_server, url)


# the PostgreSQL runs start a database server per worker, so they belong to `make check` (marked
# slow); the edit-test loop runs the same tests on SQLite
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's durable store lives, once on each backend: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    return str(request.getfixturevalue("pg_url"))
