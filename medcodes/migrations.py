"""The one migration runner for the durable store: each layer (policies, generated content) keeps its
list of named migrations and a table recording which ran; this applies the ones a file has not seen."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime

Migration = tuple[str, str]  # (name, SQL: statements separated by ";" at the end of a line)


def statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";\n") if s.strip()]


def migrate(conn: sqlite3.Connection, table: str, migrations: Sequence[Migration]) -> list[str]:
    """Apply the migrations `table` does not list, each in one transaction with its record; returns
    their names. BEGIN IMMEDIATE: two processes starting together take turns, and the second sees the
    first one's record, so none runs twice."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    if conn.in_transaction:
        conn.execute("COMMIT")
    applied = []
    for name, sql in migrations:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute(f"SELECT 1 FROM {table} WHERE name=?", (name,)).fetchone() is None:
                for statement in statements(sql):
                    conn.execute(statement)
                applied_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
                conn.execute(f"INSERT INTO {table} VALUES (?, ?)", (name, applied_at))
                applied.append(name)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return applied
