"""The template environment: URL helpers built on named routes, and labels for the domain's words."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette

from .. import systems
from ..app.http import quote_path
from ..errors import NotFound
from ..model import NOTE_TYPES

HERE = Path(__file__).parent
GROUPING_KINDS = frozenset({"chapter", "block", "section", "body_system", "table", "mdc"})
KIND_NAMES = {"chapter": "chapter", "block": "block", "category": "category", "subcategory": "subcategory",
              "code": "code", "section": "section", "body_system": "body system", "table": "table",
              "modifier": "modifier", "mdc": "major diagnostic category"}
NOTE_LABELS = {"definition": "Definition", "includes": "Includes", "inclusion": "Inclusion terms",
               "excludes1": "Excludes1", "excludes2": "Excludes2", "code_first": "Code first",
               "use_additional": "Use additional code", "code_also": "Code also",
               "seventh_character": "7th character", "note": "Note"}
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
                       note_label=lambda t: NOTE_LABELS.get(t, t.replace("_", " ").capitalize()),
                       gem_flags=gem_flags, note_groups=note_groups, attribute_rows=attribute_rows,
                       GROUPING_KINDS=GROUPING_KINDS)
    env.filters.update(fragment=safe_fragment, number=lambda n: f"{n:,}", web_url=web_url)
    return env


def asset_version() -> str:
    """A hash of the templates and static files: part of every ETag and static URL, so a
    new release of the site is never served from a stale cache."""
    h = hashlib.blake2b(digest_size=6)
    for f in sorted(HERE.glob("*/*")):
        if f.suffix in (".html", ".css", ".js"):
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def web_url(value: Any) -> str | None:
    """A link another layer stored (a policy's address) only when it is http(s): never javascript:."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else None


def system_name(system_id: str) -> str:
    try:
        return systems.get(system_id).name
    except NotFound:  # a system another version of medcodes wrote into the index
        return system_id


def code_label(d: dict[str, Any]) -> str:
    """"ICD-10-CM code", "ICD-10-PCS table", "HCPCS Level II section"."""
    if d["kind"] in GROUPING_KINDS:
        return f"{system_name(d['system'])} {KIND_NAMES.get(d['kind'], d['kind'])}"
    return str(systems.get(d["system"]).label)


def gem_flags(attributes: dict[str, Any]) -> list[str]:
    flags = [label for key, label in GEM_FLAGS.items() if attributes.get(key) is True]
    if attributes.get("bill_units_per_package"):  # an NDC-HCPCS crosswalk row: what one package bills as
        flags.append(f"{attributes['bill_units_per_package']} billing units per package")
    return flags


def note_groups(notes: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Notes by type, in the order a coder reads them (model.NOTE_TYPES), unknown types last."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for n in notes:
        groups.setdefault(n["type"], []).append(n)
    order = {t: i for i, t in enumerate(NOTE_TYPES)}
    return sorted(groups.items(), key=lambda kv: order.get(kv[0], len(order)))


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


HIDDEN_ATTRIBUTES = frozenset({"axes", "title_composed"})  # shown as the axes table / a remark


def attribute_rows(attributes: dict[str, Any]) -> list[tuple[str, str]]:
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
        rows.append((key.replace("_", " ").capitalize(), text))
    for key, value in attributes.items():  # a label whose code is missing still says something
        if key.endswith(("_label", "_labels")) and key.rsplit("_", 1)[0] not in attributes:
            rows.append((key.replace("_", " ").capitalize(), as_text(value)))
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
