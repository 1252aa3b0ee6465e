"""ICD-10-CM (system `icd10cm`): the CDC tabular and index XML, and the CMS order and codes files.

`read(path)` sniffs which official file it is given (plain, .gz, or inside
the CDC/CMS zip, where it reads every member it knows):

- tabular XML (<ICD10CM.tabular>): chapters, blocks, categories,
  subcategories and codes with their notes, and the 7th-character codes the
  tabular only defines (tabular.py);
- order file (icd10cm_order_YYYY.txt): every node with its short and long
  title and valid flag (flat.py);
- codes file (icd10cm_codes_YYYY.txt): billable codes and long titles
  (flat.py); in a zip that also holds the order file it is skipped, the
  order file saying the same and more;
- index XML (<ICD10CM.index>): Terms of the alphabetic index, External
  Cause Index, Table of Drugs and Chemicals and Neoplasm Table, and the
  References of their see / see also entries (index.py);
- index CSV: the alphabetic index flattened to rows (index.py);
- codes and order addenda (icd10cm_codes_addenda_YYYY.txt,
  icd10cm_order_addenda_YYYY.txt): the release's official changes, as
  `Change` records, not a code list (addenda.py, issue 7). In a zip holding
  both, the order addenda is skipped: for valid codes it says the same.

The CDC's addenda XML (isAddenda="true") is refused, or skipped in a zip:
the CMS addenda text files carry the same changes.

Releases are fiscal years ("ICD-10-CM FY2026", effective 2025-10-01) or
their April updates ("ICD-10-CM FY2026, April 2026 update", effective
2026-04-01), from the file's <version> and its name (or the zip's).

The embedded default (`embedded_sources()`) is the April 2026 tabular XML
the simple-icd-10-cm package ships, then the data layer's FY2025 (April
update) index files (medcodes.data): the alphabetic index, External Cause
Index, Table of Drugs and Neoplasm Table, their targets checked against the
FY2026 codes when the index is built. Its `code-list-April-2026.txt` beside it
is that package's list of every node code (chapter numbers, blocks, codes)
with no titles or flags: nothing a source needs, so `read` refuses it; the
tests use it to check the tabular's node list.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ...errors import SourceError
from ...files import package_dir
from ...model import Record, Release
from .addenda import ADDENDA_LINE_RE, ORDER_ADDENDA_LINE_RE, read_addenda
from .common import SYSTEM, Source, canonical_code, release_for
from .flat import CODE_LIST_LINE_RE, CODES_LINE_RE, ORDER_LINE_RE, read_codes, read_order
from .index import CSV_HEADER, index_kind, read_index, read_index_csv
from .tabular import (
    SEVENTH_CHARACTER_LIMITS,
    block_code,
    chapter_code,
    nest_blocks,
    read_tabular,
    seventh_character_codes,
    split_range,
)

__all__ = ["SEVENTH_CHARACTER_LIMITS", "SYSTEM", "block_code", "canonical_code", "chapter_code",
           "embedded_sources", "nest_blocks", "read", "read_member", "release_for", "seventh_character_codes",
           "sniff", "split_range", "zip_members"]

# The package that ships the tabular XML, and where in it.
EMBEDDED_PACKAGE = "simple_icd_10_cm"
EMBEDDED_GLOB = "data/icd10c*-tabular-*.xml"

# Reading order inside a zip: flat files first, so the tabular's titles (with their diacritics) win;
# changes last, after the codes they name.
_ZIP_ORDER = ("order", "codes", "tabular", "index", "index_csv", "codes_addenda", "order_addenda")
# In a zip, a kind that says everything another one says: the other is skipped.
_REPEATS = {"order": "codes", "codes_addenda": "order_addenda"}
_PROLOGUE_RE = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)\s*", re.DOTALL)
_ROOT_RE = re.compile(r"<([A-Za-z_][\w.\-:]*)([^>]*)>")
_VERSION_RE = re.compile(r"<version>\s*([^<]*?)\s*</version>")
_SKIPPED_MEMBER_RE = re.compile(r"\.(?:pdf|xsd|xlsx?|docx?|html?)$", re.IGNORECASE)


def embedded_sources() -> list[Path]:
    """The tabular XML of simple-icd-10-cm where installed (its code list adds nothing: see above), then the
    data layer's index, External Cause Index, Table of Drugs and Neoplasm Table."""
    from ...data import layer_files

    return [*tabular_sources(), *layer_files(SYSTEM)]


def tabular_sources() -> list[Path]:
    base = package_dir(EMBEDDED_PACKAGE)
    found = sorted(p for p in base.glob(EMBEDDED_GLOB) if p.is_file()) if base else []
    return found[-1:]


def sniff(head: bytes) -> str | None:
    """Which ICD-10-CM format a (decompressed) file starts like.

    One of "tabular", "index", "index_csv", "addenda" (the CDC's addenda XML), "order",
    "codes", "codes_addenda", "order_addenda", "code_list", "empty", or None
    for anything else.
    """
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text.strip():
        return "empty"
    if text.lstrip().startswith("<"):
        root = _ROOT_RE.match(_PROLOGUE_RE.sub("", text.lstrip()).lstrip())
        if root is None or root.group(1) not in ("ICD10CM.tabular", "ICD10CM.index"):
            return None
        if re.search(r"isAddenda\s*=\s*[\"']true", root.group(2)):
            return "addenda"
        return "tabular" if root.group(1) == "ICD10CM.tabular" else "index"
    lines = [line.rstrip("\r") for line in text.splitlines() if line.strip()][:5]
    if lines[0].strip() == CSV_HEADER:
        return "index_csv"
    if ADDENDA_LINE_RE.match(lines[0]):
        return "order_addenda" if ORDER_ADDENDA_LINE_RE.match(lines[0]) else "codes_addenda"
    if ORDER_LINE_RE.match(lines[0]):
        return "order"
    if CODES_LINE_RE.fullmatch(lines[0].rstrip()):
        return "codes"
    if all(CODE_LIST_LINE_RE.fullmatch(line.strip()) for line in lines):
        return "code_list"
    return None


def read(path: Path) -> Iterator[Record]:
    """Yield the Release, then the Code or Term records of one ICD-10-CM file (or CDC/CMS zip)."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(path, "no such file")
    if zipfile.is_zipfile(path):
        yield from _read_zip(path)
        return
    src = Source(path)
    yield from _reader(src, _known(src.label, sniff(src.head())), [src.name])


def _known(label: str, kind: str | None) -> str:
    if kind in _ZIP_ORDER:
        return kind
    messages = {
        "empty": "empty file",
        "addenda": "an addenda XML (the changes of a release marked up in the tabular): not read; read the "
                   "full XML, or the CMS codes addenda text file for the changes",
        "code_list": "a list of code ids without titles (simple-icd-10-cm's code list): not a source; read the "
                     "tabular XML it was made from",
    }
    raise SourceError(label, messages.get(kind or "", "not an ICD-10-CM file: expected the tabular or index XML, "
                                                       "an order file, a codes file or an addenda file"),
                      1 if kind is None else None)


def _reader(src: Source, kind: str, names: list[str]) -> Iterator[Record]:
    head = src.head().decode("utf-8", errors="replace")
    version = m.group(1) if (m := _VERSION_RE.search(head)) else None
    release = release_for(version, names)
    readers: dict[str, Callable[[], Iterator[Record]]] = {
        "tabular": lambda: read_tabular(src, release),
        "index": lambda: read_index(src, release, index_kind(head, src.name)),
        "index_csv": lambda: read_index_csv(src, release),
        "order": lambda: read_order(src, release),
        "codes": lambda: read_codes(src, release),
        "codes_addenda": lambda: read_addenda(src, release, order=False),
        "order_addenda": lambda: read_addenda(src, release, order=True),
    }
    return readers[kind]()


def zip_members(path: Path) -> list[tuple[str, str]]:
    """(member, kind) of each file of a CDC/CMS zip this importer reads, in the order read() reads them."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/") and not _SKIPPED_MEMBER_RE.search(n)]
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(path, f"unreadable zip: {exc}") from None
    found = [(name, kind) for name in names if (kind := sniff(Source(path, name).head())) in _ZIP_ORDER]
    kinds = {kind for _, kind in found}
    found = [(name, kind) for name, kind in found if not any(_REPEATS.get(k) == kind for k in kinds)]
    if not found:
        raise SourceError(path, "zip holds no ICD-10-CM tabular or index XML, order file, codes file or addenda")
    return sorted(found, key=lambda f: (_ZIP_ORDER.index(f[1]), f[0]))


def read_member(path: Path, member: str, kind: str) -> Iterator[Record]:
    """The records of one member of a zip (zip_members gives its kind), with its Release: the release is
    named from the member's name and the zip's ("April" in either makes it the April update)."""
    src = Source(path, member)
    return _reader(src, kind, [src.name, path.name])


def _read_zip(path: Path) -> Iterator[Record]:
    last: Release | None = None
    for name, kind in zip_members(path):
        for rec in read_member(path, name, kind):
            if isinstance(rec, Release):
                if rec == last:
                    continue  # one release a zip, not one a member
                last = rec
            yield rec
