"""The store's dialect layer (medcodes.storage) and `medcodes store backup` / `restore` on PostgreSQL:
a backup is a SQLite store file on both backends, so it also moves a store from one to the other."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from medcodes import storage
from medcodes.cli import main
from medcodes.content.store import ContentStore
from medcodes.errors import MedcodesError
from medcodes.policies.queries import policies_for_code, search_policies
from medcodes.policies.records import PolicyRecord
from medcodes.policies.store import PolicyStore, links_version
from tests.content.conftest import index_path  # noqa: F401

ITEM = {"system": "icd10cm", "code": "E11.9", "prompt_version": "explainer-test", "section_set": "diagnosis",
        "sections": [{"key": "summary", "title": "Summary", "text": "Invented text."}], "model": "fake",
        "created": "2026-01-01T00:00:00Z", "facts_hash": "f"}


def _policy(n: int) -> PolicyRecord:
    return PolicyRecord(payer="Test plan", title=f"Invented policy {n}", kind="document", content_hash=f"h{n}",
                        policy_id=f"P-{n}", text=f"Policy {n} covers wheelchairs.", source=f"policy-{n}.txt")


def test_placeholders_become_psycopg_ones_outside_text_and_comments() -> None:
    sql = "SELECT '?', \"a?\", x -- what?\nFROM t WHERE a LIKE 'x%' AND b = ? AND c = ?"
    assert storage.postgres_sql(sql) == ("SELECT '?', \"a?\", x -- what?\nFROM t WHERE a LIKE 'x%%' AND b = %s"
                                         " AND c = %s")


def test_a_location_is_a_url_or_a_file() -> None:
    url = storage.location("postgresql://ana:secret@db.example:5432/medcodes")
    assert isinstance(url, storage.PostgresURL) and url.redacted() == "postgresql://ana:***@db.example:5432/medcodes"
    assert storage.location("~/store.sqlite") == Path("~/store.sqlite").expanduser()


def test_rows_read_by_name_and_position(store_location: str) -> None:
    db = PolicyStore(store_location).db
    row = db.execute("SELECT 1 AS one, 'two' AS two").fetchone()
    assert (row[0], row["two"], dict(row)) == (1, "two", {"one": 1, "two": "two"})


def test_a_failed_transaction_leaves_nothing_and_nested_ones_join(store_location: str) -> None:
    store = PolicyStore(store_location)
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute("INSERT INTO policy_changes (store, n) VALUES ('two', 0)")
        with db.transaction():
            db.execute("INSERT INTO policy_changes (store, n) VALUES ('three', 0)")
        raise RuntimeError("half way")
    assert store.db.execute("SELECT COUNT(*) FROM policy_changes").fetchone()[0] == 1


def test_every_policy_write_moves_the_counter_and_content_writes_do_not(store_location: str) -> None:
    store = PolicyStore(store_location)
    before = links_version(store_location)
    store.put(_policy(1))
    after = links_version(store_location)
    assert after is not None and before is not None and after[0] == before[0] and after[1] > before[1]
    ContentStore(store_location).put(ITEM)
    assert links_version(store_location) == after
    store.delete("P-1")
    assert links_version(store_location) != after


def test_concurrent_ingests_number_versions_without_gaps(store_location: str) -> None:
    """Writers on many threads (separate connections) each add a version of one policy: the store's
    one-writer transaction keeps the numbers 1..N with none lost."""
    store = PolicyStore(store_location)
    errors: list[BaseException] = []

    def ingest(n: int) -> None:
        try:
            store.put(PolicyRecord(payer="Test plan", title="One policy", kind="document", content_hash=f"v{n}",
                                   policy_id="P-1", text=f"Version {n} covers E11.9."))
        except BaseException as e:  # noqa: BLE001 (any error is the failure under test)
            errors.append(e)

    threads = [threading.Thread(target=ingest, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = [r[0] for r in store.db.execute("SELECT version FROM policy_versions ORDER BY version")]
    assert versions == list(range(1, 9))


def _fill(where: str) -> None:
    store = PolicyStore(where)
    for n in range(5):
        store.put(_policy(n))
    content = ContentStore(where)
    content.put(ITEM)
    content.review("icd10cm", "E11.9", "approved", reviewer="ana")


def _check(where: str) -> None:
    assert {p["policy_id"] for p in search_policies(where, "wheelchair")} == {f"P-{n}" for n in range(5)}
    content = ContentStore(where, create=False)
    assert content.get("icd10cm", "E11.9")["review_status"] == "approved"  # type: ignore[index]
    assert [r["reviewer"] for r in content.reviews("icd10cm", "E11.9")] == ["ana"]


def test_postgres_backup_and_restore(pg_url: str, pg_server: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from tests import postgres

    _fill(pg_url)
    backup = tmp_path / "backup.sqlite"
    assert main(["store", "backup", str(backup), "--store", pg_url]) == 0
    out = capsys.readouterr().out
    assert "5 policies, 1 explainers, 1 reviews" in out and "backed up postgresql://" in out
    with sqlite3.connect(backup) as conn:  # a plain SQLite store file
        assert conn.execute("SELECT COUNT(*) FROM policy_versions").fetchone()[0] == 5
    _check(str(backup))  # readable as a store as it is

    other = postgres.new_database(pg_server)
    try:
        PolicyStore(other).put(_policy(99))  # replaced by the restore
        assert main(["store", "restore", str(backup), "--store", other]) == 0
        _check(other)
        assert policies_for_code(other, "icd10cm", "E11.9") == []
        assert search_policies(other, "Invented policy 99") == []
    finally:
        storage.forget(other)
        postgres.drop_database(pg_server, other)


def test_a_sqlite_store_moves_into_postgres(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    local = str(tmp_path / "store.sqlite")
    _fill(local)
    backup = tmp_path / "backup.sqlite"
    assert main(["store", "backup", str(backup), "--store", local]) == 0
    assert main(["store", "restore", str(backup), "--store", pg_url]) == 0
    assert "restored postgresql://" in capsys.readouterr().out
    _check(pg_url)
    ContentStore(pg_url).fail("icd10cm", "E10.9", "explainer-test", "fake", 1, "after the move")  # rowids go on


def test_a_bad_backup_is_refused_and_the_postgres_store_kept(pg_url: str, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    _fill(pg_url)
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database at all" * 100)
    assert main(["store", "restore", str(bad), "--store", pg_url]) == 1
    assert "not a medcodes store" in capsys.readouterr().err
    _check(pg_url)


def test_an_unreachable_postgres_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("psycopg")
    url = "postgresql://nobody@127.0.0.1:9/none"
    with pytest.raises(MedcodesError, match=r"store postgresql://nobody@127.0.0.1:9/none: cannot connect"):
        PolicyStore(url)
    storage.forget(url)


def test_many_rows_at_once_with_duplicates_ignored(store_location: str) -> None:
    """executemany of an INSERT ... VALUES becomes multi-row statements on PostgreSQL: thousands of
    rows, a duplicate among them ignored as on SQLite."""
    db = PolicyStore(store_location).db
    rows = [("P-1", 1, "icd10cm", f"E{n}", "covered", "s", "m", 1) for n in range(2500)]
    with db.transaction():
        db.executemany("INSERT INTO policy_links VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                       [*rows, rows[0]])
    assert db.execute("SELECT COUNT(*), MIN(code) FROM policy_links").fetchone()[:] == (2500, "E0")


def test_a_connection_the_server_dropped_is_replaced(pg_url: str) -> None:
    store = PolicyStore(pg_url)
    store.put(_policy(1))
    killer = storage.new_store(pg_url)
    killed = killer.execute("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    assert killed >= 1
    assert [p["policy_id"] for p in search_policies(pg_url, "wheelchairs")] == ["P-1"]
    killer.close()


def test_a_store_that_cannot_be_reached_is_a_503_not_a_500(index_path: Path) -> None:  # noqa: F811
    import warnings

    from starlette.exceptions import StarletteDeprecationWarning

    from medcodes.web.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient
    pytest.importorskip("psycopg")
    url = "postgresql://nobody@127.0.0.1:9/none"
    try:
        with TestClient(create_app(index_path, store=url), raise_server_exceptions=False) as client:
            for path in ("/api/v1/codes/icd10cm/E11.9", "/api/v1/policies", "/policies"):
                r = client.get(path)
                assert r.status_code == 503, (path, r.status_code)
            assert client.get("/api/v1/codes/icd10cm/E11.9").json()["error"] == "store_unavailable"
    finally:
        storage.forget(url)


def test_the_process_keeps_a_bounded_number_of_store_files_open(tmp_path: Path) -> None:
    first = storage.open_store(tmp_path / "0.sqlite")
    assert storage.open_store(tmp_path / "0.sqlite") is first  # shared while in use
    for n in range(1, storage.KEPT_FILES + 5):
        storage.open_store(tmp_path / f"{n}.sqlite")
    kept = [k for k in storage._OPEN if k[0].startswith(str(tmp_path))]
    assert len(kept) == storage.KEPT_FILES and storage.open_store(tmp_path / "0.sqlite") is not first
