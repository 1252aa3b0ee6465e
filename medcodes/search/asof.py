"""Search "as of" a date of service (issue 7): which codes existed, and which were deleted, on a date.

From the history the builder records when it loads several releases of a system (added,
revised, deleted, each with the release's effective date): on a date, a code whose first event
is a later addition did not exist yet and is left out; a code whose last event by then is a
deletion is kept and marked; a code deleted later was valid then and is not penalised as
deleted. Codes without history were in every loaded release. The rule is the one
`Catalog.as_of` applies to a single code.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import systems
from ..dates import iso_day

Event = tuple[str, str, str, str | None]  # (effective or "", change, release, old title)


@dataclass(frozen=True)
class AsOf:
    date: str
    hidden: np.ndarray  # bool per code id: not yet added on the date
    gone: np.ndarray  # bool per code id: deleted on or before the date
    releases: dict[str, str | None] = field(default_factory=dict)  # system -> release in force

    def mark(self, cid: int, events: list[Event], title: str) -> dict[str, Any]:
        """What a result says about the date: valid or not, why, and its title then."""
        reason = None
        then = title
        for eff, change, release, old in events:
            if change == "deleted" and eff <= self.date:
                reason = f"deleted in {release}" + (f" (effective {eff})" if eff else "")
            elif change == "added" and eff <= self.date:
                reason = None
            elif change == "revised" and eff > self.date and then == title and old:
                then = old
        out: dict[str, Any] = {"date": self.date, "valid": not bool(self.gone[cid]), "reason": reason}
        if then != title:
            out["title"] = then
        return out


def parse_date(value: Any) -> str:
    """An ISO date (YYYY-MM-DD), or BadRequest."""
    return iso_day(value, "as_of")


class History:
    """Every code's history events, read once per index and process."""

    def __init__(self, conn: sqlite3.Connection, size: int) -> None:
        rows = conn.execute(
            "SELECT c.id, coalesce(h.effective, ''), h.change, h.release, h.old_title FROM history h"
            " JOIN codes c ON c.system = h.system AND c.code = h.code"
            " ORDER BY c.id, coalesce(h.effective, ''), h.rowid").fetchall()
        self.events: dict[int, list[Event]] = {}
        for cid, eff, change, release, old in rows:
            self.events.setdefault(cid, []).append((eff, change, release, old))
        self.size = size
        self._releases = conn.execute("SELECT system, name, coalesce(effective, '') FROM releases").fetchall()
        self._cache: dict[str, AsOf] = {}

    def on(self, date: str) -> AsOf:
        found = self._cache.get(date)
        if found is None:
            if len(self._cache) > 64:
                self._cache.clear()
            found = self._cache[date] = self._compute(date)
        return found

    def _compute(self, date: str) -> AsOf:
        hidden = np.zeros(self.size, dtype=bool)
        gone = np.zeros(self.size, dtype=bool)
        for cid, events in self.events.items():
            before = [e for e in events if e[0] <= date]
            if not before:
                hidden[cid] = events[0][1] == "added"
            else:
                gone[cid] = before[-1][1] == "deleted"
        in_force: dict[str, tuple[str, str | None]] = {system: ("", None) for system, _, _ in self._releases
                                                      if system in systems.SYSTEMS}  # not "gems"
        for system, name, eff in self._releases:
            if system in in_force and eff <= date and (in_force[system][1] is None or eff >= in_force[system][0]):
                in_force[system] = (eff, name)
        return AsOf(date, hidden, gone, {s: r[1] for s, r in sorted(in_force.items())})
