"""Reading the official zips publishers ship: their members, and one Release per system.

CMS ships several files of one release in one zip (the four ICD-9-CM description files, the four
GEMs); each member's reader yields the release again, and the build needs it once.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..model import Record, Release


def members(path: Path, wanted: Callable[[str], bool], missing: str,
            order: Callable[[str], Any] | None = None) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) of each wanted member; SourceError for a broken zip or member, or none wanted."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise SourceError(path, f"broken zip: {e}") from None
    with zf:
        names = [m for m in zf.namelist() if wanted(m)]
        if not names:
            raise SourceError(path, missing)
        for m in sorted(names, key=order) if order else names:
            try:
                yield m, zf.read(m)
            except (zipfile.BadZipFile, OSError, zlib.error) as e:  # zlib.error: corrupt deflate data
                raise SourceError(f"{path}!{m}", f"cannot read zip member: {e}") from None


def one_release_each(records: Iterable[Record]) -> Iterator[Record]:
    """The records with each system's Release kept the first time only."""
    seen: set[tuple[str, str]] = set()
    for rec in records:
        if isinstance(rec, Release):
            if (rec.system, rec.name) in seen:
                continue
            seen.add((rec.system, rec.name))
        yield rec
