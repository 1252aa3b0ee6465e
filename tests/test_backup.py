"""`medcodes store backup` / `restore`: a consistent copy of the store taken while it is being
written, where copying the file loses what is still in its write-ahead log."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from medcodes.cli import main
from medcodes.policies.records import PolicyRecord
from medcodes.policies.store import PolicyStore


def _policy(n: int) -> PolicyRecord:
    return PolicyRecord(payer="Test plan", title=f"Invented policy {n}", kind="document", content_hash=f"h{n}",
                        policy_id=f"P-{n}", text=f"Policy {n} covers E11.9.", source=f"policy-{n}.txt")


def _ids(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM policies")}
    except sqlite3.OperationalError:  # not even the table: it is all in the write-ahead log
        return set()
    finally:
        conn.close()


def test_backup_while_writing_keeps_every_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_path = tmp_path / "store.sqlite"
    store = PolicyStore(store_path)
    reader = sqlite3.connect(store_path)  # an open reader, as a server holds: no checkpoint empties the log
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM policies").fetchone()
    for n in range(30):
        store.put(_policy(n))
    copied = tmp_path / "copied.sqlite"
    shutil.copyfile(store_path, copied)  # what copying the file by hand keeps
    assert len(_ids(copied)) < 30
    assert main(["store", "backup", str(tmp_path / "backup.sqlite"), "--store", str(store_path)]) == 0
    assert "30 policies" in capsys.readouterr().out
    assert _ids(tmp_path / "backup.sqlite") == {f"P-{n}" for n in range(30)}
    reader.rollback()
    reader.close()
    store.close()

    fresh = tmp_path / "restored" / "store.sqlite"
    assert main(["store", "restore", str(tmp_path / "backup.sqlite"), "--store", str(fresh)]) == 0
    assert _ids(fresh) == {f"P-{n}" for n in range(30)}


def test_a_bad_backup_is_refused_and_the_store_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_path = tmp_path / "store.sqlite"
    store = PolicyStore(store_path)
    store.put(_policy(1))
    store.close()
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database" * 100)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    for source in (bad, other, tmp_path / "missing.sqlite"):
        assert main(["store", "restore", str(source), "--store", str(store_path)]) == 1
    err = capsys.readouterr().err
    assert "not a medcodes store" in err and "no such file" in err
    assert _ids(store_path) == {"P-1"}
    assert main(["store", "backup", str(tmp_path / "b.sqlite"), "--store", str(tmp_path / "none.sqlite")]) == 1
    assert "no store here yet" in capsys.readouterr().err
