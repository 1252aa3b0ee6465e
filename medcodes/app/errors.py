"""One error shape for every failure, whatever layer raised it (STYLE.md principle 5).

Every exception is first classified into a `Problem`; the JSON API renders it as
`{"ok": false, "status", "error", "message"}`, FHIR as an `OperationOutcome`, pages as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from starlette.exceptions import HTTPException

from ..errors import BadRequest, DiskFull, MedcodesError, NotFound, out_of_room
from ..storage import StoreUnavailable

# FHIR issue types (http://hl7.org/fhir/R4/valueset-issue-type.html) by HTTP status
_ISSUE_BY_STATUS = {400: "invalid", 404: "not-found", 405: "not-supported", 406: "not-supported",
                    413: "too-costly", 415: "not-supported"}


class ApiError(MedcodesError):
    """An error with a precise status, error slug and (for FHIR) issue type."""

    def __init__(self, status: int, message: str, *, error: str | None = None, issue: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error or _slug(status)
        self.issue = issue or _ISSUE_BY_STATUS.get(status, "processing")


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    error: str  # machine-readable slug: "not_found", "bad_request", ...
    message: str  # one sentence a person can act on
    issue: str  # FHIR issue type

    def json(self) -> dict[str, object]:
        return {"ok": False, "status": self.status, "error": self.error, "message": self.message}


def classify(exc: Exception) -> Problem:
    if isinstance(exc, ApiError):
        return Problem(exc.status, exc.error, str(exc), exc.issue)
    if isinstance(exc, NotFound):
        return Problem(404, "not_found", str(exc), "not-found")
    if isinstance(exc, BadRequest):
        return Problem(400, "bad_request", str(exc), "invalid")
    if isinstance(exc, HTTPException):
        phrase = HTTPStatus(exc.status_code).phrase
        message = exc.detail if exc.detail and exc.detail != phrase else _DEFAULT_MESSAGES.get(exc.status_code, phrase)
        return Problem(exc.status_code, _slug(exc.status_code), message,
                       _ISSUE_BY_STATUS.get(exc.status_code, "processing"))
    if isinstance(exc, StoreUnavailable):
        # a PostgreSQL store down or restarting: the page needs what it holds (policies, generated text)
        return Problem(503, "store_unavailable", "The server cannot reach its store of policies and generated"
                                                 " text now; try again later.", "transient")
    if isinstance(exc, DiskFull) or out_of_room(exc):
        # a store write (a queued explainer, a review) found the disk full: nothing was saved half way
        return Problem(503, "storage_full", "The server cannot save anything now (its disk is full); try again"
                                            " later.", "transient")
    return Problem(500, "internal_error", "Something went wrong on the server; the error was logged.", "exception")


_DEFAULT_MESSAGES = {
    404: "There is nothing at this address.",
    405: "This address does not accept that HTTP method.",
}


def _slug(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"
