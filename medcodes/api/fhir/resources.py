"""FHIR resources the server answers with: Parameters, OperationOutcome, CapabilityStatement,
TerminologyCapabilities, and the CodeSystem, ValueSet and ConceptMap resources it holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

from ... import systems
from ..openapi import version

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
_OPS = {
    "CodeSystem": [("lookup", "CodeSystem-lookup"), ("validate-code", "CodeSystem-validate-code"),
                   ("subsumes", "CodeSystem-subsumes")],
    "ValueSet": [("expand", "ValueSet-expand"), ("validate-code", "ValueSet-validate-code")],
    "ConceptMap": [("translate", "ConceptMap-translate")],
}
EXPANSION_PARAMETERS = ("activeOnly", "check-system-version", "count", "displayLanguage", "excludeNested",
                        "filter", "force-system-version", "includeDefinition", "includeDesignations", "offset",
                        "property", "system-version", "tx-resource")
_FEATURE = "http://hl7.org/fhir/uv/application-feature/StructureDefinition/feature"


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
    if string_type == "Boolean" and not isinstance(value, bool):
        value = bool(value)
    return {"name": name, **value_x(value, string_type)}


def outcome(issue: str, message: str, severity: str = "error") -> dict[str, Any]:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": issue, "details": {"text": message}, "diagnostics": message}]}


def loaded_systems(loaded: list[str]) -> list[systems.System]:
    seen: set[str] = set()
    out = []
    for s in systems.SYSTEMS.values():
        if s.id in loaded and s.fhir_uri and s.fhir_uri not in seen:
            seen.add(s.fhir_uri)
            out.append(s)
    return out


def capability_statement(base: str, loaded: list[str]) -> dict[str, Any]:
    ops = {res: [{"name": n, "definition": f"http://hl7.org/fhir/OperationDefinition/{d}"} for n, d in items]
           for res, items in _OPS.items()}
    uris = sorted({s.fhir_uri for s in loaded_systems(loaded) if s.fhir_uri})
    today = datetime.now(UTC).date().isoformat()
    read = [{"code": "read"}, {"code": "search-type"}]
    return {
        "resourceType": "CapabilityStatement",
        "extension": [{"url": _FEATURE, "extension": [
            {"url": "definition", "valueCanonical": "http://hl7.org/fhir/uv/tx-tests/FeatureDefinition/test-version"},
            {"url": "value", "valueCode": "1.7.8"}]},
            {"url": _FEATURE, "extension": [
                {"url": "definition",
                 "valueCanonical": "http://hl7.org/fhir/uv/tx-ecosystem/FeatureDefinition/CodeSystemAsParameter"},
                {"url": "value", "valueBoolean": True}]}],
        "url": f"{base}/metadata",
        "version": version(),
        "name": "medcodes",
        "title": "medcodes FHIR terminology server",
        "status": "active",
        "date": today,
        "kind": "instance",
        "instantiates": ["http://hl7.org/fhir/CapabilityStatement/terminology-server"],
        "software": {"name": "medcodes", "version": version(), "releaseDate": today},
        "implementation": {"description": "medcodes terminology operations over the loaded code systems: "
                                          + ", ".join(uris), "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [{"mode": "server",
                  "resource": [{"type": res, "interaction": read, "operation": items} for res, items in ops.items()],
                  "interaction": [{"code": "batch"}],
                  "operation": [*(op for items in ops.values() for op in items),
                                {"name": "versions", "definition": "http://hl7.org/fhir/OperationDefinition/"
                                                                   "CapabilityStatement-versions"}]}],
    }


def terminology_capabilities(base: str, versions: dict[str, list[str]]) -> dict[str, Any]:
    today = datetime.now(UTC).date().isoformat()
    return {
        "resourceType": "TerminologyCapabilities",
        "url": f"{base}/metadata?mode=terminology",
        "version": version(),
        "name": "medcodes",
        "title": "medcodes FHIR terminology server",
        "status": "active",
        "date": today,
        "kind": "instance",
        "software": {"name": "medcodes", "version": version()},
        "codeSystem": [{"uri": uri, **({"version": [{"code": v, "isDefault": i == len(vs) - 1}
                                                    for i, v in enumerate(vs)]} if vs else {})}
                       for uri, vs in sorted(versions.items())],
        "expansion": {"hierarchical": False, "paging": True, "incomplete": False,
                      "parameter": [{"name": n} for n in EXPANSION_PARAMETERS]},
        "codeSearch": "all",
        "validateCode": {"translations": False},
        "translation": {"needsMap": False},
        "closure": {"translation": False},
    }


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
