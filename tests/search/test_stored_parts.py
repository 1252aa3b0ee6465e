"""The descriptor parts stored at build time (search_parts) are what rank.title_parts computes, an
index built under other rules or before the table existed is searched the same way, and the
full index's table agrees with the computed parts for every code."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from medcodes.index import Catalog
from medcodes.search import engine_for, rank, search, stored_parts

from ..indexes import SEARCH_RECORDS, build_index

QUERIES = ("heart attack", "type 2 diabetes", "fracture of radius", "pain unspecified joint", "knee replacement",
           "ambulance mile", "diabetes drg", "E11 kidney", "fusion lumbar posterior", "unspecified fracture")


def _computed(title: str) -> rank.Parts:
    return rank.title_parts.__wrapped__(title)


def test_every_stored_title_is_the_computed_one(catalog: Catalog) -> None:
    table = stored_parts.PartsTable.load(catalog.conn)
    assert table is not None
    rows = catalog.conn.execute("SELECT id, title FROM codes").fetchall()
    assert len(rows) == len(SEARCH_RECORDS) - sum(1 for r in SEARCH_RECORDS if type(r).__name__ != "Code")
    for cid, title in rows:
        assert table.get(cid) == _computed(title), title


def test_flags_say_kind_core_and_head() -> None:
    p = _computed("Type 2 diabetes mellitus with diabetic nephropathy, sequela")
    flag = dict(zip(p.words, p.flags, strict=True))
    assert flag["type"] & rank.KIND == 1  # a scale word costs like any other
    assert flag["mellitus"] & rank.KIND == 2 and flag["type"] & rank.CORE  # generic; in the core
    assert not flag["nephropathy"] & rank.CORE  # in the "with" clause: 0.6
    assert not flag["sequela"] & rank.IN_HEAD and flag["diabetes"] & rank.IN_HEAD
    assert p.head == "diabetes"


def test_gathered_words_are_those_of_the_parts(catalog: Catalog) -> None:
    table = stored_parts.PartsTable.load(catalog.conn)
    assert table is not None
    rows = catalog.conn.execute("SELECT id, title FROM codes WHERE title != '' ORDER BY random()").fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    assert table.has(ids).all()
    gathered = table.title_words(ids)
    computed = rank.title_words([_computed(r[1]) for r in rows])
    assert gathered.strings == computed.strings == sorted(set(gathered.strings))
    for a, b in zip(gathered[1:], computed[1:], strict=True):
        assert np.array_equal(a, b)
    # per candidate: its own words, in its own order
    first = [gathered.strings[i] for i in gathered.word[:gathered.lengths[0]]]
    assert tuple(first) == _computed(rows[0][1]).words


def test_unknown_ids_and_empty_titles_fall_back(catalog: Catalog) -> None:
    table = stored_parts.PartsTable.load(catalog.conn)
    assert table is not None
    assert table.get(-1) is None and table.get(len(table) + 10) is None


@pytest.fixture()
def copy(index_path: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(index_path, tmp_path / "copy.sqlite"))


def _answers(path: Path) -> list[object]:
    cat = Catalog(path)
    try:
        return [search(cat, q, limit=20) for q in QUERIES]
    finally:
        cat.close_thread_connection()


def test_other_rules_or_no_table_search_the_same(catalog: Catalog, copy: Path, tmp_path: Path) -> None:
    want = [search(catalog, q, limit=20) for q in QUERIES]
    assert any(r["results"] for r in want)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE search_parts SET rules='built by another version'")
    assert stored_parts.PartsTable.load(sqlite3.connect(copy)) is None
    assert _answers(copy) == want
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TABLE search_parts")
    assert stored_parts.PartsTable.load(sqlite3.connect(copy)) is None
    assert _answers(copy) == want


def test_a_table_missing_some_codes_searches_the_same(catalog: Catalog, copy: Path) -> None:
    want = [search(catalog, q, limit=20) for q in QUERIES]
    with sqlite3.connect(copy) as conn:
        rows = conn.execute("SELECT id, title FROM codes ORDER BY id").fetchall()
        stored_parts.build(conn, rows[::2])  # every other code is left to title_parts
    table = stored_parts.PartsTable.load(sqlite3.connect(copy))
    assert table is not None and 0 < int(table.has(np.array([r[0] for r in rows])).sum()) < len(rows)
    assert _answers(copy) == want


def test_the_engine_reads_the_table(catalog: Catalog) -> None:
    assert engine_for(catalog).parts is not None


def test_rules_change_with_the_classification(monkeypatch: pytest.MonkeyPatch) -> None:
    before = stored_parts._rules()
    monkeypatch.setattr(rank, "PLAIN", rank.PLAIN | {"nec"})
    assert stored_parts._rules() != before


def test_a_rebuilt_index_has_a_fresh_table(tmp_path: Path) -> None:
    records = SEARCH_RECORDS[:12]
    path = build_index(tmp_path / "small.sqlite", "search", records=records)
    table = stored_parts.PartsTable.load(sqlite3.connect(path))
    codes = sum(1 for r in records if type(r).__name__ == "Code")
    assert table is not None and codes == 11 and sum(1 for i in range(len(table)) if table.get(i)) == codes


@pytest.mark.slow
def test_full_index_table_is_the_computed_parts(full_index: Path) -> None:
    conn = sqlite3.connect(full_index)
    table = stored_parts.PartsTable.load(conn)
    assert table is not None
    rows = conn.execute("SELECT id, title FROM codes WHERE title != ''").fetchall()
    for cid, title in random.Random(5).sample(rows, 5000):
        assert table.get(cid) == _computed(title), title
