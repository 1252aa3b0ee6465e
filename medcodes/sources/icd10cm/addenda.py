"""The CMS addenda: what a release added, revised and deleted (issue 7).

icd10cm_codes_addenda_YYYY.txt, one change a line, the action padded to 13
columns, then the code without its dot and its long title:
    Add:         C810A   Nodular lymphocyte predominant Hodgkin lymphoma, in remission
    Delete:      C8339   Diffuse large B-cell lymphoma, extranodal and solid organ sites
    Revise from: A7741   Ehrlichiosis chafeensis [E. chafeensis]
    Revise to:   A7741   Ehrlichiosis chaffeensis [E. chaffeensis]
icd10cm_order_addenda_YYYY.txt: the same actions, then the order file's
layout without its order number: valid flag (1 code, 0 header), code (7
columns), short title (60 columns), long title.

Both end with a summary per section ("Codes", "Headers": "252 additions",
"36 deletions", "13 revisions"), checked against the lines read, so a list
cut short is refused.

Only changes of valid codes become `Change` records, so "deleted" means no
longer valid for submission, the sense a diff of two code lists gives it:
FY2025 deletes code C83.39 and adds it back as a header. Header lines of the
order addenda are checked, then dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from ...errors import SourceError
from ...model import Change, Record, Release
from .common import CATEGORY, SYSTEM, Source
from .flat import code_at, lines

SOURCE = "addenda"

ADDENDA_LINE_RE = re.compile(r"(?:Add|Delete|Revise from|Revise to):\s")
ORDER_ADDENDA_LINE_RE = re.compile(r"(?:Add|Delete|Revise from|Revise to):\s+[01] ")
_CODES_RE = re.compile(rf"(Add|Delete|Revise from|Revise to):\s+({CATEGORY}[0-9A-Z]{{0,4}})\s+(\S.*)")
_ORDER_RE = re.compile(rf"(Add|Delete|Revise from|Revise to):\s+([01]) ({CATEGORY}[0-9A-Z ]{{4}}) (.{{60}}) (\S.*)")
_SECTION_RE = re.compile(r"\s*(Codes|Headers)\s*")
_COUNT_RE = re.compile(r"\s*([0-9]+) (additions|deletions|revisions)\s*")
_INFO_RE = re.compile(r"\s*(?:[0-9]+ (?:codes|headers) in \S+|of which|[0-9]+ revisions? to .+)\s*")
_SUMMARY_WORDS = {"additions": "added", "deletions": "deleted", "revisions": "revised"}


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    action: str  # "Add", "Delete", "Revise from", "Revise to"
    valid: bool  # a code (True) or a header (False, order addenda only)
    code: str
    title: str


def read_addenda(src: Source, release: Release, *, order: bool) -> Iterator[Record]:
    """Yield the Release, then one Change per valid code the addenda adds, deletes or revises."""
    yield release
    counted: dict[bool, Counter[str]] = {True: Counter(), False: Counter()}
    summary: dict[str, dict[str, tuple[int, int]]] = {}  # section -> change -> (count, line)
    pending: _Line | None = None  # a "Revise from" waiting for its "Revise to"
    section: str | None = None
    for number, text in lines(src):
        if section is None and ADDENDA_LINE_RE.match(text):
            line = _parse(src.label, number, text, order)
            change = _pair(src.label, pending, line, release)
            pending = line if line.action == "Revise from" else None
            if change is not None:
                counted[line.valid][change.change] += 1
                if line.valid:
                    yield change
        elif m := _SECTION_RE.fullmatch(text):
            section = m.group(1)
        elif section is not None and (m := _COUNT_RE.fullmatch(text)):
            summary.setdefault(section, {})[_SUMMARY_WORDS[m.group(2)]] = (int(m.group(1)), number)
        elif section is None or not _INFO_RE.fullmatch(text):
            raise SourceError(src.label, "not an addenda line: 'Add:', 'Delete:', 'Revise from:' or 'Revise to:', "
                                         f"then {'the valid flag, ' if order else ''}the code without its dot and "
                                         "its title", number)
    if pending is not None:
        raise SourceError(src.label, f"'Revise from' for {pending.code} without its 'Revise to'", pending.number)
    _check_summary(src.label, summary, counted)


def _parse(label: str, number: int, text: str, order: bool) -> _Line:
    m = (_ORDER_RE if order else _CODES_RE).fullmatch(text.rstrip())
    if m is None:
        layout = "valid flag 0/1, code (7 columns), short title (60 columns), long title" if order else \
            "code without its dot, title"
        raise SourceError(label, f"not an addenda line: the action, then {layout}", number)
    if order:
        action, valid, raw, title = m.group(1), m.group(2) == "1", m.group(3), m.group(5)
    else:
        action, valid, raw, title = m.group(1), True, m.group(2), m.group(3)
    return _Line(number, action, valid, code_at(label, number, raw), title.strip())


def _pair(label: str, pending: _Line | None, line: _Line, release: Release) -> Change | None:
    """The Change a line completes: a "Revise from" completes nothing until its "Revise to" follows."""
    if pending is not None and (line.action != "Revise to" or line.code != pending.code):
        raise SourceError(label, f"'Revise from' for {pending.code} without its 'Revise to'", pending.number)
    if line.action == "Revise from":
        return None
    if line.action == "Add":
        old, new, kind = None, line.title, "added"
    elif line.action == "Delete":
        old, new, kind = line.title, None, "deleted"
    elif pending is None:
        raise SourceError(label, f"'Revise to' for {line.code} without its 'Revise from'", line.number)
    else:
        old, new, kind = pending.title, line.title, "revised"
    return Change(SYSTEM, line.code, release.name, kind, old, new, SOURCE, release.effective)


def _check_summary(label: str, summary: dict[str, dict[str, tuple[int, int]]],
                   counted: dict[bool, Counter[str]]) -> None:
    """The file's own counts must match its lines: a mismatch is a file cut short or spliced."""
    for section, counts in summary.items():
        found = counted[section == "Codes"]
        for change, (expected, number) in counts.items():
            if found[change] != expected:
                raise SourceError(label, f"the summary counts {expected} {section.lower()} {change} but the file "
                                         f"lists {found[change]}", number)
