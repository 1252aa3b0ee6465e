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
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import migrations, storage
from ..migrations import Migration
from .extract import EXTRACTOR_VERSION
from .records import PolicyRecord

_TABLES = """
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
""" + "CREATE VIRTUAL TABLE policy_fts USING fts5(policy_id UNINDEXED, title, payer, number, body);\n"
_SQLITE_FTS = _TABLES.splitlines()[-1]
# the words of title, number, payer and body, weighted A to D (ranked like the FTS5 table's bm25 weights)
_POSTGRES_FTS = """
CREATE TABLE policy_fts (
    policy_id TEXT NOT NULL,
    title TEXT NOT NULL,
    payer TEXT NOT NULL,
    number TEXT NOT NULL,
    body TEXT NOT NULL,
    words tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', number), 'B')
        || setweight(to_tsvector('simple', payer), 'C') || setweight(to_tsvector('simple', body), 'D')) STORED
);
CREATE INDEX policy_fts_policy ON policy_fts (policy_id);
CREATE INDEX policy_fts_words ON policy_fts USING GIN (words)"""
_COUNTED = ("policies", "policy_versions", "policy_links", "policy_ranges")  # what similar codes read
MIGRATIONS: tuple[Migration, ...] = (
    ("policy_0001_tables", {
        "sqlite": _TABLES,
        # the same tables; full-text search in PostgreSQL's own form
        "postgresql": _TABLES.replace(") WITHOUT ROWID;", ");").replace(_SQLITE_FTS, _POSTGRES_FTS),
    }),
    # What a code's similar codes read (which policies cite which codes) changes only with these
    # tables: a counter the store raises on every write to them lets a reader remember answers
    # until then, whatever else (the content queue) writes to the same file. `store` tells one
    # store's counter from another's after a restore.
    ("policy_0002_changes", {
        "sqlite": """
CREATE TABLE policy_changes (store TEXT NOT NULL, n INTEGER NOT NULL);
INSERT INTO policy_changes VALUES (lower(hex(randomblob(8))), 0);
""" + "".join(f"CREATE TRIGGER {table}_{op.lower()}_counted AFTER {op} ON {table}"
              " BEGIN UPDATE policy_changes SET n = n + 1; END;\n"
              for table in _COUNTED for op in ("INSERT", "UPDATE", "DELETE")),
        # one trigger per statement, not per row: an ingest's 20,000 links move the counter once
        "postgresql": """
CREATE TABLE policy_changes (store TEXT NOT NULL, n BIGINT NOT NULL);
INSERT INTO policy_changes VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 16), 0);
CREATE FUNCTION policy_changes_count() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN UPDATE policy_changes SET n = n + 1; RETURN NULL; END $$;
""" + "".join(f"CREATE TRIGGER {table}_counted AFTER INSERT OR UPDATE OR DELETE ON {table}"
              " FOR EACH STATEMENT EXECUTE FUNCTION policy_changes_count();\n" for table in _COUNTED),
    }),
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
    """The policy tables of one store: a SQLite file, or a PostgreSQL database (medcodes.storage)."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.db = storage.open_store(path)
        self.path = self.db.location
        if create:
            self.migrate()

    @property
    def conn(self) -> storage.Store:
        return self.db

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> AbstractContextManager[storage.Store]:
        """All of it or none of it, as the store's only writer so two ingests (from any server)
        never interleave their version numbers."""
        return self.db.transaction(exclusive=True)

    def migrate(self) -> list[str]:
        """Apply the migrations this store has not seen yet; returns their names."""
        return migrations.migrate(self.db, "policy_migrations", MIGRATIONS)

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

    def _identify(self, conn: storage.Store, record: PolicyRecord) -> str:
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

    def _insert_policy(self, conn: storage.Store, pid: str, r: PolicyRecord) -> None:
        t = now()
        conn.execute(
            "INSERT INTO policies (id, payer, title, number, kind, url, source, effective, last_reviewed,"
            " current_version, created, updated, attributes) VALUES (?,?,?,?,?,?,?,?,?,1,?,?,?)",
            (pid, r.payer, r.title, r.number, r.kind, r.url, r.source, r.effective, r.last_reviewed, t, t,
             json.dumps(dict(r.attributes), sort_keys=True)))

    def _update_policy(self, conn: storage.Store, pid: str, r: PolicyRecord, version: int) -> None:
        conn.execute(
            "UPDATE policies SET payer=?, title=?, number=?, kind=?, url=COALESCE(?, url), source=COALESCE(?, source),"
            " effective=?, last_reviewed=?, current_version=?, updated=?, attributes=? WHERE id=?",
            (r.payer, r.title, r.number, r.kind, r.url, r.source, r.effective, r.last_reviewed, version, now(),
             json.dumps(dict(r.attributes), sort_keys=True), pid))

    def _add_version(self, conn: storage.Store, pid: str, version: int, r: PolicyRecord,
                     status: str) -> PutResult:
        conn.execute(
            "INSERT INTO policy_versions (policy_id, version, content_hash, extractor, ingested, format, title,"
            " effective, last_reviewed, text, html, links) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (pid, version, r.content_hash, EXTRACTOR_VERSION, now(), r.format, r.title, r.effective,
             r.last_reviewed, r.text, r.html, len(r.links)))
        self._write_links(conn, pid, version, r)
        self._index_text(conn, pid, r)
        return PutResult(pid, version, status, len(r.links), len(r.ranges))

    def _relink(self, conn: storage.Store, pid: str, version: int, r: PolicyRecord) -> PutResult:
        """Same text, newer extractor: the current version's links are redone in place."""
        conn.execute("DELETE FROM policy_links WHERE policy_id=? AND version=?", (pid, version))
        conn.execute("DELETE FROM policy_ranges WHERE policy_id=? AND version=?", (pid, version))
        conn.execute("UPDATE policy_versions SET extractor=?, links=? WHERE policy_id=? AND version=?",
                     (EXTRACTOR_VERSION, len(r.links), pid, version))
        self._write_links(conn, pid, version, r)
        return PutResult(pid, version, "relinked", len(r.links), len(r.ranges))

    def _write_links(self, conn: storage.Store, pid: str, version: int, r: PolicyRecord) -> None:
        conn.executemany(
            "INSERT INTO policy_links VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            ((pid, version, x.system, x.code, x.section, x.snippet, x.mention, int(x.validated)) for x in r.links))
        conn.executemany(
            "INSERT INTO policy_ranges VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            ((pid, version, x.system, x.first, x.last, x.section, x.snippet, x.mention) for x in r.ranges))

    def _index_text(self, conn: storage.Store, pid: str, r: PolicyRecord) -> None:
        conn.execute("DELETE FROM policy_fts WHERE policy_id=?", (pid,))
        conn.execute("INSERT INTO policy_fts (policy_id, title, payer, number, body) VALUES (?,?,?,?,?)",
                     (pid, r.title, r.payer, r.number or "", r.text[:FTS_BODY_CHARS]))

    def delete(self, policy_id: str) -> bool:
        with self.transaction() as conn:
            found = conn.execute("DELETE FROM policies WHERE id=?", (policy_id,)).rowcount > 0
            for table in ("policy_versions", "policy_links", "policy_ranges", "policy_fts"):
                conn.execute(f"DELETE FROM {table} WHERE policy_id=?", (policy_id,))
        return found


def _meta_changed(row: storage.RowLike, r: PolicyRecord) -> bool:
    now_ = (r.payer, r.title, r.number, r.effective, r.last_reviewed, r.url or row["url"])
    was = (row["payer"], row["title"], row["number"], row["effective"], row["last_reviewed"], row["url"])
    return now_ != was


def reader(path: str | Path) -> storage.Store | None:
    """The process's read-only view of the store, shared by its threads; None when there is no
    store yet (a read never creates one). On SQLite each thread's connection is kept open between
    calls (opening one costs more than a code page's policy queries) and reopened when the file is
    replaced; WAL readers see every commit, so an ingest shows on the next query. On PostgreSQL
    every server sees every commit of every other at once."""
    db = storage.open_store(path, readonly=True)
    if not db.exists():
        return None
    if not getattr(db, "has_policies", False):
        if not db.has_table("policies"):
            return None
        db.has_policies = True  # type: ignore[attr-defined]  # tables, once made, stay
    return db


def links_version(path: str | Path) -> tuple[str, int] | None:
    """What changes whenever a policy, a version or a link is written (not when other tables of the
    store are): ("", 0) without policy tables, None for a store that has not run its migrations
    since the counter came (the caller then watches the whole file)."""
    db = reader(path)
    if db is None:
        return ("", 0)
    try:
        row = db.execute("SELECT store, n FROM policy_changes").fetchone()
    except storage.STORE_ERRORS:
        return None
    return (str(row[0]), int(row[1])) if row else None


def policy_dict(row: storage.RowLike) -> dict[str, Any]:
    return {
        "policy_id": row["id"], "payer": row["payer"], "title": row["title"], "number": row["number"],
        "kind": row["kind"], "url": row["url"], "effective": row["effective"],
        "last_reviewed": row["last_reviewed"], "version": row["current_version"],
        "updated": row["updated"], "attributes": json.loads(row["attributes"] or "{}"),
    }
