"""Checking user input from query strings before any work is done (STYLE.md principle 5).

Each function raises BadRequest with a message naming the parameter, so every bad value
becomes a 400 in the one error shape instead of a 500 further down.
"""

from __future__ import annotations

import re

from starlette.datastructures import QueryParams

from .. import systems
from ..dates import iso_day
from ..errors import BadRequest

MAX_QUERY = 200  # characters: longer than any code or sensible search
MAX_OFFSET = 10_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def text(params: QueryParams, name: str, *, required: bool = False, max_len: int = MAX_QUERY) -> str:
    """A free-text parameter, whitespace-trimmed; '' when absent and not required."""
    value = (params.get(name) or "").strip()
    if not value:
        if required:
            raise BadRequest(f"parameter {name!r} is required")
        return ""
    if len(value) > max_len:
        raise BadRequest(f"parameter {name!r} is longer than {max_len} characters")
    if _CONTROL.search(value):
        raise BadRequest(f"parameter {name!r} contains control characters")
    return value


def integer(params: QueryParams, name: str, default: int, lo: int, hi: int) -> int:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[+-]?[0-9]{1,9}", raw):
        raise BadRequest(f"parameter {name!r} must be a whole number, got {raw[:40]!r}")
    value = int(raw)
    if not lo <= value <= hi:
        raise BadRequest(f"parameter {name!r} must be between {lo} and {hi}, got {value}")
    return value


def boolean(params: QueryParams, name: str) -> bool | None:
    raw = (params.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadRequest(f"parameter {name!r} must be true or false, got {raw[:40]!r}")


def system_ids(params: QueryParams, name: str = "system") -> list[str] | None:
    """Repeated or comma-separated system ids (`system=icd10cm&system=hcpcs`, `system=icd10cm,hcpcs`)."""
    wanted: list[str] = []
    for value in params.getlist(name):
        for part in value.split(","):
            part = part.strip().lower()
            if part and part not in wanted:
                wanted.append(part)
    unknown = [s for s in wanted if s not in systems.SYSTEMS]
    if unknown:
        shown = ", ".join(repr(s[:40]) for s in unknown[:3])
        raise BadRequest(f"unknown system {shown} in {name!r}; known: {', '.join(systems.SYSTEMS)}")
    return wanted or None


def system_id(value: str) -> str:
    """A system id from a URL path: case-insensitive, unknown ones are a 404."""
    systems.get(value.lower())
    return value.lower()


def iso_date(params: QueryParams, name: str = "as_of") -> str | None:
    """A date of service, `YYYY-MM-DD` and a real day (2024-02-30 is not); None when absent."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    return parse_date(raw, name)


def parse_date(raw: str, name: str) -> str:
    return iso_day(raw, f"parameter {name!r}")


_POLICY_ID = re.compile(r"[^\x00-\x1f\x7f]{1,200}")


def policy_id(value: str) -> str:
    """A policy id from a URL path: ids are slugs or payer numbers ("MP/2024-15"), never control characters."""
    if not _POLICY_ID.fullmatch(value):
        raise BadRequest(f"{value[:40]!r} is not a policy id")
    return value


def release_name(value: str) -> str:
    """A release name from a URL path ("ICD-10-CM FY2026")."""
    value = value.strip()
    if not value or len(value) > MAX_QUERY or _CONTROL.search(value):
        raise BadRequest(f"{value[:40]!r} is not a release name")
    return value
