"""What a build leaves on disk: nothing but the index, even when an earlier build was killed, and
the new file's bytes on the disk before it takes the index's name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medcodes.app.build import build_from_records
from medcodes.index import Catalog
from medcodes.index.build import remove_stale_builds
from medcodes.model import Code, Record, Release

RECORDS: list[Record] = [Release("hcpcs", "HCPCS test"),
                         Code("hcpcs", "J1100", "Injection, dexamethasone", billable=True)]

# a build that stops for good once its file is being written, as one killed at that moment
_STUCK_BUILD = """
import sys, time
from pathlib import Path
from medcodes.index.build import build_from_records
from medcodes.model import Code, Release

def stuck(conn, report):
    Path(sys.argv[2]).touch()
    time.sleep(600)

build_from_records([Release("hcpcs", "t"), Code("hcpcs", "J1100", "x", billable=True)], Path(sys.argv[1]),
                   steps=[stuck])
"""


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".building"))


def test_a_killed_build_leaves_nothing_after_the_next_one(tmp_path: Path) -> None:
    out, ready = tmp_path / "index.sqlite", tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", _STUCK_BUILD, str(out), str(ready)],
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    try:
        for _ in range(600):
            if ready.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists(), "the build never started writing"
        assert len(_leftovers(tmp_path)) == 1
        assert remove_stale_builds(out) == []  # still running: its file is kept
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(_leftovers(tmp_path)) == 1  # what a killed build leaves
    build_from_records(RECORDS, out)
    assert _leftovers(tmp_path) == [] and Catalog(out).find("J1100")


def test_the_build_is_on_disk_before_it_is_renamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "index.sqlite"
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}") if Path("/proc/self/fd").is_dir() else "?"
        events.append("fsync dir" if Path(target).is_dir() else "fsync file")
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        events.append(f"rename {Path(src).suffix}")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    build_from_records(RECORDS, out)
    assert events == ["fsync file", "rename .building", "fsync dir"]
