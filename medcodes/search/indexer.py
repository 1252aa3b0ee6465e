"""Build the search tables on a finished index (a POST_BUILD_STEPS step of medcodes.index.build).

- `search_fts`: one FTS5 row per code (rowid = codes.id), columns weighted at query time:
  the descriptor, the short descriptor, terms that name the code (inclusion terms, synonyms,
  index terms) and explanatory notes (includes, definitions). Excludes and "code first" notes
  are left out on purpose: they name what the code is *not*.
- `search_vocab`: every word with the number of codes that use it, for typo correction,
  "did you mean" and as-you-type completion.
- `search_vectors`: sentence embeddings, when semantic search is enabled (see semantic.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from typing import Any

from .query import words

SEARCH_VERSION = "1"
COLUMNS = ("title", "short", "terms", "notes")
# Note types whose text says what a code *is*; the others (excludes, code first...) say what it is not.
TERM_NOTES = frozenset({"inclusion"})
CONTEXT_NOTES = frozenset({"includes", "definition"})
TOKENIZER = "porter unicode61 remove_diacritics 2"

DDL = f"""
DROP TABLE IF EXISTS search_fts;
DROP TABLE IF EXISTS search_vocab;
CREATE VIRTUAL TABLE search_fts USING fts5({", ".join(COLUMNS)}, content='', tokenize='{TOKENIZER}',
                                         prefix='2 3');
CREATE TABLE search_vocab (word TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
"""


def build(conn: sqlite3.Connection, report: Any = None) -> None:
    """The build step: lexical tables, then embeddings when semantic search is on."""
    build_lexical(conn)
    from . import semantic

    semantic.build(conn, report)


def build_lexical(conn: sqlite3.Connection, short_titles: bool = True, index_terms: bool = True) -> None:
    """Create the FTS and vocabulary tables from `codes` and `terms`. `short_titles=False` and
    `index_terms=False` leave those texts out: the benchmark asks whether short descriptors and
    index terms can be found from the rest."""
    conn.executescript(DDL)
    vocab: Counter[str] = Counter()
    batch: list[tuple[int, str, str, str, str]] = []
    for row in _documents(conn, short_titles, index_terms):
        batch.append(row)
        vocab.update(set(words(" ".join(row[1:]))))
        if len(batch) >= 5000:
            conn.executemany("INSERT INTO search_fts (rowid, title, short, terms, notes) VALUES (?,?,?,?,?)", batch)
            batch.clear()
    conn.executemany("INSERT INTO search_fts (rowid, title, short, terms, notes) VALUES (?,?,?,?,?)", batch)
    conn.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
    conn.executemany("INSERT INTO search_vocab VALUES (?, ?)", sorted(vocab.items()))
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('search_version', ?)", (SEARCH_VERSION,))


def _documents(conn: sqlite3.Connection, short_titles: bool,
               index_terms: bool) -> Iterator[tuple[int, str, str, str, str]]:
    terms: dict[tuple[str, str], list[str]] = {}
    for system, code, term in conn.execute("SELECT system, code, term FROM terms" + ("" if index_terms else
                                                                                    " WHERE 0")):
        terms.setdefault((system, code), []).append(term)
    sql = "SELECT id, system, code, title, short_title, notes, synonyms FROM codes ORDER BY id"
    for cid, system, code, title, short, notes_json, synonyms_json in conn.execute(sql).fetchall():
        named: list[str] = list(json.loads(synonyms_json))
        context: list[str] = []
        for note_type, text in json.loads(notes_json):
            if note_type in TERM_NOTES:
                named.append(text)
            elif note_type in CONTEXT_NOTES:
                context.append(text)
        named.extend(terms.get((system, code), ()))
        short_text = (short or "") if short_titles else ""
        yield cid, title, short_text, " ; ".join(named), " ; ".join(context)
