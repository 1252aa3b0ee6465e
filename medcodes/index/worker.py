"""Post-build steps run in a second process while the build runs its other steps (a 2-core machine
builds the default index in about half the wall time it takes on one).

A side step reads the index's own tables (codes, terms...) and writes only tables of its own. The
worker is a fresh interpreter (main(), given the steps as MODULE:FUNCTION): it imports the
steps while the build still reads its sources, then waits for the build to say where the index is
(one JSON line on stdin); meanwhile it calls the `prepare()` of each step's module that has one (work
that needs no index, such as parsing the step's own tables). It attaches the index read-only and runs
each step on a connection to a side file of its own, so the two processes never write the same file;
the build copies the side file's tables into the index once the worker is done (`merge`), and they are
the same rows the steps would have written there themselves.

A fresh interpreter rather than a fork: the build holds several hundred MB of records when it starts
the worker, and a forked copy would count them twice.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import pickle
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import MedcodesError, SourceError, out_of_room

Step = Callable[[sqlite3.Connection, Any], None]
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
BUSY_SECONDS = 600.0  # a reader may hold the index a few seconds while the other process commits


def step_name(step: Step) -> str:
    """"module:function", what the worker imports; a step that is not a module-level function cannot be run there."""
    module, qualname = getattr(step, "__module__", None), getattr(step, "__qualname__", "")
    if not module or not qualname or "<" in qualname or "." in qualname:
        raise ValueError(f"{step!r} is not a module-level function: it cannot run in the build worker")
    return f"{module}:{qualname}"


def step_label(step: Step) -> str:
    """How the build's log and report name a step: its module, and its function unless that is `build`."""
    module, function = step.__module__, getattr(step, "__name__", "")
    return module if function in ("build", "") else f"{module}.{function}"


def _import(name: str) -> Step:
    module, _, function = name.partition(":")
    step: Step = getattr(importlib.import_module(module), function)
    return step


# not `-m medcodes.index.worker`: the package imports this module before runpy would run it as __main__
_ENTRY = "import sys; from medcodes.index.worker import main; sys.exit(main(sys.argv[1:]))"


class SideWorker:
    """The worker process, seen from the build."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.names = [step_name(s) for s in steps]
        env = dict(os.environ)
        # the worker imports this medcodes, wherever the build imported it from
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen([sys.executable, "-c", _ENTRY, *self.names],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.side: Path | None = None

    def go(self, index: Path, side: Path) -> None:
        """Start the steps on the committed tables of `index`; their tables go to `side`."""
        self.side = side
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"index": str(index), "side": str(side)}).encode() + b"\n")
        self.proc.stdin.close()

    def finish(self, conn: sqlite3.Connection) -> dict[str, float]:
        """Wait for the steps, copy their tables into `conn`'s index; the seconds each step took."""
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.proc.stdout.close()
        self.proc.wait()
        try:
            result = pickle.loads(out) if out else None
        except (pickle.UnpicklingError, EOFError, ValueError):
            result = None
        if not isinstance(result, dict):
            raise MedcodesError(f"the build worker ended without a result (exit status {self.proc.returncode})")
        if "error" in result:
            raise _error(result["error"])
        assert self.side is not None
        merge(conn, self.side)
        seconds: dict[str, float] = result["steps"]
        return seconds

    def close(self) -> None:
        """Stop the worker if it still runs (a build that failed before or during the steps)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()
        if self.side is not None:
            self.side.unlink(missing_ok=True)


def merge(conn: sqlite3.Connection, side: Path) -> None:
    """Copy every table and index of the side file into the index: a virtual table (FTS5) by its CREATE
    statement, then every real table, its shadow tables too, row by row with the same rowids."""
    conn.execute("ATTACH DATABASE ? AS side", (str(side),))
    try:
        schema = conn.execute("SELECT type, name, sql FROM side.sqlite_master WHERE sql IS NOT NULL"
                              " AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
        for kind, name, _sql in schema:
            if kind not in ("table", "index"):
                raise MedcodesError(f"a build step left a {kind} ({name}): only tables and indexes are copied")
        tables = [(name, sql) for kind, name, sql in schema if kind == "table"]
        for _name, sql in tables:
            if sql.upper().startswith("CREATE VIRTUAL TABLE"):
                conn.execute(sql)  # makes its shadow tables, filled below
        for name, sql in tables:
            if sql.upper().startswith("CREATE VIRTUAL TABLE"):
                continue
            if not conn.execute("SELECT 1 FROM main.sqlite_master WHERE name=?", (name,)).fetchone():
                conn.execute(sql)
            columns = ", ".join(f'"{c[1]}"' for c in conn.execute(f'PRAGMA side.table_info("{name}")'))
            keep_rowid = _has_rowid(conn, name)
            conn.execute(f'INSERT OR REPLACE INTO main."{name}" ({"rowid, " if keep_rowid else ""}{columns})'
                         f' SELECT {"rowid, " if keep_rowid else ""}{columns} FROM side."{name}"'
                         f'{" ORDER BY rowid" if keep_rowid else ""}')
        for kind, _name, sql in schema:
            if kind == "index":
                conn.execute(sql)
        conn.commit()
    finally:
        conn.execute("DETACH DATABASE side")


def _has_rowid(conn: sqlite3.Connection, table: str) -> bool:
    try:
        conn.execute(f'SELECT rowid FROM side."{table}" LIMIT 0')
    except sqlite3.OperationalError:
        return False  # WITHOUT ROWID
    return True


def _error(info: dict[str, Any]) -> Exception:
    if info.get("type") == "no_room":  # the build reports a full disk as such (medcodes.errors.out_of_room)
        return OSError(errno.ENOSPC, f"no room left on the disk (in the build worker: {info['message']})")
    if info.get("type") == "SourceError":
        return SourceError(info["path"], info["detail"], info.get("line"))
    if info.get("type") == "MedcodesError":
        return MedcodesError(info["message"])
    return MedcodesError(f"a build step failed in the build worker: {info['message']}\n{info.get('trace', '')}")


def _describe(exc: BaseException) -> dict[str, Any]:
    if out_of_room(exc):
        return {"type": "no_room", "message": str(exc)}
    if isinstance(exc, SourceError):
        return {"type": "SourceError", "path": exc.path, "detail": exc.detail, "line": exc.line}
    if isinstance(exc, MedcodesError):
        return {"type": "MedcodesError", "message": str(exc)}
    return {"type": type(exc).__name__, "message": f"{type(exc).__name__}: {exc}",
            "trace": "".join(traceback.format_exception(exc))}


def run(names: Sequence[str], index: Path, side: Path) -> dict[str, float]:
    """Run the steps on `side` with `index` attached read-only; the seconds each took."""
    steps = [(name, _import(name)) for name in names]
    side.unlink(missing_ok=True)
    # held while the steps run: a build's clean-up of killed builds' files (remove_stale_builds) skips it
    lock = os.open(side, os.O_RDWR | os.O_CREAT, 0o644)
    _lock(lock)
    conn = sqlite3.connect(side, timeout=BUSY_SECONDS, uri=True)
    seconds: dict[str, float] = {}
    try:
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;")
        # unqualified names the side file lacks (codes, terms...) are the index's
        conn.execute("ATTACH DATABASE ? AS src", (f"{index.resolve().as_uri()}?mode=ro",))
        for _name, step in steps:
            t0 = time.perf_counter()
            step(conn, None)
            conn.commit()
            seconds[step_label(step)] = time.perf_counter() - t0
    finally:
        conn.close()
        os.close(lock)
    return seconds


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: a file in use cannot be deleted there anyway
        return
    fcntl.flock(fd, fcntl.LOCK_EX)


def main(argv: Sequence[str]) -> int:
    names = list(argv)
    # the result goes to the real stdout; whatever a step prints goes to stderr, beside the build's log
    result_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        for name in names:  # while the build still reads its sources
            prepare = getattr(importlib.import_module(name.partition(":")[0]), "prepare", None)
            if callable(prepare):
                prepare()  # a step's work that needs no index (edits: parsing its tables)
        line = sys.stdin.readline()
        if not line.strip():
            return 0  # the build ended before its steps
        where = json.loads(line)
        result: dict[str, Any] = {"steps": run(names, Path(where["index"]), Path(where["side"]))}
    except BaseException as exc:  # every failure goes back to the build, which reports it
        result = {"error": _describe(exc)}
    with result_out:
        result_out.write(pickle.dumps(result))
    return 0

