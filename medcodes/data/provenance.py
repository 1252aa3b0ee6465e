"""Provenance records: where each derived file comes from, and the hashes that tie the two together.

`provenance.json` sits beside the derived files it describes: {"files": [record, ...]}, one record
per derived file, in the order the default build reads them. A record says which official file
the derived one was made from (publisher, URL, release, size and SHA-256 of the file as given, and
of its content where it was gzipped), the derived file's own SHA-256 and size, and the day it was
derived. The build refuses a derived file whose bytes no longer match its record.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SourceError

FILE_NAME = "provenance.json"


@dataclass
class Official:
    file: str  # name of the official file as given to `medcodes data derive`
    publisher: str
    url: str  # where the publisher serves it (a zip's URL when the file is one of its members)
    sha256: str  # of the file as given
    size: int
    content_sha256: str | None = None  # of the decompressed content (gzipped), or of the member (a zip's)
    member: str | None = None  # the zip member it was derived from, when `file` is a zip of several parts


@dataclass
class Provenance:
    file: str  # the derived file's name, beside provenance.json
    source: str  # importer name (medcodes.sources.IMPORTERS)
    part: str  # which of the source's files: "anweb", "tables", "index", "drug"...
    releases: list[str]  # Release names its records carry
    effective: str | None  # the newest of those releases' effective dates
    official: Official
    sha256: str  # of the derived file
    size: int
    derived_on: str  # ISO date
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["official"]["member"] is None:
            del out["official"]["member"]  # records of single files read as they always have
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Provenance:
        return cls(**{**d, "official": Official(**d["official"])})


def load(directory: Path) -> list[Provenance]:
    path = directory / FILE_NAME
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Provenance.from_dict(d) for d in data["files"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(path, f"not a provenance file: {exc}") from None


def save(directory: Path, records: list[Provenance]) -> None:
    """Write provenance.json atomically: a failed write leaves the old one."""
    text = json.dumps({"files": [r.as_dict() for r in records]}, indent=2, ensure_ascii=False) + "\n"
    write_atomic(directory / FILE_NAME, text.encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a vendored file from other users of an install
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record_of(path: Path) -> Provenance:
    """The provenance record of a derived file, from the provenance.json beside it."""
    for rec in load(path.parent):
        if rec.file == path.name:
            return rec
    raise SourceError(path, f"derived file without a provenance record in {path.parent / FILE_NAME}: "
                            "make derived files with `medcodes data derive`")
