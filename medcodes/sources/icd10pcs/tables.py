"""The PCS tables XML (root <ICD10PCS.tabular>): every valid code, composed from its table.

Layout: each <pcsTable> fixes characters 1-3 (section, body system,
operation) with one <label> each, then lists <pcsRow>s; a row gives the
allowed values of characters 4-7 and every combination of them is a valid
code (the row's `codes` attribute says how many). The root operation axis
carries its official <definition>.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from lxml import etree

from ...errors import SourceError
from ...model import Code, Record
from .common import (
    SYSTEM,
    VALUE_RE,
    Source,
    body_system_node,
    first_year,
    fiscal_year_release,
    iter_elements,
    section_node,
    table_node,
    text,
)
from .titles import compose_title

AxisValue = Mapping[str, Any]  # {"position", "name", "value", "label"[, "definition"]}


def compose_codes(head: Sequence[AxisValue], rows: Sequence[Sequence[Sequence[AxisValue]]],
                  ) -> Iterator[tuple[str, list[AxisValue]]]:
    """Every code of one PCS table, with its 7 axis values.

    `head` holds the table's values of characters 1-3; each row holds, for
    characters 4-7, the list of values it allows. A row allows every
    combination of its values (the cartesian product), in the row's order.
    """
    for row in rows:
        for combo in itertools.product(*row):
            axes = [*head, *combo]
            yield "".join(a["value"] for a in axes), axes


def derive_axes(code: str, table: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """A code's 7 axis values from its table node's attributes, or None where one is unknown.

    For codes a source lists without their table row (an older codes file
    read beside newer tables): each of characters 4-7 keeps its meaning within
    a table, which `axis_values` records only where no two rows disagree.
    """
    head = table.get("axes") or []
    values = table.get("axis_values") or {}
    if len(code) != 7 or len(head) != 3 or "".join(a["value"] for a in head) != code[:3]:
        return None
    axes = [dict(a) for a in head]
    for position in range(4, 8):
        known = values.get(str(position), {}).get(code[position - 1])
        if known is None:
            return None
        axes.append({"position": position, "name": known["name"], "value": code[position - 1],
                     "label": known["label"]})
    return axes


# ---------------------------------------------------------------------------


def read_tables(src: Source) -> Iterator[Record]:
    year: str | None = None
    released = False
    seen: set[str] = set()
    for elem in iter_elements(src, ("version", "pcsTable")):
        if elem.tag == "version":
            year = first_year(text(elem), src)
            continue
        if not released:
            yield fiscal_year_release(year or first_year("", src))
            released = True
        yield from _table_records(src, elem, seen)
    if not released:
        raise SourceError(src.label, "no <pcsTable> in this tables file (empty?)")


def _table_records(src: Source, table: etree._Element, seen: set[str]) -> Iterator[Record]:
    head = [_axis(src, a, single=True)[0] for a in _axes(src, table, (1, 2, 3))]
    rows = [(row, [_axis(src, a) for a in _axes(src, row, (4, 5, 6, 7))]) for row in table.iterfind("pcsRow")]
    if not rows:
        raise SourceError(src.label, "<pcsTable> without a <pcsRow>", table.sourceline)
    prefix = "".join(a["value"] for a in head)
    for node in _grouping(prefix, head, [axes for _row, axes in rows]):
        if node.code not in seen:
            seen.add(node.code)
            yield node
    for row, axes in rows:
        _check_count(src, row, axes)
    yield from table_codes(prefix, head, [axes for _row, axes in rows])


def table_codes(prefix: str, head: Sequence[AxisValue], rows: Sequence[Sequence[Sequence[AxisValue]]],
                ) -> Iterator[Code]:
    """The codes of one table, each titled from its axis labels."""
    for code, code_axes in compose_codes(head, rows):
        title = compose_title(prefix[0], [a["label"] for a in code_axes])
        yield Code(SYSTEM, code, title, kind="code", billable=True, parent=prefix,
                   attributes={"axes": code_axes, "title_composed": True})


def expand_table(node: Record) -> Iterator[Code]:
    """The codes a table node's attributes describe (its "axes" and "rows"), as read_tables yields them.

    A derived tables file (medcodes.data) keeps the table nodes only and composes the codes again here.
    """
    if not isinstance(node, Code) or node.kind != "table" or "rows" not in node.attributes:
        return
    head = node.attributes["axes"]
    rows = [[[{"position": axis["position"], "name": axis["name"], "value": v["value"], "label": v["label"]}
              for v in axis["values"]] for axis in row["axes"]] for row in node.attributes["rows"]]
    yield from table_codes(node.code, head, rows)


def _grouping(prefix: str, head: list[AxisValue], rows: list[list[list[AxisValue]]]) -> list[Code]:
    section, body_system, operation = head
    return [
        section_node(prefix[0], section["label"]),
        body_system_node(prefix[:2], body_system["label"]),
        table_node(prefix, operation["label"], operation.get("definition"), axes=head,
                   rows=[{"codes": _product(axes), "axes": [_row_axis(values) for values in axes]} for axes in rows],
                   axis_values=_axis_values(rows), title_composed=False),
    ]


def _row_axis(values: list[AxisValue]) -> dict[str, Any]:
    first = values[0]
    return {"position": first["position"], "name": first["name"],
            "values": [{"value": v["value"], "label": v["label"]} for v in values]}


def _axis_values(rows: list[list[list[AxisValue]]]) -> dict[str, dict[str, dict[str, str]]]:
    """Characters 4-7: value -> {name, label}, leaving out values two rows label differently."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    clashes: set[tuple[str, str]] = set()
    for axes in rows:
        for values in axes:
            for v in values:
                pos, entry = str(v["position"]), {"name": v["name"], "label": v["label"]}
                known = out.setdefault(pos, {}).setdefault(v["value"], entry)
                if known != entry:
                    clashes.add((pos, v["value"]))
    for pos, value in clashes:
        del out[pos][value]
    return out


def _product(axes: list[list[AxisValue]]) -> int:
    n = 1
    for values in axes:
        n *= len(values)
    return n


def _check_count(src: Source, row: etree._Element, axes: list[list[AxisValue]]) -> None:
    stated = row.get("codes")
    if stated is not None and stated.isdigit() and int(stated) != _product(axes):
        raise SourceError(src.label, f"<pcsRow codes=\"{stated}\"> but its axes combine to {_product(axes)} "
                                     "codes", row.sourceline)


def _axes(src: Source, parent: etree._Element, positions: tuple[int, ...]) -> list[etree._Element]:
    found = {a.get("pos"): a for a in parent.iterfind("axis")}
    missing = [p for p in positions if str(p) not in found]
    if missing or len(found) != len(positions):
        where = "<pcsTable>" if parent.tag == "pcsTable" else "<pcsRow>"
        raise SourceError(src.label, f"{where} must have axes {', '.join(map(str, positions))}; found "
                                     f"{', '.join(sorted(k or '?' for k in found)) or 'none'}", parent.sourceline)
    return [found[str(p)] for p in positions]


def _axis(src: Source, axis: etree._Element, single: bool = False) -> list[AxisValue]:
    """The values one <axis> allows; the table-level axes (1-3) allow exactly one."""
    position = int(axis.get("pos", "0"))
    name = text(axis.find("title")) or f"Character {position}"
    definition = text(axis.find("definition"))
    values: list[AxisValue] = []
    for label in axis.iterfind("label"):
        value, words = label.get("code", ""), text(label)
        if not VALUE_RE.fullmatch(value) or not words:
            raise SourceError(src.label, f"axis {position} label {value!r} is not a PCS character with a label",
                              label.sourceline)
        entry: dict[str, Any] = {"position": position, "name": name, "value": value, "label": words}
        if definition:
            entry["definition"] = definition
        values.append(entry)
    if not values or (single and len(values) != 1):
        raise SourceError(src.label, f"axis {position} must have {'exactly one' if single else 'a'} <label>",
                          axis.sourceline)
    return values
