"""Backups of the durable store (policies, generated text, reviews): the one file `medcodes build`
cannot make again.

Copying the store file while a server or an ingest runs loses what sits in its write-ahead log
(`-wal`) and can copy a page half written. `backup` uses SQLite's online backup instead: a
consistent copy of everything committed, taken while others keep reading and writing. `restore`
checks a backup, then copies it into the store the same way (writers wait a moment; readers see
the restored content on their next query).

    medcodes store backup store-2026-12-02.sqlite
    medcodes store restore store-2026-12-02.sqlite

A PostgreSQL store (MEDCODES_STORE=postgresql://...) is backed up into the same kind of file: its
rows as one REPEATABLE READ snapshot, written into a SQLite store with the same tables. Restoring
such a file into PostgreSQL replaces every row in one transaction, so the servers sharing the store
see the old content or the new, never a mix. The file moves a store between the two as well (one
server's SQLite file into the PostgreSQL database several servers will share). pg_dump works too,
for a copy of the whole database.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from . import settings
from .errors import MedcodesError
from .storage import Location, PostgresURL, SQLiteStore, Store, StoreError, describe, location, new_store

# tables whose rows a backup reports, when the store has them
COUNTED = (("policies", "policies"), ("content_explainers", "explainers"), ("content_reviews", "reviews"))


def backup(store: Location, dest: Path) -> dict[str, int]:
    """Write a consistent copy of `store` to `dest` (replaced only once the copy is whole and
    synced); return its row counts."""
    if isinstance(store, PostgresURL):
        return _backup_postgres(store, dest)
    if not store.is_file():
        raise MedcodesError(f"{store}: no store here yet (nothing ingested or generated)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        src = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            out.close()
            src.close()
        counts = check(tmp)
        os.fsync(fd)
        os.replace(tmp, dest)
    except sqlite3.Error as e:
        tmp.unlink(missing_ok=True)
        raise MedcodesError(f"{store}: backup failed: {e}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return counts


def restore(source: Path, store: Location) -> dict[str, int]:
    """Replace the store's content with the backup at `source`, after checking it."""
    if not source.is_file():
        raise MedcodesError(f"{source}: no such file")
    counts = check(source)
    if isinstance(store, PostgresURL):
        _restore_postgres(source, store)
        return counts
    store.parent.mkdir(parents=True, exist_ok=True)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(store, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as e:
        raise MedcodesError(f"{store}: restore failed: {e}") from None
    return counts


def check(path: Path) -> dict[str, int]:
    """Row counts of a store file; MedcodesError when it is not a whole medcodes store."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            counts = {label: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                      for table, label in COUNTED if table in tables}
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise MedcodesError(f"{path}: not a medcodes store ({e})") from None
    if verdict != "ok":
        raise MedcodesError(f"{path}: the file is damaged ({verdict})")
    if not counts:
        raise MedcodesError(f"{path}: not a medcodes store (no policy or content tables)")
    return counts


# -- PostgreSQL: rows copied to and from a SQLite store file ------------------------------
# the policy change counter is not copied: a restore moves the store's own on, so every server notices
NOT_COPIED = ("policy_migrations", "content_migrations", "policy_changes")
IN_ORDER = ("content_reviews", "content_failures", "content_queue")  # read in the order they were written


def _migrated(where: Location) -> Store:
    """The store, with every table of this version of medcodes (created where missing)."""
    from .content.store import ContentStore
    from .policies.store import PolicyStore

    PolicyStore(where)
    return ContentStore(where).db


def copy_rows(src: Store, dst: Store) -> None:
    """Every row of the tables both stores have (the columns both have), `dst`'s rows replaced;
    the caller holds `dst`'s transaction and `src`'s snapshot."""
    tables = sorted((set(src.tables()) & set(dst.tables())) - set(NOT_COPIED))
    for table in tables:
        columns = [c for c in dst.columns(table) if c in set(src.columns(table)) and c != "rowid"]
        names = ", ".join(columns)
        dst.execute(f"DELETE FROM {table}")
        order = " ORDER BY rowid" if table in IN_ORDER else ""
        rows = src.stream(f"SELECT {names} FROM {table}{order}")
        insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})"
        while batch := list(itertools.islice(rows, 500)):
            dst.executemany(insert, batch)
    dst.execute("UPDATE policy_changes SET n = n + 1")


def _backup_postgres(store: PostgresURL, dest: Path) -> dict[str, int]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        src = _migrated(store)
        out = new_store(tmp)
        _migrated_file(out)
        with src.snapshot(), out.transaction():
            copy_rows(src, out)
        out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        out.close()
        counts = check(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except (sqlite3.Error, StoreError) as e:
        raise MedcodesError(f"{describe(store)}: backup failed: {e}") from None
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)
    return counts


def _migrated_file(out: Store) -> None:
    from . import migrations
    from .content.store import MIGRATIONS as CONTENT
    from .policies.store import MIGRATIONS as POLICIES

    migrations.migrate(out, "policy_migrations", POLICIES)
    migrations.migrate(out, "content_migrations", CONTENT)


def _restore_postgres(source: Path, store: PostgresURL) -> None:
    dst = _migrated(store)
    src = SQLiteStore(source, readonly=True)
    try:
        with src.snapshot(), dst.transaction(exclusive=True):
            copy_rows(src, dst)
    except (sqlite3.Error, StoreError) as e:
        raise MedcodesError(f"{describe(store)}: restore failed: {e}") from None
    finally:
        src.close()


# -- the command ---------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(metavar="ACTION", dest="store_action")
    for name, help_ in (("backup", "write a consistent copy of the store to FILE (safe while serving)"),
                        ("restore", "replace the store's content with the backup in FILE")):
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.add_argument("file", metavar="FILE")
        sp.add_argument("--store", help="the store: a file or a postgresql:// URL (default: $MEDCODES_STORE,"
                        " beside the index)")


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "store_action", None)
    if action is None:
        raise MedcodesError("say what to do: medcodes store backup FILE | medcodes store restore FILE")
    store = location(args.store or settings.store_path(args.db))
    target = Path(args.file).expanduser()
    if action == "backup":
        counts = backup(store, target)
        print(f"backed up {describe(store)} to {target}: {_counts(counts)}")
    else:
        counts = restore(target, store)
        print(f"restored {describe(store)} from {target}: {_counts(counts)}")
    return 0


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{n:,} {label}" for label, n in counts.items())
