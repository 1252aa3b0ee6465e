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
# what a text parameter may hold, said once for the checks here and the OpenAPI document's patterns
# (written for both Python and JSON Schema regular expressions)
BLANK = " \t\n"  # trimmed from either end; other control characters are refused anywhere
_CONTROL_CLASS = r"\x00-\x08\x0b-\x1f\x7f"
_CONTROL = re.compile(f"[{_CONTROL_CLASS}]")
TEXT_PATTERN = f"^[^{_CONTROL_CLASS}]*[^{_CONTROL_CLASS} \\t\\n][^{_CONTROL_CLASS}]*$"  # one character not blank
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
BOOLEAN_WORDS = ("true", "false", "1", "0", "yes", "no", "on", "off")


def refuse_empty(params: QueryParams, *names: str) -> None:
    """The JSON API's rule: a parameter is either left out or given a value (`as_of=` is an
    error, not "no date"); the pages forgive it, as forms send empty fields."""
    for name in names:
        if any(not v.strip(BLANK) for v in params.getlist(name)):
            raise BadRequest(f"parameter {name!r} is empty: leave it out or give it a value")


def text(params: QueryParams, name: str, *, required: bool = False, max_len: int = MAX_QUERY) -> str:
    """A free-text parameter, blank-trimmed; '' when absent and not required."""
    raw = params.get(name) or ""
    if len(raw) > max_len:
        raise BadRequest(f"parameter {name!r} is longer than {max_len} characters")
    value = raw.strip(BLANK)
    if not value:
        if required:
            raise BadRequest(f"parameter {name!r} is required")
        return ""
    if _CONTROL.search(value):
        raise BadRequest(f"parameter {name!r} contains control characters")
    return value


def integer(params: QueryParams, name: str, default: int, lo: int, hi: int) -> int:
    raw = (params.get(name) or "").strip(BLANK)
    if not raw:
        return default
    if not re.fullmatch(r"-?[0-9]{1,9}", raw):
        raise BadRequest(f"parameter {name!r} must be a whole number, got {raw[:40]!r}")
    value = int(raw)
    if not lo <= value <= hi:
        raise BadRequest(f"parameter {name!r} must be between {lo} and {hi}, got {value}")
    return value


def boolean(params: QueryParams, name: str) -> bool | None:
    raw = (params.get(name) or "").strip(BLANK).lower()
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
    raw = (params.get(name) or "").strip(BLANK)
    if not raw:
        return None
    return parse_date(raw, name)


def parse_date(raw: str, name: str) -> str:
    return iso_day(raw, f"parameter {name!r}")


POLICY_ID_PATTERN = r"^[^\x00-\x1f\x7f]{1,200}$"
_POLICY_ID = re.compile(POLICY_ID_PATTERN[1:-1])


def policy_id(value: str) -> str:
    """A policy id from a URL path: ids are slugs or payer numbers ("MP/2024-15"), never control characters."""
    if not _POLICY_ID.fullmatch(value):
        raise BadRequest(f"{value[:40]!r} is not a policy id")
    return value


def release_name(value: str) -> str:
    """A release name from a URL path ("ICD-10-CM FY2026")."""
    if len(value) > MAX_QUERY or not value.strip(BLANK) or _CONTROL.search(value):
        raise BadRequest(f"{value[:40]!r} is not a release name")
    return value.strip(BLANK)
