"""Is a downloaded file a good copy of a release file? Size, SHA-256, zip CRCs, expected members."""

from __future__ import annotations

import zipfile
import zlib
from fnmatch import fnmatchcase
from pathlib import Path

from ..files import file_sha256
from .download import FetchError
from .releases import ReleaseFile


def verify(path: Path, rf: ReleaseFile) -> None:
    """Raise FetchError saying what is wrong unless `path` is a good copy of `rf`."""
    size = path.stat().st_size
    if size == 0:
        raise FetchError("the file is empty")
    if rf.size is not None and size != rf.size:
        raise FetchError(f"{size:,} bytes where {rf.size:,} were expected")
    if rf.sha256 is not None:
        digest = file_sha256(path)
        if digest != rf.sha256:
            raise FetchError(f"SHA-256 {digest} where {rf.sha256} was expected")
    if rf.file.lower().endswith(".zip"):
        _verify_zip(path, rf.members)


def _verify_zip(path: Path, patterns: tuple[str, ...]) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            bad = zf.testzip()  # reads every member: catches corruption a directory listing cannot
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise FetchError(f"not a readable zip ({e})") from None
    except NotImplementedError as e:
        raise FetchError(f"a zip this Python cannot read ({e})") from None
    if bad is not None:
        raise FetchError(f"zip member {bad!r} is corrupt (CRC mismatch)")
    missing = [p for p in patterns if not any(member_matches(n, p) for n in names)]
    if missing:
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        raise FetchError(f"the zip has no member like {', '.join(missing)} (it holds: {shown or 'nothing'})")


def member_matches(name: str, pattern: str) -> bool:
    """Case-insensitive glob on the member's base name (publishers nest members in folders)."""
    base = name.rsplit("/", 1)[-1].lower()
    return fnmatchcase(base, pattern.lower())
