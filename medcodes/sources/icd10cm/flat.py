"""The CMS flat files: "order" (every node, with short titles) and "codes" (billable codes only).

icd10cm_order_YYYY.txt, fixed width (CMS icd10OrderFiles.pdf; columns are 1-based):
    1-5 order number, zero-filled | 7-13 code, no dot, padded | 15 "1" valid for
    submission, "0" a header | 17-76 short title | 78-end long title
It lists every category and subcategory as a header (0) before what it
holds, so a code's parent is the nearest earlier code that is a prefix of it
(T07.XXXA -> T07: the placeholder levels are not nodes). Chapters and
blocks are not in it; categories are roots until the tabular XML places them.

icd10cm_codes_YYYY.txt: code padded to 8 columns (7 + a blank), then the
long title. Billable codes only, without their parents (parent None).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from ...errors import SourceError
from ...files import decoded_lines
from ...model import Code, Record, Release
from ...systems import compact
from .common import CATEGORY, SYSTEM, Source, canonical_code, stream_errors

ORDER_LINE_RE = re.compile(rf"[0-9]{{5}} {CATEGORY}[0-9A-Z ]{{4}} [01] ")
CODES_LINE_RE = re.compile(rf"({CATEGORY}[0-9A-Z]{{0,4}})\s+(\S.*)")
# simple_icd_10_cm's code list: one node a line (chapter number, block or code), no titles.
CODE_LIST_LINE_RE = re.compile(rf"[0-9]{{1,2}}|{CATEGORY}(?:-{CATEGORY}|[0-9A-Z]{{1,4}})?")


def _decoded_lines(label: str, stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines. CMS writes ASCII; cp1252 is the fallback for stray bytes."""
    for number, line in decoded_lines(label, stream):
        line = line.rstrip("\r\n\x1a")
        if line.strip():
            yield number, line


def lines(src: Source) -> Iterator[tuple[int, str]]:
    with stream_errors(src.label), src.open() as stream:
        yield from _decoded_lines(src.label, stream)


def code_at(label: str, number: int, raw: str) -> str:
    code = canonical_code(raw)
    if code is None:
        raise SourceError(label, f"{raw.strip()!r} is not an ICD-10-CM code", number)
    return code


def read_order(src: Source, release: Release) -> Iterator[Record]:
    """Yield the Release, then one Code a line of the order file, in the file's (tabular) order."""
    yield release
    seen: set[str] = set()
    for number, line in lines(src):
        if not ORDER_LINE_RE.match(line) or len(line) < 78:
            raise SourceError(src.label, "not an order-file line: order number (5 digits), code (7 columns), "
                                         "valid flag 0/1, short title (60 columns), long title", number)
        code = code_at(src.label, number, line[6:13])
        key = compact(code)
        billable = line[14] == "1"
        kind = "category" if len(key) == 3 else "code" if billable else "subcategory"
        parent = next((key[:n] for n in range(len(key) - 1, 2, -1) if key[:n] in seen), None)
        seen.add(key)
        yield Code(SYSTEM, code, line[77:].strip(), kind=kind, billable=billable,
                   parent=canonical_code(parent) if parent else None,
                   short_title=line[16:76].strip() or None)


def read_codes(src: Source, release: Release) -> Iterator[Record]:
    """Yield the Release, then one billable Code a line of the codes file."""
    yield release
    for number, line in lines(src):
        m = CODES_LINE_RE.fullmatch(line.rstrip())
        if m is None:
            raise SourceError(src.label, "not a codes-file line: an ICD-10-CM code without its dot, then its "
                                         "title", number)
        code = code_at(src.label, number, m.group(1))
        yield Code(SYSTEM, code, m.group(2).strip(), kind="category" if len(m.group(1)) == 3 else "code",
                   billable=True)
