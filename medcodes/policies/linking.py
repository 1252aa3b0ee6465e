"""Mentions -> links: codes checked against the catalog, ranges expanded in the catalog's code order.

A range in a system the catalog holds becomes one link per code from its first to its last code
(with the last code's subtree: "E13.9" ends a range at E13.9, "E13" ends it after E13.9). A range
in a system the catalog does not hold (CPT, licensed) is kept as a range and matched by code order
when a code page asks (`policy_ranges`), so CPT 22210 finds a policy that cites 22200-22226.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable
from typing import Any

from .. import systems
from ..errors import NotFound
from .extract import primary
from .records import Link, Mention, RangeLink

MAX_RANGE_CODES = 25_000  # a chapter-sized range: links past this say more about a typo than a policy


class CatalogChecker:
    """The catalog as the extractor and the linker see it, with lookups cached per run."""

    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog
        self._loaded: dict[str, bool] = {}
        self._resolve = functools.lru_cache(maxsize=200_000)(self._resolve_uncached)

    def loaded(self, system: str) -> bool:
        if system not in self._loaded:
            row = self.catalog.conn.execute("SELECT 1 FROM codes WHERE system=? LIMIT 1", (system,)).fetchone()
            self._loaded[system] = row is not None
        return self._loaded[system]

    def resolve(self, system: str, code: str) -> str | None:
        return self._resolve(system, code)  # type: ignore[no-any-return]

    def _resolve_uncached(self, system: str, code: str) -> str | None:
        try:
            rows = self.catalog.find(code, system)
        except (NotFound, sqlite3.Error):
            return None
        return rows[0]["code"] if rows else None

    def expand(self, system: str, first: str, last: str) -> list[str]:
        try:
            rows = self.catalog.code_range(system, first, last)
        except NotFound:
            return []
        return [r["code"] for r in rows[:MAX_RANGE_CODES]]


class MemoryChecker:
    """A checker over code lists in code order: for tests, and for maps read without an index."""

    def __init__(self, codes: dict[str, list[str]]) -> None:
        self.order = {s: list(dict.fromkeys(systems.normalize(s, c) for c in cs)) for s, cs in codes.items()}
        self.index = {s: {systems.compact(c): i for i, c in enumerate(cs)} for s, cs in self.order.items()}

    def loaded(self, system: str) -> bool:
        return bool(self.order.get(system))

    def resolve(self, system: str, code: str) -> str | None:
        i = self.index.get(system, {}).get(systems.compact(code))
        return None if i is None else self.order[system][i]

    def expand(self, system: str, first: str, last: str) -> list[str]:
        idx, order = self.index.get(system, {}), self.order.get(system, [])
        lo, hi = idx.get(systems.compact(first)), idx.get(systems.compact(last))
        if lo is None or hi is None:
            return []
        lo, hi = min(lo, hi), max(lo, hi)
        stem = systems.compact(order[hi])
        while hi + 1 < len(order) and systems.compact(order[hi + 1]).startswith(stem):
            hi += 1  # the last code's subtree belongs to the range
        return order[lo:hi + 1][:MAX_RANGE_CODES]


def expand_mention(checker: Any, m: Mention) -> list[str]:
    """The codes one validated mention stands for."""
    if m.last is None and not m.subtree:
        return [m.code]
    codes = checker.expand(m.system, m.code, m.last or m.code)
    if m.seventh:
        # "S42.00XA-S42.92XA": initial encounters only, not every 7th character under the range
        codes = [c for c in codes if len(systems.compact(c)) == 7 and c.endswith(m.seventh)]
    return codes or [m.code]


def split_range(first: str, last: str, inside: Iterable[str]) -> list[tuple[str, str]]:
    """A range kept as written ("77385-77387"), less the codes named apart inside it ("except 77386"):
    the pieces around them, for codes that count up in their digits ("0001U"-"0012U" too)."""
    pieces = [(first, last)]
    for code in sorted(set(inside)):
        step = _steps(code)
        if step is None:
            continue
        before, after = step
        out = []
        for a, b in pieces:
            if len(code) != len(a) or not a <= code <= b:
                out.append((a, b))
                continue
            if code != a:
                out.append((a, before))
            if code != b:
                out.append((after, b))
        pieces = out
    return pieces


def _steps(code: str) -> tuple[str, str] | None:
    """The codes just before and after `code` in its numbering: "77386" -> ("77385", "77387")."""
    digits = len(code) - len(code.lstrip("0123456789"))
    if digits == 0 or digits < len(code) - 1:
        return None
    n, suffix = int(code[:digits]), code[digits:]
    return f"{n - 1:0{digits}d}{suffix}", f"{n + 1:0{digits}d}{suffix}"


def link(mentions: Iterable[Mention], checker: Any) -> tuple[list[Link], list[RangeLink]]:
    """One link per (system, code, section), first snippet kept; unvalidated ranges kept as ranges."""
    links: dict[tuple[str, str, str], Link] = {}
    ranges: dict[tuple[str, str, str, str], RangeLink] = {}
    for m in mentions:
        if not m.validated and m.last is not None:
            ranges.setdefault((m.system, m.code, m.last, m.section),
                              RangeLink(m.system, m.code, m.last, m.section, m.snippet, m.raw))
            continue
        codes = expand_mention(checker, m) if m.validated else [m.code]
        for code in codes:
            links.setdefault((m.system, code, m.section),
                             Link(m.system, code, m.section, m.snippet, m.raw, m.validated))
    return list(links.values()), list(ranges.values())


def summary(mentions: list[Mention]) -> dict[tuple[str, str, str | None], Mention]:
    """Per mention key (system, code, last), the mention that says most about it."""
    grouped: dict[tuple[str, str, str | None], list[Mention]] = {}
    for m in mentions:
        grouped.setdefault(m.key, []).append(m)
    return {k: primary(v) for k, v in grouped.items()}
