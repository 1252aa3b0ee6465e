"""Code order and depth: one walk of each system's tree.

The order is what "a range of codes" means everywhere (search ranges,
policy ranges like E08.00-E13.9): siblings sorted by their code, parents
before children, so a block sits right before the categories it holds.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from ..model import Code
from ..systems import compact

_KIND_RANK = {"chapter": 0, "section": 0, "mdc": 0, "block": 1, "body_system": 1, "table": 2}
_RANGE_DASH = re.compile(r"[-\u2013]")  # compiled once: a build sorts 200,000 codes


def sort_key(code: Code) -> tuple[str, int, str]:
    """Siblings are ordered by the start of their range, then broader kinds first."""
    start = _RANGE_DASH.split(code.code, maxsplit=1)[0]
    return (compact(start), _KIND_RANK.get(code.kind, 9), code.code)


def walk(codes: Iterable[Code]) -> list[tuple[Code, int]]:
    """Return every code with its depth, in code order (pre-order walk).

    A code whose parent is missing becomes a root rather than vanishing:
    the builder reports how many there were.
    """
    by_key = {(c.system, c.code): c for c in codes}
    children: dict[tuple[str, str | None], list[Code]] = defaultdict(list)
    for c in by_key.values():
        parent = c.parent if c.parent and (c.system, c.parent) in by_key else None
        children[(c.system, parent)].append(c)
    for siblings in children.values():
        siblings.sort(key=sort_key)
    ordered: list[tuple[Code, int]] = []
    systems = sorted({s for s, _ in children})
    for system in systems:
        stack = [(c, 0) for c in reversed(children.get((system, None), []))]
        while stack:
            node, depth = stack.pop()
            ordered.append((node, depth))
            stack.extend((c, depth + 1) for c in reversed(children.get((system, node.code), [])))
    return ordered


def orphans(codes: Iterable[Code]) -> int:
    keys = {(c.system, c.code) for c in codes}
    return sum(1 for c in codes if c.parent and (c.system, c.parent) not in keys)
