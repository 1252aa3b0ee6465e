"""What one request can see: the index's code systems, plus the CodeSystems and ValueSets supplied
with it as `tx-resource` (used for that request only), and the version rules it gives
(`system-version`, `check-system-version`, `force-system-version`, `default-valueset-version`)."""

from __future__ import annotations

import re
from typing import Any

from ...index import Catalog
from .concepts import CodeSystemView, FhirCodeSystem, is_wildcard, newest, version_matches
from .core import CORE_BY_URL
from .indexed import index_code_system, index_versions
from .outcome import Issue, TxError, fail
from .params import OperationParams

# a language tag, or a list of them with weights as Accept-Language gives them ("de, *; q=0")
_LANGUAGES = re.compile(r"(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)(?:\s*;\s*q=[0-9.]+)?"
                        r"(?:\s*,\s*(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)(?:\s*;\s*q=[0-9.]+)?)*")
VALUESET_SUPPLEMENT = "http://hl7.org/fhir/StructureDefinition/valueset-supplement"
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
        self._core_seen: set[str] = set()
        asked = p.text("displayLanguage")
        if asked is not None and not _LANGUAGES.fullmatch(asked.strip()):
            raise TxError(400, [Issue("error", "processing", f"Invalid displayLanguage: '{asked}'", "invalid-display",
                                      message_id="INVALID_DISPLAY_NAME")])
        self.display_language = asked or accept_language
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
        self.required_supplements: list[dict[str, Any]] = []
        self.used_supplements: list[str] = []  # url|version of each supplement applied
        self._applied: set[tuple[int, int]] = set()

    def add(self, r: dict[str, Any]) -> None:
        kind, url = r.get("resourceType"), r.get("url")
        if not isinstance(url, str) or not url:
            return
        if kind == "CodeSystem":
            if r.get("content") == "supplement" and isinstance(r.get("supplements"), str):
                self.supplements.setdefault(url, []).append(r)
            else:
                self.code_systems.setdefault(url, []).append(FhirCodeSystem(r))
        elif kind == "ValueSet":
            self.value_sets.setdefault(url, []).append(r)
        elif kind == "ConceptMap":
            self.concept_maps.setdefault(url, []).append(r)

    # -- code systems ---------------------------------------------------------------------------

    def _core(self, url: str) -> None:
        """A FHIR core system or value set, taken in when first named, unless the request supplies its own
        (parsing them for every request would cost each one a fraction of a millisecond)."""
        r = CORE_BY_URL.get(url)
        if r is not None and url not in self._core_seen:
            self._core_seen.add(url)
            if not (self.code_systems.get(url) or self.value_sets.get(url)):
                self.add(r)

    def known_system(self, url: str) -> bool:
        self._core(url)
        return url in self.code_systems or bool(index_versions(self.catalog, url))

    def versions(self, url: str) -> list[str]:
        self._core(url)
        found = [cs.version for cs in self.code_systems.get(url, []) if cs.version]
        return sorted(set(found) | set(index_versions(self.catalog, url)))

    def code_system(self, url: str, version: str | None = None, *, exact: bool = False) -> CodeSystemView | None:
        """The code system `url` in `version` (a pattern such as 1.x allowed); with no version, the
        version a request parameter defaults to, else the newest. `exact`: `version` as given, whatever
        the request's version rules say (is that version loaded at all?)."""
        self._core(url)
        if not exact:
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
            chosen = next(cs for cs in matching if cs.version == best)
            if self.required_supplements:
                self._supplement(chosen)
            return chosen
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
        self._core(url)
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
        """The supplement `url` (`url|version` for one version), newest first."""
        base, _, version = url.partition("|")
        found = [s for s in self.supplements.get(base, []) if not version or s.get("version") == version]
        if not found:
            return None
        best = newest([s.get("version") for s in found])
        return next(s for s in found if s.get("version") == best)

    def value_set_supplements(self, vs: dict[str, Any]) -> list[str]:
        """Supplements a value set asks for (valueset-supplement extensions)."""
        return [str(e["valueCanonical"]) for e in vs.get("extension") or [] if isinstance(e, dict) and
                e.get("url") == VALUESET_SUPPLEMENT and isinstance(e.get("valueCanonical"), str)]

    def require_supplements(self, urls: list[str]) -> None:
        """Supplements the request needs (useSupplement, a value set's valueset-supplement): each is
        applied to the code system it supplements whenever that system is used; a missing one fails."""
        for url in urls:
            found = self.supplement(url)
            if found is None:
                raise TxError(422, [Issue("error", "not-found", f"Required supplement not found: {url}", "not-found",
                                          message_id="VALUESET_SUPPLEMENT_MISSING")])
            if found not in self.required_supplements:
                self.required_supplements.append(found)

    def _supplement(self, cs: CodeSystemView) -> None:
        apply = getattr(cs, "apply_supplement", None)
        for sup in self.required_supplements:
            target = str(sup.get("supplements") or "").split("|")[0]
            key = (id(cs), id(sup))
            if target != cs.url or apply is None or key in self._applied:
                continue
            self._applied.add(key)
            label = f"{sup['url']}|{sup['version']}" if sup.get("version") else str(sup["url"])
            apply(sup, label)
            if label not in self.used_supplements:
                self.used_supplements.append(label)


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
