"""The content tests' index: the "content" variant of tests/indexes.py (every kind of code, notes, axes, GEMs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medcodes.content.fakellm import FakeLLM
from medcodes.index import Catalog

from ..indexes import build_index


@pytest.fixture(scope="session")
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("content") / "idx.sqlite", "content")


@pytest.fixture(scope="session")
def catalog(index_path: Path) -> Catalog:
    return Catalog(index_path)


@pytest.fixture()
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM(slow_seconds=0.5) as llm:
        yield llm
