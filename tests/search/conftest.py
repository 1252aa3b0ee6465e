"""The search tests' index: the "search" variant of tests/indexes.py (lexical only: semantic search is tested apart)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.index import Catalog

from ..indexes import build_index


@pytest.fixture(scope="session")
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("search") / "index.sqlite", "search")


@pytest.fixture(scope="session")
def catalog(index_path: Path) -> Catalog:
    return Catalog(index_path)
