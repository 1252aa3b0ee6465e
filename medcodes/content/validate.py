"""A small JSON Schema validator: the subset the answer schemas use, with paths in the messages.

Supported keywords: type, properties, required, additionalProperties (bool), items, enum,
minLength, maxLength, minItems, maxItems, anyOf. Anything else in a schema is a programming
error and raises, so a schema can never silently check less than it says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_KNOWN = frozenset({"type", "properties", "required", "additionalProperties", "items", "enum", "minLength",
                    "maxLength", "minItems", "maxItems", "anyOf", "description", "title"})

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,), "null": (type(None),),
    "integer": (int,), "number": (int, float),
}


def errors(value: Any, schema: Mapping[str, Any], path: str = "$") -> list[str]:
    """Every way `value` breaks `schema`, as "path: problem" lines; [] when it is valid."""
    unknown = set(schema) - _KNOWN
    if unknown:
        raise ValueError(f"schema keywords not supported: {sorted(unknown)}")
    if "anyOf" in schema:
        options = [errors(value, option, path) for option in schema["anyOf"]]
        if all(options):
            return [f"{path}: matches none of the allowed forms ({'; '.join(o[0] for o in options)})"]
    if "type" in schema and not _is_type(value, schema["type"]):
        return [f"{path}: expected {schema['type']}, got {_json_type(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of {schema['enum']}"]
    if isinstance(value, str):
        return _string(value, schema, path)
    if isinstance(value, list):
        return _array(value, schema, path)
    if isinstance(value, dict):
        return _object(value, schema, path)
    return []


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[name])


def _json_type(value: Any) -> str:
    for name in _TYPES:
        if _is_type(value, name):
            return name
    return type(value).__name__


def _string(value: str, schema: Mapping[str, Any], path: str) -> list[str]:
    out = []
    if len(value) < schema.get("minLength", 0):
        out.append(f"{path}: shorter than {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        out.append(f"{path}: longer than {schema['maxLength']} characters")
    return out


def _array(value: list[Any], schema: Mapping[str, Any], path: str) -> list[str]:
    out = []
    if len(value) < schema.get("minItems", 0):
        out.append(f"{path}: fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        out.append(f"{path}: more than {schema['maxItems']} items")
    if "items" in schema:
        for i, item in enumerate(value):
            out += errors(item, schema["items"], f"{path}[{i}]")
    return out


def _object(value: dict[str, Any], schema: Mapping[str, Any], path: str) -> list[str]:
    props: Mapping[str, Any] = schema.get("properties", {})
    out = [f"{path}: missing {key!r}" for key in schema.get("required", ()) if key not in value]
    if schema.get("additionalProperties", True) is False:
        out += [f"{path}: unexpected {key!r}" for key in value if key not in props]
    for key, sub in props.items():
        if key in value:
            out += errors(value[key], sub, f"{path}.{key}")
    return out
