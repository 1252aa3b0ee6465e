"""Content packs: generated explainers as JSON Lines, for sharing text between installations.

Line 1 is a header {"format": "medcodes-content-pack", "version": 1, ...}; every further line
is one explainer as stored (system, code, prompt version, sections, model, dates, review).
Every line is checked before anything is stored; a bad line names the file and line number.
Imported text is unreviewed here whatever the pack says (its claim is kept as a note).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import systems
from ..errors import SourceError
from . import validate
from .store import REVIEW_STATUSES

PACK_FORMAT = "medcodes-content-pack"

_SECTION = {
    "type": "object",
    "required": ["title", "text"],
    "properties": {"key": {"type": "string"}, "title": {"type": "string", "minLength": 1},
                   "text": {"type": "string", "minLength": 1},
                   "items": {"type": "array", "items": {"type": "string"}}},
}
ITEM_SCHEMA = {
    "type": "object",
    "required": ["system", "code", "prompt_version", "sections", "model", "created"],
    "properties": {
        "system": {"type": "string", "enum": list(systems.SYSTEMS)},
        "code": {"type": "string", "minLength": 1},
        "prompt_version": {"type": "string", "minLength": 1},
        "section_set": {"type": "string"},
        "sections": {"type": "array", "minItems": 1, "items": _SECTION},
        "model": {"type": "string", "minLength": 1},
        "created": {"type": "string", "minLength": 10},
        "facts_hash": {"type": "string"},
        "attempts": {"type": "integer"},
        "origin": {"type": "string"},
        "review_status": {"type": "string", "enum": list(REVIEW_STATUSES)},
        "reviewed_by": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "reviewed_at": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "review_note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
}


def read_pack(path: Path) -> list[dict[str, Any]]:
    """All explainers of a pack, checked; raises SourceError(path, problem, line) on the first bad line."""
    return list(_items(path))


def _items(path: Path) -> Iterator[dict[str, Any]]:
    try:
        f = path.open(encoding="utf-8")
    except OSError as e:
        raise SourceError(path, f"cannot open: {e.strerror}") from None
    number = 0
    with f:
        try:
            for number, line in enumerate(f, 1):
                if number == 1:
                    _header(path, line)
                elif line.strip():
                    yield _item(path, number, line)
        except UnicodeDecodeError:
            raise SourceError(path, "not UTF-8 text", number + 1) from None


def _header(path: Path, line: str) -> None:
    try:
        head = json.loads(line)
    except json.JSONDecodeError:
        raise SourceError(path, "not a content pack: line 1 is not JSON", 1) from None
    if not isinstance(head, dict) or head.get("format") != PACK_FORMAT:
        raise SourceError(path, f"not a content pack: line 1 must say \"format\": \"{PACK_FORMAT}\"", 1)
    if head.get("version") != 1:
        raise SourceError(path, f"content pack version {head.get('version')!r} is not supported (1 is)", 1)


def _item(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as e:
        raise SourceError(path, f"not JSON ({e.msg})", number) from None
    problems = validate.errors(item, ITEM_SCHEMA)
    if problems:
        raise SourceError(path, "; ".join(problems[:3]), number)
    item = {k: item[k] for k in ITEM_SCHEMA["properties"] if k in item}  # type: ignore[attr-defined]
    item["code"] = systems.normalize(item["system"], item["code"])
    item.setdefault("section_set", "")
    item.setdefault("facts_hash", "")
    item["origin"] = "imported"
    return _unreviewed(item)


def _unreviewed(item: dict[str, Any]) -> dict[str, Any]:
    """A pack's word that a text was approved is not a review here: anyone can write that line.
    Imported text is unreviewed until someone approves it with `medcodes content review`; what
    the pack claimed is kept as the review note. A claimed rejection is kept (it only hides text)."""
    claimed = item.get("review_status") or "unreviewed"
    who = f" by {item['reviewed_by']}" if item.get("reviewed_by") else ""
    when = f" on {item['reviewed_at']}" if item.get("reviewed_at") else ""
    note = f": {item['review_note']}" if item.get("review_note") else ""
    item["review_status"] = "rejected" if claimed == "rejected" else "unreviewed"
    item["reviewed_by"] = item["reviewed_at"] = None
    item["review_note"] = f"the content pack said {claimed}{who}{when}{note}" if claimed != "unreviewed" else None
    return item
