"""The on-demand queue: deduplicated, bounded, claimed once, failures backed off, the worker end to end
against the local fake model server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from medcodes.content import queue
from medcodes.content.fakellm import FakeLLM
from medcodes.content.llm import OpenAIChatClient
from medcodes.content.store import ContentStore
from medcodes.errors import MedcodesError
from medcodes.index import Catalog
from tests.live import wait_for

CONFIG = queue.Config(concurrency=1, max_queued=3, timeout=30.0, backoff=60.0)


@pytest.fixture()
def store(store_location: str) -> ContentStore:
    """A content store on each backend: a SQLite file, then a PostgreSQL database."""
    return ContentStore(store_location)


def rows(store: ContentStore) -> list[dict[str, Any]]:
    return [dict(r) for r in store.conn.execute("SELECT * FROM content_queue ORDER BY rowid")]



def test_a_code_is_queued_once(store: ContentStore) -> None:
    added, found = queue.enqueue(store, "icd10cm", "E11.9", 10)
    assert added and found == {"status": "queued", "queued_at": found["queued_at"], "writing": False}
    again, same = queue.enqueue(store, "icd10cm", "E11.9", 10)
    other = ContentStore(store.path)  # another worker's connection to the same store
    third, _ = queue.enqueue(other, "icd10cm", "E11.9", 10)
    assert not again and not third and same["status"] == "queued"
    assert len(rows(store)) == 1


def test_a_full_queue_takes_no_new_code(store: ContentStore) -> None:
    for code in ("E10.9", "E11.9", "E13.9"):
        assert queue.enqueue(store, "icd10cm", code, 3)[0]
    added, found = queue.enqueue(store, "icd10cm", "E11.65", 3)
    assert not added and found["status"] == "not_queued"
    assert [r["code"] for r in rows(store)] == ["E10.9", "E11.9", "E13.9"]
    assert queue.state(store, "icd10cm", "E11.65") is None


def test_one_claim_per_code_and_concurrency_for_the_whole_store(store: ContentStore) -> None:
    queue.enqueue(store, "icd10cm", "E10.9", 10)
    queue.enqueue(store, "icd10cm", "E11.9", 10)
    assert queue.claim(store, "a", CONFIG) == ("icd10cm", "E10.9")
    assert queue.claim(store, "b", CONFIG) is None  # one at a time across every worker
    wide = queue.Config(2, 10, 30.0, 60.0)
    assert queue.claim(store, "b", wide) == ("icd10cm", "E11.9")
    assert queue.claim(store, "c", wide) is None  # nothing left unclaimed
    assert queue.state(store, "icd10cm", "E10.9") == {"status": "queued", "queued_at": rows(store)[0]["queued_at"],
                                                      "writing": True}


def test_a_dead_workers_claim_is_taken_over(store: ContentStore) -> None:
    queue.enqueue(store, "icd10cm", "E11.9", 10)
    start = time.time()
    assert queue.claim(store, "dead", CONFIG, at=start) == ("icd10cm", "E11.9")
    assert queue.claim(store, "b", CONFIG, at=start + CONFIG.timeout) is None  # maybe still working
    later = start + CONFIG.stale_after + 1
    assert queue.claim(store, "b", CONFIG, at=later) == ("icd10cm", "E11.9")
    assert rows(store)[0]["claimed_by"] == "b"


def test_claims_from_many_connections_never_share_a_code(store: ContentStore) -> None:
    codes = [f"C{i:02d}" for i in range(30)]
    for c in codes:
        queue.enqueue(store, "icd10cm", c, 100)
    store.close()
    config = queue.Config(concurrency=100, max_queued=100, timeout=30.0, backoff=60.0)
    taken: dict[str, list[str]] = {}
    lock = threading.Lock()

    def worker(name: str) -> None:
        own = ContentStore(store.path)
        while (key := queue.claim(own, name, config)) is not None:
            with lock:
                taken.setdefault(key[1], []).append(name)
        own.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == codes and all(len(v) == 1 for v in taken.values())


def test_a_failed_code_waits_out_its_backoff(store: ContentStore) -> None:
    queue.enqueue(store, "icd10cm", "E11.9", 10)
    start = time.time()
    assert queue.claim(store, "a", CONFIG, at=start)
    with store.conn:
        queue.failed(store, "icd10cm", "E11.9", "a", "the answer was not JSON", CONFIG.backoff, at=start)
    added, found = queue.enqueue(store, "icd10cm", "E11.9", 10, at=start + 1)
    assert not added and found["status"] == "failed" and found["reason"] == "the answer was not JSON"
    assert queue.claim(store, "b", CONFIG, at=start + 1) is None  # a failed code is no work
    after = start + CONFIG.backoff + 1
    assert queue.enqueue(store, "icd10cm", "E11.9", 10, at=after)[0]  # queued again once the backoff passed
    assert queue.claim(store, "b", CONFIG, at=after)
    with store.conn:
        queue.failed(store, "icd10cm", "E11.9", "b", "again", CONFIG.backoff, at=after)
    row = rows(store)[0]
    assert row["failures"] == 2 and row["retry_after"] == after + 2 * CONFIG.backoff  # doubled


def test_failing_a_claim_taken_over_leaves_the_new_owner_alone(store: ContentStore) -> None:
    queue.enqueue(store, "icd10cm", "E11.9", 10)
    queue.claim(store, "old", CONFIG, at=0.0)
    queue.claim(store, "new", CONFIG, at=CONFIG.stale_after + 1)
    with store.conn:
        queue.failed(store, "icd10cm", "E11.9", "old", "late", CONFIG.backoff)
    assert rows(store)[0]["status"] == "queued" and rows(store)[0]["claimed_by"] == "new"


def written(store: ContentStore, code: str, review_status: str = "unreviewed") -> None:
    """What a worker does with a checked answer: the text stored and the code's row gone, at once."""
    with store.conn.transaction():
        store.put({"system": "icd10cm", "code": code, "prompt_version": "v-test", "section_set": "diagnosis",
                   "sections": [{"key": "what", "title": "What it is", "text": "Made-up text."}], "model": "fake",
                   "created": "2026-01-01T00:00:00Z", "facts_hash": "h", "review_status": review_status},
                  commit=False)
        queue.finished(store, "icd10cm", code)


def test_a_view_that_saw_no_text_just_before_it_was_written_queues_nothing(store: ContentStore) -> None:
    # a page reads "no text", the worker stores the text and drops the row, then the page queues:
    # that late view must not send the code to the model a second time
    queue.enqueue(store, "icd10cm", "E11.9", 10)
    assert queue.claim(store, "a", CONFIG) == ("icd10cm", "E11.9")
    written(store, "E11.9")
    added, found = queue.enqueue(store, "icd10cm", "E11.9", 10)
    assert not added and found is None
    assert rows(store) == [] and queue.claim(store, "b", CONFIG) is None


def test_a_queued_code_whose_text_appeared_meanwhile_is_not_claimed(store: ContentStore) -> None:
    # the row got in while the text was being committed (or the CLI wrote the text): the claim drops it
    queue.enqueue(store, "icd10cm", "E11.9", 10)
    queue.enqueue(store, "icd10cm", "E10.9", 10)
    written(store, "E11.9")
    store.conn.execute("INSERT INTO content_queue (system, code, status, queued_at) VALUES"
                       " ('icd10cm', 'E11.9', 'queued', '2026-01-01T00:00:00Z')")
    assert queue.claim(store, "a", queue.Config(2, 10, 30.0, 60.0)) == ("icd10cm", "E10.9")
    assert [r["code"] for r in rows(store)] == ["E10.9"]


def test_rejected_text_is_written_again(store: ContentStore) -> None:
    written(store, "E11.9", "rejected")  # a reviewer turned it down: the page shows none, a view queues it
    assert queue.enqueue(store, "icd10cm", "E11.9", 10)[0]
    assert queue.claim(store, "a", CONFIG) == ("icd10cm", "E11.9")


def test_workers_starting_together_migrate_once(store_location: str) -> None:
    path = store_location
    errors: list[BaseException] = []
    gate = threading.Barrier(6)

    def open_store() -> None:
        gate.wait()
        try:
            ContentStore(path).close()
        except BaseException as e:  # noqa: BLE001 (any error is the failure under test)
            errors.append(e)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert queue.counts(ContentStore(path)) == {}


# -- the worker, against the local fake model ---------------------------------------
@pytest.fixture()
def run_worker(catalog: Catalog, store: ContentStore) -> Iterator[Callable[..., queue.Worker]]:
    started: list[queue.Worker] = []

    def start(llm: FakeLLM, config: queue.Config = CONFIG) -> queue.Worker:
        def client(**_: Any) -> OpenAIChatClient:
            return OpenAIChatClient(llm.base_url, "fake", backoff=0.01, retries=0, timeout=config.timeout)

        w = queue.Worker(lambda: catalog, store.path, config, client_factory=client).start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def about(llm: FakeLLM, code: str) -> int:
    """Requests the fake model got about one code."""
    return sum(f"Code: {code}\n" in "\n".join(str(m.get("content")) for m in r["messages"]) + "\n"
               for r in llm.requests)


def test_the_worker_writes_a_queued_code(store: ContentStore, run_worker: Callable[..., queue.Worker]) -> None:
    with FakeLLM() as llm:
        worker = run_worker(llm)
        queue.enqueue(store, "icd10cm", "E11.9", 10)
        worker.wake()
        item = wait_for(lambda: store.get("icd10cm", "E11.9"))
        assert item["model"] == "fake" and item["sections"]
        assert rows(store) == [] and store.failures("icd10cm", "E11.9") == []
        assert about(llm, "E11.9") == item["attempts"]


def test_garbage_answers_are_a_recorded_failure_not_a_loop(store: ContentStore,
                                                           run_worker: Callable[..., queue.Worker]) -> None:
    with FakeLLM(default="malformed") as llm:
        run_worker(llm)
        queue.enqueue(store, "icd10cm", "E11.9", 10)
        wait_for(lambda: store.failures("icd10cm", "E11.9"))
        wait_for(lambda: rows(store) and rows(store)[0]["status"] == "failed")
        asked = len(llm.requests)
        added, found = queue.enqueue(store, "icd10cm", "E11.9", 10)
        assert not added and found["status"] == "failed"
        queue.enqueue(store, "icd10cm", "E10.9", 10)  # later work goes on: the worker did not stop
        wait_for(lambda: store.failures("icd10cm", "E10.9"))
        attempts = store.failures("icd10cm", "E11.9")[0]["attempts"]
        assert about(llm, "E11.9") == asked == attempts  # asked only as often as one failure's attempts
        assert len(llm.requests) == attempts + about(llm, "E10.9")
        assert store.get("icd10cm", "E11.9") is None


def test_a_model_that_never_answers_times_out_as_a_failure(store: ContentStore,
                                                           run_worker: Callable[..., queue.Worker]) -> None:
    with FakeLLM(default="slow", slow_seconds=30) as llm:
        run_worker(llm, queue.Config(concurrency=1, max_queued=3, timeout=0.5, backoff=60.0))
        queue.enqueue(store, "icd10cm", "E11.9", 10)
        failure = wait_for(lambda: store.failures("icd10cm", "E11.9"))[0]
        assert "no checked answer within 0.5 s" in failure["reason"]
        assert queue.state(store, "icd10cm", "E11.9")["status"] == "failed"  # type: ignore[index]


def test_stopping_gives_the_claim_back(store: ContentStore, run_worker: Callable[..., queue.Worker]) -> None:
    with FakeLLM(default="slow", slow_seconds=30) as llm:
        worker = run_worker(llm)
        queue.enqueue(store, "icd10cm", "E11.9", 10)
        wait_for(lambda: llm.requests)
        assert rows(store)[0]["claimed_by"] == worker.id
        worker.stop()
        row = rows(store)[0]
        assert row["status"] == "queued" and row["claimed_by"] is None


def test_on_view_queues_only_where_a_worker_runs(store: ContentStore, monkeypatch: pytest.MonkeyPatch,
                                                  catalog: Catalog) -> None:
    assert queue.on_view(store.path, "icd10cm", "E11.9") is None  # generation off: nothing queued
    assert rows(store) == []
    assert queue.start(lambda: catalog, store.path, CONFIG) is None  # no model configured
    with FakeLLM(default="slow", slow_seconds=30) as llm:
        monkeypatch.setenv("MEDCODES_LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("MEDCODES_LLM_MODEL", "fake")
        assert queue.start(lambda: catalog, store.path, queue.Config(0, 3, 30.0, 60.0)) is None  # turned off
        try:
            assert queue.start(lambda: catalog, store.path, CONFIG) is not None
            found = queue.on_view(store.path, "icd10cm", "E11.9")
            assert found is not None and found["status"] == "queued"
        finally:
            queue.stop()
        assert rows(store)[0]["claimed_by"] is None  # given back on stop


@pytest.mark.parametrize(("name", "value"), [("MEDCODES_ONDEMAND_QUEUE", "many"),
                                             ("MEDCODES_ONDEMAND_TIMEOUT", "0"),
                                             ("MEDCODES_ONDEMAND_CONCURRENCY", "-1")])
def test_a_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(MedcodesError, match=name):
        queue.Config.from_settings()
