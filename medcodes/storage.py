"""The durable store's connections: the embedded SQLite file (one server), or a PostgreSQL database
that several servers share (`MEDCODES_STORE=postgresql://user@host:port/db`).

The policy and content code writes its SQL once, in SQLite's spelling with `?` placeholders, and
runs it through a `Store`. This module is the small dialect layer between them:

- placeholders: `?` becomes `%s` on PostgreSQL (and a literal `%` is escaped);
- upserts are written `INSERT ... ON CONFLICT ... DO ...`, which both understand;
- transactions: `transaction()` is one transaction on this thread; `exclusive=True` makes it the
  store's only writer while it runs (SQLite's BEGIN IMMEDIATE; on PostgreSQL a transaction-scoped
  advisory lock), where a count or a next number must not race another server;
- fragments that differ: `least` (SQLite's scalar MIN), `skip_locked` (a queue's row claim);
- rows read by name or position on both (`row["id"]`, `row[0]`, `dict(row)`).

SQLite keeps one connection per thread. PostgreSQL keeps a small pool per process
(MEDCODES_STORE_POOL connections): a statement outside a transaction borrows a connection for
itself only, so a server's request threads share a few connections; a transaction keeps its
connection until it ends. The index file is never here: it stays SQLite, one copy per server.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from .errors import MedcodesError

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
POOL_WAIT_SECONDS = 30.0


class StoreError(MedcodesError):
    """A statement PostgreSQL refused or could not run, with its message and the store named."""


class StoreUnavailable(StoreError):
    """The PostgreSQL server cannot be reached (down, restarting, refusing connections)."""


STORE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, StoreError)


class PostgresURL(str):
    """A store location that is a PostgreSQL database (a connection URL)."""

    def redacted(self) -> str:
        """The URL without a password, for messages and logs."""
        scheme, _, rest = self.partition("://")
        auth, at, host = rest.rpartition("@")
        if not at or ":" not in auth:
            return str(self)
        return f"{scheme}://{auth.split(':', 1)[0]}:***@{host}"


Location = Path | PostgresURL


def is_postgres(value: str | Path) -> bool:
    return isinstance(value, str) and value.lower().startswith(POSTGRES_SCHEMES)


def location(value: str | Path) -> Location:
    """A store location from a setting or an option: a PostgreSQL URL as it is, else a file path."""
    if isinstance(value, PostgresURL):
        return value
    if is_postgres(value):
        return PostgresURL(str(value))
    return Path(value).expanduser()


def describe(where: Location) -> str:
    return where.redacted() if isinstance(where, PostgresURL) else str(where)


class RowLike(Protocol):
    def __getitem__(self, key: Any, /) -> Any: ...
    def keys(self) -> list[str]: ...


class Row(tuple[Any, ...]):
    """A PostgreSQL row read like sqlite3.Row: by column name or position, and `dict(row)`."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


class Result:
    """The rows of one statement, read in full (its connection goes back to the pool at once)."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows, self.rowcount = rows, rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class Store:
    """One store location, shared by the threads of a process (`open_store` hands out one per location)."""

    dialect = ""
    least = "MIN"  # the smaller of two values
    skip_locked = ""  # after a SELECT whose rows an UPDATE claims: other servers' claimed rows are skipped

    def __init__(self, where: Location) -> None:
        self.location = where
        self._local = threading.local()

    # the statements ----------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def stream(self, sql: str, params: Sequence[Any] = (), size: int = 500) -> Iterator[Any]:
        """The rows of a large read a batch at a time (call it inside `snapshot()`)."""
        raise NotImplementedError

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
        """Reads that all see the store as it was at one moment, while others keep writing (a backup)."""
        with self.transaction():
            yield self

    def run_script(self, statements: Sequence[str]) -> None:
        for statement in statements:
            self.execute(statement)

    # transactions ------------------------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        return bool(getattr(self._local, "depth", 0))

    def begin(self, *, exclusive: bool = False) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    @contextmanager
    def transaction(self, *, exclusive: bool = False) -> Iterator[Store]:
        """All of it or none of it. Inside another transaction of this thread it joins that one."""
        self._enter(exclusive)
        try:
            yield self
        except BaseException:
            self._exit(failed=True)
            raise
        self._exit(failed=False)

    def __enter__(self) -> Store:
        """`with store:` is `with store.transaction():` (as with a sqlite3 connection)."""
        self._enter(False)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._exit(failed=exc_type is not None)

    def _enter(self, exclusive: bool) -> None:
        if self.in_transaction:
            self._local.depth += 1
        else:
            self.begin(exclusive=exclusive)

    def _exit(self, *, failed: bool) -> None:
        if self._local.depth > 1:
            self._local.depth -= 1
        elif failed:
            self.rollback()
        else:
            self.commit()

    # what is there -----------------------------------------------------------------
    def exists(self) -> bool:
        """Whether the store has been created (a read never creates it)."""
        raise NotImplementedError

    def has_table(self, name: str) -> bool:
        raise NotImplementedError

    def tables(self) -> list[str]:
        raise NotImplementedError

    def columns(self, table: str) -> list[str]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


# -- SQLite ----------------------------------------------------------------------------
class SQLiteStore(Store):
    """The store file. A read-only one reopens its connection when the file is replaced (a restore)."""

    dialect = "sqlite"

    def __init__(self, where: Path, *, readonly: bool = False) -> None:
        super().__init__(where)
        self.path = where
        self.readonly = readonly

    @classmethod
    def wrapping(cls, conn: sqlite3.Connection) -> SQLiteStore:
        """A Store over a connection opened elsewhere (this thread only)."""
        path = Path(conn.execute("PRAGMA database_list").fetchone()[2] or ":memory:")
        store = cls(path)
        store._local.conn = conn
        return store

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection to the file (autocommit: transactions are explicit)."""
        if self.readonly:
            return self._readonly_conn()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            try:  # WAL: pages keep reading while an ingest writes; NORMAL: one fsync per checkpoint
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:  # another process holds a lock just now: the mode stays as it was
                pass
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def _readonly_conn(self) -> sqlite3.Connection:
        st = self.path.stat()  # FileNotFoundError: the caller asked `exists()` first
        # the inode and change time tell a replaced file (a path reused, an inode number reused) from the same one
        key = (st.st_ino, st.st_ctime_ns)
        held: tuple[tuple[int, int], sqlite3.Connection] | None = getattr(self._local, "ro", None)
        if held is not None and held[0] == key:
            return held[1]
        if held is not None:
            held[1].close()
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30, check_same_thread=False,
                               isolation_level=None)
        conn.row_factory = sqlite3.Row
        self._local.ro = (key, conn)
        return conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def stream(self, sql: str, params: Sequence[Any] = (), size: int = 500) -> Iterator[Any]:
        yield from self.conn.execute(sql, params)

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
        conn = self.conn
        conn.execute("BEGIN")  # deferred: a read transaction, writers go on (WAL)
        try:
            yield self
        finally:
            conn.execute("ROLLBACK")

    def begin(self, *, exclusive: bool = False) -> None:
        # IMMEDIATE always: a deferred transaction that writes later can fail to upgrade its lock
        self.conn.execute("BEGIN IMMEDIATE")
        self._local.depth = 1

    def commit(self) -> None:
        if self.in_transaction:
            self._local.depth = 0
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self._local.depth = 0
            self.conn.execute("ROLLBACK")

    def exists(self) -> bool:
        return self.path.is_file()

    def has_table(self, name: str) -> bool:
        if not self.exists():
            return False
        return self.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name=?",
                            (name,)).fetchone() is not None

    def tables(self) -> list[str]:
        # an FTS5 table's shadow tables (policy_fts_data, ...) are its own business
        rows = self.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                            " ORDER BY name").fetchall()
        names = [r[0] for r in rows]
        virtual = [n for n in names if self._is_virtual(n)]
        return [n for n in names if not any(n.startswith(v + "_") for v in virtual)]

    def _is_virtual(self, name: str) -> bool:
        row = self.execute("SELECT sql FROM sqlite_master WHERE name=?", (name,)).fetchone()
        return bool(row and row[0] and row[0].upper().startswith("CREATE VIRTUAL"))

    def columns(self, table: str) -> list[str]:
        return [r[1] for r in self.execute(f'PRAGMA table_info("{table}")')]

    def close(self) -> None:
        for name in ("conn",):
            conn = getattr(self._local, name, None)
            if conn is not None:
                conn.close()
                setattr(self._local, name, None)
        held = getattr(self._local, "ro", None)
        if held is not None:
            held[1].close()
            self._local.ro = None


# -- PostgreSQL ------------------------------------------------------------------------
@lru_cache(maxsize=1024)
def postgres_sql(sql: str) -> str:
    """SQLite's `?` placeholders as psycopg's `%s` (outside quoted text and -- comments), every
    literal `%` doubled."""
    out: list[str] = []
    quote = ""  # the quote character we are inside, or "\n" inside a comment
    i = 0
    while i < len(sql):
        ch = sql[i]
        if ch == "%":
            out.append("%%")
        elif quote:
            out.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "-" and sql.startswith("--", i):
            quote = "\n"
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _row_factory(cursor: Any) -> Any:
    index = {c.name: i for i, c in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        return Row(values, index)

    return make


_ONE_ROW_VALUES = re.compile(r"^(\s*INSERT\b.*?\bVALUES\s*)(\((?:\s*\?\s*,)*\s*\?\s*\))(.*)$", re.S | re.I)


class _Pool:
    """At most `size` connections to one database, reused; one found broken is dropped."""

    def __init__(self, url: str, size: int) -> None:
        self.url, self.size = url, size
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)

    def _connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self.url, autocommit=True, row_factory=_row_factory, connect_timeout=10,
                                   application_name="medcodes")
        except psycopg.Error as e:
            raise StoreUnavailable(f"store {PostgresURL(self.url).redacted()}: cannot connect ({e})") from None

    def get(self) -> Any:
        if not self._slots.acquire(timeout=POOL_WAIT_SECONDS):
            raise MedcodesError(f"store: all {self.size} PostgreSQL connections stayed busy for"
                                f" {POOL_WAIT_SECONDS:g} s (MEDCODES_STORE_POOL)")
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed:
                conn = self._connect()
            return conn
        except BaseException:
            self._slots.release()
            raise

    def put(self, conn: Any) -> None:
        from psycopg.pq import TransactionStatus

        try:
            if conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
                conn.close()
            else:
                with self._lock:
                    self._idle.append(conn)
        finally:
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _pool_size() -> int:
    from . import settings

    raw = settings.get("MEDCODES_STORE_POOL")
    try:
        size = int(raw)
    except ValueError:
        raise MedcodesError(f"MEDCODES_STORE_POOL={raw!r} is not a whole number") from None
    if size < 1:
        raise MedcodesError(f"MEDCODES_STORE_POOL={raw!r} must be at least 1")
    return size


class PostgresStore(Store):
    """A PostgreSQL database (psycopg 3), shared by every server that names it."""

    dialect = "postgresql"
    least = "LEAST"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, where: PostgresURL) -> None:
        super().__init__(where)
        self.url = where
        self._pool = _Pool(str(where), _pool_size())
        self._lock_key = zlib.crc32(b"medcodes store writer")  # one advisory lock: the store's writer

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        pinned = getattr(self._local, "pinned", None)
        if pinned is not None:
            yield pinned
            return
        conn = self._pool.get()
        try:
            yield conn
        finally:
            self._pool.put(conn)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        import psycopg

        for attempt in (1, 2):
            try:
                with self._connection() as conn:
                    cur = conn.execute(postgres_sql(sql), tuple(params))
                    rows = cur.fetchall() if cur.description else []
                    return Result(rows, cur.rowcount)
            except psycopg.OperationalError as e:
                # a pooled connection the server closed (a restart, which closes them all): the idle
                # ones go, and the statement runs once more on a new one, outside a transaction
                if attempt == 2 or self.in_transaction:
                    raise StoreUnavailable(str(self._error(e))) from None
                self._pool.close()
            except psycopg.Error as e:
                raise self._error(e) from None
        raise AssertionError("unreachable")

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One INSERT ... VALUES of many rows at a time where the statement is one (a round trip and
        one statement-level trigger per batch, not per row), else one statement per row, pipelined."""
        import psycopg

        found = _ONE_ROW_VALUES.match(sql)
        batch = [tuple(r) for r in rows]
        try:
            with self._connection() as conn:
                if found is None:
                    conn.cursor().executemany(postgres_sql(sql), batch)
                    return
                head, row, tail = found.groups()
                width = row.count("?")
                size = max(1, min(1000, 60_000 // max(1, width)))  # under PostgreSQL's 65,535 parameters
                for start in range(0, len(batch), size):
                    part = batch[start:start + size]
                    many = head + ", ".join([row] * len(part)) + tail
                    conn.execute(postgres_sql(many), [v for r in part for v in r])
        except psycopg.Error as e:
            raise self._error(e) from None

    def stream(self, sql: str, params: Sequence[Any] = (), size: int = 500) -> Iterator[Any]:
        import psycopg

        conn = getattr(self._local, "pinned", None)
        if conn is None:
            raise RuntimeError("stream() reads inside snapshot() or a transaction")
        try:
            with conn.cursor(name=f"medcodes_{threading.get_ident()}") as cur:
                cur.execute(postgres_sql(sql), tuple(params))
                while rows := cur.fetchmany(size):
                    yield from rows
        except psycopg.Error as e:
            raise self._error(e) from None

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
        import psycopg

        self.begin()
        try:
            self._local.pinned.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        except psycopg.Error as e:
            self.rollback()
            raise self._error(e) from None
        try:
            yield self
        finally:
            self.rollback()

    def _error(self, e: Exception) -> StoreError:
        return StoreError(f"store {self.url.redacted()}: {str(e).strip()}")

    def begin(self, *, exclusive: bool = False) -> None:
        import psycopg

        conn = self._pool.get()
        try:
            conn.execute("BEGIN")
            if exclusive:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
        except psycopg.Error as e:
            self._pool.put(conn)
            raise self._error(e) from None
        except BaseException:
            self._pool.put(conn)
            raise
        self._local.pinned = conn
        self._local.depth = 1

    def _end(self, statement: str) -> None:
        conn = getattr(self._local, "pinned", None)
        if conn is None:
            return
        self._local.pinned, self._local.depth = None, 0
        import psycopg

        try:
            if not conn.closed:
                conn.execute(statement)
        except psycopg.Error as e:
            raise self._error(e) from None
        finally:
            self._pool.put(conn)

    def commit(self) -> None:
        self._end("COMMIT")

    def rollback(self) -> None:
        self._end("ROLLBACK")

    def exists(self) -> bool:
        return True  # the database is there (a connection error says so otherwise); its tables may not be

    def has_table(self, name: str) -> bool:
        return self.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0] is True

    def tables(self) -> list[str]:
        return [r[0] for r in self.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                                           " ORDER BY tablename")]

    def columns(self, table: str) -> list[str]:
        return [r[0] for r in self.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position", (table,))]

    def close(self) -> None:
        self.rollback()
        self._pool.close()


# -- one Store per location per process ------------------------------------------------
_OPEN: dict[tuple[str, bool], Store] = {}
_OPEN_LOCK = threading.Lock()
KEPT_FILES = 16  # SQLite stores kept open per process (a server has one; a test run has many)


def open_store(where: str | Path, *, readonly: bool = False) -> Store:
    """The process's Store for a location (one per location: its connections are shared).
    `readonly` for SQLite: the connection never creates or writes the file."""
    loc = location(where)
    key = (str(loc), readonly and isinstance(loc, Path))
    with _OPEN_LOCK:
        store = _OPEN.pop(key, None)
        if store is None:
            store = PostgresStore(loc) if isinstance(loc, PostgresURL) else SQLiteStore(loc, readonly=readonly)
            files = [k for k, v in _OPEN.items() if isinstance(v, SQLiteStore)]
            for old in files[:max(0, len(files) - KEPT_FILES + 1)]:
                # the least recently used; whoever still holds it keeps using it (its connections
                # close when it goes), it is only no longer shared
                _OPEN.pop(old)
        _OPEN[key] = store  # the most recently used last
        return store


def new_store(where: str | Path) -> Store:
    """A Store of its own (not shared with the rest of the process): a test's second server, a backup."""
    loc = location(where)
    return PostgresStore(loc) if isinstance(loc, PostgresURL) else SQLiteStore(loc)


def forget(where: str | Path) -> None:
    """Close and drop the process's Stores for a location (tests, and a store restored underneath)."""
    loc = str(location(where))
    with _OPEN_LOCK:
        for key in [k for k in _OPEN if k[0] == loc]:
            _OPEN.pop(key).close()
