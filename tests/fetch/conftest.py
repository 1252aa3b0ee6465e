"""Fixtures: a local publisher (tests/fetch/publisher.py) and a fetcher on a tiny table it serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medcodes.fetch.cache import Fetcher

from .publisher import Publisher, release_file, running


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    with running() as pub:
        yield pub


@pytest.fixture
def fetcher(tmp_path: Path, publisher: Publisher) -> Fetcher:
    """A fetcher on a tiny table of two HCPCS releases and one other system, served by `publisher`."""
    table = (
        release_file("2025-jan", "2025-01-01", "january-2025.zip"),
        release_file("2025-apr", "2025-04-01", "april-2025.zip"),
        release_file("v1", "2020-01-01", "other.zip", system="other", publisher="cdc", members=("*.txt",)),
    )
    return Fetcher(cache=tmp_path / "cache", base_urls={"cms": publisher.url, "cdc": publisher.url + "/cdc"},
                   timeout=2.0, table=table)


@pytest.fixture(autouse=True)
def _local_servers_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The publisher runs on 127.0.0.1, which medcodes refuses unless told."""
    monkeypatch.setenv("MEDCODES_ALLOW_PRIVATE_URLS", "1")
