"""JSON API under /api/v1: search, suggestions, code data (with similar codes and policies), policies,
release changes, validation, systems, sources."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .. import systems
from ..app import memo, params, services
from ..app.http import cached, dumps, quote_path, read_json
from ..errors import BadRequest
from ..index import Catalog
from .openapi import MAX_LIMIT, MAX_POLICIES, MAX_SIMILAR, MAX_SKIP, MAX_SUGGEST, spec


def _query(request: Request, *names: str) -> QueryParams:
    """The query parameters, with the API's rule that a parameter given is not empty."""
    params.refuse_empty(request.query_params, *names)
    return request.query_params


def _catalog(request: Request) -> Catalog:
    return request.state.catalog  # type: ignore[no-any-return]  # the one this request started with


def search(request: Request) -> Response:
    p = _query(request, "q", "system", "billable", "limit", "offset", "as_of")
    q = params.text(p, "q", required=True)
    args = (q, params.system_ids(p), params.boolean(p, "billable"), params.integer(p, "limit", 10, 1, MAX_LIMIT),
            params.integer(p, "offset", 0, 0, params.MAX_OFFSET), params.iso_date(p))
    catalog = _catalog(request)
    key = (args[0], tuple(args[1] or ()), *args[2:])
    body = memo.SEARCHES.get(catalog, key, lambda: dumps(services.search(catalog, *args)))
    return Response(body, media_type="application/json")


def suggest(request: Request) -> Response:
    p = _query(request, "q", "limit")
    q = params.text(p, "q", required=True)
    limit = params.integer(p, "limit", services.SUGGEST_LIMIT, 1, MAX_SUGGEST)
    catalog = _catalog(request)
    body = memo.SUGGESTIONS.get(catalog, (q, limit), lambda: dumps(
        {"query": q, "results": services.suggest(catalog, q, limit)}))
    return Response(body, media_type="application/json")


def _code_key(request: Request) -> tuple[str, str]:
    system = params.system_id(request.path_params["system"])
    return services.resolve_key(_catalog(request), system, request.path_params["code"])


def _canonical(request: Request, name: str, key: tuple[str, str]) -> dict[str, str]:
    path = request.app.url_path_for(name, system=key[0], code=key[1])
    return {"Link": f'<{quote_path(path)}>; rel="canonical"'}


def code(request: Request) -> Response:
    as_of = params.iso_date(_query(request, "as_of"))  # parameters first: a bad date is a 400 before any lookup
    key = _code_key(request)
    data = services.code_data(_catalog(request), *key, as_of)
    headers = _canonical(request, "api_code", key)
    if data.explainer is not None and (data.explainer.pending or {}).get("status") == "queued":
        headers["Cache-Control"] = "no-cache"  # the generated sections come soon: ask again, not the cache
    return cached(request, dumps(data.to_json()), "application/json", headers=headers)


def no_code(request: Request) -> Response:
    """/codes/{system}/ with the code left out: say so rather than answer "nothing here"."""
    system = params.system_id(request.path_params["system"])
    raise BadRequest(f"no {systems.get(system).name} code given: /api/v1/codes/{system}/CODE")


def malformed_code(request: Request) -> Response:
    """A "code" with a slash in it (no system has one): a malformed code, not an unknown address."""
    system = params.system_id(request.path_params["system"])
    raise BadRequest(f"{request.path_params['code'][:40]!r} is not a well-formed {systems.get(system).name} code")


def code_similar(request: Request) -> Response:
    limit = params.integer(_query(request, "limit"), "limit", 10, 1, MAX_SIMILAR)
    key = _code_key(request)
    data = services.similar(_catalog(request), *key, limit)
    return cached(request, dumps(data), "application/json", headers=_canonical(request, "api_code_similar", key))


def code_policies(request: Request) -> Response:
    p = _query(request, "limit", "offset")
    limit, offset = params.integer(p, "limit", 100, 1, MAX_POLICIES), params.integer(p, "offset", 0, 0, MAX_SKIP)
    key = _code_key(request)
    data = services.code_policies(_catalog(request), *key, limit, offset)
    return cached(request, dumps(data), "application/json", headers=_canonical(request, "api_code_policies", key))


def policies(request: Request) -> JSONResponse:
    p = _query(request, "q", "payer", "limit", "offset")
    q, payer = params.text(p, "q"), params.text(p, "payer") or None
    limit, offset = params.integer(p, "limit", 20, 1, MAX_LIMIT), params.integer(p, "offset", 0, 0, MAX_SKIP)
    return JSONResponse(services.search_policies(_catalog(request), q, payer, limit, offset))


def policy(request: Request) -> Response:
    page = services.policy(_catalog(request), params.policy_id(request.path_params["policy_id"]))
    data = {k: v for k, v in page.items() if k not in ("html", "text")}
    return cached(request, dumps(data), "application/json")


def changes_list(request: Request) -> JSONResponse:
    return JSONResponse({"releases": services.change_releases(_catalog(request))})


def changes(request: Request) -> Response:
    system = params.system_id(request.path_params["system"])
    release = params.release_name(request.path_params["release"])
    return cached(request, dumps(services.changes(_catalog(request), system, release)), "application/json")


async def validate(request: Request) -> JSONResponse:
    items = services.parse_validate_body(await read_json(request))
    results = await run_in_threadpool(services.validate, _catalog(request), items)
    return JSONResponse({"count": len(results), "results": results})


def systems_list(request: Request) -> JSONResponse:
    return JSONResponse({"systems": request.app.state.systems})


def health(request: Request) -> JSONResponse:
    """For load balancers and benchmarks: answering means ready; `warm` says whether this worker
    has loaded the search engine's sorted codes and built its similar-codes title indexes yet
    (until then the first code-shaped query and the first similar codes are slower)."""
    return JSONResponse({"status": "ok", "warm": request.app.state.warm.is_set()},
                        headers={"Cache-Control": "no-store"})


def sources(request: Request) -> JSONResponse:
    catalog = _catalog(request)
    return JSONResponse({"sources": catalog.sources(), "counts": catalog.counts()})


def openapi(request: Request) -> Response:
    return cached(request, dumps(spec()), "application/json")


def routes() -> list[BaseRoute]:
    out: list[Any] = [
        Route("/search", search, name="api_search"),
        Route("/suggest", suggest, name="api_suggest"),
        Route("/codes/{system}/", no_code, include_in_schema=False),
        Route("/codes/{system}/{code}", code, name="api_code"),
        Route("/codes/{system}/{code}/similar", code_similar, name="api_code_similar"),
        Route("/codes/{system}/{code}/policies", code_policies, name="api_code_policies"),
        Route("/codes/{system}/{code:path}", malformed_code, include_in_schema=False),
        Route("/policies", policies, name="api_policies"),
        Route("/policies/{policy_id:path}", policy, name="api_policy"),
        Route("/changes", changes_list, name="api_changes"),
        Route("/changes/{system}/{release}", changes, name="api_changes_release"),
        Route("/validate", validate, methods=["POST"], name="api_validate"),
        Route("/systems", systems_list, name="api_systems"),
        Route("/sources", sources, name="api_sources"),
        Route("/health", health, name="api_health"),
    ]
    return out
