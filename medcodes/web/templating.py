"""The template environment: URL helpers built on named routes, and labels for the domain's words."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette

from .. import systems
from ..app.http import quote_path
from ..app.services import release_slug
from ..content.facts import crosswalk_links
from ..errors import NotFound
from ..record import CodeRecord, CodeRef, Crosswalk

HERE = Path(__file__).parent
GROUPING_KINDS = frozenset({"chapter", "block", "section", "body_system", "table", "mdc"})
KIND_NAMES = {"chapter": "chapter", "block": "block", "category": "category", "subcategory": "subcategory",
              "code": "code", "section": "section", "body_system": "body system", "table": "table",
              "modifier": "modifier", "mdc": "major diagnostic category"}
GEM_FLAGS = {"approximate": "approximate", "no_map": "no map", "combination": "combination",
             "scenario": "scenario", "choice_list": "choice list"}


def environment(app: Starlette) -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    version = asset_version()

    @functools.lru_cache(maxsize=4096)
    def cached_path(name: str, params: tuple[tuple[str, Any], ...]) -> str:
        return quote_path(app.url_path_for(name, **dict(params)))

    def path(name: str, **params: Any) -> str:
        return cached_path(name, tuple(sorted(params.items())))

    # A page links to hundreds of codes: fill the named route's pattern rather than walk the routes each time.
    code_pattern = str(app.url_path_for("code", system="{system}", code="{code}"))

    def code_path(system: str, code: str) -> str:
        return code_pattern.replace("{system}", quote_path(system)).replace("{code}", quote_path(code))

    def static(name: str) -> str:
        return f"{path('static', path=name)}?v={version}"

    env.globals.update(path=path, code_path=code_path, static=static, system_name=system_name,
                       code_label=code_label, kind_name=lambda k: KIND_NAMES.get(k, k),
                       attribute_rows=attribute_rows, badges=badges,
                       fact_rows=fact_rows, plural=plural, crosswalk_rows=crosswalk_rows,
                       GROUPING_KINDS=GROUPING_KINDS)
    env.filters.update(fragment=safe_fragment, number=lambda n: f"{n:,}", web_url=web_url, slug=release_slug)
    return env


def asset_version() -> str:
    """A hash of the templates and static files: part of every ETag and static URL, so a
    new release of the site is never served from a stale cache."""
    h = hashlib.blake2b(digest_size=6)
    for f in sorted(HERE.glob("*/*")):
        if f.suffix in (".html", ".css", ".js"):
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """"1 code", "2 codes", with the thousands separated."""
    return f"{n:,} {noun if n == 1 else (nouns or noun + 's')}"


def web_url(value: Any) -> str | None:
    """A link another layer stored (a policy's address) only when it is http(s): never javascript:."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else None


def system_name(system_id: str) -> str:
    try:
        return systems.get(system_id).name
    except NotFound:  # a system another version of medcodes wrote into the index
        return system_id


def code_label(d: CodeRecord | CodeRef) -> str:
    """"ICD-10-CM code", "ICD-10-PCS table", "HCPCS Level II section"."""
    if d.kind in GROUPING_KINDS:
        return f"{system_name(d.system)} {KIND_NAMES.get(d.kind, d.kind)}"
    return str(systems.get(d.system).label)


def gem_flags(attributes: Mapping[str, Any]) -> list[str]:
    flags = [label for key, label in GEM_FLAGS.items() if attributes.get(key) is True]
    if attributes.get("bill_units_per_package"):  # an NDC-HCPCS crosswalk row: what one package bills as
        flags.append(f"{attributes['bill_units_per_package']} billing units per package")
    return flags


def crosswalk_rows(crosswalks: Sequence[Crosswalk]) -> list[dict[str, Any]]:
    """One table row per linked code (content.facts.crosswalk_links), both directions together."""
    rows = []
    for link in crosswalk_links(crosswalks):
        x, both = link.first, len(link.directions) == 2
        direction = "both ways" if both else ("maps to" if "to" in link.directions else "mapped from")
        rows.append({"system": x.system, "code": x.code, "title": x.title, "direction": direction,
                     "flags": link.flags(gem_flags)})
    return rows


def _attribute_label(key: str) -> str:
    return ATTRIBUTE_LABELS.get(key) or key.replace("_", " ").capitalize()


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


HIDDEN_ATTRIBUTES = frozenset({"axes", "title_composed", "axis_values", "tabular_id", "mdc_title",
                               "weight_uncapped"})  # shown elsewhere, or bookkeeping of the source file

# What each attribute of the official files is called where people read it.
ATTRIBUTE_LABELS = {
    "mdc": "Major diagnostic category (MDC)", "type": "DRG type", "weight": "Relative weight",
    "gmlos": "Geometric mean length of stay (days)", "amlos": "Arithmetic mean length of stay (days)",
    "post_acute": "Post-acute care transfer DRG", "special_pay": "Special pay DRG",
    "chapter": "Chapter", "seventh_character": "7th character", "placeholder": "Placeholder character",
    "betos": "BETOS category", "coverage": "Medicare coverage", "pricing_indicators": "Pricing",
    "multiple_pricing_indicator": "Multiple pricing", "coverage_issues_manual_refs": "Coverage Issues Manual",
    "carriers_manual_refs": "Medicare Carriers Manual", "statute": "Statute",
    "lab_certifications": "Lab certification", "cross_references": "Cross-references",
    "asc_payment_group": "ASC payment group", "asc_payment_group_effective": "ASC payment group effective",
    "mog_payment_group": "MOG payment group", "mog_effective": "MOG effective",
    "mog_payment_policy_indicator": "MOG payment policy", "processing_note": "Processing note",
    "types_of_service": "Type of service", "anesthesia_base_units": "Anesthesia base units",
    "action_code": "Last action", "added": "Added", "action_effective": "Last action effective",
    "terminated": "Terminated",
}


@dataclass(frozen=True, slots=True)
class Badge:
    text: str
    tone: str  # ok, warn or info: how the page colours it
    help: str


def badges(d: CodeRecord) -> list[Badge]:
    """Status badges that are true for the code's system and kind: "billable" only where a code is
    put on a claim (ICD-10, HCPCS), a DRG or a heading says what it is, a deleted code says so."""
    kind = d.kind
    out: list[Badge] = []
    if not d.in_index:
        out.append(Badge("Descriptor not loaded", "info", "licensed text: load your own licensed files"))
    elif d.deleted_in:
        out.append(Badge(f"Deleted in {d.deleted_in}", "warn", "not valid for services after its deletion"))
    elif d.system == "msdrg":
        out.append(Badge("Payment group", "info", "assigned to a hospital stay by the grouper, not coded by hand"))
    elif kind in GROUPING_KINDS:
        out.append(Badge(f"{KIND_NAMES.get(kind, kind).capitalize()} heading", "info", "groups codes; not a code"))
    elif d.system in ("icd9cm", "icd9pcs"):
        out.append(Badge("Legacy code", "warn", "ICD-9-CM: replaced by ICD-10 on 1 October 2015"))
    elif kind == "modifier":
        out.append(Badge("Modifier", "info", "added to a procedure code to add information"))
    elif d.billable is True:
        out.append(Badge("Billable", "ok", "valid for submission on a claim"))
    elif d.billable is False:
        text = "Not billable — use a more specific code" if d.children else "Not billable"
        out.append(Badge(text, "warn", "not valid for submission on a claim"))
    if d.release:
        out.append(Badge(str(d.release), "info", "the release this page shows"))
    return out


def fact_rows(d: CodeRecord) -> list[tuple[str, str]]:
    """The key facts of a code, each under the name people use for it."""
    rows: list[tuple[str, str]] = []
    if d.kind != "code":  # "Kind: code" says nothing; "Kind: category" does
        rows.append(("Kind", KIND_NAMES.get(d.kind, d.kind).capitalize()))
    if d.short_title and d.short_title != d.title:
        rows.append(("Short descriptor", d.short_title))
    if d.synonyms:
        rows.append(("Also described as", "; ".join(d.synonyms)))
    return rows + attribute_rows(d.attributes or {})


def attribute_rows(attributes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) per attribute; "coverage": "D" with "coverage_label" reads "Special ... (D)"."""
    rows = []
    for key, value in attributes.items():
        if key in HIDDEN_ATTRIBUTES or key.endswith(("_label", "_labels")):
            continue
        label, labels = attributes.get(f"{key}_label"), attributes.get(f"{key}_labels")
        if isinstance(label, str) and not isinstance(value, list | dict):
            text = f"{label} ({value})"
        elif isinstance(labels, list) and isinstance(value, list) and len(labels) == len(value):
            text = "; ".join(f"{lab} ({v})" for lab, v in zip(labels, value, strict=True))
        else:
            text = as_text(value)
        rows.append((_attribute_label(key), text))
    for key, value in attributes.items():  # a label whose code is missing still says something
        if key.endswith(("_label", "_labels")) and key.rsplit("_", 1)[0] not in attributes:
            rows.append((_attribute_label(key.rsplit("_", 1)[0]), as_text(value)))
    return rows


_MARK = re.compile(r"(</?mark>)")
_BARE_AMP = re.compile(r"&(?!#[0-9]{1,7};|#x[0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")


def safe_fragment(fragment: str) -> Markup:
    """A search fragment as HTML where <mark> is the only markup that survives, whatever made it."""
    out = []
    for part in _MARK.split(fragment or ""):
        if part in ("<mark>", "</mark>"):
            out.append(part)
        else:
            part = _BARE_AMP.sub("&amp;", part)
            out.append(part.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))
    return Markup("".join(out))
