"""Errors that reach the user as one clear line and a non-zero exit."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path


class MedcodesError(Exception):
    """Base for every error the CLI turns into a clean message."""


class SourceError(MedcodesError):
    """A source file that cannot be read as the format it claims to be.

    The message always names the file, and the line or record where known,
    so a user can open the file at the right place.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.detail = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class NotFound(MedcodesError):
    """A code, system or page that does not exist."""


class BadRequest(MedcodesError):
    """User input (a query, a parameter) that cannot be answered."""


class DiskFull(MedcodesError):
    """A write that found no room: the disk (or the process's file-size limit) is full."""


_NO_ROOM = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
# SQLite's SQLITE_FULL, and SQLITE_IOERR_WRITE: how a write past RLIMIT_FSIZE (EFBIG) shows
_SQLITE_NO_ROOM = frozenset({13, 778})


def out_of_room(exc: BaseException) -> bool:
    """Did this fail because there was no room to write (a full disk or quota, a file-size limit)?"""
    if isinstance(exc, OSError):
        return exc.errno in _NO_ROOM
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) in _SQLITE_NO_ROOM or "disk is full" in str(exc)
    return False


def no_room_message(where: str, kept: str) -> str:
    """One line for a write that found no room: what failed, what is still as it was, what to do."""
    return (f"no room left on the disk (or past a file-size limit) while writing {where}; {kept};"
            " free some space and run the command again")
