"""ValueSet compose evaluation: which concepts a value set holds (expansion) and whether it holds one
(validation), over supplied and indexed code systems.

include/exclude by system (all codes), by concept list, by filter (is-a, descendent-of, is-not-a,
generalizes, child-of, in, not-in, =, regex, exists on the concept, its display or a property), by
other value sets (their intersection); `compose.inactive: false` leaves inactive codes out.
A value set that includes itself, directly or through others, is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import re2  # type: ignore[import-untyped]

from .concepts import CodeSystemView, Concept, present_versions, version_key
from .context import Context
from .outcome import Issue, TxError, fail
from .status import STANDARDS_STATUS, VALUESET_DEPRECATED, Standing, StatusNote, standards_status, status_note

MAX_EXPANSION = 10_000  # codes one expansion may hold before it is refused as too costly
MAX_DEPTH = 16  # value sets including value sets
_REGEX_LIMIT = 200
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False

Predicate = Callable[[CodeSystemView, Concept], bool]


@dataclass
class Member:
    cs: CodeSystemView
    concept: Concept


@dataclass
class Problems:
    """Issues found while evaluating a value set (unknown systems, versions) that the answer reports."""

    issues: list[Issue] = field(default_factory=list)
    unknown_systems: list[str] = field(default_factory=list)
    used_systems: dict[str, CodeSystemView] = field(default_factory=dict)
    notes: dict[tuple[str, str], StatusNote] = field(default_factory=dict)  # (parameter, url) -> note


def vs_label(vs: dict[str, Any]) -> str:
    """url|version of a value set, as messages name it; "(unidentified)" for one without a url."""
    url = vs.get("url") or ""
    if not url:
        return "(unidentified)"
    return f"{url}|{vs['version']}" if vs.get("version") else url


class Evaluator:
    def __init__(self, ctx: Context, vs: dict[str, Any], pathway: tuple[str, ...] = (),
                 contained: dict[str, dict[str, Any]] | None = None) -> None:
        self.ctx = ctx
        self.vs = vs
        # resources the value set carries inside itself, referred to as "#id"
        self.contained = {**(contained or {}), **{r["id"]: r for r in vs.get("contained") or []
                                                  if isinstance(r, dict) and isinstance(r.get("id"), str)}}
        # a value set without a url is told apart by identity, so two of them are not a cycle
        label = vs_label(vs) if vs.get("url") else f"(unidentified #{id(vs)})"
        if label in pathway or (vs.get("url") and any(p.split("|")[0] == vs.get("url") for p in pathway)):
            raise fail(400, f"Found a circularity pointing to {label} processing ValueSet with pathway "
                            f"[{', '.join(pathway)}]", "processing", "vs-invalid", "VALUESET_CIRCULAR_REFERENCE")
        if len(pathway) > MAX_DEPTH:
            raise fail(400, f"value sets are nested more than {MAX_DEPTH} deep", "too-costly")
        self.pathway = (*pathway, label)
        compose = vs.get("compose") or {}
        self.includes = [i for i in compose.get("include") or [] if isinstance(i, dict)]
        self.excludes = [i for i in compose.get("exclude") or [] if isinstance(i, dict)]
        self.active_only = compose.get("inactive") is False
        _check_filters(compose)
        self.problems = Problems()
        self._nested: dict[str, Evaluator] = {}
        self.is_contained = False
        self.loose_versions = False  # an exclude of another version applied to every version
        self.standing = Standing.of(vs)
        if not pathway:  # the value set asked for, judged against itself: only its own deprecation counts
            self._note(status_note("ValueSet", label, self.standing, self.standing))

    def _note(self, note: StatusNote | None) -> None:
        if note is not None:
            self.problems.notes.setdefault((note.parameter, note.url), note)

    def all_notes(self) -> list[StatusNote]:
        """Status notes of this value set and every one it includes, first found first."""
        out = dict(self.problems.notes)
        for ev in self._nested.values():
            for note in ev.all_notes():
                out.setdefault((note.parameter, note.url), note)
        return list(out.values())

    def all_used_systems(self) -> dict[str, CodeSystemView]:
        out = dict(self.problems.used_systems)
        for ev in self._nested.values():
            for k, v in ev.all_used_systems().items():
                out.setdefault(k, v)
        return out

    def used_value_sets(self) -> set[str]:
        out: set[str] = set()
        for ev in self._nested.values():
            if not ev.is_contained:  # a contained value set is part of this one
                out.add(vs_label(ev.vs))
            out |= ev.used_value_sets()
        return out

    # -- resolving the parts --------------------------------------------------------------------

    def code_system_for(self, inc: dict[str, Any]) -> CodeSystemView | None:
        system = inc.get("system")
        if not isinstance(system, str):
            return None
        version = inc.get("version") if isinstance(inc.get("version"), str) else None
        cs = self.ctx.code_system(system, version)
        if cs is not None:
            label = f"{cs.url}|{cs.version}" if cs.version else cs.url
            self.problems.used_systems[label] = cs
            own = Standing(getattr(cs, "status", None), _cs_standards_status(cs), getattr(cs, "experimental", False))
            self._note(status_note("CodeSystem", label, own, self.standing))
        return cs

    def nested(self, ref: str) -> Evaluator:
        if ref not in self._nested:
            inner = self.contained.get(ref[1:]) if ref.startswith("#") else None
            vs = inner if inner is not None and inner.get("resourceType") == "ValueSet" else self.ctx.value_set(ref)
            if vs is None:
                url, _, version = ref.partition("|")
                text = (f"Unable to find included value set '{url}' version '{version}'" if version
                        else f"A definition for the value Set '{url}' could not be found")
                raise fail(404 if not version else 400, text, "not-found", "not-found",
                           "Unable_to_resolve_value_Set_")
            nested = self._nested[ref] = Evaluator(self.ctx, vs, self.pathway, self.contained)
            nested.is_contained = ref.startswith("#")
            self._note(status_note("ValueSet", vs_label(vs), nested.standing, self.standing))
        return self._nested[ref]

    def prepare(self) -> None:
        """Resolve every value set this one includes or excludes, however deep, so a missing one or a
        cycle is found before any code is checked (a check may stop before reaching them)."""
        for part in (*self.includes, *self.excludes):
            for ref in part.get("valueSet") or []:
                if isinstance(ref, str):
                    self.nested(ref).prepare()

    def systems(self) -> list[str]:
        return sorted({i["system"] for i in self.includes if isinstance(i.get("system"), str)})

    # -- membership -----------------------------------------------------------------------------

    def find(self, system: str, code: str, version: str | None = None) -> Member | None:
        """The concept `system#code` if this value set holds it."""
        hit = None
        for inc in self.includes:
            hit = self._in_part(inc, system, code, version)
            if hit is not None:
                break
        if hit is None:
            return None
        for exc in self.excludes:
            if self._in_part(exc, system, code, version) is not None:
                return None
        if self.active_only and hit.concept.inactive:
            return None
        return hit

    def holds(self, part: dict[str, Any], system: str, code: str, version: str | None) -> bool:
        """Whether one include (or exclude) of this value set takes `system#code` in `version`."""
        return self._in_part(part, system, code, version) is not None

    def _in_part(self, part: dict[str, Any], system: str, code: str, version: str | None) -> Member | None:
        member: Member | None = None
        if isinstance(part.get("system"), str):
            if part["system"] != system:
                return None
            cs = self.code_system_for(part if not version or part.get("version") else {**part, "version": version})
            if cs is None:
                return None
            concept = cs.get(code)
            if concept is None:
                return None
            if part.get("concept"):
                item = _listed(part["concept"], concept.code, cs.case_sensitive)
                if item is None:
                    return None
                concept = _with_vs_display(concept, item)
            for f in part.get("filter") or []:
                if not _predicate(cs, f)(cs, concept):
                    return None
            member = Member(cs, concept)
        for ref in part.get("valueSet") or []:
            if not isinstance(ref, str):
                continue
            inner = self.nested(ref).find(system, code, version)
            if inner is None:
                return None
            member = member or inner
        return member

    # -- expansion ------------------------------------------------------------------------------

    def members(self, limit: int | None = None) -> list[Member]:
        """The codes of the value set, each system version's apart; with `versionsMatch` true (an
        expansion parameter of the value set) a code in several versions is one entry, of the newest."""
        limit = limit or MAX_EXPANSION
        out: list[Member] = []
        seen: dict[tuple[str, str, str], int] = {}
        exact, loose = self._excluded()
        merge = self.versions_match is True
        for inc in self.includes:
            for m in self._part_members(inc):
                key = (m.cs.url, m.cs.version or "", m.concept.code)
                if key in seen or key in exact or key[::2] in loose or (self.active_only and m.concept.inactive):
                    continue
                merged = (m.cs.url, "", m.concept.code)
                if merge and merged in seen:
                    kept = out[seen[merged]]
                    if version_key(m.cs.version) > version_key(kept.cs.version):  # the newest version names it
                        out[seen[merged]] = Member(m.cs, kept.concept)
                    continue
                seen[key] = seen[merged] = len(out)
                out.append(m)
                if len(out) > limit:
                    raise fail(400, f"The value set '{vs_label(self.vs)}' expansion has too many codes to produce "
                                    f"(>{limit})", "too-costly", None, "VALUESET_TOO_COSTLY")
        return out

    @property
    def versions_match(self) -> bool | None:
        """The value set's `versionsMatch` expansion parameter (None: not set)."""
        value = expansion_parameters(self.vs).get("versionsMatch")
        return None if value is None else value.lower() == "true"

    def _excluded(self) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
        """Codes excluded in one version (url, version, code) and in every version (url, code).

        An exclude applies to its own version only where versionsMatch is false, or where the value
        set includes that version itself; otherwise (an exclude without a version, or of a version
        the value set does not include) it applies to the code in every version, and the expansion
        says so with versionsMatch true."""
        exact: set[tuple[str, str, str]] = set()
        loose: set[tuple[str, str]] = set()
        included = {(i.get("system"), i.get("version")) for i in self.includes}
        for exc in self.excludes:
            own_version = isinstance(exc.get("version"), str) and (
                self.versions_match is False or (exc.get("system"), exc.get("version")) in included)
            if isinstance(exc.get("version"), str) and not own_version:
                self.loose_versions = True
            for m in self._part_members(exc):
                if own_version:
                    exact.add((m.cs.url, m.cs.version or "", m.concept.code))
                else:
                    loose.add((m.cs.url, m.concept.code))
        return exact, loose

    def _part_members(self, part: dict[str, Any]) -> Iterator[Member]:
        refs = [r for r in part.get("valueSet") or [] if isinstance(r, str)]
        if not isinstance(part.get("system"), str):
            if not refs:
                return
            first, *rest = [self.nested(r) for r in refs]
            for m in first.members():
                if all(o.find(m.cs.url, m.concept.code) is not None for o in rest):
                    yield m
            return
        cs = self.code_system_for(part)
        if cs is None:
            self._unknown(part)
            return
        others = [self.nested(r) for r in refs]
        for concept in _part_concepts(cs, part):
            if all(o.find(cs.url, concept.code) is not None for o in others):
                yield Member(cs, concept)

    def _unknown(self, part: dict[str, Any]) -> None:
        system, version = part["system"], part.get("version")
        if system not in self.problems.unknown_systems:
            self.problems.unknown_systems.append(system)
        if version and self.ctx.known_system(system):
            text = (f"A definition for CodeSystem '{system}' version '{version}' could not be found, so the value set"
                    f" cannot be expanded. Valid versions: {present_versions(self.ctx.versions(system))}")
            raise fail(400, text, "not-found", "not-found", "UNKNOWN_CODESYSTEM_VERSION_EXP")
        raise fail(400, f"A definition for CodeSystem '{system}' could not be found, so the value set cannot be "
                        "expanded", "not-found", "not-found", "UNKNOWN_CODESYSTEM_EXP")


EXPANSION_PARAMETER = "http://hl7.org/fhir/StructureDefinition/valueset-expansion-parameter"


def expansion_parameters(vs: dict[str, Any]) -> dict[str, str]:
    """Expansion parameters a value set sets for itself (compose extension expansion-parameter)."""
    out: dict[str, str] = {}
    for ext in (vs.get("compose") or {}).get("extension") or []:
        if not isinstance(ext, dict) or ext.get("url") != EXPANSION_PARAMETER:
            continue
        parts = {e.get("url"): next((v for k, v in e.items() if k.startswith("value")), None)
                 for e in ext.get("extension") or [] if isinstance(e, dict)}
        name, value = parts.get("name"), parts.get("value")
        if isinstance(name, str) and value is not None:
            out[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def _check_filters(compose: dict[str, Any]) -> None:
    """A filter with no value is refused up front, naming where it is."""
    for kind in ("include", "exclude"):
        for i, part in enumerate(compose.get(kind) or []):
            if not isinstance(part, dict):
                continue
            for j, f in enumerate(part.get("filter") or []):
                if not isinstance(f, dict) or f.get("op") == "exists":
                    continue
                if not isinstance(f.get("value"), str) or f["value"] == "":
                    where = f"ValueSet.compose.{kind}[{i}].filter[{j}]"
                    raise TxError(400, [Issue("error", "invalid", f"The system {part.get('system')} filter with "
                                              f"property = {f.get('property')}, op = {f.get('op')} has no value",
                                              "vs-invalid", where, "UNABLE_TO_HANDLE_SYSTEM_FILTER_WITH_NO_VALUE")])


def _part_concepts(cs: CodeSystemView, part: dict[str, Any]) -> Iterator[Concept]:
    filters = [f for f in part.get("filter") or [] if isinstance(f, dict)]
    predicates = [_predicate(cs, f) for f in filters]
    if part.get("concept"):
        for item in part["concept"]:
            if not isinstance(item, dict) or not isinstance(item.get("code"), str):
                continue
            concept = cs.get(item["code"])
            if concept is None:
                continue
            if item.get("display") or item.get("designation") or item.get("extension"):
                concept = _with_vs_display(concept, item)
            if all(p(cs, concept) for p in predicates):
                yield concept
        return
    source: Iterator[Concept] = cs.concepts()
    # a hierarchy filter narrows the walk to one subtree rather than testing every concept
    for f in filters:
        hierarchy = f.get("property") == "concept" and f.get("op") in ("is-a", "descendent-of")
        if hierarchy and isinstance(f.get("value"), str):
            root = cs.get(f["value"])
            if root is None:
                return
            source = iter([root, *cs.descendants(root.code)]) if f["op"] == "is-a" else cs.descendants(root.code)
            break
    for concept in source:
        if all(p(cs, concept) for p in predicates):
            yield concept


def _listed(items: list[Any], code: str, case_sensitive: bool) -> dict[str, Any] | None:
    """The include's entry for `code` in a concept list."""
    for item in items:
        if isinstance(item, dict) and (item.get("code") == code or
                                       (not case_sensitive and str(item.get("code")).casefold() == code.casefold())):
            return item
    return None


def _cs_standards_status(cs: CodeSystemView) -> str | None:
    resource = getattr(cs, "resource", None)
    return standards_status(resource) if isinstance(resource, dict) else None


def _with_vs_display(concept: Concept, item: dict[str, Any]) -> Concept:
    from dataclasses import replace

    extra = [d for d in item.get("designation") or [] if isinstance(d, dict)]
    marks = [e for e in item.get("extension") or [] if isinstance(e, dict) and e.get("url") in
             (STANDARDS_STATUS, VALUESET_DEPRECATED)]
    return replace(concept, display=item.get("display") or concept.display,
                   designations=[*concept.designations, *extra], vs_extensions=marks)


def _ancestors(cs: CodeSystemView, code: str) -> set[str]:
    custom = getattr(cs, "ancestors", None)
    if custom is not None:
        return set(custom(code))
    out: set[str] = set()
    stack = [code]
    while stack:
        c = cs.get(stack.pop())
        if c is None:
            continue
        for p in c.parents:
            if p not in out:
                out.add(p)
                stack.append(p)
    return out


def _predicate(cs: CodeSystemView, f: dict[str, Any]) -> Predicate:
    prop, op, value = f.get("property"), f.get("op"), f.get("value")
    if not isinstance(value, str) or value == "":
        if op == "exists" and value is None:
            value = "true"
        else:
            raise fail(400, f"The system {cs.url} filter with property = {prop}, op = {op} has no value", "invalid",
                       "vs-invalid", "UNABLE_TO_HANDLE_SYSTEM_FILTER_WITH_NO_VALUE")
    if prop in ("concept", "code"):
        return _concept_predicate(cs, str(op), value)
    if op == "regex":
        pattern = _regex(value)
        return lambda s, c: any(pattern.fullmatch(_text(v)) for v in _values(c, str(prop)))
    if op == "=":
        return lambda s, c: value in [_text(v) for v in _values(c, str(prop))]
    if op in ("in", "not-in"):
        wanted = set(value.split(","))
        if op == "in":
            return lambda s, c: any(_text(v) in wanted for v in _values(c, str(prop)))
        return lambda s, c: not any(_text(v) in wanted for v in _values(c, str(prop)))
    if op == "exists":
        want = value.lower() == "true"
        return lambda s, c: bool(_values(c, str(prop))) == want
    raise fail(400, f"The filter operation '{op}' on property '{prop}' is not supported", "not-supported",
               "vs-invalid")


def _text(v: Any) -> str:
    """A property value as a filter's value spells it (booleans as true/false)."""
    return str(v).lower() if isinstance(v, bool) else str(v)


def _values(c: Concept, prop: str) -> list[Any]:
    if prop == "display":
        return [c.display] if c.display else []
    if prop == "status" and c.status:
        return [c.status]
    if prop == "inactive":
        return [c.inactive]
    if prop == "notSelectable" and c.abstract:
        return [True]
    if prop == "parent":
        return list(c.parents)
    if prop == "child":
        return list(c.children)
    return [v for v in c.property_values(prop) if v is not None]


def _concept_predicate(cs: CodeSystemView, op: str, value: str) -> Predicate:
    if op == "is-a":
        return lambda s, c: c.code == value or value in _ancestors(s, c.code)
    if op == "descendent-of":
        return lambda s, c: c.code != value and value in _ancestors(s, c.code)
    if op == "is-not-a":
        return lambda s, c: c.code != value and value not in _ancestors(s, c.code)
    if op == "generalizes":
        return lambda s, c: c.code == value or c.code in _ancestors(s, value)
    if op == "child-of":
        return lambda s, c: value in c.parents
    if op == "=":
        return lambda s, c: c.code == value
    if op == "in":
        codes = set(value.split(","))
        return lambda s, c: c.code in codes
    if op == "not-in":
        codes = set(value.split(","))
        return lambda s, c: c.code not in codes
    if op == "regex":
        pattern = _regex(value)
        return lambda s, c: bool(pattern.fullmatch(c.code))
    raise fail(400, f"The filter operation '{op}' on property 'concept' is not supported", "not-supported",
               "vs-invalid")


def _regex(value: str) -> Any:
    """A client's pattern, compiled by RE2: matching takes linear time, so "(a+)+" cannot hang a
    worker as it would Python's backtracking engine; what RE2 cannot compile is refused."""
    if len(value) > _REGEX_LIMIT:
        raise fail(400, f"a regex filter may be at most {_REGEX_LIMIT} characters", "too-costly")
    try:
        return re2.compile(value, _RE2_OPTIONS)
    except re2.error as e:
        detail = e.args[0].decode(errors="replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise fail(400, f"The regex filter '{value}' is not valid: {detail}", "invalid", "vs-invalid") from None


def raise_if(issues: list[Issue], status: int = 400) -> None:
    if issues:
        raise TxError(status, issues)
