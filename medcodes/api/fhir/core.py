"""The few FHIR core code systems (and their all-codes value sets) that value sets commonly name
beside the medical code sets: a client's value set for a Patient's gender or a resource's status
expands and validates without having to send them as `tx-resource`.

Definitions from FHIR R4 (4.0.1; the specification's terminology is CC0), written out here as the
codes and displays only.
"""

from __future__ import annotations

from typing import Any

FHIR_R4 = "4.0.1"

# url tail -> (name, title, [(code, display, definition)])
_SYSTEMS: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    "administrative-gender": ("AdministrativeGender", "AdministrativeGender", [
        ("male", "Male", "Male."),
        ("female", "Female", "Female."),
        ("other", "Other", "Other."),
        ("unknown", "Unknown", "Unknown."),
    ]),
    "publication-status": ("PublicationStatus", "PublicationStatus", [
        ("draft", "Draft", "This resource is still under development and is not yet considered to be ready for "
                           "normal use."),
        ("active", "Active", "This resource is ready for normal use."),
        ("retired", "Retired", "This resource has been withdrawn or superseded and should no longer be used."),
        ("unknown", "Unknown", "The authoring system does not know which of the status values currently applies "
                               "for this resource."),
    ]),
}


def core_resources() -> list[dict[str, Any]]:
    """The CodeSystem and ValueSet resources, as a request's tx-resources would carry them."""
    out: list[dict[str, Any]] = []
    for tail, (name, title, concepts) in _SYSTEMS.items():
        system = f"http://hl7.org/fhir/{tail}"
        out.append({"resourceType": "CodeSystem", "id": tail, "url": system, "version": FHIR_R4, "name": name,
                    "title": title, "status": "active", "experimental": False, "caseSensitive": True,
                    "content": "complete", "concept": [{"code": c, "display": d, "definition": x}
                                                       for c, d, x in concepts]})
        out.append({"resourceType": "ValueSet", "id": tail, "url": f"http://hl7.org/fhir/ValueSet/{tail}",
                    "version": FHIR_R4, "name": name, "title": title, "status": "active", "experimental": False,
                    "compose": {"include": [{"system": system}]}})
    return out


CORE = core_resources()
CORE_BY_URL = {r["url"]: r for r in CORE}
