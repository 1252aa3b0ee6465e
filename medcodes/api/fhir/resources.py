"""FHIR resources the operations answer with: Parameters, OperationOutcome, CapabilityStatement."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

from ... import systems
from ..openapi import version

FHIR_JSON = "application/fhir+json"
_OPS = {
    "CodeSystem": [("lookup", "CodeSystem-lookup"), ("validate-code", "CodeSystem-validate-code"),
                   ("subsumes", "CodeSystem-subsumes")],
    "ValueSet": [("expand", "ValueSet-expand")],
    "ConceptMap": [("translate", "ConceptMap-translate")],
}


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


def parameters(*items: tuple[str, Any] | dict[str, Any] | None) -> dict[str, Any]:
    """A Parameters resource from (name, value) pairs; the value's Python type picks value[x]."""
    out = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, dict):
            out.append(item)
            continue
        name, value = item
        out.append({"name": name, **value_x(value)})
    return {"resourceType": "Parameters", "parameter": out}


def value_x(value: Any, string_type: str = "String") -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, dict):
        return {"valueCoding": value}
    return {f"value{string_type}": value}


def part(name: str, value: Any, string_type: str = "String") -> dict[str, Any]:
    return {"name": name, **value_x(value, string_type)}


def outcome(issue: str, message: str, severity: str = "error") -> dict[str, Any]:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": issue, "diagnostics": message}]}


def capability_statement(base: str, loaded: list[str]) -> dict[str, Any]:
    ops = {res: [{"name": n, "definition": f"http://hl7.org/fhir/OperationDefinition/{d}"} for n, d in items]
           for res, items in _OPS.items()}
    uris = sorted({s.fhir_uri for s in systems.SYSTEMS.values() if s.id in loaded and s.fhir_uri})
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(UTC).date().isoformat(),
        "kind": "instance",
        "instantiates": ["http://hl7.org/fhir/CapabilityStatement/terminology-server"],
        "software": {"name": "medcodes", "version": version()},
        "implementation": {"description": "medcodes terminology operations over the loaded code systems: "
                                          + ", ".join(uris), "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{"mode": "server",
                  "resource": [{"type": res, "operation": items} for res, items in ops.items()],
                  "operation": [op for items in ops.values() for op in items]}],
    }


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
