"""Build the search tables on a finished index (a post-build step: see medcodes.app.build).

- `search_fts`: one FTS5 row per code, columns weighted at query time: the descriptor, the
  short descriptor, terms that name the code (inclusion terms, synonyms, index terms) and
  explanatory notes (includes, definitions). Excludes and "code first" notes are left out on
  purpose: they name what the code is *not*.
- `search_order`: which code each FTS row is. Within a system, rows take the system's own ids,
  shortest descriptor first, so the start of a system's rowid range holds the codes BM25 and
  the re-scoring favour: a word in 30,000 codes ("open", "fracture") is ranked from there
  instead of scoring every match (Engine._top).
- `search_parts`: what the re-scoring reads in each descriptor, worked out once (stored_parts.py).
- `search_paths`: every official index path (and "see" reference) with the code it leads to, searched
  as a path of its own (paths.py).
- `search_index_terms`: the Alphabetic Index's main terms as lexicon entries (index_terms.py).
- `search_vocab`: every word with the number of codes that use it, for typo correction,
  "did you mean" and as-you-type completion.
- `search_vectors` (made by semantic.build, a build step of its own): embeddings of descriptors.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import paths, stored_parts
from .index_terms import build as build_main_terms
from .query import words

SEARCH_VERSION = "5"  # 2: rows ordered by descriptor length, search_order; 3: one-letter prefix index;
# 4: search_parts (stored_parts.py); 5: search_paths (paths.py)
COLUMNS = ("title", "short", "terms", "notes")
# Note types whose text says what a code *is*; the others (excludes, code first...) say what it is not.
TERM_NOTES = frozenset({"inclusion"})
CONTEXT_NOTES = frozenset({"includes", "definition"})
TOKENIZER = "porter unicode61 remove_diacritics 2"

# Prefix indexes of 1, 2 and 3 letters: a suggestion for "low b" asks for "b"*, and without its own
# index FTS5 merges the doclist of every b-word (100 ms; with it, one doclist: a few ms).
DDL = f"""
DROP TABLE IF EXISTS search_fts;
DROP TABLE IF EXISTS search_vocab;
DROP TABLE IF EXISTS search_order;
CREATE VIRTUAL TABLE search_fts USING fts5({", ".join(COLUMNS)}, content='', tokenize='{TOKENIZER}',
                                         prefix='1 2 3');
CREATE TABLE search_vocab (word TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE search_order (ids BLOB NOT NULL);  -- int32 code id of each FTS rowid, little-endian
"""


def build(conn: sqlite3.Connection, report: Any = None) -> None:
    """The lexical tables in one step (semantic.build, a step of its own, adds the embeddings)."""
    build_lexical(conn)


def build_words(conn: sqlite3.Connection, report: Any = None) -> None:
    """The build's first half of `build`: the FTS, vocabulary and order tables."""
    _build_words(conn, list(_documents(conn, True, True)))


def build_side(conn: sqlite3.Connection, report: Any = None) -> None:
    """The build's second half of `build`: `search_parts` and `search_paths`. They read only `codes`,
    `terms` and `term_refs`, so the build may run this step in its worker beside build_words."""
    stored_parts.build(conn, conn.execute("SELECT id, title FROM codes ORDER BY id").fetchall())
    paths.build(conn)
    build_main_terms(conn)


def build_lexical(conn: sqlite3.Connection, short_titles: bool = True, index_terms: bool = True) -> None:
    """Create the FTS and vocabulary tables from `codes` and `terms`. `short_titles=False` and
    `index_terms=False` leave those texts out: the benchmark asks whether short descriptors and
    index terms can be found from the rest."""
    docs = list(_documents(conn, short_titles, index_terms))
    _build_words(conn, docs)
    stored_parts.build(conn, ((row[0], row[1]) for row in docs))
    paths.build(conn)
    build_main_terms(conn)


def _build_words(conn: sqlite3.Connection, docs: list[tuple[int, str, str, str, str]]) -> None:
    conn.executescript(DDL)
    vocab: Counter[str] = Counter()
    sizes: dict[int, tuple[int, int]] = {}  # code id -> (descriptor words, document words)
    for row in docs:
        # The words of texts joined by a space are the words of each text in turn (query.words): the
        # descriptor is split once, for the document and for its own length.
        title = words(row[1])
        every = title + words(" ".join(row[2:]))
        vocab.update(set(every))
        sizes[row[0]] = (len(title), len(every))
    rowid_of = _rowids(conn, sizes)
    order = np.zeros(max(rowid_of.values(), default=0) + 1, dtype="<i4")
    for cid, rowid in rowid_of.items():
        order[rowid] = cid
    rows = sorted((rowid_of[row[0]], *row[1:]) for row in docs)  # FTS5 appends rowids in order fastest
    for i in range(0, len(rows), 5000):
        conn.executemany("INSERT INTO search_fts (rowid, title, short, terms, notes) VALUES (?,?,?,?,?)",
                         rows[i:i + 5000])
    conn.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
    conn.executemany("INSERT INTO search_vocab VALUES (?, ?)", sorted(vocab.items()))
    conn.execute("INSERT INTO search_order VALUES (?)", (order.tobytes(),))
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('search_version', ?)", (SEARCH_VERSION,))


def _rowids(conn: sqlite3.Connection, sizes: dict[int, tuple[int, int]]) -> dict[int, int]:
    """Code id -> FTS rowid: each system's ids handed to its codes shortest descriptor first
    (then shortest document), so a system's rowid range is the same as its id range. An
    ICD-10-CM 7th-character code counts its descriptor without the extension (", sequela") and
    sorts by it (A, the initial encounter, first), so a code's variants stay together."""
    by_system: dict[str, list[tuple[int, int, int, int]]] = {}
    for cid, system, code, title in conn.execute("SELECT id, system, code, title FROM codes"):
        if cid not in sizes:
            continue
        size, doc = sizes[cid]
        seventh = 0
        if system == "icd10cm" and len(code) == 8 and code[-1].isalpha() and "," in title:
            # the words before the last comma: all of the descriptor's but those of the short extension
            size -= len(words(title.rsplit(",", 1)[1]))
            seventh = _SEVENTH.get(code[-1], 2)
        by_system.setdefault(system, []).append((size, seventh, doc, cid))
    out: dict[int, int] = {}
    for rows in by_system.values():
        slots = sorted(r[-1] for r in rows)
        for slot, row in zip(slots, sorted(rows), strict=True):
            out[row[-1]] = slot
    return out


_SEVENTH = {"A": 0, "B": 1, "C": 1, "S": 3}  # others (D, G, K, P...): 2, later encounters


def _documents(conn: sqlite3.Connection, short_titles: bool,
               index_terms: bool) -> Iterator[tuple[int, str, str, str, str]]:
    terms: dict[tuple[str, str], list[str]] = {}
    for system, code, term in conn.execute("SELECT system, code, term FROM terms" + ("" if index_terms else
                                                                                    " WHERE 0")):
        terms.setdefault((system, code), []).append(term)
    sql = "SELECT id, system, code, title, short_title, notes, synonyms FROM codes ORDER BY id"
    for cid, system, code, title, short, notes_json, synonyms_json in conn.execute(sql).fetchall():
        # most codes have neither: "[]" is not worth a JSON parse, 200,000 times
        named: list[str] = list(json.loads(synonyms_json)) if synonyms_json != "[]" else []
        context: list[str] = []
        for note_type, text in json.loads(notes_json) if notes_json != "[]" else ():
            if note_type in TERM_NOTES:
                named.append(text)
            elif note_type in CONTEXT_NOTES:
                context.append(text)
        named.extend(terms.get((system, code), ()))
        short_text = (short or "") if short_titles else ""
        yield cid, title, short_text, " ; ".join(named), " ; ".join(context)
