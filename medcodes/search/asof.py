"""Search "as of" a date of service (issue 7): which codes existed, and which were deleted, on a date.

The rule is medcodes.service_date's, the one a code page applies: a code that did not exist yet is
left out; a deleted one is kept, ranked after the valid ones and marked; each result's mark is
what the code's page says for the date. Here it is applied to every code with history at once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import systems
from ..dates import iso_day
from ..record import AsOf as CodeAsOf
from ..service_date import Event, Release, existence, not_loaded, on_date, release_in_force


@dataclass(frozen=True)
class AsOf:
    date: str
    hidden: np.ndarray  # bool per code id: not yet added on the date
    gone: np.ndarray  # bool per code id: deleted on or before the date
    releases: dict[str, str | None] = field(default_factory=dict)  # system -> release in force
    loaded: dict[str, list[Release]] = field(default_factory=dict)  # system -> its loaded releases

    def mark(self, events: list[Event], row: tuple[Any, ...]) -> dict[str, Any]:
        """What a result (id, system, code, title, kind, billable, deleted_in) says about the date:
        the code page's answer, with the title only where it differs from today's."""
        billable = None if row[5] is None else bool(row[5])
        return _brief(on_date(self.date, row[1], events, self.loaded.get(row[1], []), title=row[3],
                              billable=billable, deleted_in=row[6]), row[3])

    def not_loaded(self, system_name: str, code: str) -> dict[str, Any]:
        """The mark of a code no loaded data holds (a CPT code a policy cites)."""
        return _brief(not_loaded(self.date, system_name, code), None)


def _brief(then: CodeAsOf, title: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"date": then.date, "valid": then.valid, "exists": then.exists, "reason": then.reason}
    if then.title is not None and then.title != title:
        out["title"] = then.title
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
            self.events.setdefault(cid, []).append(Event(eff, change, release, old))
        self.size = size
        self._releases = conn.execute("SELECT system, name, coalesce(effective, '') FROM releases"
                                      " ORDER BY rowid").fetchall()
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
            exists, why = existence(events, date)
            hidden[cid] = not exists and why is not None and why.change == "added"
            gone[cid] = not exists and not hidden[cid]
        loaded: dict[str, list[Release]] = {}
        for system, name, eff in self._releases:
            if system in systems.SYSTEMS:  # not "gems"
                loaded.setdefault(system, []).append((name, eff))
        in_force = {system: release_in_force(releases, date) for system, releases in sorted(loaded.items())}
        return AsOf(date, hidden, gone, in_force, loaded)
