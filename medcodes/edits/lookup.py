"""One code's coding edits, as the code data shows them: each fact with the table and version it comes from.

Read from the tables the build step wrote (build.py). An index built before them has no edits: the
code data then carries `edits: None` rather than an error.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..sources.msdrg import MDC_TITLES
from . import tables
from .build import SYSTEMS

# Facts a coder checks that no loaded official table carries: said on the page, never guessed.
NOT_LOADED: tuple[dict[str, str], ...] = (
    {"fact": "poa_exempt", "name": "POA exempt status",
     "reason": "the CMS list of codes exempt from present-on-admission reporting is not in any loaded official file"},
)
FACTS = ("cc_mcc", "cc_exclusion", "ms_drg", "hcc", "mce")
FACT_OF = {"table6i": "cc_mcc", "table6j": "cc_mcc", "table6k": "cc_exclusion", "msdrg_lists": "ms_drg",
           "hcc_map": "hcc", "mce": "mce"}
# MCE lists -> the edit they trigger, as the MCE Definitions Manual names it. A list not named here is
# shown by its own name.
MCE_EDITS: dict[str, str] = {
    "newborn": "Age conflict", "pediatric": "Age conflict", "maternity": "Age conflict", "adult": "Age conflict",
    "male": "Sex conflict", "female": "Sex conflict",
    "manifestation": "Manifestation code as principal diagnosis",
    "unacceptable": "Unacceptable principal diagnosis",
    "qadm": "Questionable admission",
    "ecodepdx": "External causes of morbidity code as principal diagnosis",
    "unspecified": "Unspecified code",
    "noncovered": "Non-covered procedure",
    "lcov": "Limited coverage",
}


def edits_for(conn: sqlite3.Connection, system: str, code: str) -> dict[str, Any] | None:
    """{"cc_mcc", "cc_exclusion", "ms_drg", "hcc", "mce": each fact with its "source" or None, "checked": the
    table each fact was looked up in, "not_loaded": facts no loaded table carries} for an ICD-10-CM code
    (a procedure has only "ms_drg" and "mce"); None for other systems or an index without edit tables."""
    if system not in SYSTEMS:
        return None
    try:
        rows = conn.execute(
            "SELECT e.fact, e.value, s.* FROM code_edits e JOIN edit_sources s ON s.id = e.source_id"
            " WHERE e.system=? AND e.code=?", (system, code)).fetchall()
    except sqlite3.OperationalError:
        return None  # built before edits existed
    out: dict[str, Any] = {fact: None for fact in FACTS}
    for row in rows:
        out[row[0]] = {**_shaped(conn, row[0], json.loads(row[1])), "source": _source(row)}
    # A fact that is None was looked up in these tables and is not there ("not a CC"), which is not
    # the same as no table loaded: the page says which.
    out["checked"] = {FACT_OF[r["key"]]: _source(r) for r in conn.execute("SELECT * FROM edit_sources")
                      if r["key"] in FACT_OF}
    if system == "icd10pcs":
        for fact in ("cc_mcc", "cc_exclusion", "hcc"):
            del out[fact]  # diagnosis facts
            out["checked"].pop(fact, None)
    out["not_loaded"] = [dict(n) for n in NOT_LOADED] if system == "icd10cm" else []
    if "mce" not in out["checked"]:
        out["not_loaded"].insert(0, {"fact": "mce", "name": "Medicare Code Editor edits",
                                     "reason": "no Medicare Code Editor tables were loaded"})
    return out


def _source(row: sqlite3.Row) -> dict[str, str]:
    return {k: row[k] for k in ("title", "version", "publisher", "package", "file")}


def _mce(value: dict[str, Any]) -> dict[str, Any]:
    """{"lists": ["adult"], "ages": {"adult": [15, 124]}} -> each edit with what it says."""
    edits = []
    for name in value["lists"]:
        edit = MCE_EDITS.get(name, f"MCE list {name}")
        if name in value.get("ages", {}):
            low, high = value["ages"][name]
            detail = f"{name} diagnosis: age {low}" + (f"-{high}" if high != low else "")
        elif name in ("male", "female"):
            detail = f"{name} only"
        else:
            detail = ""
        edits.append({"list": name, "edit": edit, "detail": detail})
    return {"edits": edits}


def _shaped(conn: sqlite3.Connection, fact: str, value: Any) -> dict[str, Any]:
    if fact == "mce":
        return _mce(value)
    if fact == "ms_drg":
        return _drg_groups(conn, tables.groups(value))
    if fact == "cc_exclusion" and value.get("collection"):
        row = conn.execute("SELECT codes FROM cc_collections WHERE name=?", (value["collection"],)).fetchone()
        codes = json.loads(row[0]) if row else []
        return {**value, "principal_diagnoses": codes, "not_loaded": sorted(set(codes) - _loaded(conn, codes))}
    return dict(value)


def _loaded(conn: sqlite3.Connection, codes: list[str]) -> set[str]:
    """Which of these ICD-10-CM codes the index holds (a page links only those)."""
    found: set[str] = set()
    for i in range(0, len(codes), 500):
        chunk = codes[i:i + 500]
        found.update(r[0] for r in conn.execute(
            f"SELECT code FROM codes WHERE system='icd10cm' AND code IN ({','.join('?' * len(chunk))})", chunk))
    return found


def _drg_groups(conn: sqlite3.Connection, lists: dict[str, Any]) -> dict[str, Any]:
    """The DRGs with their titles from the loaded MS-DRG release (Table 5), where loaded."""
    drgs = sorted({d for g in lists["groups"] for d in g["drgs"]})
    titles = dict(conn.execute(f"SELECT code, title FROM codes WHERE system='msdrg' AND code IN"
                               f" ({','.join('?' * len(drgs))})", drgs).fetchall()) if drgs else {}
    return {
        "mdc": [{"mdc": m, "title": MDC_TITLES.get(m, "")} for m in lists["mdc"]],
        "groups": [{"list": g["list"], "drgs": [{"code": d, "title": titles.get(d)} for d in g["drgs"]]}
                   for g in lists["groups"]],
    }


def sources(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every edit table the index was built with (for the sources page and `medcodes sources`)."""
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM edit_sources ORDER BY id")]
    except sqlite3.OperationalError:
        return []
