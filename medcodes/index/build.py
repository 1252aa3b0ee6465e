"""Build the index file from source files, atomically.

Sources are parsed by the importers (medcodes.sources); this module only
folds their records together and writes them. The new index is written to
a temporary file beside the target and renamed over it only when complete,
so a failed build leaves the previous index serving.
"""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import data
from ..errors import MedcodesError, SourceError
from ..files import file_sha256
from ..model import Change, Code, Record, Reference, Relation, Release, Term
from ..sources import reader
from ..systems import compact
from .hierarchy import orphans, walk
from .history import DIFF_SOURCE, Snapshot, history, ordered
from .schema import DDL, SCHEMA_VERSION
from .worker import BUSY_SECONDS, SideWorker, step_label


@dataclass
class SourceReport:
    name: str
    path: str
    sha256: str
    size: int
    releases: list[dict[str, str | None]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"codes": 0, "terms": 0, "relations": 0, "changes": 0})
    seconds: float = 0.0
    provenance: dict[str, Any] | None = None  # a data-layer file's provenance record (medcodes.data)
    code_systems: set[str] = field(default_factory=set)  # systems it gave codes or changes of


@dataclass
class BuildReport:
    out: Path
    sources: list[SourceReport] = field(default_factory=list)
    counts_by_system: dict[str, int] = field(default_factory=dict)
    orphans: int = 0
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    unresolved: int = 0  # index entries whose code the loaded releases do not have


# A step run on the finished tables before the rename (the search tables, embeddings): the layers
# above the index hand theirs in (medcodes.app.build lists the package's own), so the index imports
# none of them.
PostBuildStep = Callable[[sqlite3.Connection, BuildReport], None]


class _Collector:
    """Folds the record streams of all sources into one set of tables."""

    def __init__(self) -> None:
        self.codes: dict[tuple[str, str], Code] = {}
        self.release_of: dict[tuple[str, str], str] = {}
        # Index entries, with the release and the source (1-based) they came from: checked against the codes
        # when all are read (resolve_terms).
        self.terms: list[tuple[Term, str, int]] = []
        self.references: list[tuple[Reference, str, int]] = []
        self.unresolved: list[tuple[Term, str, int, str]] = []  # (term, release, source, reason)
        self.sources = 0
        self.relations: list[Relation] = []
        self.snapshots: list[Snapshot] = []
        self.official: list[Change] = []  # what the importers yielded
        self.changes: list[Change] = []  # official and derived, as written
        self.deleted: dict[tuple[str, str], str] = {}
        self.release_dates: dict[tuple[str, str], str | None] = {}  # (system, release name) -> effective

    def add(self, records: Iterable[Record], report: SourceReport) -> None:
        self.sources += 1
        current: dict[str, Release] = {}
        snaps: dict[tuple[str, str], Snapshot] = {}
        for rec in records:
            if isinstance(rec, Code):
                key = (rec.system, rec.code)
                old = self.codes.get(key)
                self.codes[key] = old.merged_with(rec) if old else rec
                release = current.get(rec.system)
                self.release_of.setdefault(key, release.name if release else "")
                if rec.billable and release is not None:
                    snap = snaps.get((rec.system, release.name))
                    if snap is None:
                        snap = snaps[(rec.system, release.name)] = Snapshot(rec.system, release.name, release.effective,
                                                            len(self.snapshots) + len(snaps))
                    # Titles composed from PCS table axes are not official; recording them would make
                    # every official title of another release look like a revision.
                    snap.titles[rec.code] = "" if rec.attributes.get("title_composed") else rec.title
                report.counts["codes"] += 1
                report.code_systems.add(rec.system)
            elif isinstance(rec, Term):
                self.terms.append((rec, _name(current.get(rec.system)), self.sources))
                report.counts["terms"] += 1
            elif isinstance(rec, Reference):
                self.references.append((rec, _name(current.get(rec.system)), self.sources))
                report.counts["references"] = report.counts.get("references", 0) + 1
            elif isinstance(rec, Relation):
                self.relations.append(rec)
                report.counts["relations"] += 1
            elif isinstance(rec, Change):
                self.official.append(rec if rec.effective else replace(rec, effective=self._date_of(rec)))
                report.counts["changes"] += 1
                report.code_systems.add(rec.system)
            elif isinstance(rec, Release):
                current[rec.system] = rec
                self.release_dates.setdefault((rec.system, rec.name), rec.effective)
                report.releases.append(
                    {"system": rec.system, "name": rec.name, "effective": rec.effective}
                )
        self.snapshots.extend(snaps.values())

    def resolve_terms(self, reports: list[SourceReport], log: Callable[[str], None]) -> int:
        """Keep each index's newest release, and of its entries only those whose code is loaded.

        An index of another release than the codes (the FY2025 ICD-10-CM index beside FY2026 codes)
        can name codes the loaded release deleted or never had: those entries go to `unresolved`,
        counted on their source, never into the terms a code page or the search reads. When two
        releases of one index are read (the default's and a newer official file), the older one's
        entries are dropped: a newer index replaces it, as a newer code list does.
        """
        newest: dict[tuple[str, str], tuple[str, int]] = {}  # (system, index) -> (effective, source)
        for items in (self.terms, self.references):
            for rec, release, source in items:
                key = (rec.system, rec.source)
                when = (self.release_dates.get((rec.system, release)) or "", source)
                if key not in newest or when > newest[key]:
                    newest[key] = when
        superseded = 0

        def current(rec: Term | Reference, source: int) -> bool:
            nonlocal superseded
            keep = newest[(rec.system, rec.source)][1] == source
            superseded += not keep
            return keep

        self.references = [(r, rel, src) for r, rel, src in self.references if current(r, src)]
        kept: list[tuple[Term, str, int]] = []
        for term, release, source in self.terms:
            if not current(term, source):
                continue
            key = (term.system, term.code)
            reason = ("no such code in the loaded release" if key not in self.codes
                      else f"deleted in {self.deleted[key]}" if key in self.deleted else None)
            if reason is None:
                kept.append((term, release, source))
            else:
                self.unresolved.append((term, release, source, reason))
                counts = reports[source - 1].counts
                counts["unresolved"] = counts.get("unresolved", 0) + 1
        self.terms = kept
        if superseded:
            log(f"index entries of older index releases replaced by newer ones: {superseded:,}")
        if self.unresolved:
            by_source = ", ".join(f"{reports[i - 1].name} {Path(reports[i - 1].path).name} {n:,}" for i, n in
                                  sorted(_count(src for _t, _r, src, _why in self.unresolved).items()))
            log(f"index entries whose code is not in the loaded release: {len(self.unresolved):,} of "
                f"{len(self.unresolved) + len(kept):,} ({by_source}); listed by `medcodes sources --unresolved`")
        return len(self.unresolved)

    def forget(self) -> None:
        """Drop the records once written (a full build holds several hundred MB of them)."""
        for value in vars(self).values():
            if isinstance(value, (dict, list)):
                value.clear()
        gc.collect()

    def _date_of(self, change: Change) -> str | None:
        return self.release_dates.get((change.system, change.release))

    def apply_history(self) -> None:
        """Diff the releases of each system; the newest one decides titles and what is deleted."""
        self.changes, newest = history(self.snapshots, self.official)
        # A code's release is the newest one whose code list holds it, whatever order the files came in.
        for snap in ordered(self.snapshots):
            for code in snap.titles:
                self.release_of[(snap.system, code)] = snap.release
        for system, snap in newest.items():
            ever = {code for s in self.snapshots if s.system == system for code in s.titles}
            if ever == snap.titles.keys() and len({s.release for s in self.snapshots if s.system == system}) < 2:
                continue  # one release: nothing to reconcile
            for code in ever:
                rec = self.codes[(system, code)]
                if code not in snap.titles:
                    self.codes[(system, code)] = replace(rec, billable=False)
                elif snap.titles[code] and snap.titles[code] != rec.title:
                    self.codes[(system, code)] = replace(rec, title=snap.titles[code])
        self._apply_official(newest)
        for c in self.changes:
            if c.change == "deleted":
                self.deleted[(c.system, c.code)] = c.release
            elif c.change == "added":
                self.deleted.pop((c.system, c.code), None)

    def _apply_official(self, newest: dict[str, Snapshot]) -> None:
        """Codes only official changes know of, and changes of releases newer than every code list.

        A deleted code no loaded list holds (ICD-10-CM FY2025 deletes T81.32XA; its FY2025 files no
        longer list it) gets a row, so its page says when it went. An addenda file given without its
        release's code list (issue 7) still revises titles, adds codes and ends their validity.
        """
        parents: dict[str, dict[str, str]] = {}
        for c in (c for c in self.changes if c.source != DIFF_SOURCE):  # oldest first: the last word wins
            key = (c.system, c.code)
            rec = self.codes.get(key)
            if rec is None:
                if c.system not in parents:
                    parents[c.system] = {compact(code): code for system, code in self.codes if system == c.system}
                self.codes[key] = Code(c.system, c.code, c.new_title or c.old_title or "",
                                       billable=c.change != "deleted", parent=_prefix_parent(parents[c.system], c.code),
                                       attributes={"known_from": c.source})
                self.release_of[key] = "" if c.change == "deleted" else c.release
            elif self._newer_than_code_lists(c, newest.get(c.system)):
                billable = {"added": True, "deleted": False}.get(c.change, rec.billable)
                title = c.new_title if c.change != "deleted" and c.new_title else rec.title
                self.codes[key] = replace(rec, title=title, billable=billable)
                if c.change == "added":
                    self.release_of[key] = c.release

    def _newer_than_code_lists(self, change: Change, newest: Snapshot | None) -> bool:
        if newest is None:
            return True
        date = self._date_of(change)
        return date is not None and newest.effective is not None and date > newest.effective


def _name(release: Release | None) -> str:
    return release.name if release else ""


def _count(items: Iterable[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def _prefix_parent(index: dict[str, str], code: str) -> str | None:
    """The longest code of the same system that the code starts with (T81.32XA -> T81.32), if any."""
    key = compact(code)
    return next((index[key[:n]] for n in range(len(key) - 1, 0, -1) if key[:n] in index), None)


def _progress(records: Iterator[Record], label: str) -> Iterator[Record]:
    if not sys.stderr.isatty():
        yield from records
        return
    from tqdm import tqdm

    with tqdm(desc=label, unit=" rec", unit_scale=True, leave=False, mininterval=0.5) as bar:
        for i, rec in enumerate(records, 1):
            yield rec
            if i % 2000 == 0:
                bar.update(2000)


def build_index(
    sources: list[tuple[str, Path]],
    out: Path,
    log: Callable[[str], None] = lambda _msg: None,
    steps: Sequence[PostBuildStep] = (),
    side_steps: Sequence[PostBuildStep] = (),
) -> BuildReport:
    """Parse every (importer name, path), write the index to `out` atomically, running `steps` on the
    finished tables and `side_steps` beside them (see _SideWorker: in a worker process when the machine
    has a second core, else after `steps`)."""
    with _collector_off():
        return _build_index(sources, out, log, steps, side_steps)


@contextmanager
def _collector_off() -> Iterator[None]:
    """Python's cycle collector paused for the build: it allocates a million records that live until
    written and form no cycles, and the collector's passes over them cost ~7 s of CPU. The records are
    freed by reference counting; _Collector.forget collects once, explicitly."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _build_index(sources: list[tuple[str, Path]], out: Path, log: Callable[[str], None],
                 steps: Sequence[PostBuildStep], side_steps: Sequence[PostBuildStep]) -> BuildReport:
    started = time.perf_counter()
    report = BuildReport(out=out)
    collector = _Collector()
    # A second process for the side steps, started now so that it imports them while the sources are read;
    # a small build is done before the worker would have started.
    size = sum(Path(p).stat().st_size for _n, p in sources if Path(p).is_file())
    worker = SideWorker(side_steps) if side_steps and _cores() > 1 and size >= WORKER_MIN_BYTES else None
    try:
        _read_and_write(sources, out, log, steps, side_steps, worker, report, collector)
    finally:
        if worker is not None:
            worker.close()
    report.seconds = time.perf_counter() - started
    return report


WORKER_MIN_BYTES = 8_000_000  # of source files; the default build reads 73 MB


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _read_and_write(sources: list[tuple[str, Path]], out: Path, log: Callable[[str], None],
                    steps: Sequence[PostBuildStep], side_steps: Sequence[PostBuildStep], worker: SideWorker | None,
                    report: BuildReport, collector: _Collector) -> None:
    for name, path in sources:
        path = Path(path)
        if not path.is_file():
            raise SourceError(path, "no such file")
        t0 = time.perf_counter()
        src = SourceReport(name=name, path=str(path), sha256=file_sha256(path), size=path.stat().st_size,
                           provenance=_provenance(path))
        collector.add(_progress(reader(name)(path), f"{name}: {path.name}"), src)
        if sum(src.counts.values()) == 0:
            raise SourceError(path, f"no {name} records found: is this the right file?")
        src.seconds = time.perf_counter() - t0
        report.sources.append(src)
        log(f"read {name:<9} {path.name}: {_counts_text(src.counts)} in {src.seconds:.1f}s")
    _finish(collector, report, out, log, steps, side_steps, worker)


def _provenance(path: Path) -> dict[str, Any] | None:
    """A data-layer file's provenance record, after checking the file against it; None for official files."""
    return data.verify(path).as_dict() if data.is_derived(path) else None


def build_from_records(records: Iterable[Record], out: Path, name: str = "records",
                       steps: Sequence[PostBuildStep] = (), side_steps: Sequence[PostBuildStep] = ()) -> BuildReport:
    """Build an index straight from records (tests, content packs): same tables, same steps, the side
    steps after the others in this process (a small index is built before a worker would have started)."""
    report = BuildReport(out=out)
    collector = _Collector()
    src = SourceReport(name=name, path=f"<{name}>", sha256="", size=0)
    collector.add(records, src)
    report.sources.append(src)
    _finish(collector, report, out, lambda _m: None, steps, side_steps, None)
    return report


def _finish(collector: _Collector, report: BuildReport, out: Path, log: Callable[[str], None],
            steps: Sequence[PostBuildStep], side_steps: Sequence[PostBuildStep], worker: SideWorker | None) -> None:
    collector.apply_history()
    report.unresolved = collector.resolve_terms(report.sources, log)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(out, log)
    # the pid in the name says whose it is; the lock held on it while writing says it is alive
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.{os.getpid()}.", suffix=BUILDING, dir=out.parent)
    tmp = Path(tmp_name)
    try:
        _lock(fd, blocking=True)
        _write(tmp, collector, report, log, steps, side_steps, worker)
        # synchronous=OFF while writing is safe only because nothing reads the file before this:
        # its bytes reach the disk before the rename makes it the index, and the rename itself
        # before the build says it is done (a power cut then leaves the old index or the new one)
        os.fsync(fd)
        os.replace(tmp, out)
        _fsync_dir(out.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


BUILDING = ".building"


def remove_stale_builds(out: Path, log: Callable[[str], None] = lambda _m: None) -> list[Path]:
    """Delete what killed builds of `out` left behind (a 100-200 MB file each); a build still
    running holds a lock on its file and keeps it."""
    removed = []
    for path in out.parent.glob(f".{out.name}.*{BUILDING}"):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # gone meanwhile
        try:
            if not _lock(fd, blocking=False):
                continue  # a build at work
            path.unlink(missing_ok=True)
            removed.append(path)
            log(f"removed {path.name}, left by a build that did not finish")
        finally:
            os.close(fd)
    return removed


def _lock(fd: int, *, blocking: bool) -> bool:
    """An exclusive lock on the open file, released by the system when its holder dies."""
    try:
        import fcntl
    except ImportError:  # Windows: a running build's file cannot be deleted there anyway
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # a platform that cannot open directories (Windows) orders renames itself
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{v:,} {k}" for k, v in counts.items() if v)


def _write(tmp: Path, collector: _Collector, report: BuildReport, log: Callable[[str], None],
           steps: Sequence[PostBuildStep], side_steps: Sequence[PostBuildStep], worker: SideWorker | None) -> None:
    conn = sqlite3.connect(tmp, timeout=BUSY_SECONDS)
    try:
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;")
        tables, indexes = _split_ddl(DDL)
        conn.executescript(tables)
        t0 = time.perf_counter()
        _write_sources(conn, report)
        report.orphans = orphans(collector.codes.values())
        _write_codes(conn, collector, report)
        _write_links(conn, collector)
        conn.executescript(indexes)  # once, over the written rows: cheaper than kept up row by row
        conn.commit()
        report.steps["write"] = time.perf_counter() - t0
        log(f"step write: {report.steps['write']:.1f}s")
        collector.forget()  # the steps below read the tables: the records' memory is better spent there
        if worker is None:
            for step in (*steps, *side_steps):
                _run_step(conn, step, report, log)
        else:
            _run_beside(conn, tmp, worker, steps, report, log)
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute("INSERT INTO meta VALUES ('built_at', ?)", (_now(),))
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()


def _run_beside(conn: sqlite3.Connection, tmp: Path, worker: SideWorker, steps: Sequence[PostBuildStep],
                report: BuildReport, log: Callable[[str], None]) -> None:
    """The steps here while the worker runs the side steps on the same committed tables."""
    # The worker reads the index while these steps write it: their pages stay in memory until each
    # step commits (one short exclusive lock), instead of spilling to the file mid-step and locking
    # the worker out for the whole step.
    conn.execute("PRAGMA cache_spill=OFF")
    worker.go(tmp, tmp.with_name(tmp.name.removesuffix(BUILDING) + ".side" + BUILDING))
    for step in steps:
        _run_step(conn, step, report, log)
    t0 = time.perf_counter()
    for name, seconds in worker.finish(conn).items():
        report.steps[name] = seconds
        log(f"step {name}: {seconds:.1f}s (in the build worker)")
    report.steps["merge"] = time.perf_counter() - t0
    log(f"step merge: {report.steps['merge']:.1f}s (waiting for the build worker and copying its tables)")
    conn.execute("PRAGMA cache_spill=ON")


def _run_step(conn: sqlite3.Connection, step: PostBuildStep, report: BuildReport,
              log: Callable[[str], None]) -> None:
    name = step_label(step)
    t0 = time.perf_counter()
    step(conn, report)
    conn.commit()
    report.steps[name] = time.perf_counter() - t0
    log(f"step {name}: {report.steps[name]:.1f}s")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_sources(conn: sqlite3.Connection, report: BuildReport) -> None:
    for i, src in enumerate(report.sources, 1):
        conn.execute(
            "INSERT INTO sources VALUES (?,?,?,?,?,?,?,?,?,?)",
            (i, src.name, src.path, src.sha256, src.size, json.dumps(src.releases),
             json.dumps(src.counts), _now(), round(src.seconds, 3),
             json.dumps(src.provenance, ensure_ascii=False) if src.provenance else None),
        )
        for rel in src.releases:
            # A release only an index came in (the FY2025 index beside FY2026 codes) is no release of codes
            # in force: the sources table lists it, the releases table does not.
            if rel["system"] in src.code_systems or not src.code_systems and not src.counts.get("terms"):
                conn.execute("INSERT INTO releases VALUES (?,?,?,?)",
                             (rel["system"], rel["name"], rel["effective"], i))


def _split_ddl(ddl: str) -> tuple[str, str]:
    """(the CREATE TABLE statements, the CREATE INDEX statements) of the schema."""
    bare = "\n".join(line.split("--", 1)[0] for line in ddl.splitlines())  # comments may hold a ";"
    statements = [s.strip() for s in bare.split(";") if s.strip()]
    is_index = [any(line.lstrip().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX")) for line in s.splitlines())
                for s in statements]
    tables = ";\n".join(s for s, i in zip(statements, is_index, strict=True) if not i)
    indexes = ";\n".join(s for s, i in zip(statements, is_index, strict=True) if i)
    return tables + ";", indexes + ";"


# One encoder each, made once: json.dumps with options builds a new one per call.
_LIST_JSON = json.JSONEncoder(ensure_ascii=False).encode
_OBJECT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ASCII_OBJECT_JSON = json.JSONEncoder(separators=(",", ":")).encode


class _AttributesJson:
    """A code's attributes as _OBJECT_JSON writes them, byte for byte, with each mapping that many codes
    share (a PCS table's axis values: 560,000 of them in 80,000 codes, 20,000 distinct) encoded once."""

    def __init__(self) -> None:
        self.shared: dict[int, tuple[Any, str]] = {}  # id -> (the mapping, kept alive; its JSON)

    def __call__(self, attributes: Any) -> str:
        if not all(isinstance(k, str) for k in attributes):
            return _OBJECT_JSON(dict(attributes))
        return "{" + ",".join(f"{_OBJECT_JSON(k)}:{self._value(v)}" for k, v in attributes.items()) + "}"

    def _value(self, value: Any) -> str:
        if isinstance(value, list) and value and all(type(x) is dict for x in value):
            return "[" + ",".join(self._mapping(x) for x in value) + "]"
        return _OBJECT_JSON(value)

    def _mapping(self, mapping: dict[str, Any]) -> str:
        known = self.shared.get(id(mapping))
        if known is None:
            known = self.shared[id(mapping)] = (mapping, _OBJECT_JSON(mapping))
        return known[1]


def _write_codes(conn: sqlite3.Connection, collector: _Collector, report: BuildReport) -> None:
    rows = []
    attributes_json = _AttributesJson()
    seq_by_system: dict[str, int] = {}
    for code, depth in walk(collector.codes.values()):
        seq = seq_by_system.get(code.system, 0)
        seq_by_system[code.system] = seq + 1
        rows.append((
            code.system, code.code, compact(code.code), code.title, code.short_title, code.kind,
            None if code.billable is None else int(code.billable), code.parent, depth, seq,
            collector.release_of.get((code.system, code.code)) or None,
            collector.deleted.get((code.system, code.code)),
            _LIST_JSON([[n.type, n.text] for n in code.notes]) if code.notes else "[]",
            _LIST_JSON(list(code.synonyms)) if code.synonyms else "[]",
            attributes_json(code.attributes) if code.attributes else "{}",
        ))
    conn.executemany(
        "INSERT INTO codes (system, code, compact, title, short_title, kind, billable, parent, depth, seq,"
        " release, deleted_in, notes, synonyms, attributes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    report.counts_by_system = dict(sorted(seq_by_system.items()))


def _write_links(conn: sqlite3.Connection, collector: _Collector) -> None:
    seen: set[tuple[str, str, str]] = set()
    term_rows = []
    for t, _release, _source in collector.terms:
        key = (t.system, t.code, t.term)
        if key not in seen:
            seen.add(key)
            term_rows.append((t.system, t.code, t.term, t.source, _path(t.path)))
    conn.executemany("INSERT INTO terms VALUES (?,?,?,?,?)", term_rows)
    refs = dict.fromkeys((r.system, r.term, _path(r.path), r.kind, r.target, r.source)
                         for r, _release, _source in collector.references)
    conn.executemany("INSERT INTO term_refs VALUES (?,?,?,?,?,?)", refs)
    conn.executemany("INSERT INTO unresolved_terms VALUES (?,?,?,?,?,?,?,?)",
                     ((t.system, t.code, t.term, t.source, _path(t.path), release, reason, source)
                      for t, release, source, reason in collector.unresolved))
    conn.executemany(
        "INSERT INTO history (system, code, release, effective, change, old_title, new_title, source)"
        " VALUES (?,?,?,?,?,?,?,?)",
        ((c.system, c.code, c.release, c.effective, c.change, c.old_title, c.new_title, c.source)
         for c in collector.changes),
    )
    # 176,000 relations share a few dozen attribute mappings (a GEM's flag patterns): each is encoded once
    encoded: dict[int, tuple[Any, str]] = {}

    def attributes(value: Any) -> str:
        known = encoded.get(id(value))
        if known is None or known[0] is not value:
            known = encoded[id(value)] = (value, _ASCII_OBJECT_JSON(dict(value)))
        return known[1]

    conn.executemany(
        "INSERT INTO relations VALUES (?,?,?,?,?,?)",
        ((r.type, r.source_system, r.source_code, r.target_system, r.target_code, attributes(r.attributes))
         for r in collector.relations),
    )


def _path(levels: tuple[str, ...]) -> str:
    return _OBJECT_JSON(list(levels))


def check_schema(conn: sqlite3.Connection, path: Path) -> None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.DatabaseError as e:
        raise MedcodesError(f"{path}: not a medcodes index ({e}); run `medcodes build`") from None
    if not row or int(row[0]) != SCHEMA_VERSION:
        raise MedcodesError(f"{path}: index schema {row[0] if row else '?'} is not {SCHEMA_VERSION}; "
                            "run `medcodes build` to rebuild it")
