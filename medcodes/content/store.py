"""Generated explainer text in the durable store (`settings.store_path()`), apart from the index.

The index is derived data that `medcodes build` replaces; generated text costs model time and
human review, so it lives in the store file, which other layers share (policies use their own
`policies*`/`links` tables). Every table here starts with `content_`. The schema changes only
through the named migrations below, applied in order and recorded, never by rebuilding.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import migrations
from ..errors import BadRequest, MedcodesError

REVIEW_STATUSES = ("unreviewed", "approved", "rejected")

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("content_0001_explainers", """
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
"""),
    # Codes waiting for generated text, asked for by page views (medcodes.content.queue). One row
    # per code: the primary key is what deduplicates across workers and replicas sharing the store.
    ("content_0002_queue", """
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
"""),
)

_COLUMNS = ("system, code, prompt_version, section_set, sections, model, created, facts_hash, attempts, seconds,"
            " origin, review_status, reviewed_by, reviewed_at, review_note")


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class ContentStore:
    """The content_ tables of one store file. Each thread gets its own connection."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.exists = self.path.is_file()
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.migrate()
            self.exists = True

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def migrate(self) -> list[str]:
        """Apply the migrations this store has not seen yet; returns their names."""
        return migrations.migrate(self.conn, "content_migrations", MIGRATIONS)

    def _ready(self) -> bool:
        """Whether there is anything to read (a read never creates the store file)."""
        if not self.exists:
            self.exists = self.path.is_file()
            if not self.exists:
                return False
        row = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='content_explainers'").fetchone()
        return row is not None

    # -- writing -------------------------------------------------------------
    def put(self, item: dict[str, Any], *, commit: bool = True) -> None:
        """Insert or replace one explainer (a dict with the table's columns; sections as a list)."""
        row = {"attempts": 1, "seconds": None, "origin": "generated", "review_status": "unreviewed",
               "reviewed_by": None, "reviewed_at": None, "review_note": None, **item}
        if row["review_status"] not in REVIEW_STATUSES:
            raise BadRequest(f"review status {row['review_status']!r} is not one of {', '.join(REVIEW_STATUSES)}")
        row["sections"] = json.dumps(row["sections"], ensure_ascii=False)
        names = [c.strip() for c in _COLUMNS.split(",")]
        self.conn.execute(f"INSERT OR REPLACE INTO content_explainers ({_COLUMNS}) VALUES"
                          f" ({', '.join(':' + n for n in names)})", {n: row[n] for n in names})
        if commit:
            self.conn.commit()

    def fail(self, system: str, code: str, prompt_version: str, model: str, attempts: int, reason: str) -> None:
        self.conn.execute("INSERT INTO content_failures VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (system, code, prompt_version, model, now(), attempts, reason[:2000]))

    def commit(self) -> None:
        self.conn.commit()

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
            self.conn.execute("INSERT INTO content_reviews VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        rows = self.conn.execute("SELECT * FROM content_reviews WHERE system=? AND code=? ORDER BY at, rowid",
                                 (system, code))
        return [dict(r) for r in rows]

    def failures(self, system: str, code: str) -> list[dict[str, Any]]:
        if not self._ready():
            return []
        rows = self.conn.execute("SELECT * FROM content_failures WHERE system=? AND code=? ORDER BY at, rowid",
                                 (system, code))
        return [dict(r) for r in rows]

    def open_failures(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest failure of each code that has no stored text since: what a reviewer looks at."""
        if not self._ready():
            return []
        rows = self.conn.execute(
            "SELECT f.* FROM content_failures f WHERE f.rowid = (SELECT MAX(rowid) FROM content_failures g"
            " WHERE g.system=f.system AND g.code=f.code) AND NOT EXISTS (SELECT 1 FROM content_explainers e"
            " WHERE e.system=f.system AND e.code=f.code AND e.created > f.at) ORDER BY f.at DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    def counts(self) -> dict[str, int]:
        if not self._ready():
            return {}
        rows = self.conn.execute("SELECT review_status, COUNT(*) FROM content_explainers GROUP BY review_status")
        return {r[0]: r[1] for r in rows}

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["sections"] = json.loads(out["sections"])
    return out
