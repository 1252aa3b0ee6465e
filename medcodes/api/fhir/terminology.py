"""The terminology operations: each checks its parameters, then reads the shared services.

ICD-9-CM diagnoses and procedures share one canonical URI, as HCPCS codes and modifiers share
one OID: a code is resolved to the system whose code shape it has (and where it exists).
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from typing import Any

from ... import systems
from ...app import services
from ...app.errors import ApiError
from ...app.params import parse_date
from ...errors import BadRequest
from ...index import Catalog
from .params import OperationParams
from .resources import now, parameters, part

GROUPING_KINDS = frozenset({"chapter", "block", "section", "body_system", "table", "mdc"})
MAX_COUNT = 1000
_WORD = re.compile(r"[0-9A-Za-z]+")
_IMPLICIT = re.compile(r"fhir_vs(?:=isa/(?P<code>.+))?")


def system_ids(uri: str) -> list[str]:
    found = [s.id for s in systems.by_fhir_uri(uri)]
    if not found:
        known = sorted({s.fhir_uri for s in systems.SYSTEMS.values() if s.fhir_uri})
        raise ApiError(404, f"unknown code system {uri[:100]!r}; supported: {', '.join(known)}", issue="not-found")
    return found


def find(catalog: Catalog, uri: str, code: str) -> sqlite3.Row | None:
    """The code in the system under `uri` it has the shape of; a dotted code must match its dots."""
    typed = code.strip().upper()
    candidates = [s for s in system_ids(uri) if "." not in typed or systems.normalize(s, typed) == typed]
    candidates.sort(key=lambda s: not systems.looks_like(s, typed))
    for system in candidates:
        rows = catalog.find(typed, system)
        if rows:
            return rows[0]
    return None


def _system_and_code(p: OperationParams, coding: str = "coding", code: str = "code",
                     system: tuple[str, ...] = ("system",)) -> tuple[str, str, str | None]:
    c_system, c_code, c_display = p.coding(coding)
    uri = c_system or next((v for v in (p.text(n) for n in system) if v), None)
    value = c_code or p.text(code)
    if not value:
        raise ApiError(400, f"parameter {code!r} (or {coding!r}) is required", issue="required")
    if not uri:
        raise ApiError(400, f"parameter {system[0]!r} is required", issue="required")
    return uri, value, c_display or p.text("display")


def lookup(catalog: Catalog, p: OperationParams) -> dict[str, Any]:
    uri, code, _ = _system_and_code(p)
    row = find(catalog, uri, code)
    if row is None:
        raise ApiError(404, f"code {code[:40]!r} not found in {uri}", issue="not-found")
    d = services.code_data(catalog, row["system"], row["code"], extra=False)
    wanted = set(p.all_text("property"))
    props: list[tuple[str, Any, str]] = [("kind", d["kind"], "Code")]
    if d["billable"] is not None:
        props.append(("billable", d["billable"], "String"))
    props += [("notSelectable", d["kind"] in GROUPING_KINDS or d["billable"] is False, "String"),
              ("inactive", d["deleted_in"] is not None, "String")]
    if d["ancestors"]:
        props.append(("parent", d["ancestors"][-1]["code"], "Code"))
    props += [("child", c["code"], "Code") for c in d["children"]]
    designations = [{"name": "designation", "part": [part("language", "en", "Code"), part("value", v)]}
                    for v in [d["short_title"], *d["synonyms"]] if v and v != d["title"]]
    return parameters(
        ("name", d["system_name"]), ("version", d["release"]) if d["release"] else None,
        ("display", d["title"]), *designations,
        *({"name": "property", "part": [part("code", name, "Code"), part("value", value, kind)]}
          for name, value, kind in props if not wanted or name in wanted))


def validate_code(catalog: Catalog, p: OperationParams) -> dict[str, Any]:
    uri, code, display = _system_and_code(p, system=("url", "system"))
    date = _date(p)  # checked before any lookup, so a bad date is a 400 even for an unknown code
    row = find(catalog, uri, code)
    if row is None:
        name = systems.get(system_ids(uri)[0]).name
        return parameters(("result", False), ("message", f"{code[:40]!r} is not a {name} code"))
    if date:
        return _validate_on(catalog, row, date, display)
    if row["deleted_in"]:
        return parameters(("result", False), ("message", f"{row['code']} was deleted in {row['deleted_in']}"),
                          ("display", row["title"]))
    if display and not _display_ok(catalog, row, display):
        return parameters(("result", False), ("message", f"display {display[:80]!r} is not a name of {row['code']};"
                                                         f" it is {row['title']!r}"), ("display", row["title"]))
    return parameters(("result", True), ("display", row["title"]))


# The time part of a FHIR dateTime: the day is what a date of service names, the time is checked only.
_TIME = re.compile(r"T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::(?:[0-5][0-9]|60)(?:\.[0-9]{1,9})?)?"
                   r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?")


def _date(p: OperationParams) -> str | None:
    """The `date` parameter (a FHIR date or dateTime): the day it names, as YYYY-MM-DD."""
    raw = p.text("date")
    if raw is None:
        return None
    day = raw[:10] if len(raw) == 10 or _TIME.fullmatch(raw[10:]) else ""
    try:
        return parse_date(day, "date")
    except BadRequest:
        raise ApiError(400, f"parameter 'date' must be a date like 2024-06-01, got {raw[:40]!r}") from None


def _validate_on(catalog: Catalog, row: sqlite3.Row, date: str, display: str | None) -> dict[str, Any]:
    """The answer for a date of service, from the release in force then (issue 7)."""
    then = catalog.as_of(row["system"], row["code"], date)
    title = then["title"] or row["title"]
    if then["exists"] is None:
        return parameters(("result", False), ("message", f"cannot tell: {then['reason']}"))
    if not then["exists"]:
        return parameters(("result", False), ("message", f"{row['code']} was not valid on {date}: {then['reason']}"),
                          ("display", title))
    if display and display.strip().casefold() != (title or "").casefold() and not _display_ok(catalog, row, display):
        return parameters(("result", False), ("message", f"display {display[:80]!r} is not a name of {row['code']}"
                                                         f" on {date}; it was {title!r}"), ("display", title))
    return parameters(("result", True), ("display", title),
                      ("message", f"valid on {date} (release in force: {then['release']})"))


def _display_ok(catalog: Catalog, row: sqlite3.Row, display: str) -> bool:
    d = services.code_data(catalog, row["system"], row["code"], extra=False)
    names = {d["title"], d["short_title"] or "", *d["synonyms"]}
    return display.strip().casefold() in {n.casefold() for n in names if n}


def subsumes(catalog: Catalog, p: OperationParams) -> dict[str, Any]:
    uri_a, code_a, _ = _system_and_code(p, "codingA", "codeA")
    uri_b, code_b, _ = _system_and_code(p, "codingB", "codeB")
    if set(system_ids(uri_a)) != set(system_ids(uri_b)):
        raise ApiError(400, "codeA and codeB must be in the same code system")
    rows = []
    for uri, code in ((uri_a, code_a), (uri_b, code_b)):
        row = find(catalog, uri, code)
        if row is None:
            raise ApiError(404, f"code {code[:40]!r} not found in {uri}", issue="not-found")
        rows.append(row)
    a, b = rows
    if (a["system"], a["code"]) == (b["system"], b["code"]):
        result = "equivalent"
    elif a["system"] == b["system"] and a["code"] in {x["code"] for x in catalog.ancestors(b)}:
        result = "subsumes"
    elif a["system"] == b["system"] and b["code"] in {x["code"] for x in catalog.ancestors(a)}:
        result = "subsumed-by"
    else:
        result = "not-subsumed"
    return parameters({"name": "outcome", "valueCode": result})


def expand(catalog: Catalog, p: OperationParams) -> dict[str, Any]:
    url = p.text("url", required=True) or ""
    count = p.integer("count", 100, 0, MAX_COUNT, too_big="too-costly")
    offset = p.integer("offset", 0, 0, 10_000_000)
    active_only = p.boolean("activeOnly", False)
    text = p.text("filter") or ""
    if p.values.get("valueSet"):
        raise ApiError(400, "only implicit value sets are expanded: give url={system}?fhir_vs",
                       issue="not-supported")
    uri, _, query = url.partition("?")
    ids = system_ids(uri)
    m = _IMPLICIT.fullmatch(query)
    if not m:
        raise ApiError(404 if not query else 400, f"value set {url[:100]!r} is not known; use {uri}?fhir_vs or"
                       f" {uri}?fhir_vs=isa/CODE", issue="not-found" if not query else "not-supported")
    root = None
    if m["code"]:
        root = find(catalog, uri, m["code"])
        if root is None:
            raise ApiError(404, f"code {m['code'][:40]!r} not found in {uri}", issue="not-found")
    total, rows = _expansion(catalog, ids, root, _WORD.findall(text)[:8], count, offset, active_only)
    used = [part("offset", offset, "Integer"), part("count", count, "Integer")]
    if text:
        used.append(part("filter", text))
    contains = [{"system": uri, "code": r["code"], "display": r["title"],
                 **({"abstract": True} if r["kind"] in GROUPING_KINDS else {}),
                 **({"inactive": True} if r["deleted_in"] else {})} for r in rows]
    return {"resourceType": "ValueSet", "url": url, "status": "active",
            "expansion": {"identifier": f"urn:uuid:{uuid.uuid4()}", "timestamp": now(), "total": total,
                          "offset": offset, "parameter": used,
                          "contains": contains}}


def _expansion(catalog: Catalog, ids: list[str], root: sqlite3.Row | None, words: list[str], count: int,
               offset: int, active_only: bool) -> tuple[int, list[sqlite3.Row]]:
    conn = catalog.conn
    where = [f"system IN ({','.join('?' * len(ids))})"]
    args: list[Any] = list(ids)
    if root is not None:
        # a code and its descendants: the code-order interval up to the next code no deeper than it
        end = conn.execute("SELECT COALESCE(MIN(seq), 1e18) FROM codes WHERE system=? AND seq>? AND depth<=?",
                           (root["system"], root["seq"], root["depth"])).fetchone()[0]
        where.append("system=? AND seq>=? AND seq<?")
        args += [root["system"], root["seq"], end]
    if active_only:
        where.append("deleted_in IS NULL")
    for w in words:
        where.append("((' ' || lower(title)) LIKE ? OR compact LIKE ?)")
        args += [f"% {w.lower()}%", f"{w.upper()}%"]
    sql = " AND ".join(where)
    total = conn.execute(f"SELECT COUNT(*) FROM codes WHERE {sql}", args).fetchone()[0]
    rows = conn.execute(f"SELECT system, code, title, kind, deleted_in FROM codes WHERE {sql}"
                        " ORDER BY system, seq LIMIT ? OFFSET ?", [*args, count, offset]).fetchall()
    return total, rows


# GEM flags -> R4 ConceptMapEquivalence, most telling first
_EQUIVALENCE = (("no_map", "unmatched"), ("approximate", "inexact"), ("combination", "narrower"))


def translate(catalog: Catalog, p: OperationParams) -> dict[str, Any]:
    uri, code, _ = _system_and_code(p)
    reverse = p.boolean("reverse", False)
    target_uri = p.text("targetsystem") or (p.text("target") or "").partition("?")[0] or None
    targets = set(system_ids(target_uri)) if target_uri else None
    row = find(catalog, uri, code)
    if row is None:
        return parameters(("result", False), ("message", f"code {code[:40]!r} not found in {uri}"))
    d = services.code_data(catalog, row["system"], row["code"], extra=False)
    direction = "from" if reverse else "to"
    matches: list[dict[str, Any]] = []
    found = False
    for x in d["crosswalks"]:
        if x["direction"] != direction or (targets is not None and x["system"] not in targets):
            continue
        flags = x["attributes"]
        equivalence = next((eq for flag, eq in _EQUIVALENCE if flags.get(flag) is True), "equivalent")
        if not x["code"]:
            equivalence = "unmatched"
        target = systems.get(x["system"])
        parts: list[dict[str, Any]] = [{"name": "equivalence", "valueCode": equivalence}]
        if equivalence != "unmatched":
            found = True
            concept = {"system": target.fhir_uri, "code": x["code"], **({"display": x["title"]} if x["title"] else {})}
            parts.append({"name": "concept", "valueCoding": concept})
        matches.append({"name": "match", "part": parts})
    message = None if found else f"no {'reverse ' if reverse else ''}GEM mapping for {row['code']}"
    return parameters(("result", found), ("message", message) if message else None, *matches)
