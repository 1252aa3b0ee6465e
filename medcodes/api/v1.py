"""JSON API under /api/v1: search, suggestions, code data, validation, systems, sources."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..index import Catalog
from . import params, services
from .http import cached, dumps, quote_path, read_json
from .openapi import spec

MAX_LIMIT = 100


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog  # type: ignore[no-any-return]


def search(request: Request) -> JSONResponse:
    p = request.query_params
    q = params.text(p, "q", required=True)
    result = services.search(_catalog(request), q, params.system_ids(p), params.boolean(p, "billable"),
                             params.integer(p, "limit", 10, 1, MAX_LIMIT),
                             params.integer(p, "offset", 0, 0, params.MAX_OFFSET))
    return JSONResponse(result)


def suggest(request: Request) -> JSONResponse:
    p = request.query_params
    q = params.text(p, "q", required=True)
    limit = params.integer(p, "limit", services.SUGGEST_LIMIT, 1, 20)
    return JSONResponse({"query": q, "results": services.suggest(_catalog(request), q, limit)})


def code(request: Request) -> Response:
    system = params.system_id(request.path_params["system"])
    row = services.resolve(_catalog(request), system, request.path_params["code"])
    data = services.code_data(_catalog(request), row)
    canonical = request.app.url_path_for("api_code", system=row["system"], code=row["code"])
    return cached(request, dumps(data), "application/json",
                  headers={"Link": f'<{quote_path(canonical)}>; rel="canonical"'})


async def validate(request: Request) -> JSONResponse:
    items = services.parse_validate_body(await read_json(request))
    results = await run_in_threadpool(services.validate, _catalog(request), items)
    return JSONResponse({"count": len(results), "results": results})


def systems_list(request: Request) -> JSONResponse:
    return JSONResponse({"systems": request.app.state.systems})


def sources(request: Request) -> JSONResponse:
    catalog = _catalog(request)
    return JSONResponse({"sources": catalog.sources(), "counts": catalog.counts()})


def openapi(request: Request) -> Response:
    return cached(request, dumps(spec()), "application/json")


def routes() -> list[BaseRoute]:
    out: list[Any] = [
        Route("/search", search, name="api_search"),
        Route("/suggest", suggest, name="api_suggest"),
        Route("/codes/{system}/{code:path}", code, name="api_code"),
        Route("/validate", validate, methods=["POST"], name="api_validate"),
        Route("/systems", systems_list, name="api_systems"),
        Route("/sources", sources, name="api_sources"),
    ]
    return out
