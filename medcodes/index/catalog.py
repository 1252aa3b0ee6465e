"""Read-only access to the index: code lookups, history and a code's official data.

The application layer (medcodes.app.codes) adds what the other layers know about a code to
`Catalog.official()`; the index knows nothing of them.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Any

from .. import settings, systems
from ..errors import MedcodesError, NotFound
from ..memo import file_stamp
from ..record import AsOf, CodeRecord, CodeRef, Crosswalk, HistoryEvent, IndexRef, IndexTerm, Note
from ..service_date import Event, Release, on_date
from ..storage import Location, location
from .build import check_schema

# Note types that apply to everything below the code they are written on.
# Inclusion terms and definitions describe only their own code.
INHERITED_NOTE_TYPES = frozenset(
    {"includes", "excludes1", "excludes2", "code_first", "use_additional", "code_also",
     "seventh_character", "note"}
)

_CODE_COLUMNS = ("system, code, title, short_title, kind, billable, parent, depth, seq, release, deleted_in,"
                 " notes, synonyms, attributes")


class Catalog:
    """An open index. Safe to share between threads: each thread gets its own connection, all to the
    one file that was at `path` when the Catalog opened (`stamp`).

    `store` is the durable store (policies, generated text) the code data reads besides the index;
    by default MEDCODES_STORE, else the file beside the index.
    """

    def __init__(self, path: str | Path, *, store: str | Path | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise MedcodesError(f"{self.path}: no index here; run `medcodes build` first")
        # a file path, or a PostgreSQL URL several servers share (medcodes.storage)
        self.store_path: Location = location(store if store else settings.store_path(str(self.path)))
        self._local = threading.local()
        self._referrals_cache: dict[tuple[str, str], list[IndexRef]] | None = None
        # every connection, closed when the Catalog goes: a connection is in a reference cycle (its
        # statement cache), so without this one opened to a replaced file would hold the deleted
        # file open until a full collection, and never once the server has frozen its objects
        self._opened: list[sqlite3.Connection] = []
        weakref.finalize(self, _close_all, self._opened)
        for _ in range(10):  # a build renaming a file into place right now: open the one after it
            self.stamp = file_stamp(self.path)
            self._first = self._connect()
            if file_stamp(self.path) == self.stamp:
                break
        self._local.conn = self._first
        check_schema(self._first, self.path)

    def _connect(self) -> sqlite3.Connection:
        # immutable=1: no locking, no change detection: a rebuild renames a new file into place,
        # connections already open keep reading the old inode, and a server opens a new Catalog
        # for the next request (index/live.py)
        conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        self._opened.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            if file_stamp(self.path) != self.stamp:
                # the path holds a newer file than this Catalog's: this thread shares the first
                # connection (SQLite serialises it), so one request never reads two files
                self._opened.remove(conn)
                conn.close()
                conn = self._first
            self._local.conn = conn
        return conn

    def close_thread_connection(self) -> None:
        """Close this thread's connection (a short-lived worker thread's, before it ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            if conn is not self._first:
                self._opened.remove(conn)
                conn.close()

    # -- lookups ---------------------------------------------------------------
    def find(self, text: str, system: str | None = None) -> list[sqlite3.Row]:
        """All codes the user's text may mean ("e119" -> ICD-10-CM E11.9), any system unless given."""
        if system:
            systems.get(system)
            code = systems.normalize(system, text)
            rows = self.conn.execute(
                f"SELECT {_CODE_COLUMNS} FROM codes WHERE system=? AND (code=? OR compact=?)",
                (system, code, systems.compact(text)),
            ).fetchall()
        else:
            rows = self.conn.execute(
                f"SELECT {_CODE_COLUMNS} FROM codes WHERE compact=? OR code=? ORDER BY system",
                (systems.compact(text), text.strip().upper()),
            ).fetchall()
        return rows

    def row(self, system: str, code: str) -> sqlite3.Row:
        rows = self.find(code, system)
        if not rows:
            raise NotFound(f"{systems.get(system).name} code {code!r} not found")
        return rows[0]

    def titles(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], sqlite3.Row]:
        out: dict[tuple[str, str], sqlite3.Row] = {}
        for system, code in keys:
            r = self.conn.execute(
                "SELECT system, code, title, kind, billable FROM codes WHERE system=? AND code=?",
                (system, code),
            ).fetchone()
            if r:
                out[(system, code)] = r
        return out

    def ancestors(self, row: sqlite3.Row) -> list[sqlite3.Row]:
        chain: list[sqlite3.Row] = []
        parent = row["parent"]
        while parent:
            p = self.conn.execute(
                f"SELECT {_CODE_COLUMNS} FROM codes WHERE system=? AND code=?", (row["system"], parent)
            ).fetchone()
            if p is None:
                break
            chain.append(p)
            parent = p["parent"]
        chain.reverse()
        return chain

    def children(self, system: str, code: str | None) -> list[sqlite3.Row]:
        if code is None:
            sql = f"SELECT {_CODE_COLUMNS} FROM codes WHERE system=? AND parent IS NULL ORDER BY seq"
            return self.conn.execute(sql, (system,)).fetchall()
        sql = f"SELECT {_CODE_COLUMNS} FROM codes WHERE system=? AND parent=? ORDER BY seq"
        return self.conn.execute(sql, (system, code)).fetchall()

    def code_range(self, system: str, first: str, last: str) -> list[sqlite3.Row]:
        """Codes from `first` to `last` inclusive in the system's code order (with their subtrees)."""
        a, b = self.row(system, first), self.row(system, last)
        lo, hi = a["seq"], b["seq"]
        if lo > hi:
            lo, hi = hi, lo
        # the last code's descendants belong to the range too (E13 covers E13.9)
        end = self.conn.execute(
            "SELECT COALESCE(MIN(seq), 1e18) FROM codes WHERE system=? AND seq>? AND depth<=?",
            (system, hi, b["depth"]),
        ).fetchone()[0]
        return self.conn.execute(
            f"SELECT {_CODE_COLUMNS} FROM codes WHERE system=? AND seq>=? AND seq<? ORDER BY seq",
            (system, lo, end),
        ).fetchall()

    def terms(self, system: str, code: str) -> list[IndexTerm]:
        """The code's index entries with their paths, the references made on them or on an entry above
        them, and the references that lead to them."""
        rows = self.conn.execute(
            "SELECT term, source, path FROM terms WHERE system=? AND code=? ORDER BY source, term", (system, code)
        ).fetchall()
        entries = [(r["term"], r["source"], tuple(json.loads(r["path"] or "[]"))) for r in rows]
        above = {term: _entries_above(term, path) for term, _source, path in entries}
        named = {t for terms in above.values() for t in terms}
        refs: dict[str, list[IndexRef]] = {}
        referred: dict[str, list[IndexRef]] = {}
        if named:
            for chunk in _chunks(sorted(named), 400):
                marks = ",".join("?" * len(chunk))
                for r in self.conn.execute(f"SELECT term, kind, target FROM term_refs WHERE system=? AND term IN"
                                           f" ({marks}) ORDER BY rowid", (system, *chunk)):
                    refs.setdefault(r["term"], []).append(IndexRef(r["kind"], r["term"], r["target"]))
            leading = self._referrals()
            for term, _source, _path in entries:
                referred[term] = leading.get((system, _plain_entry(term)), [])
        return [IndexTerm(term, source, path, tuple(ref for t in above[term] for ref in refs.get(t, ())),
                          tuple(referred.get(term, ())))
                for term, source, path in entries]

    def _referrals(self) -> dict[tuple[str, str], list[IndexRef]]:
        """(system, entry named) -> the "see" and "see also" references naming it, read once per Catalog
        (20,000 of them; term_refs has no index on the entry referred to)."""
        cached = self._referrals_cache
        if cached is None:
            cached = {}
            try:
                rows = self.conn.execute("SELECT system, term, kind, target FROM term_refs WHERE kind != 'use'"
                                         " ORDER BY rowid").fetchall()
            except sqlite3.OperationalError:  # an index built before references were kept
                rows = []
            for r in rows:
                cached.setdefault((r["system"], r["target"]), []).append(IndexRef(r["kind"], r["term"], r["target"]))
            self._referrals_cache = cached
        return cached

    def crosswalks(self, system: str, code: str) -> list[Crosswalk]:
        found = []
        sql_to = ("SELECT type, target_system AS system, target_code AS code, attributes FROM relations"
                  " WHERE source_system=? AND source_code=?")
        sql_from = ("SELECT type, source_system AS system, source_code AS code, attributes FROM relations"
                    " WHERE target_system=? AND target_code=?")
        for direction, sql in (("to", sql_to), ("from", sql_from)):
            found += [(direction, r) for r in self.conn.execute(sql, (system, code))]
        titles = self.titles([(r["system"], r["code"]) for _, r in found])
        return [Crosswalk(direction, r["type"], r["system"], r["code"], json.loads(r["attributes"]),
                          hit["title"] if (hit := titles.get((r["system"], r["code"]))) else None)
                for direction, r in found]

    def sources(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM sources ORDER BY id").fetchall()
        return [{**dict(r), "releases": json.loads(r["releases"]), "counts": json.loads(r["counts"]),
                 "provenance": json.loads(r["provenance"]) if r["provenance"] else None}
                for r in rows]

    def unresolved_terms(self, system: str | None = None, source: str | None = None) -> list[dict[str, Any]]:
        """Index entries whose code is not in the loaded release (the build leaves them out of `terms`)."""
        sql = ("SELECT u.system, u.code, u.term, u.source, u.path, u.release, u.reason, s.path AS file"
               " FROM unresolved_terms u JOIN sources s ON s.id = u.source_id"
               " WHERE (? IS NULL OR u.system = ?) AND (? IS NULL OR u.source = ?) ORDER BY u.rowid")
        return [{**dict(r), "path": json.loads(r["path"])}
                for r in self.conn.execute(sql, (system, system, source, source))]

    def term_refs(self, system: str, term: str) -> list[dict[str, str]]:
        """The see / see also / use references of one index entry (Term.term form)."""
        rows = self.conn.execute("SELECT kind, target, source FROM term_refs WHERE system=? AND term=?"
                                 " ORDER BY rowid", (system, term)).fetchall()
        return [dict(r) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT system, COUNT(*) FROM codes GROUP BY system").fetchall()
        return {r[0]: r[1] for r in rows}

    def releases(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in self.conn.execute("SELECT system, name FROM releases ORDER BY source_id"):
            out.setdefault(r[0], [])
            if r[1] not in out[r[0]]:
                out[r[0]].append(r[1])
        return out

    # -- history -------------------------------------------------------------
    def history(self, system: str, code: str) -> list[HistoryEvent]:
        rows = self.conn.execute(
            "SELECT release, effective, change, old_title, new_title, source FROM history"
            " WHERE system=? AND code=? ORDER BY effective, rowid", (system, code),
        ).fetchall()
        return [HistoryEvent(r["release"], r["effective"], r["change"], r["old_title"], r["new_title"], r["source"],
                             tuple(self.replaced_by(system, code, r["release"])) if r["change"] == "deleted" else None)
                for r in rows]

    def replaced_by(self, system: str, code: str, release: str) -> list[str]:
        """Codes the same release added under the deleted code's stem (how ICD-10 expands a code)."""
        stem = systems.compact(code)
        rows = self.conn.execute(
            "SELECT h.code FROM history h JOIN codes c ON c.system=h.system AND c.code=h.code"
            " WHERE h.system=? AND h.release=? AND h.change='added' AND c.compact LIKE ? ORDER BY c.seq",
            (system, release, stem + "%"),
        ).fetchall()
        return [r[0] for r in rows]

    def changes(self, system: str, release: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT code, change, old_title, new_title, effective, source FROM history WHERE system=? AND release=?"
            " ORDER BY change, code", (system, release),
        ).fetchall()
        return [dict(r) for r in rows]

    def change_releases(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            # one HCPCS release holds action dates from earlier quarters: the release's date is the latest
            "SELECT system, release, MAX(effective) AS effective, change, COUNT(*) AS n FROM history"
            " GROUP BY system, release, change ORDER BY system, effective").fetchall()
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for r in rows:
            item = out.setdefault((r["system"], r["release"]), {
                "system": r["system"], "release": r["release"], "effective": r["effective"],
                "added": 0, "revised": 0, "deleted": 0})
            item[r["change"]] = r["n"]
        return list(out.values())

    def as_of(self, system: str, code: str, date: str) -> AsOf:
        """The code on `date` (ISO): the date-of-service rule (medcodes.service_date) applied to its
        loaded history. `valid` is None when no loaded release of the system was in force then."""
        row = self.row(system, code)
        events = [Event(e.effective or "", e.change, e.release, e.old_title, e.replaced_by or ())
                  for e in self.history(system, row["code"])]
        billable = None if row["billable"] is None else bool(row["billable"])
        return on_date(date, system, events, self.loaded_releases(system), title=row["title"], billable=billable,
                       deleted_in=row["deleted_in"])

    def loaded_releases(self, system: str) -> list[Release]:
        """(name, effective or "") of each release of `system` the build loaded, in load order."""
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT name, coalesce(effective, '') FROM releases WHERE system=? ORDER BY rowid", (system,))]

    # -- the official data ---------------------------------------------------
    def official(self, system: str, code: str) -> CodeRecord:
        """What the official files say about one code: the part of its record the index knows."""
        return self._official(self.row(system, code))

    def _official(self, row: sqlite3.Row) -> CodeRecord:
        ancestors = self.ancestors(row)
        sys_info = systems.get(row["system"])
        return CodeRecord(
            system=row["system"],
            system_name=sys_info.name,
            system_label=sys_info.label,
            fhir_system=sys_info.fhir_uri,
            code=row["code"],
            in_index=True,
            title=row["title"],
            short_title=row["short_title"],
            kind=row["kind"],
            billable=None if row["billable"] is None else bool(row["billable"]),
            release=row["release"],
            ancestors=tuple(_brief(a) for a in ancestors),
            children=tuple(_brief(c) for c in self.children(row["system"], row["code"])),
            notes=tuple(resolved_notes(row, ancestors)),
            synonyms=tuple(json.loads(row["synonyms"])),
            index_terms=tuple(self.terms(row["system"], row["code"])),
            crosswalks=tuple(self.crosswalks(row["system"], row["code"])),
            attributes=json.loads(row["attributes"]),
            deleted_in=row["deleted_in"],
            history=tuple(self.history(row["system"], row["code"])),
        )


def _close_all(conns: list[sqlite3.Connection]) -> None:
    for conn in conns:
        conn.close()


def _brief(r: sqlite3.Row) -> CodeRef:
    billable = None if r["billable"] is None else bool(r["billable"])
    return CodeRef(r["system"], r["code"], r["title"], r["kind"], billable)


def resolved_notes(row: sqlite3.Row, ancestors: list[sqlite3.Row]) -> list[Note]:
    """Own notes first, then the notes of each ancestor that apply below it, nearest first."""
    notes = [Note(t, x, None) for t, x in json.loads(row["notes"])]
    for anc in reversed(ancestors):
        for t, x in json.loads(anc["notes"]):
            if t in INHERITED_NOTE_TYPES:
                notes.append(Note(t, x, anc["code"]))
    return notes


_PARENTHESES = re.compile(r"\s*\([^)]*\)")


def _entries_above(term: str, path: tuple[str, ...]) -> list[str]:
    """The entry and those above it, as term_refs names them ("Pain(s), abdominal" -> "Pain(s)", itself):
    levels joined by ", ", a table's column after " — "."""
    return [", ".join(path[:n]) for n in range(1, len(path))] + [term]


def _plain_entry(term: str) -> str:
    """An entry as another names it in a reference: without nonessential modifiers ("Pain(s) (see also
    Painful), abdominal" -> "Pain, abdominal")."""
    return re.sub(r"\s+,", ",", _PARENTHESES.sub("", term)).strip()


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
