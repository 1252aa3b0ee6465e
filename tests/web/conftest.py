"""One small index and one app for the page, API and FHIR tests."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from medcodes.web.app import create_app

with warnings.catch_warnings():
    # Starlette 1.10 prefers httpx2 for its TestClient; the pinned httpx works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from .. import live
from ..indexes import build_index
from . import fixture_store


@pytest.fixture(scope="session")
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index, with its durable store (policies, a generated explainer) beside it."""
    path = build_index(tmp_path_factory.mktemp("web") / "web.sqlite", "web")
    fixture_store.build(path)
    return path


@pytest.fixture(scope="session")
def store_path(index_path: Path) -> Path:
    return index_path.with_name("medcodes-store.sqlite")


@pytest.fixture(scope="session")
def client(index_path: Path, store_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(index_path, store=store_path), follow_redirects=False) as c:
        yield c


@pytest.fixture(scope="module")
def server(index_path: Path, store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`medcodes serve` on a free port, as a user would start it, for a browser test module."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with live.medcodes_serve(index_path, log, env={"MEDCODES_STORE": str(store_path)}, start_s=20) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from live.chromium()
