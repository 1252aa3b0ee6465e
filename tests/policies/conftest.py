"""The policy tests' index (the "policies" variant of tests/indexes.py) and a fresh store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medcodes.index import Catalog
from medcodes.policies.linking import CatalogChecker
from medcodes.policies.store import PolicyStore

from ..indexes import build_index


@pytest.fixture(scope="session")
def catalog_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("policies") / "index.sqlite", "policies")


@pytest.fixture(scope="session")
def catalog(catalog_path: Path) -> Catalog:
    return Catalog(catalog_path)


@pytest.fixture(scope="session")
def checker(catalog: Catalog) -> CatalogChecker:
    return CatalogChecker(catalog)


@pytest.fixture()
def store(store_location: str) -> Iterator[PolicyStore]:
    """A policy store on each backend: a SQLite file, then a PostgreSQL database."""
    s = PolicyStore(store_location)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _local_servers_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sites these tests fetch from run on 127.0.0.1, which medcodes refuses unless told."""
    monkeypatch.setenv("MEDCODES_ALLOW_PRIVATE_URLS", "1")
