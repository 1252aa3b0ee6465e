"""Dates of service: the one way a date given by a person (a query string, the command line, FHIR, a
library call) becomes the ISO day every lookup compares against."""

from __future__ import annotations

import datetime as dt
import re

from .errors import BadRequest

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_day(value: str | dt.date, what: str = "the date") -> str:
    """`value` as YYYY-MM-DD: a string of that form naming a real day (2024-02-30 is not), or a date.
    BadRequest naming `what` ("parameter 'as_of'", "--as-of") otherwise."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = value.strip() if isinstance(value, str) else ""
    if _ISO_DAY.fullmatch(text):  # fromisoformat alone also takes "20240601" and week dates
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise BadRequest(f"{what} must be a date like 2024-06-01, got {str(value)[:40]!r}")
