"""Generated text on demand: a code page without it queues the code, a worker in the server writes it.

The queue is the `content_queue` table of the store, so it survives a restart and is shared by
every server worker and replica that uses the same store file. A request only ever reads the
queue and, for a code not seen yet, inserts one row: it never waits on the model.

- Deduplicated: one row per code (the primary key); opening a page again, from any worker, finds it.
- Bounded: a new code is queued only while fewer than MEDCODES_ONDEMAND_QUEUE codes wait.
- Claimed atomically: a worker takes a code with one UPDATE ... WHERE status='queued' AND
  unclaimed (or its claim is stale), as the store's only writer for that moment (on PostgreSQL an
  advisory lock, and the row taken FOR UPDATE SKIP LOCKED), so no code is generated twice by any
  worker of any replica; a claim older than the
  per-code timeout and a margin belongs to a worker that died, and is taken over.
- Concurrency is for the whole store: a code is claimed only while fewer than
  MEDCODES_ONDEMAND_CONCURRENCY claims are live, however many workers run.
- Never a code whose text is stored (one a reviewer has not rejected, as the page shows it): a
  page reads "no text" before it queues, and the worker may store the text and drop the row in
  between; so the insert and the claim both check the stored text inside their statement, and a
  late view queues nothing, nor is a row that slipped in sent to the model.
- A code that failed (a timeout, an unreachable model, answers that never pass the checks) is
  recorded with ContentStore.fail and not queued again before its backoff has passed (doubling
  with each failure), so a bad model cannot loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .. import settings
from ..errors import MedcodesError
from ..storage import STORE_ERRORS, Location
from .store import ContentStore

log = logging.getLogger("medcodes.content.queue")

POLL_SECONDS = 1.0  # an idle worker looks for work this often (at once when its own process queued a code)
MAX_BACKOFF = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Config:
    concurrency: int  # codes generated at once across every worker sharing the store; 0 = off
    max_queued: int
    timeout: float  # seconds one code may take, all attempts together
    backoff: float  # seconds before a failed code may be queued again (doubling per failure)

    @property
    def stale_after(self) -> float:
        """Seconds after which a claim is a dead worker's: a live one gives up at `timeout`."""
        return self.timeout + max(5.0, self.timeout / 2)

    @classmethod
    def from_settings(cls) -> Config:
        return cls(concurrency=int(_number("MEDCODES_ONDEMAND_CONCURRENCY")),
                   max_queued=int(_number("MEDCODES_ONDEMAND_QUEUE")),
                   timeout=_number("MEDCODES_ONDEMAND_TIMEOUT", positive=True),
                   backoff=_number("MEDCODES_ONDEMAND_BACKOFF"))


def _number(name: str, *, positive: bool = False) -> float:
    """A numeric setting, or a clear error naming it (the server then does not start half-configured)."""
    raw = settings.get(name)
    try:
        value = float(raw)
    except ValueError:
        raise MedcodesError(f"{name}={raw!r} is not a number") from None
    if value < 0 or (positive and value == 0) or value != value:
        raise MedcodesError(f"{name}={raw!r} must be {'above' if positive else 'at least'} 0")
    return value


def model_configured() -> bool:
    """Whether the settings name a model (what `client_from_settings` needs to build a client)."""
    model = settings.get("MEDCODES_LLM_MODEL")
    return bool(model) and (bool(settings.get("MEDCODES_LLM_BASE_URL")) or model.endswith(".gguf"))


# -- the queue table ---------------------------------------------------------------
def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def state(store: ContentStore, system: str, code: str, *, at: float | None = None) -> dict[str, Any] | None:
    """What the queue holds for one code, as the page and the JSON show it; None when nothing."""
    row = store.conn.execute("SELECT status, queued_at, claimed_by, claimed_at, failures, retry_after, reason"
                             " FROM content_queue WHERE system=? AND code=?", (system, code)).fetchone()
    if row is None:
        return None
    if row["status"] == "queued":
        return {"status": "queued", "queued_at": row["queued_at"], "writing": row["claimed_by"] is not None}
    at = time.time() if at is None else at
    if row["retry_after"] is not None and row["retry_after"] <= at:
        return None  # the backoff has passed: the code may be queued again
    return {"status": "failed", "failures": row["failures"], "reason": row["reason"],
            "retry_after": _iso(row["retry_after"] or at)}


# the code of the content_queue row at hand has stored text that a reviewer has not rejected (text
# the page shows; with MEDCODES_CONTENT_REVIEWED_ONLY, unreviewed text waits for its reviewer)
_WRITTEN = ("EXISTS (SELECT 1 FROM content_explainers e WHERE e.system=content_queue.system"
            " AND e.code=content_queue.code AND e.review_status != 'rejected')")


def enqueue(store: ContentStore, system: str, code: str, max_queued: int, *,
            at: float | None = None) -> tuple[bool, dict[str, Any] | None]:
    """Queue one code unless it is queued already, failed within its backoff, the queue is full, or
    its text is stored by now. Returns (whether this call queued it, the code's state: None when
    its text is stored)."""
    at = time.time() if at is None else at
    current = state(store, system, code, at=at)
    if current is not None:
        return False, current
    with store.conn.transaction(exclusive=True):
        # one statement: the count, the insert and the check for a row another worker just wrote
        # happen under one write lock, so two requests can neither both queue nor overfill the queue
        cur = store.conn.execute(
            "INSERT INTO content_queue (system, code, status, queued_at) SELECT ?, ?, 'queued', ?"
            " WHERE (SELECT COUNT(*) FROM content_queue WHERE status='queued') < ?"
            " AND NOT EXISTS (SELECT 1 FROM content_explainers e WHERE e.system=? AND e.code=?"
            "                 AND e.review_status != 'rejected')"
            " ON CONFLICT (system, code) DO UPDATE SET status='queued', queued_at=excluded.queued_at,"
            " claimed_by=NULL, claimed_at=NULL WHERE content_queue.status='failed' AND content_queue.retry_after <= ?"
            f" AND NOT {_WRITTEN}",
            (system, code, _iso(at), max_queued, system, code, at))
        text_stored = cur.rowcount != 1 and store.conn.execute(
            "SELECT 1 FROM content_explainers WHERE system=? AND code=? AND review_status != 'rejected'",
            (system, code)).fetchone() is not None
    if text_stored:
        return False, None
    found = state(store, system, code, at=at)
    if found is None:
        return False, {"status": "not_queued", "reason": "too many explanations are waiting to be written"}
    return cur.rowcount == 1, found


def claim(store: ContentStore, worker: str, config: Config, *, at: float | None = None) -> tuple[str, str] | None:
    """Take the oldest queued code nobody is working on (or whose worker died) for `worker`."""
    at = time.time() if at is None else at
    stale = at - config.stale_after
    db = store.conn
    with db.transaction(exclusive=True):
        # a row whose text is stored meanwhile is done, not work: it goes, so its code is never
        # asked of the model again (a claim held by a live worker is that worker's to finish)
        db.execute(f"DELETE FROM content_queue WHERE status='queued' AND (claimed_by IS NULL OR claimed_at < ?)"
                   f" AND {_WRITTEN}", (stale,))
        row = db.execute(
            "UPDATE content_queue SET claimed_by=?, claimed_at=? WHERE rowid = ("
            "  SELECT rowid FROM content_queue WHERE status='queued' AND (claimed_by IS NULL OR claimed_at < ?)"
            f"  ORDER BY queued_at, rowid LIMIT 1{db.skip_locked})"
            " AND (SELECT COUNT(*) FROM content_queue WHERE status='queued' AND claimed_by IS NOT NULL"
            "      AND claimed_at >= ?) < ?"
            " RETURNING system, code", (worker, at, stale, stale, config.concurrency)).fetchall()
    return (row[0][0], row[0][1]) if row else None


def has_work(store: ContentStore) -> bool:
    """A read first, so an idle worker does not take the write lock every poll."""
    return store.conn.execute("SELECT 1 FROM content_queue WHERE status='queued' LIMIT 1").fetchone() is not None


def finished(store: ContentStore, system: str, code: str) -> None:
    """The code's text is stored: its row goes (in the caller's transaction, with the text)."""
    store.conn.execute("DELETE FROM content_queue WHERE system=? AND code=?", (system, code))


def failed(store: ContentStore, system: str, code: str, worker: str, reason: str, backoff: float, *,
           at: float | None = None) -> None:
    """Mark a claimed code failed; it may be queued again after `backoff` x 2^(earlier failures)."""
    at = time.time() if at is None else at
    least = store.conn.least
    store.conn.execute(
        "UPDATE content_queue SET status='failed', claimed_by=NULL, claimed_at=NULL, failures=failures+1,"
        f" reason=?, retry_after=? + {least}(?, ? * (1 << {least}(failures, 20)))"
        " WHERE system=? AND code=? AND claimed_by=?",
        (reason[:500], at, MAX_BACKOFF, backoff, system, code, worker))


def release(store: ContentStore, worker: str) -> int:
    """Give back every claim of `worker` (a server stopping): the codes stay queued for the next one."""
    with store.conn:
        return store.conn.execute("UPDATE content_queue SET claimed_by=NULL, claimed_at=NULL WHERE claimed_by=?",
                                  (worker,)).rowcount


def counts(store: ContentStore) -> dict[str, int]:
    rows = store.conn.execute("SELECT status, COUNT(*) FROM content_queue GROUP BY status")
    return {r[0]: r[1] for r in rows}


# -- the worker in `medcodes serve` --------------------------------------------------
class Worker:
    """`concurrency` coroutines on an event loop of their own thread, so the server's loop never
    runs model calls or waits on the store's write lock."""

    def __init__(self, catalog: Callable[[], Any], store_path: Location, config: Config,
                 client_factory: Callable[..., Any] | None = None) -> None:
        self.catalog, self.store_path, self.config = catalog, store_path, config
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._client_factory = client_factory
        self._explain: Callable[..., Any] = lambda *a: None  # medcodes.content.generate.explain_code, once started
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="medcodes-ondemand", daemon=True)

    def start(self) -> Worker:
        self._thread.start()
        self._started.wait(30)
        return self

    def wake(self) -> None:
        """Look for work now (this process just queued a code), not at the next poll."""
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel the work in hand and give its claims back, so a restart goes on with those codes."""
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception:
            log.exception("the on-demand generation worker stopped")
        finally:
            self._started.set()

    async def _serve(self) -> None:
        # imported here, not by the pages that import this module; and now, not with the first code
        from .generate import explain_code
        from .llm import client_from_settings

        self._explain = explain_code

        self._loop = asyncio.get_running_loop()
        self._wakeup, self._stopping = asyncio.Event(), asyncio.Event()
        # creates the queue table on first use (a SQLite store is opened in WAL mode: pages read
        # the store while workers write the queue, and WAL keeps readers from waiting)
        store = ContentStore(self.store_path)
        factory = self._client_factory or client_from_settings
        client = factory(concurrency=self.config.concurrency, timeout=self.config.timeout)
        slots = [asyncio.create_task(self._slot(store, client)) for _ in range(max(1, self.config.concurrency))]
        self._started.set()
        try:
            await self._stopping.wait()
        finally:
            for s in slots:
                s.cancel()
            await asyncio.gather(*slots, return_exceptions=True)
            given_back = release(store, self.id)
            if given_back:
                log.info("on-demand generation: %d code(s) left queued for the next worker", given_back)
            await client.aclose()
            store.close()

    async def _slot(self, store: ContentStore, client: Any) -> None:
        assert self._wakeup is not None
        while True:
            try:
                key = claim(store, self.id, self.config) if has_work(store) else None
            except STORE_ERRORS:  # the store locked past its timeout, say: try again later, never die
                log.exception("on-demand generation: reading the queue")
                store.conn.rollback()
                key = None
            if key is None:
                self._wakeup.clear()
                try:
                    async with asyncio.timeout(POLL_SECONDS):
                        await self._wakeup.wait()
                except TimeoutError:
                    pass
                continue
            try:
                await self._generate(store, client, *key)
            except STORE_ERRORS:  # the result could not be written: the claim goes stale and is retried
                log.exception("on-demand generation: storing %s %s", *key)
                store.conn.rollback()

    async def _generate(self, store: ContentStore, client: Any, system: str, code: str) -> None:
        from .prompt import PROMPT_VERSION

        reason, attempts = "", 1
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can lose a cancellation that comes as
            # the code starts, and then a stopping server waits on the model
            async with asyncio.timeout(self.config.timeout):
                outcome = await self._explain(self.catalog(), client, system, code)
        except TimeoutError:
            reason = f"no checked answer within {self.config.timeout:g} s"
        except MedcodesError as e:  # the model unreachable or refusing, the code gone from the index
            reason = str(e)
        except Exception as e:  # anything else is a failure of this code, never of the worker
            log.exception("on-demand generation of %s %s", system, code)
            reason = f"{type(e).__name__}: {e}"
        else:
            if outcome.ok and outcome.item is not None:
                with store.conn.transaction():  # the text and the row's removal together
                    store.put(outcome.item, commit=False)
                    finished(store, system, code)
                log.info("on-demand generation: %s %s written in %.1f s", system, code, outcome.seconds)
                return
            reason, attempts = "; ".join(outcome.problems) or "no answer passed the checks", outcome.attempts
        log.warning("on-demand generation of %s %s failed: %s", system, code, reason)
        with store.conn.transaction():
            store.fail(system, code, PROMPT_VERSION, client.model, attempts, reason)
            failed(store, system, code, self.id, reason, self.config.backoff)


# -- the hook the application layer calls ------------------------------------------
_RUNNING: Worker | None = None
_STORES: dict[Location, ContentStore] = {}
_LOCK = threading.Lock()


def start(catalog: Callable[[], Any], store_path: Location, config: Config | None = None) -> Worker | None:
    """Start this process's worker when a model is configured and concurrency is above 0."""
    global _RUNNING
    config = config or Config.from_settings()
    if not model_configured() or config.concurrency <= 0:
        return None
    with _LOCK:
        if _RUNNING is None:
            _RUNNING = Worker(catalog, store_path, config).start()
            log.info("on-demand generation on: %d at a time, at most %d waiting (%s)", config.concurrency,
                     config.max_queued, _RUNNING.id)
    return _RUNNING


def stop() -> None:
    global _RUNNING
    with _LOCK:
        worker, _RUNNING = _RUNNING, None
    if worker is not None:
        worker.stop()


def on_view(store_path: Location, system: str, code: str) -> dict[str, Any] | None:
    """A page or JSON view of a code without generated text: queue it when this process generates
    on demand. The code's queue state, or None when on-demand generation is off here."""
    worker = _RUNNING
    if worker is None:
        return None
    store = _STORES.get(store_path)
    if store is None:
        store = _STORES.setdefault(store_path, ContentStore(store_path, create=False))
    try:
        added, found = enqueue(store, system, code, worker.config.max_queued)
    except Exception:  # a locked or broken store costs the page its notice, never the page itself
        log.exception("queueing %s %s for generation", system, code)
        return None
    if added:
        worker.wake()
    return found
