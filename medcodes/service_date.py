"""The date-of-service rule: what a code was on a day, from the history the index records.

Every answer that takes a date uses this one rule: a code page and its JSON (`Catalog.as_of`), FHIR
$validate-code with a date, and a search as of a date (medcodes.search.asof: which codes it leaves
out, which it marks deleted, and the mark on each result). It reads no database: the callers hand
it the code's history events, oldest first, and the releases of its system that the index loaded.

- The last addition or deletion on or before the date decides whether the code existed. With
  none, a code whose first such change is a later addition did not exist yet; a code without
  history was in every loaded release.
- The release in force is the latest one effective on or before the date. When every loaded
  release of the system is later, the index cannot tell (`valid` and `exists` are None) unless
  the history says the code was added later.
- A code that existed is valid for submission unless it is a header (a chapter, block or
  category that is not billable; a deleted code's billability is not known for the date).
- Its title then is the old title of the first revision after the date.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from . import systems
from .record import AsOf


class Event(NamedTuple):
    """One history event as the rule reads it."""

    effective: str  # "" when the release gives no date
    change: str  # "added", "revised", "deleted"
    release: str
    old_title: str | None
    replaced_by: tuple[str, ...] = ()  # deletions: what the same release added in the code's place


Release = tuple[str, str]  # (name, effective or ""), in the order the build loaded them

HEADER = "not valid for submission (a header code)"


def release_in_force(releases: Sequence[Release], date: str) -> str | None:
    """The release in force on `date`: the latest effective on or before it (of two effective the
    same day, the one loaded later); None when every loaded release is later."""
    best: Release | None = None
    for name, effective in releases:
        if effective <= date and (best is None or effective >= best[1]):
            best = (name, effective)
    return best[0] if best else None


def existence(events: Sequence[Event], date: str) -> tuple[bool, Event | None]:
    """Whether the code was in its code system on `date`, and the event that says why not (the
    addition still to come, or the deletion in force)."""
    moves = [e for e in events if e.change in ("added", "deleted")]
    before = [e for e in moves if e.effective <= date]
    if before:
        return (False, before[-1]) if before[-1].change == "deleted" else (True, None)
    if moves and moves[0].change == "added":
        return False, moves[0]
    return True, None


def title_on(events: Sequence[Event], date: str, title: str | None) -> str | None:
    """The code's title on `date`: the old title of the first revision after it, else `title`."""
    for e in events:
        if e.change == "revised" and e.effective > date and e.old_title:
            return e.old_title
    return title


def on_date(date: str, system: str, events: Sequence[Event], releases: Sequence[Release], *,
            title: str | None, billable: bool | None, deleted_in: str | None) -> AsOf:
    """The code on `date`: valid for submission or not and why, whether it existed, its title then,
    and the release in force. `billable` and `deleted_in` are the code's in the newest release."""
    release = release_in_force(releases, date)
    exists, why = existence(events, date)
    if release is None and exists:
        firsts = sorted((effective, i, name) for i, (name, effective) in enumerate(releases) if effective)
        unknown = f"no release of {systems.get(system).name} loaded in force on {date}" + (
            f"; the first loaded is {firsts[0][2]}, effective {firsts[0][0]}" if firsts else "")
        return AsOf(date, None, None, None, unknown, None)
    valid = exists
    reason = None
    if why is not None:
        reason = f"{why.change} in {why.release}" + (f" (effective {why.effective})" if why.effective else "")
    elif billable is False and deleted_in is None:
        valid, reason = False, HEADER
    replaced_by = why.replaced_by if why is not None and why.change == "deleted" else ()
    return AsOf(date, valid, exists, title_on(events, date, title), reason, release, replaced_by)


def not_loaded(date: str, system_name: str, code: str) -> AsOf:
    """A code no loaded data holds (a CPT code a policy cites): nothing can be said for the date."""
    return AsOf(date, None, None, None,
                f"no loaded {system_name} data includes {code}, so its validity on {date} is unknown", None)
