"""ValueSet $expand: implicit value sets of the index's systems, value sets supplied with the request or
inline (`valueSet`), with filter, count/offset, activeOnly, includeDesignations, property,
excludeNested and the used-codesystem / echoed parameters clients read back."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any

from . import valuesets
from .concepts import CodeSystemView, Concept
from .context import Context
from .indexed import IndexCodeSystem
from .outcome import TxError, fail
from .params import OperationParams
from .resources import now
from .validate import value_set_param
from .valuesets import Evaluator, Member

MAX_COUNT = 1000
MAX_FILTER = 200
_WORD = re.compile(r"[0-9A-Za-z]+")
# Request parameters an expansion names back in expansion.parameter, and their value types
_ECHOED = {"excludeNested": "Boolean", "includeDesignations": "Boolean", "displayLanguage": "Code",
           "activeOnly": "Boolean", "filter": "String", "count": "Integer", "offset": "Integer",
           "designation": "String", "system-version": "Uri",
           "check-system-version": "Uri", "force-system-version": "Uri", "default-valueset-version": "Uri",
           "excludeNotForUI": "Boolean", "excludePostCoordinated": "Boolean"}
_VERSION_RULES = frozenset({"system-version", "check-system-version", "force-system-version"})
_HEADER_KEYS = ("url", "version", "name", "title", "status", "experimental", "language")


def expand(ctx: Context, p: OperationParams) -> dict[str, Any]:
    count = p.integer("count", MAX_COUNT, 0, valuesets.MAX_EXPANSION, too_big="too-costly")
    offset = p.integer("offset", 0, 0, 10_000_000)
    active_only = p.boolean("activeOnly", False)
    text = (p.text("filter") or "").strip()
    if len(text) > MAX_FILTER:
        raise fail(400, f"parameter 'filter' must be at most {MAX_FILTER} characters")
    vs = value_set_param(ctx, p)
    ctx.require_supplements([*p.all_text("useSupplement"), *ctx.value_set_supplements(vs)])
    defaults = _vs_parameters(vs)
    if not ctx.display_language and defaults.get("displayLanguage"):
        ctx.display_language = defaults["displayLanguage"]
    ev = Evaluator(ctx, vs)
    fast = _fast_path(ctx, ev)
    if fast is not None:
        cs, root = fast
        total, concepts = cs.expansion_page(root, _WORD.findall(text)[:8], min(count, MAX_COUNT), offset,
                                            active_only or ev.active_only)
        members = [Member(cs, c) for c in concepts]
        used = {f"{cs.url}|{cs.version}" if cs.version else cs.url}
    else:
        if p.text("count") is None and not text:
            limit = MAX_COUNT
        else:
            limit = valuesets.MAX_EXPANSION
        everything = ev.members(limit)
        if active_only:
            everything = [m for m in everything if not m.concept.inactive]
        if text:
            everything = [m for m in everything if _matches(m.concept, text)]
        total = len(everything)
        members = everything[offset:offset + count]
        used = set(ev.all_used_systems())
    _check_versions(ctx, [*ev.all_used_systems().values(), *([fast[0]] if fast is not None else [])])
    return _value_set(ctx, p, vs, ev, members, total, offset, used)


def _check_versions(ctx: Context, used: list[CodeSystemView]) -> None:
    """An expansion from a version a check-system-version parameter does not allow is refused."""
    for cs in used:
        problem = ctx.check_version(cs.url, cs.version)
        if problem is not None:
            raise TxError(400, [replace(problem, location=None)])


def _fast_path(ctx: Context, ev: Evaluator) -> tuple[IndexCodeSystem, str | None] | None:
    """A value set that is all of one indexed system, or one code's subtree: paged in the index."""
    if len(ev.includes) != 1 or ev.excludes:
        return None
    inc = ev.includes[0]
    if inc.get("concept") or inc.get("valueSet") or not isinstance(inc.get("system"), str):
        return None
    filters = inc.get("filter") or []
    root = None
    if filters:
        f = filters[0]
        if len(filters) != 1 or f.get("property") != "concept" or f.get("op") != "is-a":
            return None
        root = f.get("value")
    cs = ev.code_system_for(inc)
    if not isinstance(cs, IndexCodeSystem):
        return None
    if root is not None and cs.get(root) is None:
        raise fail(404, f"Unknown code '{root}' in the CodeSystem '{cs.url}'", "not-found", "invalid-code")
    return cs, root


def _matches(c: Concept, text: str) -> bool:
    words = [w.lower() for w in _WORD.findall(text)]
    hay = " " + " ".join(_WORD.findall(f"{c.code} {c.display or ''}")).lower()
    return all(f" {w}" in hay for w in words)


def _value_set(ctx: Context, p: OperationParams, vs: dict[str, Any], ev: Evaluator, members: list[Member],
               total: int, offset: int, used: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "ValueSet"}
    if vs.get("id"):
        out["id"] = vs["id"]
    for k in _HEADER_KEYS:
        if k in vs:
            out[k] = vs[k]
    out.setdefault("status", "unknown")  # required in a ValueSet; a value set that states none has none known
    params: list[dict[str, Any]] = []
    defaults = _vs_parameters(vs)
    for name, kind in _ECHOED.items():
        if name in _VERSION_RULES:  # the version rules that decided a version, not every one given
            given = [v for n, v in ctx.used_version_params if n == name]
        else:
            given = p.all_text(name) or ([defaults[name]] if name in defaults else [])
        if name == "displayLanguage" and not given and ctx.display_language:
            given = [ctx.display_language]  # from Accept-Language
        for v in given:
            params.append({"name": name, f"value{kind}": _typed(v, kind)})
    params += [{"name": "used-codesystem", "valueUri": u} for u in sorted(used)]
    # a fragment's codes are only part of the system: say which systems were fragments
    params += [{"name": "used-fragment", "valueUri": u} for u, cs in sorted(ev.all_used_systems().items())
               if cs.content == "fragment" and u in used]
    if ev.versions_match or ev.loose_versions:
        params.append({"name": "versionsMatch", "valueBoolean": True})
    params += [{"name": "used-valueset", "valueUri": u} for u in sorted(ev.used_value_sets())]
    params += [{"name": "used-supplement", "valueUri": u} for u in ctx.used_supplements]
    params += [{"name": n.parameter, "valueUri": n.url} for n in ev.all_notes()]
    expansion: dict[str, Any] = {"identifier": f"urn:uuid:{uuid.uuid4()}", "timestamp": now(), "total": total}
    if p.has("offset"):
        expansion["offset"] = offset
    if params:
        expansion["parameter"] = params
    wanted = [w for w in p.all_text("property") if w != "*"]
    declared = _declared(wanted, members)
    if declared:
        expansion["extension"] = [_r5(_PROPERTY, [("code", {"valueCode": code}), ("uri", {"valueUri": uri})])
                                  for code, uri in declared]
    versions: dict[str, set[str | None]] = {}
    for m in members:
        versions.setdefault(m.cs.url, set()).add(m.cs.version)
    for label in used:  # versions read for an exclude count too
        url, _, version = label.partition("|")
        versions.setdefault(url, set()).add(version or None)
    # a code's version is named only where the expansion used one system in several versions
    contains = [_entry(ctx, p, m, wanted, len(versions[m.cs.url]) > 1) for m in members]
    if contains:  # FHIR JSON has no empty arrays
        expansion["contains"] = contains
    out["expansion"] = expansion
    return out


def _vs_parameters(vs: dict[str, Any]) -> dict[str, str]:
    """Expansion parameters a value set sets for itself (compose extension expansion-parameter)."""
    return valuesets.expansion_parameters(vs)


def _typed(v: str, kind: str) -> Any:
    if kind == "Boolean":
        return v.lower() == "true"
    if kind == "Integer":
        return int(v)
    return v


# R5 elements an R4 expansion carries as the extensions R5 defines for them
_R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-"
_PROPERTY = "ValueSet.expansion.property"
_CONTAINS_PROPERTY = "ValueSet.expansion.contains.property"
_KNOWN_PROPERTIES = {"definition": "http://hl7.org/fhir/concept-properties#definition",
                     "status": "http://hl7.org/fhir/concept-properties#status",
                     "inactive": "http://hl7.org/fhir/concept-properties#inactive",
                     "notSelectable": "http://hl7.org/fhir/concept-properties#notSelectable",
                     "parent": "http://hl7.org/fhir/concept-properties#parent",
                     "child": "http://hl7.org/fhir/concept-properties#child"}


def _r5(element: str, parts: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return {"url": _R5 + element, "extension": [{"url": name, **value} for name, value in parts]}


def _declared(wanted: list[str], members: list[Member]) -> list[tuple[str, str]]:
    """(code, uri) of each requested property some code of the expansion has."""
    out: list[tuple[str, str]] = []
    for code in wanted:
        if not any(_property_values(m, code) for m in members):
            continue
        uri = _KNOWN_PROPERTIES.get(code)
        for m in members:
            for d in m.cs.property_defs():
                if d.get("code") == code and isinstance(d.get("uri"), str):
                    uri = d["uri"]
        if uri:
            out.append((code, uri))
    return out


def _property_values(m: Member, code: str) -> list[dict[str, Any]]:
    c = m.concept
    if code == "definition":
        return [{"valueString": c.definition}] if c.definition else []
    out = []
    for prop in c.properties:
        if prop.get("code") == code:
            out += [{k: v} for k, v in prop.items() if k.startswith("value")]
    return out


def _entry(ctx: Context, p: OperationParams, m: Member, wanted: list[str], versioned: bool) -> dict[str, Any]:
    c = m.concept
    e: dict[str, Any] = {"system": m.cs.url}
    if versioned and m.cs.version:
        e["version"] = m.cs.version
    if c.abstract:
        e["abstract"] = True
    if c.inactive:
        e["inactive"] = True
    e["code"] = c.code
    display, used = _display(ctx, m.cs, c)
    if display:
        e["display"] = display
    if p.boolean("includeDesignations", False):
        kinds = p.all_text("designation")  # "urn:ietf:bcp:47|es" (a language) or "system|code" (a use)
        designations = [_designation(d) for d in c.designations if d is not used and _wanted(d, kinds)]
        if used is not None and c.display:  # the code system's own display becomes a designation
            designations.insert(0, {**({"language": m.cs.language} if m.cs.language else {}),
                                    "use": _PREFERRED, "value": c.display})
        if designations:
            e["designation"] = designations
    props = [_r5(_CONTAINS_PROPERTY, [("code", {"valueCode": code}), ("value", value)])
             for code in wanted for value in _property_values(m, code)]
    if c.vs_extensions or props:
        e["extension"] = [*c.vs_extensions, *props]
    return e


_PREFERRED = {"system": "http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra", "code": "preferredForLanguage",
              "display": "Preferred For Language"}


def _display(ctx: Context, cs: CodeSystemView, c: Concept) -> tuple[str | None, dict[str, Any] | None]:
    """The display in the language asked for, and the designation it came from (None: the code's own)."""
    lang = (ctx.display_language or "").split(",")[0].split(";")[0].strip().lower()
    if lang and cs.language and not cs.language.lower().startswith(lang):
        for d in c.designations:
            if str(d.get("language", "")).lower().startswith(lang) and isinstance(d.get("value"), str):
                return str(d["value"]), d
    return c.display, None


_BCP47 = "urn:ietf:bcp:47"


def _wanted(d: dict[str, Any], kinds: list[str]) -> bool:
    """A designation of a language or use the request's `designation` parameters ask for (any, if none)."""
    if not kinds:
        return True
    for kind in kinds:
        system, _, code = kind.partition("|")
        if system == _BCP47:
            if str(d.get("language") or "").lower() == code.lower():  # "de" is not "de-CH"
                return True
        elif isinstance(d.get("use"), dict) and d["use"].get("code") == code and \
                (not system or d["use"].get("system") == system):
            return True
    return False


def _designation(d: dict[str, Any]) -> dict[str, Any]:
    out = {k: d[k] for k in ("language", "use", "value") if k in d}
    return out
