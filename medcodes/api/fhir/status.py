"""Notes on the status of the code systems and value sets an operation used: a deprecated,
withdrawn or retired resource, or an experimental or draft one used by one that is not.

Expansions list them as `warning-<status>` parameters; $validate-code answers as information issues.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .outcome import Issue

STANDARDS_STATUS = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"
VALUESET_DEPRECATED = "http://hl7.org/fhir/StructureDefinition/valueset-deprecated"


@dataclass(frozen=True)
class Standing:
    """What a resource says of itself: status, standards status (extension) and experimental."""

    status: str | None = None
    standards_status: str | None = None
    experimental: bool = False

    @staticmethod
    def of(resource: dict[str, Any] | None) -> Standing:
        if not resource:
            return Standing()
        return Standing(resource.get("status") if isinstance(resource.get("status"), str) else None,
                        standards_status(resource), resource.get("experimental") is True)


def standards_status(element: dict[str, Any]) -> str | None:
    for ext in element.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == STANDARDS_STATUS and isinstance(ext.get("valueCode"), str):
            return str(ext["valueCode"])
    return None


@dataclass(frozen=True)
class StatusNote:
    parameter: str  # the expansion parameter: warning-deprecated, warning-withdrawn, ...
    url: str  # url|version of the resource it is about
    issue: Issue


def status_note(kind: str, url: str, own: Standing, source: Standing | None) -> StatusNote | None:
    """The note a reference to `url` (a CodeSystem or ValueSet) from `source` calls for, if any."""
    if own.standards_status in ("deprecated", "withdrawn"):
        word, mid = own.standards_status, f"MSG_{own.standards_status.upper()}"
    elif own.status == "retired":
        word, mid = "retired", "MSG_RETIRED"
    elif source is not None and own.experimental and not source.experimental:
        word, mid = "experimental", "MSG_EXPERIMENTAL"
    elif source is not None and "draft" in (own.status, own.standards_status) and \
            "draft" not in (source.status, source.standards_status):
        word, mid = "draft", "MSG_DRAFT"
    else:
        return None
    issue = Issue("information", "business-rule", f"Reference to {word} {kind} {url}", "status-check",
                  message_id=mid)
    return StatusNote(f"warning-{word}", url, issue)


def deprecated_in_value_set(item: dict[str, Any]) -> bool:
    """A value set's include marks this concept deprecated (valueset-deprecated or standards status)."""
    for ext in item.get("extension") or []:
        if not isinstance(ext, dict):
            continue
        if ext.get("url") == VALUESET_DEPRECATED and str(ext.get("valueCode", ext.get("valueBoolean"))).lower() \
                == "true":
            return True
    return standards_status(item) == "deprecated"
