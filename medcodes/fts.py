"""SQLite FTS5 plumbing shared by search and the policy search."""

from __future__ import annotations


def phrase(text: str) -> str:
    """`text` as one FTS5 phrase: double-quoted, quotes doubled, so nothing a user typed is FTS syntax."""
    return '"' + text.replace('"', '""') + '"'
