"""The build's worker process (medcodes.index.worker): the side steps run beside the others give the
same index as run one after the other, and a side step's failure is the build's, with the serving index
untouched and no file left behind."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest

from medcodes.app.build import build_index
from medcodes.errors import SourceError, out_of_room
from medcodes.index import build as index_build
from medcodes.index.build import build_from_records
from medcodes.model import Code, Release

DATA = Path(__file__).resolve().parents[1] / "data"
SOURCES = [("icd10cm", DATA / "icd10cm" / "icd10cm_tabular_2026.xml"),
           ("icd10cm", DATA / "icd10cm" / "icd10cm_index_2026.xml"),
           ("icd10pcs", DATA / "icd10pcs" / "icd10pcs_tables_2026.xml"),
           ("hcpcs", DATA / "hcpcs" / "HCPC2025_JAN_ANWEB_fixture.txt"),
           ("gems", DATA / "gems" / "2018_I10gem.txt")]


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, shadow tables of FTS5 included, less what says when the build ran."""
    conn = sqlite3.connect(path)
    out = {}
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
        if name == "sources":
            rows = conn.execute("SELECT id, name, sha256, size, releases, counts, provenance FROM sources").fetchall()
        elif name == "meta":
            rows = conn.execute("SELECT * FROM meta WHERE key != 'built_at' ORDER BY key").fetchall()
        else:
            rows = sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
        out[name] = rows
    conn.close()
    return out


def _build(out: Path, monkeypatch: pytest.MonkeyPatch, cores: int) -> list[str]:
    log: list[str] = []
    with monkeypatch.context() as m:
        m.setattr(index_build, "WORKER_MIN_BYTES", 0)
        m.setattr(index_build, "_cores", lambda: cores)
        build_index(SOURCES, out, log=log.append)
    return log


@pytest.mark.slow  # two builds of the embedded sources
def test_the_worker_builds_the_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serial_log = _build(tmp_path / "serial.sqlite", monkeypatch, cores=1)
    beside_log = _build(tmp_path / "beside.sqlite", monkeypatch, cores=2)
    assert not any("build worker" in line for line in serial_log)
    assert any(line.startswith("step medcodes.search.indexer.build_side") and "in the build worker" in line
               for line in beside_log)
    serial, beside = _rows(tmp_path / "serial.sqlite"), _rows(tmp_path / "beside.sqlite")
    assert {"search_paths_fts_data", "search_parts", "code_edits", "search_fts_data"} <= set(beside)
    assert set(serial) == set(beside)
    for name in serial:
        assert serial[name] == beside[name], name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beside.sqlite", "serial.sqlite"]


STEPS = """
import sqlite3
from medcodes.errors import SourceError

def bad_table(conn, report):
    conn.execute("CREATE TABLE half_done (x)")
    raise SourceError("edit_table.txt", "not an edit table row", 3)

def crash(conn, report):
    raise ZeroDivisionError("boom")

def full(conn, report):
    raise sqlite3.OperationalError("database or disk is full")
"""


@pytest.mark.parametrize("step", ["bad_table", "crash", "full"])
def test_a_failing_side_step_fails_the_build_and_the_index_stays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 step: str) -> None:
    (tmp_path / "steps_for_worker_test.py").write_text(textwrap.dedent(STEPS))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the worker imports the step too
    import steps_for_worker_test

    out = tmp_path / "index.sqlite"
    build_from_records([Release("hcpcs", "HCPCS test"), Code("hcpcs", "J1100", "serving", billable=True)], out)
    before = out.read_bytes()
    monkeypatch.setattr(index_build, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(index_build, "_cores", lambda: 2)
    if step == "bad_table":
        with pytest.raises(SourceError, match=r"edit_table.txt:3: not an edit table row"):
            index_build.build_index(SOURCES[3:4], out, side_steps=[steps_for_worker_test.bad_table])
    elif step == "crash":
        with pytest.raises(Exception, match="ZeroDivisionError: boom"):
            index_build.build_index(SOURCES[3:4], out, side_steps=[steps_for_worker_test.crash])
    else:  # a full disk is reported as one (medcodes.app.build turns it into DiskFull)
        with pytest.raises(OSError) as e:
            index_build.build_index(SOURCES[3:4], out, side_steps=[steps_for_worker_test.full])
        assert out_of_room(e.value) and "database or disk is full" in str(e.value)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".py" and p.name != "__pycache__") \
        == ["index.sqlite"]


def test_a_step_the_worker_cannot_import_is_refused_before_the_build() -> None:
    def local(conn: sqlite3.Connection, report: object) -> None:
        pass

    with pytest.raises(ValueError, match="not a module-level function"):
        index_build.SideWorker([local])
