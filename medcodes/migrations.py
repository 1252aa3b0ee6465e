"""The one migration runner for the durable store: each layer (policies, generated content) keeps its
list of named migrations and a table recording which ran; this applies the ones a store has not seen,
on SQLite and on PostgreSQL alike.

A migration's SQL is one text for both, or a mapping {dialect: SQL} where the two differ (full-text
search, a column standing in for SQLite's rowid). Its name is the same on both, so a store moved from
one to the other (`medcodes store backup` / `restore`) knows what it has."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from .storage import SQLiteStore, Store

Migration = tuple[str, str | Mapping[str, str]]  # (name, SQL: statements separated by ";" at the end of a line)


def statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";\n") if s.strip()]


def sql_for(sql: str | Mapping[str, str], dialect: str) -> str:
    return sql if isinstance(sql, str) else sql[dialect]


def migrate(store: Store | sqlite3.Connection, table: str, migrations: Sequence[Migration]) -> list[str]:
    """Apply the migrations `table` does not list, each in one transaction with its record; returns
    their names. Each runs as the store's only writer (BEGIN IMMEDIATE; an advisory lock on
    PostgreSQL): two servers starting together take turns, and the second sees the first one's
    record, so none runs twice."""
    if isinstance(store, sqlite3.Connection):
        if store.in_transaction:
            store.commit()
        store = SQLiteStore.wrapping(store)
    if store.has_table(table):  # the usual case, every start after the first: no write lock taken
        seen = {r[0] for r in store.execute(f"SELECT name FROM {table}")}
        if all(name in seen for name, _ in migrations):
            return []
    with store.transaction(exclusive=True):
        store.execute(f"CREATE TABLE IF NOT EXISTS {table} (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    applied = []
    for name, sql in migrations:
        with store.transaction(exclusive=True):
            if store.execute(f"SELECT 1 FROM {table} WHERE name=?", (name,)).fetchone() is None:
                store.run_script(statements(sql_for(sql, store.dialect)))
                applied_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
                store.execute(f"INSERT INTO {table} VALUES (?, ?)", (name, applied_at))
                applied.append(name)
    return applied
