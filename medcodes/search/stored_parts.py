"""What the re-scoring reads in each descriptor (rank.Parts), worked out once when the index is built.

`rank.title_parts` costs ~30 µs a descriptor (folding, five regular expressions, sets). A query
re-scores up to 300 candidates, and a query nobody asked before finds most of them outside the
process's cache: ~9 ms of a cold query went there (bench/serve.py "search API, new queries").
Stored as arrays in `search_parts`, a descriptor's Parts is a few list look-ups instead.

The arrays hold, per code id, its distinct title words (ids into one word list) with their flag
bytes (rank.Parts), the head word and the plain flag. `RULES` fingerprints the
classification the parts came from; an index built under other rules is ignored (the engine
falls back to computing parts), so a stale table can make search slower, never different.
"""

from __future__ import annotations

import hashlib
import sqlite3
from array import array
from collections.abc import Iterable

import numpy as np

from . import rank
from .query import POSSESSIVE

# Bump when rank.title_parts changes what it returns for the same constants.
PARTS_VERSION = 1


def _rules() -> str:
    spec = repr((PARTS_VERSION, sorted(rank._CLASS.items()), sorted(rank.PLAIN), rank._TOKEN.pattern,
                 rank._PARENS.pattern, rank._WITH.pattern, rank._WITHOUT.pattern, POSSESSIVE.pattern))
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
    """The stored parts of one index, read into memory once per process (~5 bytes a title word)."""

    def __init__(self, vocab: list[str], offsets: np.ndarray, words: np.ndarray, flags: bytes,
                 heads: np.ndarray, plain: np.ndarray) -> None:
        self.vocab = vocab
        self.offsets = offsets.tolist()  # Python ints: a list index is ~10x a numpy scalar's speed
        self.words = array("i", words.astype("=i4").tobytes())  # slices of Python ints, no numpy per call
        self.flags = flags
        self.heads = heads.tolist()
        self.plain = plain.tolist()

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
                   np.frombuffer(row[3], dtype="<i4"), bytes(row[4]), np.frombuffer(row[5], dtype="<i4"),
                   np.frombuffer(row[6], dtype=np.uint8))

    def __len__(self) -> int:
        return len(self.heads)

    def get(self, cid: int) -> rank.Parts | None:
        if not 0 <= cid < len(self.heads):
            return None
        a, b = self.offsets[cid], self.offsets[cid + 1]
        if a == b and not self.heads[cid]:
            return None  # no title stored for this id
        vocab = self.vocab
        return rank.Parts(tuple([vocab[j] for j in self.words[a:b]]), self.flags[a:b],
                          vocab[self.heads[cid]], bool(self.plain[cid]))
