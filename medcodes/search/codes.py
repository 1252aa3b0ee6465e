"""Codes as typed: code prefixes (families) and ranges, answered from every code held sorted in memory.

A family ("S72", "0SG") or a range ("A00-Z99") can hold tens of thousands of codes; a page needs
ten of them and the count. Binary search over the sorted compact codes gives both without a
table scan, and only the ids that will be shown leave numpy.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from .. import systems

SYSTEM_ORDER = tuple(systems.SYSTEMS)
WIDTH = 16


class CodeIndex:
    """Every code's compact form (grouping nodes named by a range, "E08-E13", left out), sorted."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        # the compact index hands the rows over sorted (BINARY order, the same as Python's for ASCII)
        cur = conn.cursor()
        cur.row_factory = None  # plain tuples: the Catalog's rows are sqlite3.Row
        rows = cur.execute("SELECT compact, id, system FROM codes INDEXED BY codes_compact"
                           " WHERE instr(compact, '-') = 0 ORDER BY compact").fetchall()
        # ASCII bytes of one fixed width, wider than any needle: a longer needle would make numpy
        # copy the whole array to a wider type on every search
        self.compact = np.array([r[0].encode() for r in rows], dtype=f"S{WIDTH}")
        self.ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        index = {s: i for i, s in enumerate(SYSTEM_ORDER)}
        self.system = np.fromiter((index.get(r[2], -1) for r in rows), dtype=np.int8, count=len(rows))

    def span(self, first: str, last: str, systems_: tuple[str, ...] = ()) -> np.ndarray:
        """Ids of codes from `first` up to `last` and everything under it, in code order."""
        lo = int(np.searchsorted(self.compact, _key(first), side="left"))
        hi = int(np.searchsorted(self.compact, _key(last + "~"), side="left"))
        return self._pick(lo, hi, systems_)

    def under(self, prefix: str, systems_: tuple[str, ...] = ()) -> np.ndarray:
        """Ids of the codes that extend `prefix` (not the code itself), in code order."""
        lo = int(np.searchsorted(self.compact, _key(prefix), side="right"))
        hi = int(np.searchsorted(self.compact, _key(prefix + "~"), side="left"))
        return self._pick(lo, hi, systems_)

    def exists(self, compact: str, system: str) -> bool:
        """Whether `compact` is a code of `system` or the start of some of its codes."""
        lo = int(np.searchsorted(self.compact, _key(compact), side="left"))
        hi = int(np.searchsorted(self.compact, _key(compact + "~"), side="left"))
        return bool(np.any(self.system[lo:hi] == SYSTEM_ORDER.index(system)))

    def _pick(self, lo: int, hi: int, systems_: tuple[str, ...]) -> np.ndarray:
        """Code order: system by system, and within one its codes sorted (E11 < E11.0 < E11.00 <
        E11.01 < E11.1: the tabular order; DRGs by number, which their ids are not)."""
        ids, system = self.ids[lo:hi], self.system[lo:hi]
        if systems_:
            keep = np.isin(system, [SYSTEM_ORDER.index(s) for s in systems_])
            ids, system = ids[keep], system[keep]
        return ids[np.argsort(system, kind="stable")]


def _key(text: str) -> bytes:
    return text.encode()[:WIDTH]


def range_systems(index: CodeIndex, candidates: tuple[str, ...], first: str, last: str,
                  named: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Of the systems where both ends are code-shaped, the ones the range is about: those where
    it names a grouping node ("E08-E13" is an ICD-10-CM block), else those where both ends are
    codes ("A0021-A0999" is HCPCS, not the ICD-10-CM A00.21-A09.99 it could spell), else one
    end. None when no system has either end: an index without HCPCS has no A0021-A0999."""
    if any(s in candidates for s in named):
        return tuple(s for s in candidates if s in named)
    hits = {s: index.exists(first, s) + index.exists(last, s) for s in candidates}
    best = max(hits.values(), default=0)
    return tuple(s for s in candidates if best and hits[s] == best)
