"""CMS Place of Service codes (system `pos`): the two-digit codes that say where a service was given.

CMS publishes the code set as a web page; HL7 Terminology (THO) publishes the same codes, names and
definitions as a FHIR CodeSystem (https://terminology.hl7.org, CodeSystem-CMS-PlaceofServiceCodes),
which is what `read` takes, as XML or JSON, or flattened to a CSV with the columns code, name,
description.

Each code becomes a Code: the name is its title, the definition (which carries the dates CMS gave it,
"(Effective January 1, 2003)") a definition note, and the first effective date also the attribute
"effective". The release is the code system's version ("20240502": the code set as of 2024-05-02).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree

from ..errors import SourceError
from ..model import Code, Note, Record, Release
from .icd10pcs.common import Source, stream_errors

SYSTEM = "pos"
URI = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
CSV_HEADER = ("code", "name", "description")

_FHIR = "{http://hl7.org/fhir}"
_CODE_RE = re.compile(r"[0-9]{2}")
_EFFECTIVE_RE = re.compile(r"\(\s*Effective\s+([A-Z][a-z]+\.? [0-9]{1,2}, [0-9]{4})", re.IGNORECASE)


def embedded_sources() -> list[Path]:
    from ..data import layer_files

    return layer_files(SYSTEM)


def read(path: Path) -> Iterator[Record]:
    """Yield the Release, then one Code per place of service."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(path, "no such file")
    src = Source(path)
    head = src.head().decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if head.startswith("<"):
        version, concepts = _xml(src)
    elif head.startswith("{"):
        version, concepts = _json(src)
    elif head.split("\n", 1)[0].strip().lower().split(",") == list(CSV_HEADER):
        version, concepts = None, _csv(src)
    else:
        raise SourceError(path, "not a Place of Service file: expected the FHIR CodeSystem (XML or JSON) of the "
                                "CMS Place of Service codes, or a CSV with the columns code, name, description", 1)
    yield _release(version)
    count = 0
    for line, code, name, definition in concepts:
        if not _CODE_RE.fullmatch(code) or not name:
            raise SourceError(src.label, f"not a place of service: code {code!r}, name {name!r}", line)
        attributes: dict[str, Any] = {}
        if effective := _effective(definition):
            attributes["effective"] = effective
        notes = (Note("definition", definition),) if definition else ()
        yield Code(SYSTEM, code, name, kind="code", billable=True, notes=notes, attributes=attributes)
        count += 1
    if count == 0:
        raise SourceError(src.label, "no place of service codes in this file (empty?)")


def _release(version: str | None) -> Release:
    if version and re.fullmatch(r"[0-9]{8}", version):
        day = f"{version[:4]}-{version[4:6]}-{version[6:]}"
        return Release(SYSTEM, f"CMS Place of Service codes {day}", day)
    return Release(SYSTEM, f"CMS Place of Service codes {version}" if version else "CMS Place of Service codes",
                   None)


def _effective(definition: str) -> str | None:
    m = _EFFECTIVE_RE.search(definition)
    if m is None:
        return None
    try:
        return datetime.strptime(m.group(1).replace(".", ""), "%B %d, %Y").date().isoformat()
    except ValueError:
        return None


Concept = tuple[int | None, str, str, str]  # (line, code, name, definition)


def _xml(src: Source) -> tuple[str | None, list[Concept]]:
    with stream_errors(src.label), src.open() as stream:
        try:
            root = etree.parse(stream, etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        except etree.XMLSyntaxError as exc:
            raise SourceError(src.label, f"not well-formed XML (truncated?): {exc.msg}", exc.lineno) from None
    if root.tag != f"{_FHIR}CodeSystem":
        raise SourceError(src.label, f"XML root <{etree.QName(root).localname}> is not a FHIR CodeSystem", 1)
    _check_url(src, _value(root, "url"))
    concepts = [(c.sourceline, _value(c, "code"), _value(c, "display"), _value(c, "definition"))
                for c in root.iterfind(f"{_FHIR}concept")]
    return _value(root, "version") or None, concepts


def _value(elem: etree._Element, name: str) -> str:
    found = elem.find(f"{_FHIR}{name}")
    return " ".join((found.get("value") or "").split()) if found is not None else ""


def _json(src: Source) -> tuple[str | None, list[Concept]]:
    with stream_errors(src.label), src.open() as stream:
        try:
            doc = json.load(stream)
        except ValueError as exc:
            raise SourceError(src.label, f"not JSON (truncated?): {exc}") from None
    if not isinstance(doc, dict) or doc.get("resourceType") != "CodeSystem":
        raise SourceError(src.label, "not a FHIR CodeSystem resource")
    _check_url(src, str(doc.get("url", "")))
    concepts: list[Concept] = [(None, str(c.get("code", "")), " ".join(str(c.get("display", "")).split()),
                                " ".join(str(c.get("definition", "")).split())) for c in doc.get("concept", [])]
    version = doc.get("version")
    return str(version) if version else None, concepts


def _check_url(src: Source, url: str) -> None:
    if url.rstrip("/") != URI:
        raise SourceError(src.label, f"a CodeSystem of {url or 'no url'!r}, not the CMS Place of Service codes "
                                     f"({URI})")


def _csv(src: Source) -> list[Concept]:
    with stream_errors(src.label), src.open() as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        next(reader)
        out: list[Concept] = []
        for row in reader:
            if not row:
                continue
            if len(row) != 3:
                raise SourceError(src.label, f"{len(row)} fields where the CSV has 3 (truncated?)", reader.line_num)
            out.append((reader.line_num, row[0].strip(), " ".join(row[1].split()), " ".join(row[2].split())))
    return out
