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
at its stem: "C79.8-" -> C79.8. Each Term also carries its levels
(`Term.path`: main term, subterms, and a table's column heading last).

<see> and <seeAlso> cross-references name another entry, not a code: they
become `Reference` records ("see", "see_also") of the entry they stand in.

The index CSV (`read_index_csv`): the only form of the FY2025 April-update
alphabetic index at hand is a flattening of the CDC XML into rows of RowID,
Letter, Level (0 = main term, n = subterm under the row above of level
n - 1), Term, See, SeeAlso, NonEssModif (nonessential modifiers) and Code
(one code; the XML's bracketed manifestation codes are not in it). It is
read into the same Terms and References as the XML.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from ...errors import SourceError
from ...model import Record, Reference, Release, Term
from .common import SYSTEM, Source, canonical_code, iter_elements, stream_errors, text

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
            yield from _terms(src.label, elem, (), source, columns)


def _column(label: str, elem: etree._Element) -> int:
    col = (elem.get("col") or "").strip()
    if not col.isdigit():
        raise SourceError(label, f"<{elem.tag}> col {col!r} is not a column number", elem.sourceline)
    return int(col)


def _terms(label: str, elem: etree._Element, levels: tuple[str, ...], source: str, columns: dict[int, str],
           ) -> Iterator[Term | Reference]:
    title = text(elem.find("title"))
    levels = (*levels, title) if title else levels
    path = ", ".join(levels)
    for tag in CODE_TAGS:
        for target in elem.iterchildren(tag):
            if code := canonical_code(text(target)):
                yield Term(SYSTEM, code, path, source, levels)
    for cell in elem.iterchildren("cell"):
        if code := canonical_code(text(cell)):
            col = _column(label, cell)
            heading = columns.get(col, f"column {col}")
            yield Term(SYSTEM, code, f"{path} — {heading}", source, (*levels, heading))
    for tag, kind in (("see", "see"), ("seeAlso", "see_also")):
        for ref in elem.iterchildren(tag):
            if words := text(ref):
                yield Reference(SYSTEM, path, kind, words, source, levels)
    for child in elem.iterchildren("term"):
        yield from _terms(label, child, levels, source, columns)


# ---------------------------------------------------------------------------
# The index as CSV rows

CSV_HEADER = "RowID,Letter,Level,Term,See,SeeAlso,NonEssModif,Code"


def read_index_csv(src: Source, release: Release) -> Iterator[Record]:
    """Yield the Release, then the Terms and References of the index CSV, levels rebuilt from the Level column."""
    yield release
    levels: list[str] = []
    rows = 0
    with stream_errors(src.label), src.open() as raw:
        stream = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None or ",".join(header) != CSV_HEADER:
            raise SourceError(src.label, f"not the index CSV: the first line must be {CSV_HEADER}", 1)
        for row in reader:
            line = reader.line_num
            if len(row) != 8:
                raise SourceError(src.label, f"{len(row)} fields where the index CSV has 8 (truncated?)", line)
            _row_id, _letter, level_text, term, see, see_also, nonessential, code_text = (v.strip() for v in row)
            # A subterm can be nonessential modifiers alone: "persistent" > "(somatoform)" -> F45.41
            title = " ".join(t for t in (term, nonessential) if t)
            if not level_text.isdigit() or int(level_text) > len(levels) or not title:
                raise SourceError(src.label, f"level {level_text!r} of {title!r} does not follow the row above "
                                             f"(level {len(levels) - 1})", line)
            del levels[int(level_text):]
            levels.append(title)
            path = ", ".join(levels)
            if code_text:
                code = canonical_code(code_text)
                if code is None:
                    raise SourceError(src.label, f"{code_text!r} is not an ICD-10-CM code", line)
                yield Term(SYSTEM, code, path, "index", tuple(levels))
            # "see category" with the category in Code: the code already says where to go
            if see and not (code_text and see == "category"):
                yield Reference(SYSTEM, path, "see", see, "index", tuple(levels))
            if see_also:
                yield Reference(SYSTEM, path, "see_also", see_also, "index", tuple(levels))
            rows += 1
    if rows == 0:
        raise SourceError(src.label, "no index rows (empty?)")
