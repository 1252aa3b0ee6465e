"""A disk that fills up while medcodes writes: one clear line, not a traceback; nothing already stored
is lost; the index that was there keeps serving.

Two ways to run out of room: a real tmpfs of a few hundred KiB (needs root and mount; ENOSPC, which
SQLite reports as "database or disk is full"), and everywhere a file-size limit on the command
(RLIMIT_FSIZE: EFBIG, which SQLite reports as "disk I/O error")."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from medcodes.errors import DiskFull, out_of_room

from .policies.corpus import CORPUS

pytestmark = pytest.mark.slow  # builds and ingests in subprocesses: about a minute and a half

DATA = Path(__file__).parent / "data"
SOURCES = ["--source", f"hcpcs={DATA / 'hcpcs' / 'HCPC2025_JAN_ANWEB_fixture.txt'}",
           "--source", f"icd10cm={DATA / 'icd10cm' / 'icd10cm_tabular_2026.xml'}"]
DOCS = ("01-cpb-spinal-cord-stimulation.html", "10-plain-policy-cardiac-rehab.txt",
        "04-coverage-policy-sleep-apnea.html", "02-medical-policy-bariatric.html")

Run = Callable[..., subprocess.CompletedProcess[str]]


def _medcodes(*args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process

    env = {**os.environ, "MEDCODES_SEMANTIC": "off", "PYTHONPATH": str(Path(__file__).parents[1])}
    return subprocess.run([sys.executable, "-m", "medcodes", *args], capture_output=True, text=True, env=env,
                          preexec_fn=limit, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("disk") / "index.sqlite"
    got = _medcodes("build", "--no-default", *SOURCES, "--out", str(out))
    assert got.returncode == 0, got.stderr
    return out


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """A tmpfs of the given size in bytes, unmounted afterwards; skipped where mounting is not allowed."""
    mounted: list[Path] = []

    def mount(size: int) -> Path:
        where = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
        where.mkdir()
        got = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                             capture_output=True, text=True)
        if got.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {got.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(where)], check=False)  # still in use: detach it anyway


def _one_clean_line(got: subprocess.CompletedProcess[str], *words: str) -> str:
    assert got.returncode == 1, got.stderr
    assert "Traceback" not in got.stderr, got.stderr
    errors = [line for line in got.stderr.splitlines() if line.startswith("medcodes: error:")]
    assert len(errors) == 1, got.stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def _assert_serves(index: Path) -> None:
    got = _medcodes("show", "E11.9", "--db", str(index))
    assert got.returncode == 0 and "Type 2 diabetes mellitus" in got.stdout, got.stderr


def test_build_past_a_file_size_limit(built: Path, tmp_path: Path) -> None:
    served = tmp_path / "served.sqlite"
    shutil.copy(built, served)
    before = served.read_bytes()
    got = _medcodes("build", "--no-default", *SOURCES, "--out", str(served), fsize=built.stat().st_size // 2)
    _one_clean_line(got, str(served), "no room left", "the index there is unchanged", "free some space")
    assert served.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["served.sqlite"]  # no partial file left
    _assert_serves(served)


def test_build_onto_a_full_disk(built: Path, small_disk: Callable[[int], Path]) -> None:
    disk = small_disk(built.stat().st_size + 256 * 1024)
    served = disk / "served.sqlite"
    shutil.copy(built, served)
    got = _medcodes("build", "--no-default", *SOURCES, "--out", str(served))
    _one_clean_line(got, str(served), "no room left", "the index there is unchanged")
    assert served.read_bytes() == built.read_bytes() and [p.name for p in disk.iterdir()] == ["served.sqlite"]
    _assert_serves(served)


def _ingest(index: Path, store: Path, folder: Path, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    return _medcodes("policies", "ingest", str(folder), "--db", str(index), "--store", str(store), fsize=fsize)


def _docs(tmp_path: Path, names: tuple[str, ...]) -> Path:
    folder = tmp_path / f"docs-{len(names)}-{uuid.uuid4().hex[:4]}"
    folder.mkdir()
    for name in names:
        shutil.copy(CORPUS / name, folder / name)
    return folder


def _stored(store: Path) -> set[str]:
    conn = sqlite3.connect(store)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM policies")}
    finally:
        conn.close()


def test_ingest_past_a_file_size_limit_keeps_what_was_stored(built: Path, tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    first = _ingest(built, store, _docs(tmp_path, DOCS[:1]))
    assert first.returncode == 0, first.stderr
    kept = _stored(store)
    assert len(kept) == 1
    # room for a little more, not for every document: some are stored, then the disk is "full"
    limit = max(p.stat().st_size for p in tmp_path.glob("store.sqlite*")) + 8 * 1024
    got = _ingest(built, store, _docs(tmp_path, DOCS), fsize=limit)
    _one_clean_line(got, str(store), "no room left", "what was stored before is kept")
    said = {line.split()[1] for line in got.stdout.splitlines() if line.split()[:1] in (["new"], ["unchanged"])}
    after = _stored(store)
    assert kept <= after and said <= after  # every document it said it stored is there


def test_ingest_onto_a_full_disk(built: Path, tmp_path: Path, small_disk: Callable[[int], Path]) -> None:
    disk = small_disk(160 * 1024)
    store = disk / "store.sqlite"
    got = _ingest(built, store, _docs(tmp_path, DOCS))
    if got.returncode == 0:
        pytest.fail("every document fitted: make the disk smaller")
    _one_clean_line(got, "no room left")
    said = {line.split()[1] for line in got.stdout.splitlines() if line.startswith("new ")}
    assert said <= _stored(store)


def test_a_write_with_no_room_is_recognised() -> None:
    assert out_of_room(OSError(28, "No space left on device"))
    assert out_of_room(OSError(27, "File too large"))
    assert not out_of_room(OSError(13, "Permission denied"))
    full = sqlite3.OperationalError("database or disk is full")
    assert out_of_room(full)
    assert not out_of_room(sqlite3.OperationalError("no such table: codes"))


def test_the_server_answers_503_when_its_store_is_full() -> None:
    from medcodes.app.errors import classify

    for exc in (DiskFull("no room"), sqlite3.OperationalError("database or disk is full")):
        problem = classify(exc)
        assert (problem.status, problem.error) == (503, "storage_full")
