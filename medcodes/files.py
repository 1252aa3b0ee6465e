"""File plumbing every layer shares: a file's SHA-256 (what provenance, caches and build reports record)
and the lines of a text file in an official layout."""

from __future__ import annotations

import hashlib
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
