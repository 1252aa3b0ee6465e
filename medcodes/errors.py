"""Errors that reach the user as one clear line and a non-zero exit."""

from __future__ import annotations

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
