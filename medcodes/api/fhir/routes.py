"""HTTP endpoints under /fhir: each collects its parameters, runs one operation, answers FHIR JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ...index import Catalog
from . import terminology
from .params import OperationParams, collect
from .resources import FhirResponse, capability_statement

Operation = Callable[[Catalog, OperationParams], dict[str, Any]]


def _endpoint(operation: Operation) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> FhirResponse:
        params = await collect(request)
        resource = await run_in_threadpool(operation, request.state.catalog, params)
        return FhirResponse(resource)

    endpoint.__name__ = operation.__name__
    return endpoint


def metadata(request: Request) -> FhirResponse:
    base = str(request.url_for("fhir_metadata")).removesuffix("/metadata")
    loaded = [s["id"] for s in request.app.state.systems]
    return FhirResponse(capability_statement(base, loaded))


def routes() -> list[BaseRoute]:
    both = ["GET", "POST"]
    out: list[BaseRoute] = [
        Route("/metadata", metadata, name="fhir_metadata"),
        Route("/CodeSystem/$lookup", _endpoint(terminology.lookup), methods=both, name="fhir_lookup"),
        Route("/CodeSystem/$validate-code", _endpoint(terminology.validate_code), methods=both,
              name="fhir_validate_code"),
        Route("/CodeSystem/$subsumes", _endpoint(terminology.subsumes), methods=both, name="fhir_subsumes"),
        Route("/ValueSet/$expand", _endpoint(terminology.expand), methods=both, name="fhir_expand"),
        Route("/ConceptMap/$translate", _endpoint(terminology.translate), methods=both, name="fhir_translate"),
    ]
    return out
