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
from .records import COVERAGE_SECTIONS, HISTORY, Link, Mention, RangeLink

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
    """One link per (system, code, section), first snippet kept; unvalidated ranges kept as ranges.

    The narrower statement wins: a code the policy names on its own ("except K51.90", "L40.2 is not
    covered") with a coverage call is left out of a wider range or subtree that says otherwise, and a
    range kept as written is split around it. Codes named only in the revision history are not linked.
    """
    cited = [m for m in mentions if m.section != HISTORY]
    expanded = [(m, expand_mention(checker, m) if m.validated and (m.last or m.subtree) else [m.code]) for m in cited]
    own: dict[tuple[str, str], tuple[int, str]] = {}  # (system, code) -> (codes in its statement, section)
    for m, codes in expanded:
        if m.section in COVERAGE_SECTIONS and (m.last is None or m.validated):
            for code in codes:
                if (m.system, code) not in own or len(codes) < own[(m.system, code)][0]:
                    own[(m.system, code)] = (len(codes), m.section)
    links: dict[tuple[str, str, str], Link] = {}
    ranges: dict[tuple[str, str, str, str], RangeLink] = {}
    for m, codes in expanded:
        if not m.validated and m.last is not None:
            inside = [c for (s, c), (_, section) in own.items() if s == m.system and section != m.section]
            for first, last in split_range(m.code, m.last, inside):
                ranges.setdefault((m.system, first, last, m.section),
                                  RangeLink(m.system, first, last, m.section, m.snippet, m.raw))
            continue
        for code in codes:
            narrower = own.get((m.system, code))
            if narrower is not None and narrower[0] < len(codes) and narrower[1] != m.section:
                continue
            links.setdefault((m.system, code, m.section),
                             Link(m.system, code, m.section, m.snippet, m.raw, m.validated))
    return list(links.values()), list(ranges.values())


def history(mentions: Iterable[Mention]) -> list[dict[str, str | bool | None]]:
    """The codes named in the policy's revision history, once each, for the policy page ("validated": the
    catalog holds the code, so it has a page; a CPT code named only here has none without CPT data)."""
    out: dict[tuple[str, str, str | None], dict[str, str | bool | None]] = {}
    for m in mentions:
        if m.section == HISTORY:
            out.setdefault(m.key, {"system": m.system, "code": m.code, "last": m.key[2], "mention": m.raw,
                                   "snippet": m.snippet, "validated": m.validated})
    return list(out.values())


def summary(mentions: list[Mention]) -> dict[tuple[str, str, str | None], Mention]:
    """Per mention key (system, code, last), the mention that says most about it."""
    grouped: dict[tuple[str, str, str | None], list[Mention]] = {}
    for m in mentions:
        grouped.setdefault(m.key, []).append(m)
    return {k: primary(v) for k, v in grouped.items()}
