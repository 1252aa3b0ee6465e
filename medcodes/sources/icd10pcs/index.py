"""The PCS index XML (root <ICD10PCS.index>): alphabetic index terms -> codes or tables.

Layout: <letter> holds <mainTerm>s; a main term or any nested <term level=N>
has a <title> and may point somewhere: <code> (a full 7-character code),
<codes> (a partial code such as "0UT9": go to table 0UT, body part 9),
<tab> (a table, "0QB"), or a <see>/<use> whose text names another entry
and may carry <codes>/<tab> too.

Records: one Term (source "pcs-index") per (term path, target): the path is
the titles from the main term down, joined by ", " ("Abortion, Products of
Conception"), and `Term.path` keeps them apart; a partial code points at its
table (its first three characters), since the index sends the coder to the
table to finish the code. Every <see> and <use> also gives a Reference
("see", "use") to the entry or axis value it names, with or without a code.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from ...errors import SourceError
from ...model import Record, Reference, Term
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
        for rec in _entries(src, elem, ()):
            if isinstance(rec, Term):
                if (rec.term, rec.code) in seen:
                    continue
                seen.add((rec.term, rec.code))
            yield rec
    if not released:
        raise SourceError(src.label, "no <mainTerm> in this index file (empty?)")


def _entries(src: Source, elem: etree._Element, levels: tuple[str, ...]) -> Iterator[Term | Reference]:
    title = text(elem.find("title"))
    here = (*levels, title) if title else levels
    for child in elem:
        if child.tag in _TARGETS:
            yield from _target(src, here, child)
        elif child.tag in ("see", "use"):
            words = " ".join(" ".join(t for t in [child.text or "", *(s.tail or "" for s in child)]).split())
            if here and words:
                yield Reference(SYSTEM, ", ".join(here), child.tag, words.rstrip(", "), SOURCE, here)
            for sub in child:
                if sub.tag in _TARGETS:
                    yield from _target(src, here, sub)
        elif child.tag == "term":
            yield from _entries(src, child, here)


def _target(src: Source, levels: tuple[str, ...], elem: etree._Element) -> Iterator[Term]:
    code = index_target(text(elem))
    if code is None:
        raise SourceError(src.label, f"<{elem.tag}>{text(elem)}</{elem.tag}> is not an ICD-10-PCS code or table",
                          elem.sourceline)
    if levels:
        yield Term(SYSTEM, code, ", ".join(levels), SOURCE, levels)
