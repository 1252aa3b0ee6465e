"""The ASGI app: pages, /api/v1, /fhir and /static, with one error handler for all of them.

`medcodes serve` runs `create_app` through uvicorn's factory mode; MEDCODES_DB names the index.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .. import memo, settings
from ..api import v1
from ..api.fhir import routes as fhir_routes
from ..api.fhir.resources import FhirResponse, outcome
from ..app import services
from ..app.errors import Problem, classify
from ..content import queue
from ..errors import MedcodesError
from ..index import Catalog
from ..index.live import LiveCatalog
from . import pages, templating
from .middleware import HeadersMiddleware, IndexMiddleware, add_headers

log = logging.getLogger("medcodes.web")


def create_app(db: str | Path | None = None, store: str | Path | None = None) -> Starlette:
    handlers = {Exception: handle_error, HTTPException: handle_error, MedcodesError: handle_error}

    def replaced(new: Catalog) -> None:
        # answers and arrays made from the old file are of no use now; the new file's are made
        # in the background while the first requests make their own
        memo.forget_all()
        app.state.catalog = new
        app.state.systems = services.systems_present(new)
        app.state.warm = _warm_up(new, [s["id"] for s in app.state.systems])

    live = LiveCatalog(settings.db_path(str(db) if db else None), store=store, on_replace=replaced)
    # gzip for pages, JSON and static files of 1 kB or more: a code page is ~3x smaller on the wire
    middleware = [Middleware(GZipMiddleware, minimum_size=1024, compresslevel=6), Middleware(HeadersMiddleware),
                  Middleware(IndexMiddleware, live=live)]
    app = Starlette(routes=_routes(), middleware=middleware, lifespan=_lifespan,
                    exception_handlers=handlers)  # type: ignore[arg-type]
    catalog = live.current()
    app.state.live = live
    app.state.catalog = catalog
    app.state.systems = services.systems_present(catalog)
    app.state.templates = templating.environment(app)
    app.state.asset_version = templating.asset_version()
    app.state.warm = _warm_up(catalog, [s["id"] for s in app.state.systems])
    return app


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """With a model configured, this worker process also writes explainers on demand (a thread of
    its own; see medcodes.content.queue); stopping gives its unfinished codes back to the queue."""
    worker = queue.start(lambda: app.state.catalog, app.state.catalog.store_path)
    try:
        yield
    finally:
        if worker is not None:
            await asyncio.to_thread(queue.stop)


def _warm_up(catalog: Catalog, system_ids: list[str]) -> threading.Event:
    """Load what the first requests would otherwise wait for, now, in the background: the search
    engine with its sorted codes (half a second; any query with a code-shaped word such as "3rd"
    needs them), its semantic vectors, and the similar-codes title index of each system (about a
    second per big system). The event is set when done (/api/v1/health says `warm`)."""
    from ..api.fhir.indexed import warm as fhir_warm
    from ..content.similar import title_index
    from ..search import engine_for

    done = threading.Event()

    def run() -> None:
        try:
            engine = engine_for(catalog)
            engine.codes(catalog.conn)
            engine.semantic(catalog.conn)  # the model and vectors a fused query needs (under a second)
            for system in system_ids:
                title_index(catalog, system)
            fhir_warm(catalog, system_ids)  # the word indexes filtered FHIR expansions read
        except Exception:  # a broken index shows itself on the first request, with its own error
            log.exception("warming up failed")
        catalog.close_thread_connection()
        # what was just loaded lives as long as the process: out of the collector's sight, a full
        # collection scans only what requests made since (38 ms -> 0 with the full index loaded)
        gc.freeze()
        done.set()

    threading.Thread(target=run, name="medcodes-warm-up", daemon=True).start()
    return done


def _routes() -> list[BaseRoute]:
    return [
        Route("/", pages.home, name="home"),
        Route("/search", pages.search, name="search"),
        Route("/codes/{system}/", pages.code_system_root, name="code_system_root"),
        Route("/codes/{system}/{code}", pages.code, name="code"),
        Route("/codes/{system}/{code}/similar", pages.code_similar, name="code_similar"),
        Route("/codes/{system}/{code}/explainer", pages.code_explainer, name="code_explainer"),
        Route("/codes/{system}/{code:path}", pages.malformed_code),
        Route("/codes/{code}", pages.code_anywhere, name="code_anywhere"),
        Route("/browse", pages.browse, name="browse"),
        Route("/browse/{system}", pages.browse_system, name="browse_system"),
        Route("/browse/{system}/{code:path}", pages.browse_node, name="browse_node"),
        Route("/sources", pages.sources, name="sources"),
        Route("/policies", pages.policies, name="policies"),
        Route("/policies/{policy_id:path}", pages.policy, name="policy"),
        Route("/changes", pages.changes_index, name="changes_index"),
        Route("/changes/{system}/{release}", pages.changes, name="changes"),
        Route("/api", pages.api_index, name="api"),
        Route("/api/docs", pages.api_docs, name="api_docs"),
        Route("/docs", pages.docs, name="docs"),
        Route("/openapi.json", v1.openapi, name="openapi"),
        Mount("/api/v1", routes=v1.routes()),
        Mount("/fhir", routes=fhir_routes.routes()),
        Mount("/static", StaticFiles(directory=templating.HERE / "static"), name="static"),
    ]


async def handle_error(request: Request, exc: Exception) -> Response:
    """Every failure in the shape its caller reads: JSON error, OperationOutcome or an HTML page."""
    problem = classify(exc)  # a 500 is logged by the server, which sees the exception re-raised
    headers = getattr(exc, "headers", None) or {}
    response = _error_response(request, problem, headers)
    # a 500 is answered from outside the middleware that adds these to every other response
    add_headers(response.headers, request.scope, response.status_code)
    return response


def _error_response(request: Request, problem: Problem, headers: dict[str, str]) -> Response:
    path = request.url.path
    if path == "/fhir" or path.startswith("/fhir/"):
        return FhirResponse(outcome(problem.issue, problem.message), problem.status, headers=headers)
    if path.startswith(("/api/", "/openapi.json")) or "application/json" in request.headers.get("accept", ""):
        return JSONResponse(problem.json(), problem.status, headers=headers)
    try:
        return pages.render(request, "error.html", problem.status, problem=problem, q="")
    except Exception:  # the error page itself failed (say, a broken index): still answer plainly
        log.exception("error page failed")
        return Response(f"{problem.status} {problem.message}\n", problem.status, media_type="text/plain")
