"""Code history from several releases of one system: added, revised, deleted.

When a build reads more than one release of a system (ICD-10-CM FY2025 and
FY2026, HCPCS 2020 and January 2025...), the releases are diffed pairwise in
order of their effective dates. A source counts as a release's code list when
it yields billable codes; supplements (index terms, definitions) do not.
The newest release decides current titles; codes it lacks are marked deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Snapshot:
    """The billable codes (with titles) one release lists."""

    system: str
    release: str
    effective: str | None
    order: int  # position among the build's sources, the tie-breaker for undated releases
    titles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    system: str
    code: str
    release: str
    effective: str | None
    change: str  # "added", "revised", "deleted"
    old_title: str | None = None
    new_title: str | None = None


def ordered(snapshots: list[Snapshot]) -> list[Snapshot]:
    # undated releases sort by the order they were given in
    return sorted(snapshots, key=lambda s: (s.effective or "", s.order))


def diff(old: Snapshot, new: Snapshot) -> list[Change]:
    """What `new` changed relative to `old`, in code order."""
    changes: list[Change] = []
    for code in sorted(new.titles.keys() - old.titles.keys()):
        changes.append(Change(new.system, code, new.release, new.effective, "added", None, new.titles[code]))
    for code in sorted(old.titles.keys() - new.titles.keys()):
        changes.append(Change(new.system, code, new.release, new.effective, "deleted", old.titles[code], None))
    for code in sorted(old.titles.keys() & new.titles.keys()):
        a, b = old.titles[code], new.titles[code]
        if a and b and _norm(a) != _norm(b):
            changes.append(Change(new.system, code, new.release, new.effective, "revised", a, b))
    return changes


def _norm(title: str) -> str:
    # Files of one release disagree on white space and case; those are not revisions.
    return " ".join(title.split()).casefold()


def history(snapshots: list[Snapshot]) -> tuple[list[Change], dict[str, Snapshot]]:
    """All changes between consecutive releases of each system, and each system's newest snapshot."""
    by_system: dict[str, list[Snapshot]] = {}
    for s in snapshots:
        by_system.setdefault(s.system, []).append(s)
    changes: list[Change] = []
    newest: dict[str, Snapshot] = {}
    for system, snaps in by_system.items():
        merged = _merge_same_release(ordered(snaps))
        newest[system] = merged[-1]
        for old, new in zip(merged, merged[1:], strict=False):
            changes.extend(diff(old, new))
    return changes, newest


def _merge_same_release(snaps: list[Snapshot]) -> list[Snapshot]:
    """Two files of one release (the order file and the codes file) are one snapshot."""
    out: list[Snapshot] = []
    for s in snaps:
        if out and out[-1].release == s.release:
            out[-1].titles.update(s.titles)
        else:
            out.append(Snapshot(s.system, s.release, s.effective, s.order, dict(s.titles)))
    return out
