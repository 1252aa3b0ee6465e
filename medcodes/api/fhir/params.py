"""Operation parameters from a query string or a POSTed `Parameters` resource, checked by type.

A POSTed Parameters may carry `resource` (an inline ValueSet, CodeSystems and ValueSets as
`tx-resource`) and `part` (nested parameters); R5 parameter names are accepted beside R4's.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from ...app.errors import ApiError
from ...app.http import read_json

MAX_TEXT = 4096
MAX_DEPTH = 24  # nesting of JSON objects/arrays: deep enough for any real CodeSystem
MAX_PARAMETERS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
# R5 (and older) names of the same parameter, read as the R4 name
_ALIASES = {"system-version": "system-version", "exclude-system": "exclude-system",
            "valueSetVersion": "valueSetVersion", "displayLanguage": "displayLanguage",
            "sourceCode": "code", "sourceCoding": "coding", "sourceCodeableConcept": "codeableConcept",
            "sourceSystem": "system", "targetSystem": "targetsystem", "targetScope": "target",
            "sourceScope": "source", "conceptMapVersion": "conceptMapVersion"}


class OperationParams:
    """name -> values; a value is a string, a dict for complex types (Coding, CodeableConcept), or a
    resource dict for `resource` parameters."""

    def __init__(self, values: dict[str, list[Any]]) -> None:
        self.values = values

    def has(self, name: str) -> bool:
        return bool(self.values.get(name))

    def text(self, name: str, *, required: bool = False) -> str | None:
        found = self.values.get(name) or []
        value = found[0] if found else None
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise ApiError(400, f"parameter {name!r} is required", issue="required")
            return None
        if not isinstance(value, str):
            raise ApiError(400, f"parameter {name!r} must be a simple value")
        if len(value) > MAX_TEXT or _CONTROL.search(value):
            raise ApiError(400, f"parameter {name!r} must be at most {MAX_TEXT} printable characters")
        return value

    def all_text(self, name: str) -> list[str]:
        return [v for v in (self.values.get(name) or []) if isinstance(v, str) and v.strip()]

    def integer(self, name: str, default: int, lo: int, hi: int, *, too_big: str = "invalid") -> int:
        raw = self.text(name)
        if raw is None:
            return default
        if not re.fullmatch(r"[+-]?[0-9]{1,9}", raw.strip()):
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
        if raw.strip().lower() not in ("true", "false"):
            raise ApiError(400, f"parameter {name!r} must be true or false, got {raw[:40]!r}")
        return raw.strip().lower() == "true"

    def complex(self, name: str) -> dict[str, Any] | None:
        found = self.values.get(name) or []
        if not found:
            return None
        if not isinstance(found[0], dict):
            raise ApiError(400, f"parameter {name!r} must be a complex value (Coding or CodeableConcept)")
        return found[0]

    def coding(self, name: str) -> dict[str, Any] | None:
        c = self.complex(name)
        if c is not None and not all(isinstance(c.get(k, ""), str) for k in ("system", "code", "display", "version")):
            raise ApiError(400, f"parameter {name!r} must be a Coding")
        return c

    def resources(self, name: str) -> list[dict[str, Any]]:
        return [v for v in self.values.get(name) or [] if isinstance(v, dict) and "resourceType" in v]

    def resource(self, name: str) -> dict[str, Any] | None:
        found = self.resources(name)
        return found[0] if found else None


async def collect(request: Request) -> OperationParams:
    values: dict[str, list[Any]] = {}
    fmt = request.query_params.get("_format")
    if fmt and fmt.split(";")[0].strip() not in ("json", *_JSON_TYPES):
        raise ApiError(406, "only JSON is served (_format=json)", issue="not-supported")
    for name, value in request.query_params.multi_items():
        if name != "_format":
            values.setdefault(_ALIASES.get(name, name), []).append(value)
    if request.method == "POST":
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype and ctype not in _JSON_TYPES:
            raise ApiError(415, "POST a Parameters resource as application/fhir+json", issue="not-supported")
        for name, value in from_parameters(await read_json(request)):
            values.setdefault(_ALIASES.get(name, name), []).append(value)
    return OperationParams(values)


def check_json(value: Any, depth: int = 0) -> None:
    """Refuse what no FHIR JSON holds: lone surrogates (not encodable), absurd nesting."""
    if depth > MAX_DEPTH:
        raise ApiError(400, f"the body is nested deeper than {MAX_DEPTH} levels", issue="too-costly")
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise ApiError(400, "the body holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_json(k, depth + 1)
            check_json(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            check_json(v, depth + 1)


def from_parameters(body: Any) -> list[tuple[str, Any]]:
    check_json(body)
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise ApiError(400, "the body must be a FHIR Parameters resource", issue="structure")
    items = body.get("parameter", [])
    if not isinstance(items, list):
        raise ApiError(400, "Parameters.parameter must be a list", issue="structure")
    if len(items) > MAX_PARAMETERS:
        raise ApiError(400, f"at most {MAX_PARAMETERS} parameters per request", issue="too-costly")
    return [(p["name"], value) for i, p in enumerate(items) for value in [parameter_value(p, i)]]


def parameter_value(p: Any, i: int) -> Any:
    """The value of one Parameters.parameter: value[x], a resource, or its parts as a dict."""
    if not isinstance(p, dict) or not isinstance(p.get("name"), str):
        raise ApiError(400, f"Parameters.parameter[{i}] needs a name", issue="structure")
    value = [v for k, v in p.items() if k.startswith("value")]
    if "resource" in p:
        if not isinstance(p["resource"], dict) or not isinstance(p["resource"].get("resourceType"), str):
            raise ApiError(400, f"parameter {p['name'][:40]!r}: resource must be a FHIR resource", issue="structure")
        return p["resource"]
    if "part" in p:
        if not isinstance(p["part"], list):
            raise ApiError(400, f"parameter {p['name'][:40]!r}: part must be a list", issue="structure")
        return {"part": [(q.get("name"), parameter_value(q, j)) for j, q in enumerate(p["part"])]}
    if len(value) != 1:
        raise ApiError(400, f"parameter {p['name'][:40]!r} needs exactly one value[x]", issue="structure")
    v = value[0]
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int | float):
        return str(v)
    if not isinstance(v, str | dict):
        raise ApiError(400, f"parameter {p['name'][:40]!r}: value[x] must be a primitive or a complex type",
                       issue="structure")
    return v
