"""What every rendering reads: search, suggestions, one code's data, validation.

Pages, the JSON API, FHIR and the CLI call these and nothing below them, so a code looks the
same everywhere: its data always comes from `codes.code_data()`.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from .. import search as engine
from .. import systems
from ..errors import BadRequest, NotFound
from ..index import Catalog
from ..policies.queries import policies_for_code, policy_page
from ..policies.queries import search_policies as find_policies
from ..record import CodeRecord
from . import codes

SUGGEST_LIMIT = 8
MAX_VALIDATE = 1000
# Characters any code or grouping node of any system uses ("E11.9", "E08-E13", "A0021-A0999").
_CODE_CHARS = re.compile(r"[0-9A-Za-z.\-\u2013_ ]{1,40}")


def search(catalog: Catalog, q: str, systems_: list[str] | None = None, billable: bool | None = None,
           limit: int = 10, offset: int = 0, as_of: str | None = None) -> dict[str, Any]:
    return engine.search(catalog, q, systems=systems_, billable=billable, limit=limit, offset=offset,
                         as_of=as_of or None)


def suggest(catalog: Catalog, prefix: str, limit: int = SUGGEST_LIMIT) -> list[dict[str, Any]]:
    return engine.suggest(catalog, prefix, limit)


def resolve(catalog: Catalog, system: str, code: str) -> sqlite3.Row:
    """The row a user's code means in `system` ("e119" -> E11.9); 400 when it cannot be a code at all."""
    info = systems.get(system)
    if not code.strip():
        raise BadRequest(f"no {info.name} code given")
    rows = catalog.find(code, system)
    if rows:
        return rows[0]
    if not _CODE_CHARS.fullmatch(code.strip()):
        raise BadRequest(f"{code[:40]!r} is not a well-formed {info.name} code")
    raise NotFound(f"{info.name} code {code.strip()!r} not found")


def resolve_key(catalog: Catalog, system: str, code: str) -> tuple[str, str]:
    """(system, canonical code) of a page to show: a code of the index, or a licensed code (CPT)
    the index lacks but a policy cites."""
    try:
        row = resolve(catalog, system, code)
    except NotFound:
        return codes.cited_key(catalog, system, code)
    return row["system"], row["code"]


def code_data(catalog: Catalog, system: str, code: str, as_of: str | None = None, *,
              extra: bool = True, defer_similar: bool = False) -> CodeRecord:
    """Everything about one code: the one data function behind page, JSON and FHIR $lookup."""
    return codes.code_data(catalog, system, code, as_of, extra=extra, defer_similar=defer_similar)


def similar(catalog: Catalog, system: str, code: str, limit: int) -> dict[str, Any]:
    in_index = bool(catalog.find(code, system))
    found = codes.similar(catalog, system, code, limit, in_index=in_index)
    return {"system": system, "code": code, "similar": [s.to_json() for s in found]}


def code_policies(catalog: Catalog, system: str, code: str, limit: int, offset: int) -> dict[str, Any]:
    found = policies_for_code(catalog.store_path, system, code)
    return {"system": system, "code": code, "total": len(found),
            "policies": [codes.policy_entry(p).to_json() for p in found[offset:offset + limit]]}


def search_policies(catalog: Catalog, q: str, payer: str | None, limit: int, offset: int) -> dict[str, Any]:
    found = find_policies(catalog.store_path, q, limit=limit, offset=offset, payer=payer)
    return {"query": q, "payer": payer, "offset": offset, "results": found}


def policy(catalog: Catalog, policy_id: str) -> dict[str, Any]:
    """A policy with every code it cites; the stored document itself stays out of the JSON
    (`html`, `text`: up to megabytes), the page shows it."""
    return policy_page(catalog.store_path, policy_id, catalog)


def changes(catalog: Catalog, system: str, release: str) -> dict[str, Any]:
    """What one loaded release added, revised and deleted (the history a diff of releases recorded)."""
    name = systems.get(system).name
    release = next((r for r in catalog.releases().get(system, []) if release_slug(r) == release), release)
    found = catalog.conn.execute("SELECT MAX(effective) FROM releases WHERE system=? AND name=?"
                                 " GROUP BY name", (system, release)).fetchone()
    if found is None:
        loaded = ", ".join(catalog.releases().get(system, [])) or "none"
        raise NotFound(f"no {name} release {release[:80]!r} is loaded; loaded: {loaded}")
    rows = catalog.changes(system, release)
    counts = {c: sum(r["change"] == c for r in rows) for c in ("added", "revised", "deleted")}
    return {"system": system, "system_name": name, "release": release, "effective": found[0],
            "counts": counts, "changes": rows}


def release_slug(release: str) -> str:
    """A release's name as an address part: "ICD-10-CM FY2026, April 2026 update" ->
    "icd-10-cm-fy2026-april-2026-update" (the name itself is accepted too)."""
    return re.sub(r"[^a-z0-9]+", "-", release.lower()).strip("-")


def change_releases(catalog: Catalog) -> list[dict[str, Any]]:
    return catalog.change_releases()


def validate(catalog: Catalog, items: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
    """For each (system or None, code): whether it exists, where, whether billable, its title."""
    return [_validate_one(catalog, system, code) for system, code in items]


def _validate_one(catalog: Catalog, system: str | None, code: str) -> dict[str, Any]:
    out: dict[str, Any] = {"input": code, "system": system, "code": None, "exists": False,
                           "billable": None, "title": None}
    if not _CODE_CHARS.fullmatch(code.strip()):
        return {**out, "message": "not a well-formed code"}
    rows = catalog.find(code, system)
    if not rows:
        return out
    if len(rows) > 1:
        # the same string is a code in several systems ("250": ICD-9-CM and MS-DRG): say so
        out["matches"] = [_brief(r) for r in rows]
        return {**out, "exists": True}
    return {**out, **_brief(rows[0]), "exists": True}


def _brief(r: sqlite3.Row) -> dict[str, Any]:
    return {"system": r["system"], "code": r["code"], "title": r["title"],
            "billable": None if r["billable"] is None else bool(r["billable"]),
            **({"deleted_in": r["deleted_in"]} if r["deleted_in"] else {})}


def parse_validate_body(body: Any) -> list[tuple[str | None, str]]:
    """`{"system"?: id, "codes": ["E11.9", {"system": "hcpcs", "code": "J1100"}, ...]}` -> pairs."""
    if not isinstance(body, dict) or not isinstance(body.get("codes"), list):
        raise BadRequest('the body must be a JSON object with a "codes" list')
    default = body.get("system")
    if default is not None and (not isinstance(default, str) or default not in systems.SYSTEMS):
        raise BadRequest(f"unknown system {str(default)[:40]!r}; known: {', '.join(systems.SYSTEMS)}")
    codes = body["codes"]
    if len(codes) > MAX_VALIDATE:
        raise BadRequest(f"at most {MAX_VALIDATE} codes per request, got {len(codes)}")
    return [_validate_item(i, item, default) for i, item in enumerate(codes)]


def _validate_item(i: int, item: Any, default: str | None) -> tuple[str | None, str]:
    system = default
    if isinstance(item, dict):
        system, item = item.get("system", default), item.get("code")
        if system is not None and (not isinstance(system, str) or system not in systems.SYSTEMS):
            raise BadRequest(f"codes[{i}]: unknown system {str(system)[:40]!r}")
    if not isinstance(item, str) or not item.strip(" \t\n\r\f\v") or len(item) > 100:
        raise BadRequest(f"codes[{i}] must be a code string (or an object with \"code\") of 1-100 characters")
    return system, item


def systems_present(catalog: Catalog) -> list[dict[str, Any]]:
    counts = catalog.counts()
    releases: dict[str, list[str]] = {}
    # oldest first by effective date, so the last one is the release in force
    for r in catalog.conn.execute("SELECT system, name, MAX(COALESCE(effective, '')) AS e FROM releases"
                                  " GROUP BY system, name ORDER BY system, e, name"):
        releases.setdefault(r["system"], []).append(r["name"])
    return [{"id": s.id, "name": s.name, "label": s.label, "fhir_uri": s.fhir_uri, "count": counts[s.id],
             "releases": releases.get(s.id, [])}
            for s in systems.SYSTEMS.values() if counts.get(s.id)]
