"""Code history: added, revised, deleted, from official change lists and from release diffs.

Two kinds of evidence (issue 7):

- official changes the importers yield (`model.Change`): the ICD-10-CM
  addenda, the HCPCS action codes. They hold even when one release alone is
  loaded;
- the diff of consecutive loaded releases of a system, in order of their
  effective dates. A source counts as a release's code list when it yields
  billable codes; supplements (index terms, definitions) do not.

An official change wins over the diff's for the same (system, code,
release, change); the diff fills in the rest (and is all ICD-10-PCS gets).
An official revision that does not give the old title takes it from the
diff, or from the code list of the loaded release before it.
The newest release decides current titles; codes it lacks are marked deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..model import CHANGE_TYPES, Change

__all__ = ["DIFF_SOURCE", "Change", "Snapshot", "diff", "history", "ordered", "prefer_official"]

DIFF_SOURCE = "release diff"

Key = tuple[str, str, str, str]  # system, code, release, change


@dataclass
class Snapshot:
    """The billable codes (with titles) one release lists."""

    system: str
    release: str
    effective: str | None
    order: int  # position among the build's sources, the tie-breaker for undated releases
    titles: dict[str, str] = field(default_factory=dict)


def ordered(snapshots: list[Snapshot]) -> list[Snapshot]:
    # undated releases sort by the order they were given in
    return sorted(snapshots, key=lambda s: (s.effective or "", s.order))


def diff(old: Snapshot, new: Snapshot) -> list[Change]:
    """What `new` changed relative to `old`, in code order."""
    def change(code: str, kind: str, old_title: str | None, new_title: str | None) -> Change:
        return Change(new.system, code, new.release, kind, old_title, new_title, DIFF_SOURCE, new.effective)

    added, deleted = new.titles.keys() - old.titles.keys(), old.titles.keys() - new.titles.keys()
    changes = [change(code, "added", None, new.titles[code]) for code in sorted(added)]
    changes += [change(code, "deleted", old.titles[code], None) for code in sorted(deleted)]
    for code in sorted(old.titles.keys() & new.titles.keys()):
        a, b = old.titles[code], new.titles[code]
        if a and b and _norm(a) != _norm(b):
            changes.append(change(code, "revised", a, b))
    return changes


def _norm(title: str) -> str:
    # Files of one release disagree on white space and case; those are not revisions.
    return " ".join(title.split()).casefold()


def history(snapshots: list[Snapshot], official: Iterable[Change] = ()) -> tuple[list[Change], dict[str, Snapshot]]:
    """Every change of every system, oldest first, and each system's newest snapshot."""
    by_system: dict[str, list[Snapshot]] = {}
    for s in snapshots:
        by_system.setdefault(s.system, []).append(s)
    derived: list[Change] = []
    newest: dict[str, Snapshot] = {}
    previous: dict[tuple[str, str], Snapshot] = {}  # (system, release) -> the loaded release before it
    for system, snaps in by_system.items():
        merged = _merge_same_release(ordered(snaps))
        newest[system] = merged[-1]
        for old, new in zip(merged, merged[1:], strict=False):
            derived.extend(diff(old, new))
            previous[(system, new.release)] = old
    return prefer_official(official, derived, previous), newest


def prefer_official(official: Iterable[Change], derived: list[Change],
                    previous: dict[tuple[str, str], Snapshot] | None = None) -> list[Change]:
    """Official changes, then the derived ones no official change covers, oldest first."""
    chosen: dict[Key, Change] = {}
    for c in official:
        key = _key(c)
        chosen[key] = _fill(chosen[key], c) if key in chosen else c  # the same change read twice
    for c in derived:
        key = _key(c)
        chosen[key] = _fill(chosen[key], c) if key in chosen else c
    out = [_old_title_from(c, (previous or {}).get((c.system, c.release))) for c in chosen.values()]
    return sorted(out, key=lambda c: (c.system, c.effective or "", c.release, CHANGE_TYPES.index(c.change), c.code))


def _key(c: Change) -> Key:
    return (c.system, c.code, c.release, c.change)


def _fill(first: Change, other: Change) -> Change:
    """`first` with the titles it lacks taken from `other` (an official row keeps its source)."""
    return replace(first, old_title=first.old_title or other.old_title, new_title=first.new_title or other.new_title)


def _old_title_from(c: Change, before: Snapshot | None) -> Change:
    # HCPCS action code C says a title changed, not what it was: the release loaded before it knows.
    if c.change != "revised" or c.old_title or before is None:
        return c
    old = before.titles.get(c.code)
    return replace(c, old_title=old) if old and old != c.new_title else c


def _merge_same_release(snaps: list[Snapshot]) -> list[Snapshot]:
    """Two files of one release (the order file and the codes file) are one snapshot."""
    out: list[Snapshot] = []
    for s in snaps:
        if out and out[-1].release == s.release:
            out[-1].titles.update(s.titles)
        else:
            out.append(Snapshot(s.system, s.release, s.effective, s.order, dict(s.titles)))
    return out
