"""The PCS definitions XML (root <ICD10PCS.definitions>): what each axis value means, per section.

Layout: <section code="0"> holds <axis pos="3"> (Operation), 4 (Body Part),
5 (Approach), 6 (Device)...; each <terms> names one or more values (<title>,
e.g. "1st Toe, Left" and "1st Toe, Right" share one entry) with a
<definition>, an <explanation> and <includes> (body part synonyms, device
brand names, examples). <deviceAggregation> says which specific device a
general device value stands for in which body systems.

Records: one section Code per section whose attributes hold
{"definitions": {axis name: {value label: {"position", "definition",
"explanation", "includes": [...]}}}}, and "device_aggregation" on section 0,
the Medical and Surgical section it applies to. The builder merges them
into the section nodes the tables give; a code page looks each of its axis
labels up there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from ...errors import SourceError
from ...model import Record
from .common import VALUE_RE, Source, first_year, fiscal_year_release, iter_elements, section_node, text


def read_definitions(src: Source) -> Iterator[Record]:
    year: str | None = None
    released = False
    for elem in iter_elements(src, ("version", "section", "deviceAggregation")):
        if elem.tag == "version":
            year = first_year(text(elem), src)
            continue
        if not released:
            yield fiscal_year_release(year or first_year("", src))
            released = True
        if elem.tag == "section":
            yield _section(src, elem)
        else:
            yield section_node("0", device_aggregation=[_aggregate(a) for a in elem.iterfind("aggregate")])
    if not released:
        raise SourceError(src.label, "no <section> in this definitions file (empty?)")


def _section(src: Source, section: etree._Element) -> Record:
    value = section.get("code", "")
    if not VALUE_RE.fullmatch(value):
        raise SourceError(src.label, f"<section code={value!r}> is not a PCS character", section.sourceline)
    definitions: dict[str, dict[str, dict[str, Any]]] = {}
    for axis in section.iterfind("axis"):
        name = text(axis.find("title")) or f"Character {axis.get('pos')}"
        terms = definitions.setdefault(name, {})
        for entry in axis.iterfind("terms"):
            meaning = _meaning(axis, entry)
            for label in entry.iterfind("title"):
                if words := text(label):
                    terms[words] = meaning
    title = text(section.find("title")) or None
    return section_node(value, title, definitions=definitions)


def _meaning(axis: etree._Element, entry: etree._Element) -> dict[str, Any]:
    meaning: dict[str, Any] = {"position": int(axis.get("pos", "0") or 0)}
    for field in ("definition", "explanation"):
        if words := text(entry.find(field)):
            meaning[field] = words
    includes = [words for inc in entry.iterfind("includes") if (words := text(inc))]
    if includes:
        meaning["includes"] = includes
    return meaning


def _aggregate(aggregate: etree._Element) -> dict[str, Any]:
    parent = aggregate.find("parent")
    return {
        "device": text(aggregate.find("device")),
        "operation": text(aggregate.find("operation")),
        "body_systems": [text(b) for b in aggregate.iterfind("bodySys")],
        "parent_value": parent.get("value") if parent is not None else None,
        "parent_label": text(parent),
    }
