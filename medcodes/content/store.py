"""Generated explainer text in the durable store (`settings.store_path()`), apart from the index.

The index is derived data that `medcodes build` replaces; generated text costs model time and
human review, so it lives in the store file, which other layers share (policies use their own
`policies*`/`links` tables). Every table here starts with `content_`. The schema changes only
through the named migrations below, applied in order and recorded, never by rebuilding.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import migrations, storage
from ..errors import BadRequest, MedcodesError
from ..migrations import Migration

REVIEW_STATUSES = ("unreviewed", "approved", "rejected")


def _both(sql: str) -> dict[str, str]:
    """A migration for SQLite and PostgreSQL: REAL is double precision there, and the tables read in
    insertion order (reviews, failures, the queue) get the `rowid` SQLite gives every table."""
    postgres = sql.replace(" REAL", " DOUBLE PRECISION")
    for table in ("content_reviews", "content_failures", "content_queue"):
        postgres = postgres.replace(f"CREATE TABLE {table} (\n", f"CREATE TABLE {table} (\n    rowid BIGSERIAL,\n")
    return {"sqlite": sql, "postgresql": postgres}

MIGRATIONS: tuple[Migration, ...] = (
    ("content_0001_explainers", _both("""
CREATE TABLE content_explainers (
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    section_set TEXT NOT NULL,       -- procedure / diagnosis / supply / modifier / drg
    sections TEXT NOT NULL,          -- JSON [{key, title, text, items?}]
    model TEXT NOT NULL,
    created TEXT NOT NULL,           -- ISO 8601 UTC
    facts_hash TEXT NOT NULL,        -- hash of the official facts the prompt was grounded in
    attempts INTEGER NOT NULL DEFAULT 1,
    seconds REAL,
    origin TEXT NOT NULL DEFAULT 'generated',  -- or 'imported'
    review_status TEXT NOT NULL DEFAULT 'unreviewed',
    reviewed_by TEXT,
    reviewed_at TEXT,
    review_note TEXT,
    PRIMARY KEY (system, code, prompt_version)
);
CREATE TABLE content_reviews (
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    status TEXT NOT NULL,
    reviewer TEXT,
    note TEXT,
    at TEXT NOT NULL
);
CREATE TABLE content_failures (
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    model TEXT NOT NULL,
    at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX content_failures_code ON content_failures (system, code);
""")),
    # Codes waiting for generated text, asked for by page views (medcodes.content.queue). One row
    # per code: the primary key is what deduplicates across workers and replicas sharing the store.
    ("content_0002_queue", _both("""
CREATE TABLE content_queue (
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL,            -- queued / failed (a finished code's row is deleted)
    queued_at TEXT NOT NULL,         -- ISO 8601 UTC
    claimed_by TEXT,                 -- the worker generating it now (host:pid:id), else NULL
    claimed_at REAL,                 -- unix seconds: a claim older than the stale limit is taken over
    failures INTEGER NOT NULL DEFAULT 0,
    retry_after REAL,                -- unix seconds: a failed code is not queued again before this
    reason TEXT,                     -- why the last try failed
    PRIMARY KEY (system, code)
);
CREATE INDEX content_queue_status ON content_queue (status, queued_at);
""")),
)

_COLUMNS = ("system, code, prompt_version, section_set, sections, model, created, facts_hash, attempts, seconds,"
            " origin, review_status, reviewed_by, reviewed_at, review_note")

_NAMES = [c.strip() for c in _COLUMNS.split(",")]
_KEY = ("system", "code", "prompt_version")
# insert or replace the one row of (system, code, prompt_version): an upsert both dialects read
_UPSERT = (f"INSERT INTO content_explainers ({_COLUMNS}) VALUES ({', '.join('?' for _ in _NAMES)})"
           f" ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET "
           + ", ".join(f"{n}=excluded.{n}" for n in _NAMES if n not in _KEY))
_FAILURE_COLUMNS = "system, code, prompt_version, model, at, attempts, reason"


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class ContentStore:
    """The content_ tables of one store: a SQLite file, or a PostgreSQL database (medcodes.storage)."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.db = storage.open_store(path)
        self.path = self.db.location
        self.exists = self.db.exists()
        self._ready_seen = False
        if create:
            self.migrate()
            self.exists = True

    @property
    def conn(self) -> storage.Store:
        return self.db

    def migrate(self) -> list[str]:
        """Apply the migrations this store has not seen yet; returns their names."""
        return migrations.migrate(self.db, "content_migrations", MIGRATIONS)

    def _ready(self) -> bool:
        """Whether there is anything to read (a read never creates the store file)."""
        if self._ready_seen:
            return True
        if not self.exists:
            self.exists = self.db.exists()
            if not self.exists:
                return False
        self._ready_seen = self.db.has_table("content_explainers")  # tables, once made, stay
        return self._ready_seen

    # -- writing -------------------------------------------------------------
    def put(self, item: dict[str, Any], *, commit: bool = True) -> None:
        """Insert or replace one explainer (a dict with the table's columns; sections as a list)."""
        row = {"attempts": 1, "seconds": None, "origin": "generated", "review_status": "unreviewed",
               "reviewed_by": None, "reviewed_at": None, "review_note": None, **item}
        if row["review_status"] not in REVIEW_STATUSES:
            raise BadRequest(f"review status {row['review_status']!r} is not one of {', '.join(REVIEW_STATUSES)}")
        row["sections"] = json.dumps(row["sections"], ensure_ascii=False)
        if not commit and not self.db.in_transaction:
            self.db.begin()  # the caller commits a batch with commit()
        self.db.execute(_UPSERT, [row[n] for n in _NAMES])

    def fail(self, system: str, code: str, prompt_version: str, model: str, attempts: int, reason: str) -> None:
        self.db.execute("INSERT INTO content_failures (system, code, prompt_version, model, at, attempts, reason)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (system, code, prompt_version, model, now(), attempts, reason[:2000]))

    def commit(self) -> None:
        self.db.commit()

    def review(self, system: str, code: str, status: str, *, reviewer: str | None = None,
               note: str | None = None, prompt_version: str | None = None) -> dict[str, Any]:
        if status not in REVIEW_STATUSES:
            raise BadRequest(f"review status {status!r} is not one of {', '.join(REVIEW_STATUSES)}")
        current = self.get(system, code, prompt_version=prompt_version, include_rejected=True)
        if current is None:
            raise MedcodesError(f"no generated text stored for {system} {code}")
        at = now()
        with self.conn:
            self.conn.execute(
                "UPDATE content_explainers SET review_status=?, reviewed_by=?, reviewed_at=?, review_note=?"
                " WHERE system=? AND code=? AND prompt_version=?",
                (status, reviewer, at, note, system, code, current["prompt_version"]))
            self.conn.execute("INSERT INTO content_reviews (system, code, prompt_version, status, reviewer, note, at)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (system, code, current["prompt_version"], status, reviewer, note, at))
        return {**current, "review_status": status, "reviewed_by": reviewer, "reviewed_at": at, "review_note": note}

    # -- reading -------------------------------------------------------------
    def get(self, system: str, code: str, *, prompt_version: str | None = None,
            include_rejected: bool = False, approved_only: bool = False) -> dict[str, Any] | None:
        """The explainer to show: the given prompt version, else approved first, then the newest
        (only approved text when `approved_only`: an operator who shows reviewed text only)."""
        if not self._ready():
            return None
        sql = f"SELECT {_COLUMNS} FROM content_explainers WHERE system=? AND code=?"
        args: list[Any] = [system, code]
        if prompt_version:
            sql += " AND prompt_version=?"
            args.append(prompt_version)
        if approved_only:
            sql += " AND review_status = 'approved'"
        elif not include_rejected:
            sql += " AND review_status != 'rejected'"
        sql += " ORDER BY review_status='approved' DESC, created DESC LIMIT 1"
        row = self.conn.execute(sql, args).fetchone()
        return _decode(row) if row else None

    def done(self, prompt_version: str) -> set[tuple[str, str]]:
        """(system, code) pairs already stored for this prompt version: what a resumed run skips."""
        if not self._ready():
            return set()
        rows = self.conn.execute("SELECT system, code FROM content_explainers WHERE prompt_version=?",
                                 (prompt_version,))
        return {(r[0], r[1]) for r in rows}

    def iter_all(self) -> Iterator[dict[str, Any]]:
        if not self._ready():
            return
        sql = f"SELECT {_COLUMNS} FROM content_explainers ORDER BY system, code, prompt_version"
        for row in self.conn.execute(sql):
            yield _decode(row)

    def reviews(self, system: str, code: str) -> list[dict[str, Any]]:
        if not self._ready():
            return []
        rows = self.conn.execute("SELECT system, code, prompt_version, status, reviewer, note, at FROM content_reviews"
                                 " WHERE system=? AND code=? ORDER BY at, rowid",
                                 (system, code))
        return [dict(r) for r in rows]

    def failures(self, system: str, code: str) -> list[dict[str, Any]]:
        if not self._ready():
            return []
        rows = self.conn.execute(f"SELECT {_FAILURE_COLUMNS} FROM content_failures WHERE system=? AND code=?"
                                 " ORDER BY at, rowid",
                                 (system, code))
        return [dict(r) for r in rows]

    def open_failures(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest failure of each code that has no stored text since: what a reviewer looks at."""
        if not self._ready():
            return []
        rows = self.conn.execute(
            f"SELECT {_FAILURE_COLUMNS} FROM content_failures f"
            " WHERE f.rowid = (SELECT MAX(rowid) FROM content_failures g WHERE g.system=f.system AND g.code=f.code)"
            " AND NOT EXISTS (SELECT 1 FROM content_explainers e WHERE e.system=f.system AND e.code=f.code"
            " AND e.created > f.at) ORDER BY f.at DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    def counts(self) -> dict[str, int]:
        if not self._ready():
            return {}
        rows = self.conn.execute("SELECT review_status, COUNT(*) FROM content_explainers GROUP BY review_status")
        return {r[0]: r[1] for r in rows}

    def close(self) -> None:
        self.db.close()


def _decode(row: storage.RowLike) -> dict[str, Any]:
    out = dict(row)
    out["sections"] = json.loads(out["sections"])
    return out
