"""What every ICD-10-PCS reader shares: grouping nodes, releases, opening files, XML errors."""

from __future__ import annotations

import gzip
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lxml import etree

from ...errors import SourceError
from ...model import Code, Note, Release

SYSTEM = "icd10pcs"

# The 17 sections (first character). Their titles are the same in every
# release since FY2014; the tables XML repeats them, these let a bare codes
# file still give its codes a section to hang from.
SECTIONS: dict[str, str] = {
    "0": "Medical and Surgical",
    "1": "Obstetrics",
    "2": "Placement",
    "3": "Administration",
    "4": "Measurement and Monitoring",
    "5": "Extracorporeal or Systemic Assistance and Performance",
    "6": "Extracorporeal or Systemic Therapies",
    "7": "Osteopathic",
    "8": "Other Procedures",
    "9": "Chiropractic",
    "B": "Imaging",
    "C": "Nuclear Medicine",
    "D": "Radiation Therapy",
    "F": "Physical Rehabilitation and Diagnostic Audiology",
    "G": "Mental Health",
    "H": "Substance Abuse Treatment",
    "X": "New Technology",
}

# One PCS character: digits and letters but I and O.
VALUE_RE = re.compile(r"[0-9A-HJ-NP-Z]")
CODE_RE = re.compile(r"[0-9A-HJ-NP-Z]{7}")
PREFIX_RE = re.compile(r"[0-9A-HJ-NP-Z]{1,7}")
_YEAR_RE = re.compile(r"(?<![0-9])(20[0-9]{2})(?![0-9])")

GZIP_MAGIC = b"\x1f\x8b"


# ---------------------------------------------------------------------------
# Grouping nodes. Their codes are the prefix they fix: section "0", body
# system "0S", table "0SG". Every real code has 7 characters, so lengths 1-3
# cannot collide with one, and `looks_like()` is false for them.


def parent_of(code: str) -> str | None:
    """The grouping node one level up: 0SG04JZ -> 0SG -> 0S -> 0 -> None."""
    if len(code) == 7:
        return code[:3]
    return code[:-1] or None


def section_node(value: str, title: str | None = None, **attributes: Any) -> Code:
    return Code(SYSTEM, value, title if title is not None else SECTIONS.get(value, ""), kind="section",
                billable=False, attributes=attributes)


def body_system_node(prefix: str, title: str, **attributes: Any) -> Code:
    return Code(SYSTEM, prefix, title, kind="body_system", billable=False, parent=prefix[0], attributes=attributes)


def table_node(prefix: str, title: str, definition: str | None = None, **attributes: Any) -> Code:
    notes = (Note("definition", definition),) if definition else ()
    return Code(SYSTEM, prefix, title, kind="table", billable=False, parent=prefix[:2], notes=notes,
                attributes=attributes)


# ---------------------------------------------------------------------------
# Releases


def fiscal_year_release(year: str | int | None) -> Release:
    """PCS releases are fiscal years: FY2026 takes effect on 2025-10-01.

    Every file of one fiscal year (tables, codes, index, definitions) gets the
    same name, so the builder reads them as one release.
    """
    if year is None:
        return Release(SYSTEM, "ICD-10-PCS (release not stated)", None)
    return Release(SYSTEM, f"ICD-10-PCS FY{year}", f"{int(year) - 1}-10-01")


def year_in_name(name: str) -> str | None:
    m = _YEAR_RE.search(Path(name).name)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------
# Where a file's bytes come from: a plain file, a .gz, or a zip member (itself maybe gzipped)


@dataclass(frozen=True)
class Source:
    path: Path
    member: str | None = None

    @property
    def label(self) -> str:
        """The name errors point at: a zip member reads as zip!member."""
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def name(self) -> str:
        return Path(self.member).name if self.member else self.path.name

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """The decompressed bytes."""
        with self._raw() as raw:
            head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
            if head == GZIP_MAGIC:
                with gzip.GzipFile(fileobj=raw) as gz:
                    yield gz  # type: ignore[misc]
            else:
                yield raw

    @contextmanager
    def _raw(self) -> Iterator[IO[bytes]]:
        if self.member is None:
            with open(self.path, "rb") as f:
                yield f
            return
        with zipfile.ZipFile(self.path) as zf, zf.open(self.member) as m:
            # ZipExtFile has peek() like a buffered file, so a gzipped member is recognised too.
            yield m

    def head(self, size: int = 4096) -> bytes:
        with stream_errors(self.label), self.open() as f:
            return f.read(size)


# Errors a damaged stream raises while being read: a truncated .gz or zip
# member, a bad CRC, a member that is not deflate data.
STREAM_ERRORS: tuple[type[BaseException], ...] = (gzip.BadGzipFile, EOFError, zlib.error, zipfile.BadZipFile,
                                                  OSError)


@contextmanager
def stream_errors(label: str) -> Iterator[None]:
    try:
        yield
    except SourceError:
        raise
    except STREAM_ERRORS as exc:
        raise SourceError(label, f"cannot read (damaged or truncated?): {exc}") from None


# ---------------------------------------------------------------------------
# XML


def iter_elements(src: Source, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    """Completed top-level elements named `tags`, streaming.

    Each is cleared (and dropped from its parent) once the caller is done
    with it, so memory stays flat. lxml and stream errors become SourceError
    with the line where the parser stopped.
    """
    with stream_errors(src.label), src.open() as stream:
        parser = etree.iterparse(stream, events=("end",), tag=tags, resolve_entities=False, no_network=True)
        try:
            for _event, elem in parser:
                yield elem
                elem.clear(keep_tail=False)
                parent = elem.getparent()
                while parent is not None and elem.getprevious() is not None:
                    del parent[0]
        except etree.XMLSyntaxError as exc:
            # lxml's message ends with its own "line N, column M"; the error already names the line
            msg = re.sub(r",?\s*line \d+, column (\d+)$", r" (column \1)", exc.msg or "")
            raise SourceError(src.label, f"not well-formed XML (truncated?): {msg}", exc.lineno) from None


def text(elem: etree._Element | None) -> str:
    """An element's text with white space collapsed; '' when absent."""
    if elem is None:
        return ""
    return " ".join("".join(elem.itertext()).split())


def first_year(version: str, src: Source) -> str | None:
    """The release year from <version>2026</version>, else from the file name."""
    m = _YEAR_RE.search(version)
    return m.group(1) if m else year_in_name(src.name)
