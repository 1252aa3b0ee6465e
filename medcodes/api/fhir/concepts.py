"""Code systems as the terminology operations see them: a CodeSystem resource supplied with a request,
or a code system of the index (read through the shared services).

Both answer the same questions: a concept by code, its children and descendants, every concept in
hierarchy order, its properties, designations, and whether it is abstract or inactive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

INACTIVE_STATUSES = frozenset({"retired", "inactive"})
CONCEPT_PROPERTIES = "http://hl7.org/fhir/concept-properties#"
_STANDARD_PROPERTIES = frozenset({"notSelectable", "status", "inactive", "parent", "child", "deprecated"})


@dataclass
class Concept:
    code: str
    display: str | None = None
    definition: str | None = None
    designations: list[dict[str, Any]] = field(default_factory=list)
    properties: list[dict[str, Any]] = field(default_factory=list)  # {"code": .., "value[x]": ..}
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    abstract: bool = False
    inactive: bool = False
    status: str | None = None  # "retired", "deprecated", ...
    extensions: list[dict[str, Any]] = field(default_factory=list)
    vs_extensions: list[dict[str, Any]] = field(default_factory=list)  # from the value set's include

    def property_values(self, code: str) -> list[Any]:
        return [next((v for k, v in p.items() if k.startswith("value")), None)
                for p in self.properties if p.get("code") == code]


class CodeSystemView(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def version(self) -> str | None: ...

    @property
    def name(self) -> str | None: ...

    @property
    def title(self) -> str | None: ...

    @property
    def content(self) -> str: ...

    @property
    def case_sensitive(self) -> bool: ...

    @property
    def language(self) -> str | None: ...

    def get(self, code: str) -> Concept | None: ...

    def concepts(self) -> Iterator[Concept]: ...

    def roots(self) -> list[str]: ...

    def size(self) -> int: ...

    def descendants(self, code: str) -> Iterator[Concept]: ...

    def property_defs(self) -> list[dict[str, Any]]: ...


def _bool(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.lower() == "true")


class FhirCodeSystem:
    """A CodeSystem resource (supplied with a request, or held by the server)."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.resource = resource
        self.url: str = resource.get("url") or ""
        self.version: str | None = resource.get("version")
        self.name: str | None = resource.get("name")
        self.title: str | None = resource.get("title")
        self.content: str = resource.get("content") or "complete"
        self.case_sensitive: bool = resource.get("caseSensitive", True) is not False
        self.language: str | None = resource.get("language")
        self.status: str | None = resource.get("status")
        self.supplements: str | None = resource.get("supplements")
        self.experimental: bool = resource.get("experimental") is True
        self._concepts: dict[str, Concept] = {}
        self._order: list[str] = []
        self._roots: list[str] = []
        self._folded: dict[str, str] = {}
        # a system's own names for the standard properties (e.g. "not-selectable" for notSelectable)
        self._standard: dict[str, str] = {}
        for d in resource.get("property") or []:
            uri = d.get("uri") if isinstance(d, dict) else None
            standard = isinstance(uri, str) and uri.startswith(CONCEPT_PROPERTIES)
            meaning = str(uri)[len(CONCEPT_PROPERTIES):] if standard else ""
            if meaning in _STANDARD_PROPERTIES and isinstance(d.get("code"), str):
                self._standard[d["code"]] = meaning
        self._load(resource.get("concept") or [], None)
        for c in self._concepts.values():  # parent properties (hierarchy given by property, not nesting)
            for parent in c.property_values("parent"):
                if isinstance(parent, str) and parent in self._concepts and parent not in c.parents:
                    c.parents.append(parent)
                    self._concepts[parent].children.append(c.code)
            for child in c.property_values("child"):
                if isinstance(child, str) and child in self._concepts and child not in c.children:
                    c.children.append(child)
                    self._concepts[child].parents.append(c.code)
        self._roots = [code for code in self._order if not self._concepts[code].parents]

    def _load(self, items: list[Any], parent: str | None) -> None:
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("code"), str):
                continue
            c = self._concept(item)
            if parent:
                c.parents.append(parent)
                self._concepts[parent].children.append(c.code)
            self._concepts[c.code] = c
            self._folded.setdefault(c.code.casefold(), c.code)
            self._order.append(c.code)
            self._load(item.get("concept") or [], c.code)

    def _concept(self, item: dict[str, Any]) -> Concept:
        props = [p for p in item.get("property") or [] if isinstance(p, dict)]
        c = Concept(code=item["code"], display=item.get("display"), definition=item.get("definition"),
                    designations=[d for d in item.get("designation") or [] if isinstance(d, dict)],
                    properties=props, extensions=list(item.get("extension") or []))
        for p in props:
            value = next((v for k, v in p.items() if k.startswith("value")), None)
            meaning = self._standard.get(str(p.get("code")), p.get("code"))
            if meaning == "notSelectable" and _bool(value):
                c.abstract = True
            elif meaning == "status" and isinstance(value, str):
                c.status = value
                if value in INACTIVE_STATUSES:
                    c.inactive = True
            elif meaning == "inactive" and _bool(value):
                c.inactive = True
        for ext in c.extensions:
            if isinstance(ext, dict) and ext.get("url", "").endswith("structuredefinition-standards-status") \
                    and ext.get("valueCode") == "deprecated":
                c.status = c.status or "deprecated"
        return c

    def get(self, code: str) -> Concept | None:
        found = self._concepts.get(code)
        if found is None and not self.case_sensitive:
            key = self._folded.get(code.casefold())
            found = self._concepts.get(key) if key else None
        return found

    def concepts(self) -> Iterator[Concept]:
        for code in self._order:
            yield self._concepts[code]

    def roots(self) -> list[str]:
        return list(self._roots)

    def size(self) -> int:
        return len(self._order)

    def descendants(self, code: str) -> Iterator[Concept]:
        seen: set[str] = set()
        stack = list(reversed(self._concepts[code].children)) if code in self._concepts else []
        while stack:
            c = stack.pop()
            if c in seen:
                continue
            seen.add(c)
            yield self._concepts[c]
            stack.extend(reversed(self._concepts[c].children))

    def property_defs(self) -> list[dict[str, Any]]:
        return [p for p in self.resource.get("property") or [] if isinstance(p, dict)] if self.resource else []

    def apply_supplement(self, supplement: dict[str, Any], label: str) -> None:
        """Designations and properties a supplement (`label`: its url|version) adds to this system's concepts;
        each designation names the supplement it came from."""
        for item in _flatten(supplement.get("concept") or []):
            c = self._concepts.get(item.get("code", ""))
            if c is None:
                continue
            for d in item.get("designation") or []:
                if isinstance(d, dict):
                    c.designations.append({**d, "source": label})
            if item.get("display") and supplement.get("language"):
                c.designations.append({"language": supplement["language"], "value": item["display"], "source": label})
            for p in item.get("property") or []:
                if isinstance(p, dict):
                    c.properties.append(p)


def _flatten(items: list[Any]) -> Iterator[dict[str, Any]]:
    for item in items:
        if isinstance(item, dict):
            yield item
            yield from _flatten(item.get("concept") or [])


def newest(versions: list[str | None]) -> str | None:
    """The most recent of several versions (semantic order where they are numbers)."""
    return max(versions, key=version_key) if versions else None


def version_key(v: str | None) -> tuple[Any, ...]:
    if v is None:
        return ((-1,),)
    parts: list[tuple[int, Any]] = []
    for seg in v.replace("-", ".").split("."):
        parts.append((1, int(seg)) if seg.isdigit() else (0, seg))
    return tuple(parts)


def version_matches(pattern: str, version: str | None) -> bool:
    """`pattern` matches `version`: equal, or with `x`/`*` standing for any segment ("1.x", "1.0.x")."""
    if version is None:
        return False
    if pattern == version:
        return True
    if not any(seg in ("x", "X", "*") for seg in pattern.split(".")):
        return False
    ps, vs = pattern.split("."), version.split(".")
    if len(ps) > len(vs):
        return False
    return all(p in ("x", "X", "*") or p == v for p, v in zip(ps, vs, strict=False))


def is_wildcard(pattern: str | None) -> bool:
    return bool(pattern) and any(seg in ("x", "X", "*") for seg in (pattern or "").split("."))


def present_versions(versions: list[str]) -> str:
    """A list of versions as a person reads it: "1", "1 or 2", "1, 2 and 3"."""
    if len(versions) <= 1:
        return "".join(versions)
    if len(versions) == 2:
        return f"{versions[0]} or {versions[1]}"
    return f"{', '.join(versions[:-1])} and {versions[-1]}"
