"""The CodeSystem, ValueSet and ConceptMap resources the server holds, for read and search.

A loaded code system is a CodeSystem (content `not-present`: its concepts are reached through the
operations, not listed); each has an implicit all-codes ValueSet; the CMS General Equivalence
Mappings between ICD-10 and ICD-9 are ConceptMaps.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ... import systems
from ...app.http import public_url
from ...index import Catalog
from .indexed import HCPCS_URL, index_code_system, index_versions, system_ids
from .outcome import Issue, operation_outcome
from .resources import FhirResponse

# (id, source system, target system, title) of the GEMs, each usable in both directions
_GEMS = (("gem-icd10cm-icd9cm", "icd10cm", "icd9cm", "ICD-10-CM to ICD-9-CM General Equivalence Mappings"),
         ("gem-icd10pcs-icd9pcs", "icd10pcs", "icd9pcs", "ICD-10-PCS to ICD-9-CM Vol. 3 General Equivalence Mappings"))
_SEARCH_KEYS = ("url", "version", "name", "title", "status", "_id", "system")


def _uris(catalog: Catalog) -> list[tuple[str, str]]:
    """(resource id, canonical URI) of each loaded system, one per URI."""
    seen: dict[str, str] = {}
    for s in systems.SYSTEMS.values():
        if s.fhir_uri and s.fhir_uri not in seen and system_ids(catalog, s.fhir_uri):
            seen[s.fhir_uri] = s.id
    return [(i, u) for u, i in seen.items()]


def versions(catalog: Catalog) -> dict[str, list[str]]:
    out = {uri: index_versions(catalog, uri) for _, uri in _uris(catalog)}
    hcpcs = out.get("urn:oid:2.16.840.1.113883.6.285")
    if hcpcs is not None:
        out[HCPCS_URL] = hcpcs
    return out


def code_systems(catalog: Catalog) -> list[dict[str, Any]]:
    counts = catalog.counts()
    out = []
    for rid, uri in _uris(catalog):
        ids = system_ids(catalog, uri)
        known = index_versions(catalog, uri)
        name = " / ".join(systems.get(i).name for i in ids)
        held = index_code_system(catalog, uri, None)
        out.append({"resourceType": "CodeSystem", "id": rid, "url": uri,
                    **({"version": known[-1]} if known else {}), "name": name.replace(" ", "").replace("/", "_")
                    .replace("-", "").replace(".", ""), "title": name, "status": "active",
                    "content": "not-present", "count": sum(counts.get(i, 0) for i in ids),
                    **({"property": held.property_defs()} if held is not None else {}),
                    **({"identifier": [{"system": "urn:ietf:rfc:3986", "value": uri}], "url": HCPCS_URL}
                       if uri.startswith("urn:oid:2.16.840.1.113883.6.285") else {})})
    return out


def value_sets(catalog: Catalog) -> list[dict[str, Any]]:
    out = []
    for cs in code_systems(catalog):
        out.append({"resourceType": "ValueSet", "id": f"{cs['id']}-all", "url": f"{cs['url']}?fhir_vs",
                    "name": f"{cs['name']}All", "title": f"All {cs['title']} codes", "status": "active",
                    "compose": {"include": [{"system": cs["url"]}]}})
    return out


def concept_maps(catalog: Catalog) -> list[dict[str, Any]]:
    counts = catalog.counts()
    out = []
    for rid, src, tgt, title in _GEMS:
        if counts.get(src) and counts.get(tgt):
            out.append({"resourceType": "ConceptMap", "id": rid, "url": f"http://www.cms.gov/ConceptMap/{rid}",
                        "name": rid.replace("-", "_"), "title": title, "status": "active",
                        "sourceUri": systems.get(src).fhir_uri, "targetUri": systems.get(tgt).fhir_uri})
    return out


_HELD = {"CodeSystem": code_systems, "ValueSet": value_sets, "ConceptMap": concept_maps}


def _search(kind: str) -> Any:
    def search(request: Request) -> FhirResponse:
        found = _HELD[kind](request.state.catalog)
        for key in _SEARCH_KEYS:
            wanted = request.query_params.get(key)
            if wanted is None:
                continue
            field = "id" if key == "_id" else key
            if key == "system":
                found = [r for r in found if wanted in (r.get("url"), r.get("sourceUri"), r.get("targetUri"))]
            elif key in ("name", "title"):
                found = [r for r in found if wanted.lower() in str(r.get(field, "")).lower()]
            else:
                found = [r for r in found if str(r.get(field)) == wanted]
        base = public_url(request.url.path)
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(found)}
        if found:
            bundle["entry"] = [{"fullUrl": f"{base}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                               for r in found]
        return FhirResponse(bundle)

    search.__name__ = f"search_{kind}"
    return search


def _read(kind: str) -> Any:
    def read(request: Request) -> FhirResponse:
        rid = request.path_params["id"]
        for r in _HELD[kind](request.state.catalog):
            if r["id"] == rid:
                return FhirResponse(r)
        text = f"{kind}/{rid[:64]} is not known"
        return FhirResponse(operation_outcome([Issue("error", "not-found", text, "not-found")]), 404)

    read.__name__ = f"read_{kind}"
    return read


def routes() -> list[BaseRoute]:
    out: list[BaseRoute] = []
    for kind in _HELD:
        out.append(Route(f"/{kind}", _search(kind), name=f"fhir_search_{kind}"))
        out.append(Route(f"/{kind}/{{id}}", _read(kind), name=f"fhir_read_{kind}"))
    return out
