"""Policy-to-code maps given as data: CSV or JSON rows of (code or range, payer, policy id, title, url).

Column names vary between publishers, so each field has its aliases ("Policy #", "policy_id",
"Full Policy", "CPT Code (s)", "ICD10 Diagnosis codes"...). A cell may hold several codes and ranges
("A4595, A4630, E0720", "M25.50-M25.579, M54.2"); each is checked against the catalog and ranges
are expanded in its code order. Rows are grouped into one policy per (payer, policy id), so a map
re-imported after an edit gives new versions to the policies that changed and leaves the rest alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SourceError
from .extract import check_code
from .linking import link
from .records import Mention, PolicyRecord
from .sections import classify
from .store import slug
from .tokens import candidates, shapes

# normalised column name -> field
_FIELDS: dict[str, str] = {
    **dict.fromkeys(("policyid", "policy", "policynumber", "policyno", "number", "documentid", "id"), "policy_id"),
    **dict.fromkeys(("title", "policytitle", "policyname", "name", "fullpolicy", "subject"), "title"),
    **dict.fromkeys(("payer", "plan", "healthplan", "insurer", "organization"), "payer"),
    **dict.fromkeys(("url", "href", "link", "policyurl"), "url"),
    **dict.fromkeys(("section", "coverage", "status", "coveragestatus"), "section"),
    **dict.fromkeys(("effective", "effectivedate"), "effective"),
}
# normalised column name -> systems a code in it may belong to (None: any)
_CODE_COLUMNS: dict[str, frozenset[str] | None] = {
    **dict.fromkeys(("code", "codes", "range", "coderange", "coderanges"), None),
    **dict.fromkeys(("cpt", "cptcode", "cptcodes", "cptcodess"), frozenset({"cpt", "hcpcs"})),
    **dict.fromkeys(("hcpcs", "hcpcscode", "hcpcscodes", "hcpcscodess"), frozenset({"hcpcs", "cpt"})),
    **dict.fromkeys(("icd10", "icd10cm", "icd10codes", "icd10diagnosiscodes", "diagnosiscodes", "icd10cmcodes",
                     "diagnosis"), frozenset({"icd10cm"})),
    **dict.fromkeys(("icd10pcs", "pcs", "icd10pcscodes", "procedurecodesicd10pcs"), frozenset({"icd10pcs"})),
}


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _field(key: str) -> str | None:
    k = _norm(key)
    if k.startswith("fullpolicy"):
        return "title"
    return _FIELDS.get(k)


@dataclass
class MapRow:
    payer: str
    policy_id: str
    title: str
    url: str | None
    codes: str  # the cell text: one or more codes and ranges
    systems: frozenset[str] | None
    section: str
    line: int


@dataclass
class MapReport:
    rows: int = 0
    policies: int = 0
    links: int = 0
    ranges: int = 0
    unknown: list[str] = field(default_factory=list)  # codes the catalog does not hold, or cells with no code


def read_rows(path: Path, *, payer: str | None = None) -> Iterator[MapRow]:
    """Rows of a CSV or JSON map (a list of objects, or an object of code -> list of objects)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise SourceError(path, f"cannot read: {e}") from None
    if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{"):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise SourceError(path, f"not JSON: {e}") from None
        yield from _json_rows(path, data, payer)
    else:
        yield from _csv_rows(path, text, payer)


def _json_rows(path: Path, data: Any, payer: str | None) -> Iterator[MapRow]:
    if isinstance(data, dict) and isinstance(data.get("policies"), list):
        data = data["policies"]
    if isinstance(data, list):
        for i, obj in enumerate(data, start=1):
            if isinstance(obj, dict):
                yield from _rows_of(path, obj, payer, i)
        return
    if isinstance(data, dict):  # {"0245U": [{"Policy #": ..., "Full Policy": ...}], ...}
        for i, (code, items) in enumerate(data.items(), start=1):
            for obj in items if isinstance(items, list) else [items]:
                if isinstance(obj, dict):
                    yield from _rows_of(path, {**obj, "code": code}, payer, i)
        return
    raise SourceError(path, "a JSON map is a list of rows or an object of code -> rows")


def _csv_rows(path: Path, text: str, payer: str | None) -> Iterator[MapRow]:
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames or not any(_norm(f) in _CODE_COLUMNS for f in reader.fieldnames):
        raise SourceError(path, "no code column (code, codes, range, cpt, hcpcs, icd10...)", 1)
    for obj in reader:
        yield from _rows_of(path, obj, payer, reader.line_num)


def _rows_of(path: Path, obj: dict[str, Any], payer: str | None, line: int) -> Iterator[MapRow]:
    fields: dict[str, str] = {}
    cells: list[tuple[str, frozenset[str] | None]] = []
    for key, value in obj.items():
        if key is None or value is None or isinstance(value, (dict, list)):
            continue
        text = str(value).strip()
        k = _norm(key)
        if k in _CODE_COLUMNS:
            if text:
                cells.append((text, _CODE_COLUMNS[k]))
        elif (name := _field(key)) and text and name not in fields:
            fields[name] = text
    who = payer or fields.get("payer")
    if not who:
        raise SourceError(path, "no payer: give one (--payer) or a payer column", line)
    pid = fields.get("policy_id") or fields.get("title")
    if not pid:
        return
    section = classify(fields.get("section", "")) or "coding"
    for text, hint in cells:
        yield MapRow(who, pid, fields.get("title", pid), fields.get("url"), text, hint, section, line)


def mentions_of(row: MapRow, checker: Any) -> tuple[list[Mention], list[str]]:
    """The codes of one cell; what is not a known code comes back in the second list."""
    found: list[Mention] = []
    unknown: list[str] = []
    for cand in candidates(row.codes.upper()):
        raw = row.codes.upper()[cand.start:cand.end]
        hits = []
        for system, code, _ in shapes(cand.a):
            if row.systems is not None and system not in row.systems:
                continue
            hit = check_code(system, code, cand.b, True, checker)
            if hit is not None:
                hits.append(hit)
        if not hits:
            unknown.append(raw)
            continue
        hit = sorted(hits, key=lambda h: not h.validated)[0]
        snippet = f"{row.title} ({row.policy_id}) lists {raw}"
        found.append(Mention(hit.system, hit.code, hit.last, cand.subtree and hit.system == "icd10cm", row.section,
                             snippet, raw, hit.validated, hit.seventh))
    if not found and not unknown and row.codes:
        unknown.append(row.codes[:40])  # "No CPT", "Varies", "N/A"
    return found, unknown


def map_records(rows: Iterable[MapRow], checker: Any, report: MapReport | None = None,
                source: str | None = None) -> Iterator[PolicyRecord]:
    """One record per (payer, policy id), in the order the map first names each."""
    report = report if report is not None else MapReport()
    grouped: dict[tuple[str, str], list[MapRow]] = {}
    for row in rows:
        report.rows += 1
        grouped.setdefault((row.payer, row.policy_id), []).append(row)
    for (payer, pid), group in grouped.items():
        mentions: list[Mention] = []
        for row in group:
            found, unknown = mentions_of(row, checker)
            mentions += found
            report.unknown += [f"{payer} {pid}: {u}" for u in unknown]
        links, ranges = link(mentions, checker)
        report.policies += 1
        report.links += len(links)
        report.ranges += len(ranges)
        yield _record(payer, pid, group, links, ranges, source)


def _record(payer: str, pid: str, group: list[MapRow], links: list[Any], ranges: list[Any],
            source: str | None) -> PolicyRecord:
    title = next((r.title for r in group if r.title and r.title != pid), pid)
    url = next((r.url for r in group if r.url), None)
    listed = sorted({(r.codes, r.section) for r in group})
    text = "\n".join([title, f"Policy {pid}", *(f"{c} ({s})" for c, s in listed)])
    digest = hashlib.sha256(json.dumps([payer, pid, title, url, listed]).encode()).hexdigest()
    return PolicyRecord(payer=payer, title=title, kind="map", content_hash=digest, links=tuple(links),
                        ranges=tuple(ranges), policy_id=slug(f"{payer} {pid}"), number=pid, url=url,
                        source=source, format="map", text=text)
