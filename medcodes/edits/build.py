"""The build step that stores coding edits beside the codes (a POST_BUILD_STEPS step of the index build).

Facts are written only for the ICD-10-CM/PCS codes the index holds, in their canonical form; a table
row for a code that the loaded release lacks is counted (`edit_sources.unmatched`), not kept.

Tables:
- `edit_sources`: one row per official file read: what it is, its version, the package that ships it,
  its SHA-256, how many of its rows matched a loaded code.
- `code_edits`: one row per (system, code, fact), the fact's value as JSON and the file it comes from.
  Facts: `cc_mcc` (Table 6I/6J), `cc_exclusion` (Table 6K), `ms_drg` (Definitions Manual lists,
  kept raw: see tables.groups()), `hcc` (CMS-HCC V28), `mce` (the Medicare Code Editor lists a code is on).
- `cc_collections`: each PDX exclusion collection of Table 6K with its principal diagnoses.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from ..errors import SourceError
from ..files import file_sha256
from . import tables
from .sources import HCC_MODEL, MCE_ON, EditFile, embedded_files

SYSTEMS = ("icd10cm", "icd10pcs")

DDL = """
DROP TABLE IF EXISTS edit_sources;
DROP TABLE IF EXISTS code_edits;
DROP TABLE IF EXISTS cc_collections;
CREATE TABLE edit_sources (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,           -- table6i, table6j, table6k, msdrg_lists, hcc_map, mce
    title TEXT NOT NULL,
    version TEXT NOT NULL,
    publisher TEXT NOT NULL,
    package TEXT NOT NULL,
    file TEXT NOT NULL,          -- file name inside the package
    sha256 TEXT NOT NULL,
    rows INTEGER NOT NULL,       -- facts the file holds
    unmatched INTEGER NOT NULL   -- of them, for codes the index does not hold
);
CREATE TABLE code_edits (
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    fact TEXT NOT NULL,
    source_id INTEGER NOT NULL REFERENCES edit_sources(id),
    value TEXT NOT NULL,         -- JSON
    PRIMARY KEY (system, code, fact)
) WITHOUT ROWID;
CREATE TABLE cc_collections (
    name TEXT PRIMARY KEY,       -- "0005"
    source_id INTEGER NOT NULL REFERENCES edit_sources(id),
    codes TEXT NOT NULL          -- JSON list of principal diagnoses, canonical form
) WITHOUT ROWID;
"""

Fact = tuple[str, str, str, str]  # (system, compact code, fact, value JSON)


def build(conn: sqlite3.Connection, report: Any = None, files: list[EditFile] | None = None) -> None:
    """Read each edit table and store its facts for the loaded codes; nothing when no ICD-10 code is loaded."""
    loaded = _loaded(conn)
    if not any(loaded.values()):
        return
    conn.executescript(DDL)
    found = {f.key: f for f in (embedded_files() if files is None else files)}
    # Table 6K feeds two tables: read once
    excl = _parsed(tables.read_cc_exclusions, found["table6k"].path) if "table6k" in found else None
    for key, rows in _facts(found, excl):
        _write(conn, found[key], rows, loaded)
    if excl is not None:
        _write_collections(conn, excl, loaded["icd10cm"])


def prepare() -> None:
    """Parse the installed tables the step reads, before there is an index to read codes from: the
    build worker (medcodes.index.worker) calls this while the build still reads its sources."""
    found = {f.key: f for f in embedded_files()}
    for key, read in (("table6k", tables.read_cc_exclusions), ("msdrg_lists", tables.read_drg_groups),
                      ("mce", _read_mce)):
        if key in found:
            _parsed(read, found[key].path)


def _loaded(conn: sqlite3.Connection) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {s: {} for s in SYSTEMS}
    for system, code, compact in conn.execute(
            f"SELECT system, code, compact FROM codes WHERE system IN ({','.join('?' * len(SYSTEMS))})", SYSTEMS):
        out[system][compact] = code
    return out


def _facts(found: dict[str, EditFile], excl: tables.CcExclusions | None) -> Iterator[tuple[str, Iterable[Fact]]]:
    """(file key, its facts) for each file present."""
    for key in ("table6i", "table6j"):
        if key in found:
            yield key, _cc_list(found[key])
    if excl is not None:
        yield "table6k", _exclusions(excl)
    if "msdrg_lists" in found:
        yield "msdrg_lists", _drg_lists(found["msdrg_lists"])
    if "mce" in found:
        yield "mce", _mce(found["mce"])
    if "hcc_map" in found and "hcc_labels" in found:
        yield "hcc_map", _hcc(found["hcc_map"], found["hcc_labels"])


def _cc_list(f: EditFile) -> Iterator[Fact]:
    value = json.dumps({"level": tables.cc_list_level(f.path)})
    for code in tables.read_cc_list(f.path):
        yield "icd10cm", code, "cc_mcc", value


def _exclusions(x: tables.CcExclusions) -> Iterator[Fact]:
    for code, level in x.levels.items():
        collection = x.collection_of.get(code)
        value = {"level": level, "collection": collection,
                 "principal_count": len(x.collections[collection]) if collection else 0,
                 "alive_only": code in x.alive_only, "drg_exclusions": x.drg_exclusions.get(code, [])}
        yield "icd10cm", code, "cc_exclusion", json.dumps(value, separators=(",", ":"))


def _drg_lists(f: EditFile) -> Iterator[Fact]:
    lists = _parsed(tables.read_drg_groups, f.path)
    for system, entries in (("icd10cm", lists.dx), ("icd10pcs", lists.pcs)):
        for code, raw in entries.items():
            # 125,000 lists: joined, not json.dumps'd, when no string needs escaping (a third of the step)
            if lists.plain:
                value = '["' + '","'.join(raw) + '"]' if raw else "[]"
            else:
                value = json.dumps(raw, separators=(",", ":"))
            yield system, code, "ms_drg", value


def _mce(f: EditFile) -> Iterator[Fact]:
    mce = _parsed(_read_mce, f.path)
    for system, lists in (("icd10cm", mce.dx), ("icd10pcs", mce.pcs)):
        for code, names in lists.items():
            if names:  # a code on no list has no MCE edit: "checked" says the tables were read
                ages = {n: mce.ages[n] for n in names if n in mce.ages}
                yield system, code, "mce", json.dumps({"lists": names, "ages": ages}, separators=(",", ":"))


def _read_mce(path: Path) -> tables.Mce:
    return tables.read_mce(path, MCE_ON)


def _hcc(mapping: EditFile, labels: EditFile) -> Iterator[Fact]:
    for code, hccs in tables.read_hcc(mapping.path, labels.path, HCC_MODEL, "V28").items():
        yield "icd10cm", code, "hcc", json.dumps({"model": "CMS-HCC V28", "categories": hccs}, separators=(",", ":"))


def _write(conn: sqlite3.Connection, f: EditFile, rows: Iterable[Fact],
           loaded: dict[str, dict[str, str]]) -> None:
    cur = conn.execute("INSERT INTO edit_sources (key, title, version, publisher, package, file, sha256, rows,"
                       " unmatched) VALUES (?,?,?,?,?,?,?,0,0)",
                       (f.key, f.title, f.version, f.publisher, f.package, f.path.name, _sha256(f.path)))
    source_id = cur.lastrowid
    total = unmatched = 0
    batch: list[tuple[str, str, str, int | None, str]] = []
    for system, compact, fact, value in rows:
        total += 1
        code = loaded[system].get(compact)
        if code is None:
            unmatched += 1
            continue
        batch.append((system, code, fact, source_id, value))
    if total == 0:
        raise SourceError(f.path, f"no {f.title} rows found: is this the right file?")
    conn.executemany("INSERT OR REPLACE INTO code_edits VALUES (?,?,?,?,?)", batch)
    conn.execute("UPDATE edit_sources SET rows=?, unmatched=? WHERE id=?", (total, unmatched, source_id))


def _write_collections(conn: sqlite3.Connection, x: tables.CcExclusions, loaded: dict[str, str]) -> None:
    source_id = conn.execute("SELECT id FROM edit_sources WHERE key='table6k'").fetchone()[0]
    conn.executemany("INSERT INTO cc_collections VALUES (?,?,?)",
                     ((name, source_id, json.dumps([loaded.get(c, c) for c in codes], separators=(",", ":")))
                      for name, codes in x.collections.items()))


T = TypeVar("T")


def _parsed(read: Callable[[Path], T], path: Path) -> T:
    """The parsed table, read once per process and file version: a test session builds many small
    indexes, each of which would otherwise parse the same 17 MB Table 6K again."""
    st = path.stat()
    return cast(T, _parse_once(read, path, st.st_size, st.st_mtime_ns))


@functools.lru_cache(maxsize=6)
def _parse_once(read: Callable[[Path], Any], path: Path, _size: int, _mtime: int) -> Any:
    return read(path)


def _sha256(path: Path) -> str:
    return file_sha256(path)
