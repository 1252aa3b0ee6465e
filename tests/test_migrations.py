"""The one migration runner of the durable store (medcodes.migrations)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from medcodes import migrations

STEPS = (("m1", "CREATE TABLE a (x INTEGER);\nCREATE INDEX a_x ON a (x);\n"),
         ("m2", "ALTER TABLE a ADD COLUMN y TEXT;\n"))


def test_each_migration_runs_once_whichever_connection_sees_it_first(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    first, second = sqlite3.connect(path), sqlite3.connect(path, isolation_level=None)
    assert migrations.migrate(first, "t_migrations", STEPS[:1]) == ["m1"]
    assert migrations.migrate(second, "t_migrations", STEPS) == ["m2"]
    assert migrations.migrate(first, "t_migrations", STEPS) == []
    assert [r[1] for r in first.execute("PRAGMA table_info(a)")] == ["x", "y"]


def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "store.sqlite")
    broken = (("m1", "CREATE TABLE b (x INTEGER);\nCREATE TABLE b (x INTEGER);\n"),)
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        migrations.migrate(conn, "t_migrations", broken)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='b'").fetchone() is None
    assert conn.execute("SELECT COUNT(*) FROM t_migrations").fetchone()[0] == 0
