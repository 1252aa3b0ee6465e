"""The ICD-10-CM index XML (<ICD10CM.index>): alphabetic index, external cause index, drug and neoplasm tables.

All four share one schema. A term's text is its path from the main term,
each level's title (with its nonessential modifiers) joined by ", ":
"Accident (to), boat, boating, striking swimmer, powered" -> V94.11.

- Alphabetic index and External Cause Index: a term points at the codes of
  its <code>, <manif> (the bracketed manifestation code), <subcat> and
  <seecat> ("see category") elements.
- Table of Drugs and Chemicals, Neoplasm Table: each <cell> is a column of
  the table, named by <indexHeading>; the term says which one:
  "Aspirin — poisoning, accidental (unintentional)" -> T39.011.

Only code-shaped values become Terms ("--" and "-" are empty cells, some
<manif> hold words). A code ending in "-" ("see its subcategories") points
at its stem: "C79.8-" -> C79.8. <see> and <seeAlso> cross-references have
no code and are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from ...errors import SourceError
from ...model import Record, Release, Term
from .common import SYSTEM, Source, canonical_code, iter_elements, text

# Term.source of each kind of index file
SOURCES: tuple[str, ...] = ("index", "eindex", "drug", "neoplasm")
CODE_TAGS: tuple[str, ...] = ("code", "manif", "subcat", "seecat")

_FIRST_HEAD_RE = re.compile(r"<head\s+col=\"1\"\s*>\s*([^<]*)<")
_TITLE_RE = re.compile(r"<ICD10CM\.index[^>]*>\s*(?:<version>[^<]*</version>\s*)?<title>([^<]*)</title>")


def index_kind(head: str, name: str) -> str:
    """Which index a file is, from its first bytes (the table heading, the title), else its name."""
    heading = _FIRST_HEAD_RE.search(head)
    first = heading.group(1).strip().lower() if heading else ""
    title = (m.group(1).lower() if (m := _TITLE_RE.search(head)) else "")
    stem = Path(name).name.lower()
    if first.startswith(("substance", "drug")) or (not first and "drug" in stem):
        return "drug"
    if first.startswith("neoplasm") or (not first and "neoplasm" in stem):
        return "neoplasm"
    if "external cause" in title or (not title and "eindex" in stem):
        return "eindex"
    return "index"


def column_labels(heads: dict[int, str]) -> dict[int, str]:
    """Table headings as a term reads them: "Poisoning Accidental (unintentional)" -> "poisoning, accidental
    (unintentional)".

    The printed table sets a first word that several headings share
    ("Poisoning") above them, so it reads as "word, rest"; others are kept
    whole ("Adverse effect" -> "adverse effect").
    """
    firsts = Counter(h.split()[0].lower() for h in heads.values() if h.split())
    labels = {}
    for col, head in heads.items():
        words = head.split()
        shared = len(words) > 1 and firsts[words[0].lower()] > 1
        labels[col] = (f"{words[0]}, {' '.join(words[1:])}" if shared else " ".join(words)).lower()
    return labels


def read_index(src: Source, release: Release, source: str) -> Iterator[Record]:
    """Yield the Release, then a Term for every code a (main) term or a table cell points at."""
    yield release
    columns: dict[int, str] = {}
    for elem in iter_elements(src, ("indexHeading", "mainTerm")):
        if elem.tag == "indexHeading":
            columns = column_labels({_column(src.label, h): text(h) for h in elem.iterchildren("head")})
        else:
            yield from _terms(src.label, elem, "", source, columns)


def _column(label: str, elem: etree._Element) -> int:
    col = (elem.get("col") or "").strip()
    if not col.isdigit():
        raise SourceError(label, f"<{elem.tag}> col {col!r} is not a column number", elem.sourceline)
    return int(col)


def _terms(label: str, elem: etree._Element, path: str, source: str, columns: dict[int, str]) -> Iterator[Term]:
    title = text(elem.find("title"))
    path = f"{path}, {title}" if path and title else path or title
    for tag in CODE_TAGS:
        for target in elem.iterchildren(tag):
            if code := canonical_code(text(target)):
                yield Term(SYSTEM, code, path, source)
    for cell in elem.iterchildren("cell"):
        if code := canonical_code(text(cell)):
            col = _column(label, cell)
            yield Term(SYSTEM, code, f"{path} — {columns.get(col, f'column {col}')}", source)
    for child in elem.iterchildren("term"):
        yield from _terms(label, child, path, source, columns)
