"""Operation parameters from a query string or a POSTed `Parameters` resource, checked by type."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from ...app.errors import ApiError
from ...app.http import read_json

MAX_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")


class OperationParams:
    """name -> values; a value is a string, or a dict for Coding-typed parameters."""

    def __init__(self, values: dict[str, list[Any]]) -> None:
        self.values = values

    def text(self, name: str, *, required: bool = False) -> str | None:
        found = self.values.get(name) or []
        value = found[0] if found else None
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise ApiError(400, f"parameter {name!r} is required", issue="required")
            return None
        if not isinstance(value, str):
            raise ApiError(400, f"parameter {name!r} must be a simple value")
        value = value.strip()
        if len(value) > MAX_TEXT or _CONTROL.search(value):
            raise ApiError(400, f"parameter {name!r} must be at most {MAX_TEXT} printable characters")
        return value

    def all_text(self, name: str) -> list[str]:
        return [v for v in (self.values.get(name) or []) if isinstance(v, str) and v.strip()]

    def integer(self, name: str, default: int, lo: int, hi: int, *, too_big: str = "invalid") -> int:
        raw = self.text(name)
        if raw is None:
            return default
        if not re.fullmatch(r"[+-]?[0-9]{1,9}", raw):
            raise ApiError(400, f"parameter {name!r} must be an integer, got {raw[:40]!r}")
        value = int(raw)
        if value < lo:
            raise ApiError(400, f"parameter {name!r} must be at least {lo}")
        if value > hi:
            raise ApiError(400, f"parameter {name!r} must be at most {hi}", issue=too_big)
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() not in ("true", "false"):
            raise ApiError(400, f"parameter {name!r} must be true or false, got {raw[:40]!r}")
        return raw.lower() == "true"

    def coding(self, name: str) -> tuple[str | None, str | None, str | None]:
        """(system, code, display) of a Coding parameter, or Nones."""
        found = self.values.get(name) or []
        if not found:
            return None, None, None
        c = found[0]
        if not isinstance(c, dict) or not all(isinstance(c.get(k, ""), str) for k in ("system", "code", "display")):
            raise ApiError(400, f"parameter {name!r} must be a Coding")
        return c.get("system") or None, c.get("code") or None, c.get("display") or None


async def collect(request: Request) -> OperationParams:
    values: dict[str, list[Any]] = {}
    fmt = request.query_params.get("_format")
    if fmt and fmt.split(";")[0].strip() not in ("json", *_JSON_TYPES):
        raise ApiError(406, "only JSON is served (_format=json)", issue="not-supported")
    for name, value in request.query_params.multi_items():
        values.setdefault(name, []).append(value)
    if request.method == "POST":
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype and ctype not in _JSON_TYPES:
            raise ApiError(415, "POST a Parameters resource as application/fhir+json", issue="not-supported")
        for name, value in _from_parameters(await read_json(request)):
            values.setdefault(name, []).append(value)
    return OperationParams(values)


def _from_parameters(body: Any) -> list[tuple[str, Any]]:
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise ApiError(400, "the body must be a FHIR Parameters resource", issue="structure")
    items = body.get("parameter", [])
    if not isinstance(items, list):
        raise ApiError(400, "Parameters.parameter must be a list", issue="structure")
    out = []
    for i, p in enumerate(items):
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            raise ApiError(400, f"Parameters.parameter[{i}] needs a name", issue="structure")
        value = [v for k, v in p.items() if k.startswith("value")]
        if len(value) != 1:
            raise ApiError(400, f"parameter {p['name'][:40]!r} needs exactly one value[x]", issue="structure")
        v = value[0]
        out.append((p["name"], str(v).lower() if isinstance(v, bool) else str(v) if isinstance(v, int) else v))
    return out
