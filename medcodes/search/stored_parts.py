"""What the re-scoring reads in each descriptor (rank.Parts), worked out once when the index is built.

`rank.title_parts` costs ~30 µs a descriptor (folding, five regular expressions, sets). A query
re-scores up to 300 candidates, and a query nobody asked before finds most of them outside the
process's cache: ~9 ms of a cold query went there (bench/serve.py "search API, new queries").
Stored as arrays in `search_parts`, a query's candidates are gathered from them with numpy
(`PartsTable.title_words`) instead.

The arrays hold, per code id, its distinct title words (ids into one word list) with their flag
bytes (rank.Parts), the head word and the plain flag. `RULES` fingerprints the
classification the parts came from; an index built under other rules is ignored (the engine
falls back to computing parts), so a stale table can make search slower, never different.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable

import numpy as np

from . import rank
from .query import POSSESSIVE

# Bump when rank.title_parts changes what it returns for the same constants.
PARTS_VERSION = 2


def _rules() -> str:
    spec = repr((PARTS_VERSION, sorted(rank._CLASS.items()), sorted(rank.PLAIN), rank._TOKEN.pattern,
                 rank._PARENS.pattern, rank._WITH.pattern, rank._WITHOUT.pattern, rank._ABSENT.pattern,
                 rank._UNSAID.pattern, POSSESSIVE.pattern))
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


RULES = _rules()

DDL = """
DROP TABLE IF EXISTS search_parts;
CREATE TABLE search_parts (rules TEXT NOT NULL, vocab BLOB NOT NULL, offsets BLOB NOT NULL,
                           words BLOB NOT NULL, flags BLOB NOT NULL, heads BLOB NOT NULL,
                           plain BLOB NOT NULL);
"""


def build(conn: sqlite3.Connection, titles: Iterable[tuple[int, str]]) -> None:
    """Write `search_parts` for (code id, descriptor) pairs."""
    vocab: dict[str, int] = {"": 0}  # 0 is the empty head
    by_id: dict[int, rank.Parts] = {cid: rank.title_parts.__wrapped__(title) for cid, title in titles}
    size = max(by_id, default=-1) + 1
    offsets = np.zeros(size + 1, dtype="<i4")
    heads = np.zeros(size, dtype="<i4")
    plain = np.zeros(size, dtype=np.uint8)
    words: list[int] = []
    flags = bytearray()
    for cid in range(size):
        p = by_id.get(cid)
        if p is not None:
            words += [vocab.setdefault(w, len(vocab)) for w in p.words]
            flags += p.flags
            heads[cid] = vocab.setdefault(p.head, len(vocab))
            plain[cid] = p.plain
        offsets[cid + 1] = len(words)
    conn.executescript(DDL)
    conn.execute("INSERT INTO search_parts VALUES (?,?,?,?,?,?,?)",
                 (RULES, "\n".join(vocab).encode(), offsets.tobytes(), np.array(words, dtype="<i4").tobytes(),
                  bytes(flags), heads.tobytes(), plain.tobytes()))


class PartsTable:
    """The stored parts of one index, read into memory once per process (~5 bytes a title word:
    11 MB for the embedded data's 198k descriptors)."""

    def __init__(self, vocab: list[str], offsets: np.ndarray, words: np.ndarray, flags: np.ndarray,
                 heads: np.ndarray, plain: np.ndarray) -> None:
        self.vocab = vocab
        self.offsets = offsets.astype(np.int64)
        self.words = words
        self.flags = flags
        self.heads = heads
        self.plain = plain.astype(bool)
        # each word's place in the sorted vocabulary: a query's distinct words come out sorted, as the
        # re-scoring wants them (rank.TitleWords), with no sort of strings per query
        order = sorted(range(len(vocab)), key=vocab.__getitem__)
        self._alphabetical = [vocab[j] for j in order]
        self._place = np.empty(len(vocab), dtype=np.int64)
        self._place[order] = np.arange(len(vocab))

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> PartsTable | None:
        """The table when the index has one made under today's rules, else None."""
        try:
            row = conn.execute("SELECT rules, vocab, offsets, words, flags, heads, plain FROM search_parts").fetchone()
        except sqlite3.OperationalError:
            return None
        if row is None or row[0] != RULES:
            return None
        return cls(bytes(row[1]).decode().split("\n"), np.frombuffer(row[2], dtype="<i4"),
                   np.frombuffer(row[3], dtype="<i4"), np.frombuffer(row[4], dtype=np.uint8),
                   np.frombuffer(row[5], dtype="<i4"), np.frombuffer(row[6], dtype=np.uint8))

    def __len__(self) -> int:
        return len(self.heads)

    def has(self, ids: np.ndarray) -> np.ndarray:
        """Whether the table holds each id's descriptor (an empty one is left to title_parts)."""
        inside = (ids >= 0) & (ids < len(self.heads))
        out = np.zeros(len(ids), dtype=bool)
        held = ids[inside]
        out[inside] = (self.offsets[held + 1] > self.offsets[held]) | (self.heads[held] != 0)
        return out

    def get(self, cid: int) -> rank.Parts | None:
        if not self.has(np.array([cid]))[0]:
            return None
        a, b = int(self.offsets[cid]), int(self.offsets[cid + 1])
        return rank.Parts(tuple(self.vocab[j] for j in self.words[a:b].tolist()), self.flags[a:b].tobytes(),
                          self.vocab[int(self.heads[cid])], bool(self.plain[cid]))

    def title_words(self, ids: np.ndarray) -> rank.TitleWords:
        """The descriptors of `ids` (all held: see `has`) as rank.TitleWords, gathered with numpy."""
        start, end = self.offsets[ids], self.offsets[ids + 1]
        lengths = end - start
        # the entries of every id in turn: each id's start, then counting up within it
        entry = np.repeat(start - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))
        word = self._place[self.words[entry]]
        head = self._place[self.heads[ids]]
        present = np.zeros(len(self._place), dtype=bool)  # a few thousand of 15k words: cheaper than a sort
        present[word] = True
        present[head] = True
        position = np.cumsum(present) - 1
        alphabetical = self._alphabetical
        strings = [alphabetical[j] for j in np.flatnonzero(present).tolist()]
        return rank.TitleWords(strings, position[word], self.flags[entry], lengths, position[head], self.plain[ids])
