"""The PCS codes file (icd10pcs_codes_YYYY.txt): one valid code and its long description a line.

Layout: the 7-character code, a space, the long description. Every code in
it is valid for submission in its fiscal year. The file names no grouping
nodes, so these are made from the code characters: the section title is
fixed, a table's title is the words all its codes' descriptions start with
(the root operation, "Fusion of ..."), a body system's is left for the
tables XML to give.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ...errors import SourceError
from ...files import decoded_lines
from ...model import Code, Record
from .common import SYSTEM, Source, body_system_node, fiscal_year_release, section_node, stream_errors, table_node
from .common import year_in_name as _year_in_name
from .titles import LEADS, NO_OF

_LINE_RE = re.compile(r"([0-9A-HJ-NP-Z]{7})[ \t]+(\S.*)")
# Words that join the operation to the rest of a description, trimmed off a table title.
_JOINERS = frozenset({"of", "in", "on", "at", "to", "for", "with", "using", "into", "from"})


def looks_like_codes_file(head: str) -> bool:
    first = next((line for line in head.lstrip("\ufeff").splitlines() if line.strip()), "")
    return bool(_LINE_RE.fullmatch(first.rstrip()))


def common_title(titles: Iterable[str]) -> str:
    """A table's operation, from the words all its codes' descriptions start with.

    "Fusion of Right Hip Joint ..." and "Fusion of Left Knee Joint ..." give
    "Fusion": the words before the first joining word ("of", "in", "using"...)
    or comma. Operations written without "of" ("Repair Left Knee ...") and
    with their own lead-in ("Control Bleeding in ...") are known by name.
    """
    words: list[str] | None = None
    for title in titles:
        these = title.split()
        if words is None:
            words = these
            continue
        n = 0
        while n < min(len(words), len(these)) and words[n] == these[n]:
            n += 1
        words = words[:n]
    if not words:
        return ""
    phrase = " ".join(words)
    for op, lead in LEADS.items():
        if phrase.startswith(lead):
            return op
    if words[0] in NO_OF:
        return words[0]
    kept: list[str] = []
    for word in words:
        if kept and word.lower() in _JOINERS:
            break
        kept.append(word.rstrip(","))
        if word.endswith(","):
            break
    return " ".join(kept)


def read_codes(src: Source) -> Iterator[Record]:
    yield fiscal_year_release(_year_in_name(src.name) or _year_in_name(str(src.path)))
    seen: set[str] = set()
    batch: list[Code] = []
    for code in _codes(src):
        if batch and batch[0].code[:3] != code.code[:3]:
            yield from _with_groups(batch, seen)
            batch = []
        batch.append(code)
    if batch:
        yield from _with_groups(batch, seen)
    else:
        raise SourceError(src.label, "no ICD-10-PCS codes in this file (empty?)")


def _with_groups(batch: list[Code], seen: set[str]) -> Iterator[Code]:
    """One table's codes (consecutive lines), after the section, body system and table above them."""
    prefix = batch[0].code[:3]
    nodes = [section_node(prefix[0]), body_system_node(prefix[:2], ""),
             table_node(prefix, common_title(c.title for c in batch), title_composed=True)]
    for node in nodes:
        if node.code not in seen:
            seen.add(node.code)
            yield node
    yield from batch


def _codes(src: Source) -> Iterator[Code]:
    for number, line in _lines(src):
        if not line.strip():
            continue
        m = _LINE_RE.fullmatch(line.rstrip())
        if m is None:
            raise SourceError(src.label, "not an ICD-10-PCS codes line (7-character code, space, description): "
                                         f"{line[:40]!r}", number)
        code, title = m.groups()
        yield Code(SYSTEM, code, " ".join(title.split()), kind="code", billable=True, parent=code[:3],
                   attributes={"title_composed": False})


def _lines(src: Source) -> Iterator[tuple[int, str]]:
    """(line number, text): UTF-8, or Windows-1252 for the odd older file."""
    with stream_errors(src.label), src.open() as stream:
        yield from decoded_lines(src.label, stream)
