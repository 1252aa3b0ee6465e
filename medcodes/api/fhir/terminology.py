"""$lookup, $subsumes and $translate over supplied and indexed code systems and concept maps."""

from __future__ import annotations

from typing import Any

from ... import systems
from .concepts import CodeSystemView, Concept
from .context import Context
from .indexed import IndexCodeSystem, system_ids
from .outcome import fail, not_found
from .params import OperationParams
from .resources import parameters, part
from .valuesets import _ancestors

_PREFERRED = {"system": "http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra", "code": "preferredForLanguage",
              "display": "Preferred For Language"}
_TYPES = {"code": "Code", "Coding": "Coding", "string": "String", "integer": "Integer", "boolean": "Boolean",
          "dateTime": "DateTime", "decimal": "Decimal"}


def _target(ctx: Context, p: OperationParams, coding: str = "coding", code: str = "code") -> tuple[CodeSystemView, str]:
    c = p.coding(coding) or {}
    system = c.get("system") or p.text("system")
    value = c.get("code") or p.text(code)
    version = c.get("version") or p.text("version")
    if not value:
        raise fail(400, f"parameter {code!r} (or {coding!r}) is required", "required")
    if not system:
        raise fail(400, "parameter 'system' is required", "required")
    cs = ctx.code_system(system, version)
    if cs is None:
        if ctx.known_system(system):
            raise not_found(f"A definition for CodeSystem '{system}' version '{version}' could not be found. Valid "
                            f"versions: {', '.join(ctx.versions(system))}", "UNKNOWN_CODESYSTEM_VERSION")
        raise not_found(f"A definition for CodeSystem '{system}' could not be found, so the code cannot be looked up",
                        "UNKNOWN_CODESYSTEM")
    return cs, value


def lookup(ctx: Context, p: OperationParams) -> dict[str, Any]:
    ctx.require_supplements(p.all_text("useSupplement"))
    cs, code = _target(ctx, p)
    concept = cs.get(code)
    if concept is None:
        version = f" version '{cs.version}'" if cs.version else ""
        raise not_found(f"Unknown code '{code}' in the CodeSystem '{cs.url}'{version}", "Unknown_Code_in_Version")
    wanted = set(p.all_text("property"))
    every = not wanted or "*" in wanted
    name = cs.system_name(concept.code) if isinstance(cs, IndexCodeSystem) else cs.name or cs.title or cs.url
    out: list[tuple[str, Any] | dict[str, Any] | None] = [
        ("name", name), ("version", cs.version) if cs.version else None,
        ("display", concept.display) if concept.display else None,
        {"name": "code", "valueCode": concept.code}, {"name": "system", "valueUri": cs.url},
        ("abstract", concept.abstract)]
    if concept.definition:
        out.append(("definition", concept.definition))
    designations = (cs.designations(concept.code) if isinstance(cs, IndexCodeSystem) else concept.designations)
    if every or "designation" in wanted:
        if concept.display and cs.language and not isinstance(cs, IndexCodeSystem):
            # the display is the preferred designation in the code system's own language
            out.append(_designation({"language": cs.language, "use": _PREFERRED, "value": concept.display}))
        out += [_designation(d) for d in designations]
    props = _properties(cs, concept)
    out += [{"name": "property", "part": parts} for name, parts in props if every or name in wanted]
    out += [{"name": "used-supplement", "valueCanonical": u} for u in ctx.used_supplements]
    return parameters(*out)


def _designation(d: dict[str, Any]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if d.get("language"):
        parts.append({"name": "language", "valueCode": d["language"]})
    if isinstance(d.get("use"), dict):
        use = dict(d["use"])
        use.setdefault("display", use.get("code"))
        parts.append({"name": "use", "valueCoding": use})
    if isinstance(d.get("source"), str):
        parts.append({"name": "source", "valueCanonical": d["source"]})
    parts.append({"name": "value", "valueString": d.get("value", "")})
    return {"name": "designation", "part": parts}


def _properties(cs: CodeSystemView, concept: Concept) -> list[tuple[str, list[dict[str, Any]]]]:
    out: list[tuple[str, list[dict[str, Any]]]] = []
    if isinstance(cs, IndexCodeSystem):
        for name, value, kind in cs.properties(concept.code):
            out.append((name, [part("code", name, "Code"), part("value", value, kind)]))
        for e in cs.edit_properties(concept.code):
            out.append((e.code, [part("code", e.code, "Code"), part("value", e.value, e.kind),
                                 part("description", e.description)]))
        return out
    for prop in concept.properties:
        value = {k: v for k, v in prop.items() if k.startswith("value")}
        if prop.get("code") in ("parent", "child") or not value:
            continue
        out.append((str(prop.get("code")), [{"name": "code", "valueCode": prop.get("code")},
                                            {"name": "value", **value}]))
    out.append(("inactive", [part("code", "inactive", "Code"), part("value", concept.inactive, "Boolean")]))
    for rel, codes in (("parent", concept.parents), ("child", concept.children)):
        for c in codes:
            other = cs.get(c)
            parts = [part("code", rel, "Code"), part("value", c, "Code")]
            if other is not None and other.display:
                parts.append(part("description", other.display))
            out.append((rel, parts))
    return out


def subsumes(ctx: Context, p: OperationParams) -> dict[str, Any]:
    a_cs, a = _target(ctx, p, "codingA", "codeA")
    b_cs, b = _target(ctx, p, "codingB", "codeB")
    if a_cs.url != b_cs.url:
        raise fail(400, "codeA and codeB must be in the same code system", "invalid")
    ca, cb = a_cs.get(a), b_cs.get(b)
    for code, c in ((a, ca), (b, cb)):
        if c is None:
            raise not_found(f"Unknown code '{code}' in the CodeSystem '{a_cs.url}'", "Unknown_Code_in_Version")
    assert ca is not None and cb is not None
    if ca.code == cb.code:
        result = "equivalent"
    elif ca.code in _ancestors(a_cs, cb.code):
        result = "subsumes"
    elif cb.code in _ancestors(a_cs, ca.code):
        result = "subsumed-by"
    else:
        result = "not-subsumed"
    return parameters({"name": "outcome", "valueCode": result})


# GEM flags -> R4 ConceptMapEquivalence, most telling first
_EQUIVALENCE = (("no_map", "unmatched"), ("approximate", "inexact"), ("combination", "narrower"))
_R5_TO_R4 = {"equivalent": "equivalent", "source-is-narrower-than-target": "narrower",
             "source-is-broader-than-target": "wider", "related-to": "relatedto", "not-related-to": "disjoint"}


def translate(ctx: Context, p: OperationParams) -> dict[str, Any]:
    c = p.coding("coding") or {}
    system = c.get("system") or p.text("system")
    code = c.get("code") or p.text("code")
    if not code or not system:
        raise fail(400, "parameters 'system' and 'code' (or 'coding') are required", "required")
    reverse = p.boolean("reverse", False)
    target = p.text("targetsystem") or (p.text("target") or "").partition("?")[0] or None
    maps = _concept_maps(ctx, p)
    if maps:
        return _translate_maps(maps, system, code, target, reverse)
    cs = ctx.code_system(system)
    if not isinstance(cs, IndexCodeSystem):
        if cs is None and not ctx.known_system(system):
            raise not_found(f"A definition for CodeSystem '{system}' could not be found", "UNKNOWN_CODESYSTEM")
        return parameters(("result", False), ("message", f"No concept map translates codes of {system}"))
    return _translate_gems(ctx, cs, code, target, reverse)


def _concept_maps(ctx: Context, p: OperationParams) -> list[dict[str, Any]]:
    inline = p.resource("conceptMap")
    if inline is not None:
        return [inline]
    url = p.text("url")
    if url:
        found = ctx.concept_maps.get(url.split("|")[0])
        if not found:
            raise not_found(f"A definition for the ConceptMap '{url}' could not be found")
        return found
    return [m for ms in ctx.concept_maps.values() for m in ms]


def _translate_maps(maps: list[dict[str, Any]], system: str, code: str, target: str | None,
                    reverse: bool) -> dict[str, Any]:
    matches: list[dict[str, Any]] = []
    for cm in maps:
        label = f"{cm.get('url')}|{cm['version']}" if cm.get("version") else cm.get("url")
        for group in cm.get("group") or []:
            src, tgt = group.get("source"), group.get("target")
            if reverse:
                src, tgt = tgt, src
            if src != system or (target and tgt != target):
                continue
            for element in group.get("element") or []:
                for t in element.get("target") or []:
                    here, there = element.get("code"), t.get("code")
                    if reverse:
                        here, there = there, here
                    there_display = t.get("display") if not reverse else element.get("display")
                    if here != code:
                        continue
                    rel = t.get("relationship") or t.get("equivalence") or "equivalent"
                    concept = {"system": tgt, "code": there, **({"display": there_display} if there_display else {})}
                    matches.append({"name": "match", "part": [
                        {"name": "equivalence", "valueCode": _R5_TO_R4.get(rel, rel)},
                        {"name": "concept", "valueCoding": concept},
                        {"name": "originMap", "valueCanonical": label}]})
    if not matches:
        return parameters(("result", False), ("message", f"No translations found for {system}#{code}"))
    return parameters(("result", True), *matches)


def _translate_gems(ctx: Context, cs: IndexCodeSystem, code: str, target: str | None, reverse: bool) -> dict[str, Any]:
    concept = cs.get(code)
    if concept is None:
        return parameters(("result", False), ("message", f"Unknown code '{code}' in the CodeSystem '{cs.url}'"))
    d = cs.data(code)
    if target and not ctx.known_system(target):
        raise not_found(f"A definition for CodeSystem '{target}' could not be found", "UNKNOWN_CODESYSTEM")
    targets = set(system_ids(ctx.catalog, target)) if target else None
    direction = "from" if reverse else "to"
    matches: list[dict[str, Any]] = []
    found = False
    for x in d.crosswalks:
        if x.direction != direction or (targets is not None and x.system not in targets):
            continue
        flags = x.attributes
        equivalence = next((eq for flag, eq in _EQUIVALENCE if flags.get(flag) is True), "equivalent")
        if not x.code:
            equivalence = "unmatched"
        parts: list[dict[str, Any]] = [{"name": "equivalence", "valueCode": equivalence}]
        if equivalence != "unmatched":
            found = True
            tgt = systems.get(x.system)
            concept_json = {"system": tgt.fhir_uri, "code": x.code}
            if x.title:
                concept_json["display"] = x.title
            parts.append({"name": "concept", "valueCoding": concept_json})
        matches.append({"name": "match", "part": parts})
    message = None if found else f"no {'reverse ' if reverse else ''}GEM mapping for {concept.code}"
    return parameters(("result", found), ("message", message) if message else None, *matches)
