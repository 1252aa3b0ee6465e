"""Issues and OperationOutcomes in the shape terminology clients read: an issue type, a tx-issue-type
coding, `details.text` (the message a person reads), and the path of the element at fault."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...app.errors import ApiError

TX_ISSUE_TYPE = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type"
MESSAGE_ID = "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id"


# Issues that name the element at fault by FHIRPath `expression` only: `location` (XPath-like, deprecated
# in R5) is left out where the ecosystem suite's newer answers leave it out
_EXPRESSION_ONLY = frozenset({"Unknown_Code_in_Version", "ABSTRACT_CODE_NOT_ALLOWED"})


@dataclass(frozen=True)
class Issue:
    severity: str  # error, warning, information
    code: str  # FHIR issue type: invalid, not-found, code-invalid, business-rule, too-costly, ...
    text: str
    tx: str | None = None  # tx-issue-type: not-in-vs, invalid-code, invalid-display, not-found, ...
    location: str | None = None  # "code", "Coding.code", "CodeableConcept.coding[0].code", ...
    message_id: str | None = None
    located: bool = True  # False: `expression` only, no deprecated `location`
    in_message: bool = True  # False: a note that $validate-code's `message` leaves out

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.message_id:
            out["extension"] = [{"url": MESSAGE_ID, "valueString": self.message_id}]
        out["severity"] = self.severity
        out["code"] = self.code
        details: dict[str, Any] = {}
        if self.tx:
            details["coding"] = [{"system": TX_ISSUE_TYPE, "code": self.tx}]
        details["text"] = self.text
        out["details"] = details
        out["diagnostics"] = self.text  # what clients that predate details.text show
        if self.location:
            if self.located and self.message_id not in _EXPRESSION_ONLY:
                out["location"] = [self.location]
            out["expression"] = [self.location]
        return out


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [i.json() for i in issues]}


class TxError(ApiError):
    """An operation that cannot answer: an HTTP error whose OperationOutcome carries these issues."""

    def __init__(self, status: int, issues: list[Issue]) -> None:
        super().__init__(status, issues[0].text, issue=issues[0].code)
        self.issues = issues


def fail(status: int, text: str, code: str = "invalid", tx: str | None = None,
         message_id: str | None = None) -> TxError:
    return TxError(status, [Issue("error", code, text, tx, message_id=message_id)])


def not_found(text: str, message_id: str | None = None) -> TxError:
    return fail(404, text, "not-found", "not-found", message_id)
