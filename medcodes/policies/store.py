"""Policies in the durable store (`settings.store_path()`), apart from the index `medcodes build` replaces.

Tables (all named policy*): `policies` (one row per policy, pointing at its current version),
`policy_versions` (every version kept, with its content hash, text and sanitised HTML),
`policy_links` (system, code, section, snippet per version), `policy_ranges` (ranges in systems
the catalog does not hold, per version) and `policy_fts` (the current text, for search).

Re-ingesting a document whose text changed adds a version and points the policy at it; the old
version and its links stay. Ingesting the same text again changes nothing. Each write is one
transaction: a failure leaves the store as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import migrations
from .extract import EXTRACTOR_VERSION
from .records import PolicyRecord

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("policy_0001_tables", """
CREATE TABLE policies (
    id TEXT PRIMARY KEY,
    payer TEXT NOT NULL,
    title TEXT NOT NULL,
    number TEXT,
    kind TEXT NOT NULL,              -- document, map, lcd, article, ncd
    url TEXT,
    source TEXT,                     -- the file or URL it was read from (how a re-ingest finds it)
    effective TEXT,
    last_reviewed TEXT,
    current_version INTEGER NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX policies_source ON policies (source);
CREATE INDEX policies_number ON policies (payer, number);
CREATE TABLE policy_versions (
    policy_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    extractor TEXT NOT NULL,
    ingested TEXT NOT NULL,
    format TEXT,
    title TEXT NOT NULL,
    effective TEXT,
    last_reviewed TEXT,
    text TEXT NOT NULL,
    html TEXT,
    links INTEGER NOT NULL,
    PRIMARY KEY (policy_id, version)
);
CREATE TABLE policy_links (
    policy_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    section TEXT NOT NULL,
    snippet TEXT NOT NULL,
    mention TEXT NOT NULL,
    validated INTEGER NOT NULL,
    PRIMARY KEY (policy_id, version, system, code, section)
) WITHOUT ROWID;
CREATE INDEX policy_links_code ON policy_links (system, code);
CREATE TABLE policy_ranges (
    policy_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    system TEXT NOT NULL,
    first TEXT NOT NULL,
    last TEXT NOT NULL,
    section TEXT NOT NULL,
    snippet TEXT NOT NULL,
    mention TEXT NOT NULL,
    PRIMARY KEY (policy_id, version, system, first, last, section)
) WITHOUT ROWID;
CREATE INDEX policy_ranges_system ON policy_ranges (system, first);
CREATE VIRTUAL TABLE policy_fts USING fts5(policy_id UNINDEXED, title, payer, number, body);
"""),
    # What a code's similar codes read (which policies cite which codes) changes only with these
    # tables: a counter the store raises on every write to them lets a reader remember answers
    # until then, whatever else (the content queue) writes to the same file. `store` tells one
    # store's counter from another's after a restore.
    ("policy_0002_changes", """
CREATE TABLE policy_changes (store TEXT NOT NULL, n INTEGER NOT NULL);
INSERT INTO policy_changes VALUES (lower(hex(randomblob(8))), 0);
""" + "".join(f"CREATE TRIGGER {table}_{op.lower()}_counted AFTER {op} ON {table}"
              " BEGIN UPDATE policy_changes SET n = n + 1; END;\n"
              for table in ("policies", "policy_versions", "policy_links", "policy_ranges")
              for op in ("INSERT", "UPDATE", "DELETE"))),
)

FTS_BODY_CHARS = 500_000


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def text_hash(text: str) -> str:
    """The content hash of a version: its text with white space normalised (markup churn is no change)."""
    return hashlib.sha256(re.sub(r"\s+", " ", text).strip().encode("utf-8")).hexdigest()


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")
    return re.sub(r"-{2,}", "-", s)[:80] or "policy"


@dataclass(frozen=True, slots=True)
class PutResult:
    policy_id: str
    version: int
    status: str  # "new", "updated" (a new version), "relinked", "metadata", "unchanged"
    links: int
    ranges: int


class PolicyStore:
    """The policy tables of one store file. Each thread gets its own connection."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        self._local = threading.local()
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.migrate()

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            # WAL: the web app keeps reading while an ingest writes; NORMAL: one fsync per checkpoint, not per commit
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All of it or none of it; IMMEDIATE so two ingests never interleave their version numbers."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def migrate(self) -> list[str]:
        """Apply the migrations this store has not seen yet; returns their names."""
        return migrations.migrate(self.conn, "policy_migrations", MIGRATIONS)

    # -- writing ---------------------------------------------------------------------------
    def put(self, record: PolicyRecord) -> PutResult:
        with self.transaction() as conn:
            pid = self._identify(conn, record)
            row = conn.execute("SELECT * FROM policies WHERE id=?", (pid,)).fetchone()
            if row is None:
                self._insert_policy(conn, pid, record)
                return self._add_version(conn, pid, 1, record, "new")
            current = conn.execute("SELECT * FROM policy_versions WHERE policy_id=? AND version=?",
                                   (pid, row["current_version"])).fetchone()
            if current["content_hash"] != record.content_hash:
                self._update_policy(conn, pid, record, row["current_version"] + 1)
                return self._add_version(conn, pid, row["current_version"] + 1, record, "updated")
            if current["extractor"] != EXTRACTOR_VERSION:
                return self._relink(conn, pid, current["version"], record)
            if _meta_changed(row, record):
                self._update_policy(conn, pid, record, row["current_version"])
                conn.execute("UPDATE policy_versions SET title=?, effective=?, last_reviewed=? WHERE policy_id=? "
                             "AND version=?", (record.title, record.effective, record.last_reviewed, pid,
                                               current["version"]))
                self._index_text(conn, pid, record)
                return PutResult(pid, current["version"], "metadata", current["links"], 0)
            return PutResult(pid, current["version"], "unchanged", current["links"], 0)

    def _identify(self, conn: sqlite3.Connection, record: PolicyRecord) -> str:
        if record.policy_id:
            return record.policy_id
        if record.source:
            row = conn.execute("SELECT id FROM policies WHERE source=? ORDER BY created LIMIT 1",
                               (record.source,)).fetchone()
            if row:
                return str(row[0])
        if record.number:
            row = conn.execute("SELECT id FROM policies WHERE payer=? AND number=? ORDER BY created LIMIT 1",
                               (record.payer, record.number)).fetchone()
            if row:
                return str(row[0])
        base = slug(f"{record.payer} {record.number or record.title}")
        candidate, n = base, 1
        while conn.execute("SELECT 1 FROM policies WHERE id=?", (candidate,)).fetchone():
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def _insert_policy(self, conn: sqlite3.Connection, pid: str, r: PolicyRecord) -> None:
        t = now()
        conn.execute(
            "INSERT INTO policies (id, payer, title, number, kind, url, source, effective, last_reviewed,"
            " current_version, created, updated, attributes) VALUES (?,?,?,?,?,?,?,?,?,1,?,?,?)",
            (pid, r.payer, r.title, r.number, r.kind, r.url, r.source, r.effective, r.last_reviewed, t, t,
             json.dumps(dict(r.attributes), sort_keys=True)))

    def _update_policy(self, conn: sqlite3.Connection, pid: str, r: PolicyRecord, version: int) -> None:
        conn.execute(
            "UPDATE policies SET payer=?, title=?, number=?, kind=?, url=COALESCE(?, url), source=COALESCE(?, source),"
            " effective=?, last_reviewed=?, current_version=?, updated=?, attributes=? WHERE id=?",
            (r.payer, r.title, r.number, r.kind, r.url, r.source, r.effective, r.last_reviewed, version, now(),
             json.dumps(dict(r.attributes), sort_keys=True), pid))

    def _add_version(self, conn: sqlite3.Connection, pid: str, version: int, r: PolicyRecord,
                     status: str) -> PutResult:
        conn.execute(
            "INSERT INTO policy_versions (policy_id, version, content_hash, extractor, ingested, format, title,"
            " effective, last_reviewed, text, html, links) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (pid, version, r.content_hash, EXTRACTOR_VERSION, now(), r.format, r.title, r.effective,
             r.last_reviewed, r.text, r.html, len(r.links)))
        self._write_links(conn, pid, version, r)
        self._index_text(conn, pid, r)
        return PutResult(pid, version, status, len(r.links), len(r.ranges))

    def _relink(self, conn: sqlite3.Connection, pid: str, version: int, r: PolicyRecord) -> PutResult:
        """Same text, newer extractor: the current version's links are redone in place."""
        conn.execute("DELETE FROM policy_links WHERE policy_id=? AND version=?", (pid, version))
        conn.execute("DELETE FROM policy_ranges WHERE policy_id=? AND version=?", (pid, version))
        conn.execute("UPDATE policy_versions SET extractor=?, links=? WHERE policy_id=? AND version=?",
                     (EXTRACTOR_VERSION, len(r.links), pid, version))
        self._write_links(conn, pid, version, r)
        return PutResult(pid, version, "relinked", len(r.links), len(r.ranges))

    def _write_links(self, conn: sqlite3.Connection, pid: str, version: int, r: PolicyRecord) -> None:
        conn.executemany(
            "INSERT OR IGNORE INTO policy_links VALUES (?,?,?,?,?,?,?,?)",
            ((pid, version, x.system, x.code, x.section, x.snippet, x.mention, int(x.validated)) for x in r.links))
        conn.executemany(
            "INSERT OR IGNORE INTO policy_ranges VALUES (?,?,?,?,?,?,?,?)",
            ((pid, version, x.system, x.first, x.last, x.section, x.snippet, x.mention) for x in r.ranges))

    def _index_text(self, conn: sqlite3.Connection, pid: str, r: PolicyRecord) -> None:
        conn.execute("DELETE FROM policy_fts WHERE policy_id=?", (pid,))
        conn.execute("INSERT INTO policy_fts (policy_id, title, payer, number, body) VALUES (?,?,?,?,?)",
                     (pid, r.title, r.payer, r.number or "", r.text[:FTS_BODY_CHARS]))

    def delete(self, policy_id: str) -> bool:
        with self.transaction() as conn:
            found = conn.execute("DELETE FROM policies WHERE id=?", (policy_id,)).rowcount > 0
            for table in ("policy_versions", "policy_links", "policy_ranges", "policy_fts"):
                conn.execute(f"DELETE FROM {table} WHERE policy_id=?", (policy_id,))
        return found


def _meta_changed(row: sqlite3.Row, r: PolicyRecord) -> bool:
    now_ = (r.payer, r.title, r.number, r.effective, r.last_reviewed, r.url or row["url"])
    was = (row["payer"], row["title"], row["number"], row["effective"], row["last_reviewed"], row["url"])
    return now_ != was


_READERS = threading.local()
READERS_PER_THREAD = 4


def reader(path: str | Path) -> sqlite3.Connection | None:
    """This thread's read-only connection to the store, kept open between calls (opening one costs
    more than a code page's policy queries); None when there is no store yet. Reopened when the file
    is replaced; WAL readers see every commit, so an ingest shows on the next query."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    cache: dict[tuple[str, int, int], sqlite3.Connection] = _READERS.__dict__.setdefault("conns", {})
    # the inode and change time tell a replaced file (a path reused, an inode number reused) from the same one
    key = (str(p), st.st_ino, st.st_ctime_ns)
    conn = cache.pop(key, None)
    if conn is None:
        for old in [k for k in cache if k[0] == key[0]]:  # replaced or checkpointed: open afresh
            cache.pop(old).close()
        conn = connect_readonly(p)
        if conn is None:
            return None
        while len(cache) >= READERS_PER_THREAD:
            cache.pop(next(iter(cache))).close()  # the least recently used
    cache[key] = conn  # the most recently used last
    return conn


def links_version(path: str | Path) -> tuple[str, int] | None:
    """What changes whenever a policy, a version or a link is written (not when other tables of the
    store are): ("", 0) without policy tables, None for a store that has not run its migrations
    since the counter came (the caller then watches the whole file)."""
    conn = reader(path)
    if conn is None:
        return ("", 0)
    try:
        row = conn.execute("SELECT store, n FROM policy_changes").fetchone()
    except sqlite3.OperationalError:
        return None
    return (str(row[0]), int(row[1])) if row else None


def connect_readonly(path: str | Path) -> sqlite3.Connection | None:
    """A read-only connection, or None when there is no store yet (a read never creates one)."""
    p = Path(path)
    if not p.is_file():
        return None
    conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True, timeout=30, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='policies'").fetchone()
    if row is None:
        conn.close()
        return None
    return conn


def policy_dict(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "policy_id": row["id"], "payer": row["payer"], "title": row["title"], "number": row["number"],
        "kind": row["kind"], "url": row["url"], "effective": row["effective"],
        "last_reviewed": row["last_reviewed"], "version": row["current_version"],
        "updated": row["updated"], "attributes": json.loads(row["attributes"] or "{}"),
    }
