"""What every ICD-10-CM reader shares: code shapes, releases, and text helpers.

Files, streams and XML parsing errors are handled the same way as for
ICD-10-PCS, so `Source`, `stream_errors` and `iter_elements` come from there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from ...model import Release
from ...systems import compact, get
from ..icd10pcs.common import GZIP_MAGIC, Source, iter_elements, stream_errors

__all__ = ["CATEGORY", "CODE_RE", "GZIP_MAGIC", "SYSTEM", "Source", "canonical_code", "iter_elements", "release_for",
           "stream_errors", "text", "year_in"]

SYSTEM = "icd10cm"

# A category: a letter, then a digit and a digit or letter ("E11", "C7A"), or since FY2026 a letter and a
# digit ("QA0", genetic disorders). systems.py's pattern predates QA0 and does not match it.
CATEGORY = r"[A-Z](?:[0-9][0-9A-Z]|[A-Z][0-9])"
CODE_RE = re.compile(rf"{CATEGORY}[0-9A-Z]{{0,4}}")

_YEAR_RE = re.compile(r"(?<![0-9])(20[0-9]{2})(?![0-9])")
# CDC and CMS spell the spring update "April-1-2026", "april-2025", "APR"...
_APRIL_RE = re.compile(r"(?<![a-z])apr(?:il)?(?![a-z])", re.IGNORECASE)


# ---------------------------------------------------------------------------
# Codes: dotted or not, upper or lower case, with the index's trailing dash


def canonical_code(raw: str) -> str | None:
    """The canonical (dotted) code a source value names, or None if it is not code-shaped.

    Accepts the tabular's dotted form ("S72.001A"), the CMS files' undotted
    form ("S72001A"), any case, and the index's "see subcategories" dash
    ("S72.0-", "D24.-"), which points at the stem ("S72.0", "D24").
    """
    value = compact(raw.strip().rstrip("-").rstrip("."))
    if not CODE_RE.fullmatch(value):
        return None
    return get(SYSTEM).dotted(value)  # the registry's own dotting, the same as systems.normalize


# ---------------------------------------------------------------------------
# Releases


def year_in(name: str) -> str | None:
    m = _YEAR_RE.search(Path(name).name)
    return m.group(1) if m else None


def release_for(version: str | None, names: Iterable[str]) -> Release:
    """The release a file carries, from its <version> element and its (member and zip) names.

    ICD-10-CM years are fiscal years: FY2026 takes effect on 2025-10-01. An
    April update of FY2026 (a name saying "April") takes effect on 2026-04-01.
    The <version> year wins over a year in a name; the first name with a year
    gives it otherwise.
    """
    names = list(names)
    year = None
    if version and (m := _YEAR_RE.search(version)):
        year = m.group(1)
    for name in names:
        year = year or year_in(name)
    if year is None:
        return Release(SYSTEM, "ICD-10-CM (release not stated)", None)
    if any(_APRIL_RE.search(Path(n).name.replace("_", "-")) for n in names):
        return Release(SYSTEM, f"ICD-10-CM FY{year}, April {year} update", f"{year}-04-01")
    return Release(SYSTEM, f"ICD-10-CM FY{year}", f"{int(year) - 1}-10-01")


# ---------------------------------------------------------------------------
# XML text


def text(elem: etree._Element | None) -> str:
    """An element's text, its children's (a title's <nemod>) set off by a space, white space collapsed."""
    if elem is None:
        return ""
    joined = " ".join(" ".join(elem.itertext()).split())
    return joined.replace(" ,", ",").replace("( ", "(").replace(" )", ")")
