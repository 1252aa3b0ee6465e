"""LOINC (system `loinc`): the LOINC table file, as the user downloads it from loinc.org.

LOINC is free to use under its licence but is not redistributed here: this reads the user's copy of
the release zip (`Loinc_2.81.zip`, member `LoincTable/Loinc.csv`) or the `Loinc.csv` itself: a
comma-separated file with a quoted header row (LOINC_NUM, COMPONENT, PROPERTY, TIME_ASPCT, SYSTEM,
SCALE_TYP, METHOD_TYP, CLASS, ..., LONG_COMMON_NAME, ..., DisplayName), columns found by name.

Also read: the "Top 2000+ LOINC codes" file of the LOINC Mapper's Guide (`LOINC #, Long Common Name,
Short Name, CLASS, Rank`), the common lab results subset.

Each term becomes a code (title: the long common name; short title: SHORTNAME; synonyms: the display
and consumer names and RELATEDNAMES2) under a node for its LOINC class (kind "section"). Billable is
left None: LOINC terms are not billed. Status (ACTIVE, TRIAL, DISCOURAGED, DEPRECATED), the six axes
and the rank of common tests are attributes; a DEPRECATED term says so.

The release: the version in the zip's name ("Loinc_2.81.zip" -> "LOINC 2.81"), else the newest
VersionLastChanged in the file ("LOINC (terms changed up to 2.74)").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import SourceError
from ..files import csv_rows
from ..model import Code, Record, Release
from .zipped import members

SYSTEM = "loinc"
_LOINC_NUM = re.compile(r"[0-9]{1,7}-[0-9]")
_VERSION = re.compile(r"loinc[_ -]?v?([0-9]+\.[0-9]+)(?:[_ -]text)?\.zip", re.IGNORECASE)  # Loinc_2.81.zip
# Loinc.csv column -> attribute
_AXES = {"COMPONENT": "component", "PROPERTY": "property", "TIME_ASPCT": "time", "SYSTEM": "specimen",
         "SCALE_TYP": "scale", "METHOD_TYP": "method", "CLASS": "class", "STATUS": "status",
         "ORDER_OBS": "order_obs", "EXAMPLE_UCUM_UNITS": "example_units", "DefinitionDescription": "definition",
         "VersionFirstReleased": "first_released", "VersionLastChanged": "last_changed",
         "COMMON_TEST_RANK": "common_test_rank"}
_CLASSTYPES = {"1": "Laboratory class", "2": "Clinical class", "3": "Claims attachment class", "4": "Survey class"}


def read(path: Path) -> Iterator[Record]:
    path = Path(path)
    if path.suffix.lower() == ".zip":
        version = _version(path.name)
        for name, data in members(path, lambda m: m.lower().endswith("loinctable/loinc.csv")
                                  or m.lower().rsplit("/", 1)[-1] == "loinc.csv",
                                  "no LoincTable/Loinc.csv in the zip: is this the LOINC table file?"):
            yield from _read_text(Path(f"{path}!{name}"), data.decode("utf-8-sig", errors="replace"), version)
            return
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as e:
        raise SourceError(path, f"cannot read: {e.strerror}") from None
    yield from _read_text(path, text, None)


def _version(name: str) -> str | None:
    m = _VERSION.search(name)
    return m.group(1) if m else None


def _read_text(path: Path, text: str, version: str | None) -> Iterator[Record]:
    rows = csv_rows(path, text)
    header = next(rows, None)
    if not header:
        raise SourceError(path, "empty file", 1)
    cols = {h.strip(): i for i, h in enumerate(header)}
    if {"LOINC_NUM", "LONG_COMMON_NAME"} <= cols.keys():
        parse = _table_row
    elif {"LOINC #", "Long Common Name"} <= cols.keys():
        parse = _top2000_row
    else:
        raise SourceError(path, "not a LOINC table (no LOINC_NUM and LONG_COMMON_NAME columns) nor a Top 2000"
                                " file (no 'LOINC #' and 'Long Common Name')", 1)
    codes: list[Code] = []
    classes: dict[str, Code] = {}
    newest = ""
    for no, row in enumerate(rows, 2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise SourceError(path, f"{len(row)} fields where the header has {len(header)}: truncated or not"
                                    " comma-separated?", no)
        code = parse(path, no, row, cols)
        cls = str(code.attributes.get("class") or "")
        if cls and cls not in classes:
            kind = _CLASSTYPES.get(str(code.attributes.get("class_type", "")), "LOINC class")
            classes[cls] = Code(SYSTEM, cls, f"{kind} {cls}", kind="section", billable=False)
        last = str(code.attributes.get("last_changed") or "")
        newest = max(newest, last, key=_version_key)
        codes.append(code)
    if version:
        name = f"LOINC {version}"
    elif parse is _top2000_row:
        name = "LOINC Top 2000+ common lab results"
    else:
        name = f"LOINC (terms changed up to {newest})" if newest else "LOINC"
    yield Release(SYSTEM, name)
    yield from classes.values()
    yield from codes


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"[0-9]+", v))


def _cell(row: list[str], cols: dict[str, int], name: str) -> str:
    i = cols.get(name)
    return row[i].strip() if i is not None else ""


def _loinc_num(path: Path, no: int, value: str) -> str:
    if not _LOINC_NUM.fullmatch(value):
        raise SourceError(path, f"{value[:20]!r} is not a LOINC number (digits, a dash, a check digit)", no)
    return value


def _table_row(path: Path, no: int, row: list[str], cols: dict[str, int]) -> Code:
    num = _loinc_num(path, no, _cell(row, cols, "LOINC_NUM"))
    title = _cell(row, cols, "LONG_COMMON_NAME")
    if not title:
        raise SourceError(path, f"LOINC {num} has no LONG_COMMON_NAME", no)
    attributes: dict[str, str | int] = {attr: _cell(row, cols, col) for col, attr in _AXES.items()
                                        if _cell(row, cols, col)}
    if attributes.get("common_test_rank") in ("0", ""):
        attributes.pop("common_test_rank", None)
    if _cell(row, cols, "CLASSTYPE"):
        attributes["class_type"] = _cell(row, cols, "CLASSTYPE")
    names = [_cell(row, cols, "DisplayName"), _cell(row, cols, "CONSUMER_NAME"),
             *(n.strip() for n in _cell(row, cols, "RELATEDNAMES2").split(";"))]
    synonyms = tuple(dict.fromkeys(n for n in names if n and n != title))
    return Code(SYSTEM, num, title, parent=str(attributes["class"]) if attributes.get("class") else None,
                short_title=_cell(row, cols, "SHORTNAME") or None, synonyms=synonyms, attributes=attributes)


def _top2000_row(path: Path, no: int, row: list[str], cols: dict[str, int]) -> Code:
    num = _loinc_num(path, no, _cell(row, cols, "LOINC #"))
    title = _cell(row, cols, "Long Common Name")
    if not title:
        raise SourceError(path, f"LOINC {num} has no Long Common Name", no)
    attributes: dict[str, str] = {"class": _cell(row, cols, "CLASS"), "common_test_rank": _cell(row, cols, "Rank")}
    attributes = {k: v for k, v in attributes.items() if v}
    return Code(SYSTEM, num, title, parent=attributes.get("class"), short_title=_cell(row, cols, "Short Name") or None,
                attributes=attributes)
