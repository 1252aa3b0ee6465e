"""What one request can see: the index's code systems, plus the CodeSystems and ValueSets supplied
with it as `tx-resource` (used for that request only), and the version rules it gives
(`system-version`, `check-system-version`, `force-system-version`, `default-valueset-version`)."""

from __future__ import annotations

from typing import Any

from ...index import Catalog
from .concepts import CodeSystemView, FhirCodeSystem, is_wildcard, newest, version_matches
from .indexed import index_code_system, index_versions
from .outcome import Issue, TxError, fail
from .params import OperationParams

MAX_SUPPLIED = 64  # tx-resource entries per request
MAX_SUPPLIED_CONCEPTS = 50_000


class Context:
    def __init__(self, catalog: Catalog, p: OperationParams, accept_language: str | None = None) -> None:
        self.catalog = catalog
        self.params = p
        self.code_systems: dict[str, list[FhirCodeSystem]] = {}
        self.supplements: dict[str, list[dict[str, Any]]] = {}
        self.value_sets: dict[str, list[dict[str, Any]]] = {}
        self.concept_maps: dict[str, list[dict[str, Any]]] = {}
        self.display_language = p.text("displayLanguage") or accept_language
        self.lang_from_header = not p.text("displayLanguage") and bool(accept_language)
        supplied = p.resources("tx-resource")
        if len(supplied) > MAX_SUPPLIED:
            raise fail(400, f"at most {MAX_SUPPLIED} tx-resource parameters per request", "too-costly")
        concepts = 0
        for r in supplied:
            self.add(r)
            concepts += _count_concepts(r.get("concept") or [])
            if concepts > MAX_SUPPLIED_CONCEPTS:
                raise fail(400, f"the supplied code systems hold more than {MAX_SUPPLIED_CONCEPTS} concepts",
                           "too-costly")
        self.default_versions = _pinned(p.all_text("system-version"))
        self.check_versions = _pinned(p.all_text("check-system-version"))
        self.force_versions = _pinned(p.all_text("force-system-version"))
        self.default_vs_versions = _pinned(p.all_text("default-valueset-version"))
        self.warnings: list[Issue] = []
        self.used_version_params: dict[tuple[str, str], None] = {}  # (parameter, value) in use order

    def add(self, r: dict[str, Any]) -> None:
        kind, url = r.get("resourceType"), r.get("url")
        if not isinstance(url, str) or not url:
            return
        if kind == "CodeSystem":
            if r.get("content") == "supplement" and isinstance(r.get("supplements"), str):
                self.supplements.setdefault(r["supplements"].split("|")[0], []).append(r)
                self.supplements.setdefault(url, []).append(r)
            else:
                self.code_systems.setdefault(url, []).append(FhirCodeSystem(r))
        elif kind == "ValueSet":
            self.value_sets.setdefault(url, []).append(r)
        elif kind == "ConceptMap":
            self.concept_maps.setdefault(url, []).append(r)

    # -- code systems ---------------------------------------------------------------------------

    def known_system(self, url: str) -> bool:
        return url in self.code_systems or bool(index_versions(self.catalog, url))

    def versions(self, url: str) -> list[str]:
        found = [cs.version for cs in self.code_systems.get(url, []) if cs.version]
        return sorted(set(found) | set(index_versions(self.catalog, url)))

    def code_system(self, url: str, version: str | None = None, *, pinned: bool = False) -> CodeSystemView | None:
        """The code system `url` in `version` (a pattern such as 1.x allowed); with no version, the
        version a request parameter defaults to, else the newest."""
        version = self.determine_version(url, version)
        supplied = self.code_systems.get(url, [])
        if supplied:
            if version:
                matching = [cs for cs in supplied if cs.version == version or version_matches(version, cs.version)]
                if not matching and len(supplied) == 1 and supplied[0].version is None:
                    matching = supplied
            else:
                matching = supplied
            if not matching:
                return None
            best = newest([cs.version for cs in matching])
            return next(cs for cs in matching if cs.version == best)
        return index_code_system(self.catalog, url, version)

    def determine_version(self, url: str, version: str | None) -> str | None:
        """The version a request settles on for `url` given `version` (an include's or a coding's): a
        forced version, else `version`, else a default, else a checked one. A version parameter that
        decided is remembered: an expansion names the ones it used."""
        for name, pinned in (("force-system-version", self.force_versions),
                             ("system-version", None if version else self.default_versions),
                             ("check-system-version", None if version else self.check_versions)):
            chosen = pinned.get(url) if pinned is not None else None
            if chosen:
                self.used_version_params.setdefault((name, f"{url}|{chosen}"), None)
                return chosen
        return version

    def check_version(self, url: str, version: str | None) -> Issue | None:
        wanted = self.check_versions.get(url)
        if wanted and version and not version_matches(wanted, version) and wanted != version:
            return Issue("error", "exception", f"The version '{version}' is not allowed for system '{url}': "
                         f"required to be '{wanted}' by a version-check parameter", "version-error",
                         message_id="VALUESET_VERSION_CHECK")
        return None

    # -- value sets -----------------------------------------------------------------------------

    def value_set(self, url: str, version: str | None = None) -> dict[str, Any] | None:
        if "|" in url and version is None:
            url, version = url.split("|", 1)
        if not version:
            version = self.default_vs_versions.get(url)
        found = self.value_sets.get(url, [])
        if found:
            if version:
                found = [v for v in found if v.get("version") == version or
                         (is_wildcard(version) and version_matches(version, v.get("version")))]
            if not found:
                return None
            best = newest([v.get("version") for v in found])
            return next(v for v in found if v.get("version") == best)
        implicit = _implicit(url)
        if implicit and self.known_system(implicit[0]):
            return implicit_value_set(url, *implicit)
        return None

    def supplement(self, url: str) -> dict[str, Any] | None:
        base, _, version = url.partition("|")
        for s in self.supplements.get(base, []):
            if not version or s.get("version") == version:
                return s
        return None


def _count_concepts(items: list[Any]) -> int:
    return sum(1 + _count_concepts(i.get("concept") or []) for i in items if isinstance(i, dict))


def _pinned(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        url, sep, version = v.partition("|")
        if sep and version:
            out[url] = version
    return out


def _implicit(url: str) -> tuple[str, str | None] | None:
    """(system, root code or None) of an implicit value set `{system}?fhir_vs[=isa/CODE]`."""
    system, sep, query = url.partition("?")
    if not sep:
        return None
    if query == "fhir_vs":
        return system, None
    if query.startswith("fhir_vs=isa/") and len(query) > 12:
        return system, query[12:]
    return None


def implicit_value_set(url: str, system: str, root: str | None) -> dict[str, Any]:
    include: dict[str, Any] = {"system": system}
    if root:
        include["filter"] = [{"property": "concept", "op": "is-a", "value": root}]
    return {"resourceType": "ValueSet", "url": url, "status": "active", "compose": {"include": [include]}}


def require(condition: bool, status: int, issues: list[Issue]) -> None:
    if not condition:
        raise TxError(status, issues)
