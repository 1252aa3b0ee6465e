"""A server's index follows `medcodes build` renaming a new file over it, between requests."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from medcodes.app.build import build_from_records
from medcodes.index import Catalog
from medcodes.index.live import LiveCatalog
from medcodes.model import Code, Record, Release

OLD: list[Record] = [Release("hcpcs", "HCPCS old"), Code("hcpcs", "J1100", "Injection, dexamethasone", billable=True)]
NEW: list[Record] = [*OLD, Code("hcpcs", "J9999", "Invented new drug code", billable=True)]


def _open_files(name: str) -> list[str]:
    """What this process holds open whose path mentions `name` ("(deleted)" once renamed over)."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("no /proc here")
    out = []
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if name in target:
            out.append(target)
    return out


def test_a_rebuilt_file_is_opened_for_the_next_request(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    build_from_records(OLD, path)
    seen: list[Catalog] = []
    live = LiveCatalog(path, store=tmp_path / "store.sqlite", on_replace=seen.append)
    first = live.current()
    assert live.current() is first and not first.find("J9999")
    build_from_records(NEW, path)
    assert first.find("J1100") and not first.find("J9999")  # a request already running keeps its file
    second = live.current()
    assert second is not first and second.find("J9999") and seen == [second] and live.replaced == 1
    assert live.current() is second


def test_the_old_file_is_closed_once_no_request_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "closing.sqlite"
    build_from_records(OLD, path)
    live = LiveCatalog(path, store=tmp_path / "store.sqlite")
    first = live.current()
    # a second connection, as a request in the thread pool opens
    t = threading.Thread(target=Catalog.find, args=(first, "J1100"))
    t.start()
    t.join()
    del t
    build_from_records(NEW, path)
    assert any(t.endswith("(deleted)") for t in _open_files("closing.sqlite"))
    live.current()
    del first
    # every connection of the old Catalog closed, though each sits in a reference cycle
    assert not any(t.endswith("(deleted)") for t in _open_files("closing.sqlite"))


def test_a_thread_opening_after_the_rename_reads_the_catalogs_own_file(tmp_path: Path) -> None:
    """A request pinned to the old Catalog whose thread opens its first connection after the new
    file is in place must not read the new file with arrays made from the old one."""
    path = tmp_path / "index.sqlite"
    build_from_records(OLD, path)
    catalog = Catalog(path)
    build_from_records(NEW, path)
    found: list[list[sqlite3.Row]] = []
    t = threading.Thread(target=lambda: found.append(catalog.find("J9999")))
    t.start()
    t.join()
    assert found == [[]]


def test_a_broken_file_in_place_keeps_the_open_index_serving(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "index.sqlite"
    build_from_records(OLD, path)
    live = LiveCatalog(path, store=tmp_path / "store.sqlite")
    first = live.current()
    broken = tmp_path / "copied.sqlite"
    broken.write_bytes(b"not an index at all" * 100)
    os.replace(broken, path)
    assert live.current() is first and live.current() is first
    assert first.find("J1100")
    assert sum("cannot be read" in r.message for r in caplog.records) == 1  # said once, not per request
    build_from_records(NEW, path)  # then a good build: taken
    assert live.current().find("J9999")
