"""The PCS index XML (root <ICD10PCS.index>): alphabetic index terms -> codes or tables.

Layout: <letter> holds <mainTerm>s; a main term or any nested <term level=N>
has a <title> and may point somewhere: <code> (a full 7-character code),
<codes> (a partial code such as "0UT9": go to table 0UT, body part 9),
<tab> (a table, "0QB"), or a <see>/<use> whose text names another entry
and may carry <codes>/<tab> too.

Records: one Term (source "pcs-index") per (term path, target): the path is
the titles from the main term down, joined by ", " ("Abortion, Products of
Conception"); a partial code points at its table (its first three
characters), since the index sends the coder to the table to finish the
code. A <see>/<use> without a code (a cross-reference to another index entry
or a body-part synonym) gives no Term.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from ...errors import SourceError
from ...model import Record, Term
from .common import PREFIX_RE, SYSTEM, Source, first_year, fiscal_year_release, iter_elements, text

SOURCE = "pcs-index"
_TARGETS = ("code", "codes", "tab")


def index_target(value: str) -> str | None:
    """The code an index pointer sends to: a full code stays, a partial one (3-6 characters) becomes its table."""
    value = value.strip().upper()
    if not 3 <= len(value) <= 7 or not PREFIX_RE.fullmatch(value):
        return None
    return value if len(value) == 7 else value[:3]


def read_index(src: Source) -> Iterator[Record]:
    year: str | None = None
    released = False
    seen: set[tuple[str, str]] = set()
    for elem in iter_elements(src, ("version", "mainTerm")):
        if elem.tag == "version":
            year = first_year(text(elem), src)
            continue
        if not released:
            yield fiscal_year_release(year or first_year("", src))
            released = True
        for term, code in _pointers(src, elem, []):
            if (term, code) not in seen:
                seen.add((term, code))
                yield Term(SYSTEM, code, term, SOURCE)
    if not released:
        raise SourceError(src.label, "no <mainTerm> in this index file (empty?)")


def _pointers(src: Source, elem: etree._Element, path: list[str]) -> Iterator[tuple[str, str]]:
    title = text(elem.find("title"))
    here = [*path, title] if title else path
    for child in elem:
        if child.tag in _TARGETS:
            yield from _target(src, here, child)
        elif child.tag in ("see", "use"):
            for sub in child:
                if sub.tag in _TARGETS:
                    yield from _target(src, here, sub)
        elif child.tag == "term":
            yield from _pointers(src, child, here)


def _target(src: Source, path: list[str], elem: etree._Element) -> Iterator[tuple[str, str]]:
    code = index_target(text(elem))
    if code is None:
        raise SourceError(src.label, f"<{elem.tag}>{text(elem)}</{elem.tag}> is not an ICD-10-PCS code or table",
                          elem.sourceline)
    if path:
        yield ", ".join(path), code
