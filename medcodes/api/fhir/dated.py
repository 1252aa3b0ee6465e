"""$validate-code on a date of service (`date`): the answer from the release in force that day."""

from __future__ import annotations

import re
from typing import Any

from ...app import services
from ...app.errors import ApiError
from ...app.params import parse_date
from ...errors import BadRequest
from .indexed import IndexCodeSystem
from .params import OperationParams
from .resources import parameters

# The time part of a FHIR dateTime: the day is what a date of service names, the time is checked only.
_TIME = re.compile(r"T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::(?:[0-5][0-9]|60)(?:\.[0-9]{1,9})?)?"
                   r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?")


def service_date(p: OperationParams) -> str | None:
    """The `date` parameter (a FHIR date or dateTime): the day it names, as YYYY-MM-DD."""
    raw = p.text("date")
    if raw is None:
        return None
    day = raw[:10] if len(raw) == 10 or _TIME.fullmatch(raw[10:]) else ""
    try:
        return parse_date(day, "date")
    except BadRequest:
        raise ApiError(400, f"parameter 'date' must be a date like 2024-06-01, got {raw[:40]!r}") from None


def validate_on(cs: IndexCodeSystem, code: str, date: str, display: str | None) -> dict[str, Any]:
    row = cs.row(code)
    if row is None:
        version = f" version '{cs.version}'" if cs.version else ""
        message = f"Unknown code '{code}' in the CodeSystem '{cs.url}'{version}"
        return parameters(("result", False), ("message", message))
    then = cs.catalog.as_of(row["system"], row["code"], date)
    title = then.title or row["title"]
    if then.exists is None:
        return parameters(("result", False), ("message", f"cannot tell: {then.reason}"))
    if not then.exists:
        return parameters(("result", False), ("message", f"{row['code']} was not valid on {date}: {then.reason}"),
                          ("display", title))
    if display and display.strip().casefold() != (title or "").casefold() and not _display_ok(cs, code, display):
        return parameters(("result", False), ("message", f"display {display[:80]!r} is not a name of {row['code']}"
                                                         f" on {date}; it was {title!r}"), ("display", title))
    return parameters(("result", True), {"name": "code", "valueCode": row["code"]}, ("display", title),
                      ("message", f"valid on {date} (release in force: {then.release})"))


def _display_ok(cs: IndexCodeSystem, code: str, display: str) -> bool:
    row = cs.row(code)
    assert row is not None
    d = services.code_data(cs.catalog, row["system"], row["code"], extra=False)
    names = {d.title or "", d.short_title or "", *d.synonyms}
    return display.strip().casefold() in {n.casefold() for n in names if n}
