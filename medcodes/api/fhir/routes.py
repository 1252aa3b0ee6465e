"""HTTP endpoints under /fhir: each collects its parameters, runs one operation, answers FHIR JSON.

Errors are answered here as OperationOutcomes with the issues the operation found, so a failed
operation reads the same whether it came alone, in a batch Bundle or in $batch-validate-code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ...app.errors import classify
from ...app.http import public_url, read_json
from ...errors import MedcodesError
from ...index import Catalog
from . import expand, holdings, terminology, validate
from .context import Context
from .outcome import Issue, TxError, operation_outcome
from .params import OperationParams, check_json, collect, parameter_value
from .resources import FHIR_VERSION, FhirResponse, capability_statement, outcome, parameters, terminology_capabilities

Operation = Callable[[Context, OperationParams], dict[str, Any]]
MAX_BATCH = 200

OPERATIONS: dict[str, Operation] = {
    "CodeSystem/$lookup": terminology.lookup,
    "CodeSystem/$validate-code": validate.validate_code_system,
    "CodeSystem/$subsumes": terminology.subsumes,
    "ValueSet/$expand": expand.expand,
    "ValueSet/$validate-code": validate.validate_value_set,
    "ConceptMap/$translate": terminology.translate,
}


def run(catalog: Catalog, operation: Operation, p: OperationParams, lang: str | None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, resource) of one operation; every failure becomes an OperationOutcome."""
    try:
        ctx = Context(catalog, p, lang)
        return 200, operation(ctx, p)
    except TxError as e:
        return e.status, operation_outcome(e.issues)
    except MedcodesError as e:
        problem = classify(e)
        return problem.status, operation_outcome([Issue("error", problem.issue, problem.message)])


def _endpoint(operation: Operation) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> FhirResponse:
        params = await collect(request)
        status, resource = await run_in_threadpool(run, request.state.catalog, operation, params,
                                                   request.headers.get("accept-language"))
        return FhirResponse(resource, status)

    endpoint.__name__ = operation.__name__
    return endpoint


def _base(request: Request) -> str:
    return public_url(request.app.url_path_for("fhir_metadata").removesuffix("/metadata"))


def metadata(request: Request) -> FhirResponse:
    if request.query_params.get("mode") == "terminology":
        catalog: Catalog = request.state.catalog
        return FhirResponse(terminology_capabilities(_base(request), holdings.versions(catalog)))
    loaded = [s["id"] for s in request.app.state.systems]
    return FhirResponse(capability_statement(_base(request), loaded))


def versions(request: Request) -> FhirResponse:
    return FhirResponse(parameters(("version", FHIR_VERSION), ("default", FHIR_VERSION)))


async def batch_validate(request: Request) -> FhirResponse:
    """ValueSet/$batch-validate-code: one $validate-code per `validation` parameter, sharing the rest."""
    params = await collect(request)
    shared = {k: v for k, v in params.values.items() if k != "validation"}
    items = params.resources("validation")
    if len(items) > MAX_BATCH:
        return FhirResponse(outcome("too-costly", f"at most {MAX_BATCH} validations per request"), 400)
    lang = request.headers.get("accept-language")

    def work() -> list[dict[str, Any]]:
        out = []
        for item in items:
            values = {k: list(v) for k, v in shared.items()}
            for name, value in _parameters_of(item):
                values.setdefault(name, []).insert(0, value)
            _, resource = run(request.state.catalog, validate.validate_value_set, OperationParams(values), lang)
            out.append({"name": "validation", "resource": resource})
        return out

    try:
        results = await run_in_threadpool(work)
    except TxError as e:
        return FhirResponse(operation_outcome(e.issues), e.status)
    return FhirResponse({"resourceType": "Parameters", "parameter": results})


def _parameters_of(resource: dict[str, Any]) -> list[tuple[str, Any]]:
    if resource.get("resourceType") != "Parameters" or not isinstance(resource.get("parameter"), list):
        raise TxError(400, [Issue("error", "invalid", "each validation must be a Parameters resource")])
    return [(p["name"], parameter_value(p, i)) for i, p in enumerate(resource["parameter"])]


async def batch(request: Request) -> FhirResponse:
    """A batch Bundle of operation calls (POST Parameters, or GET with a query string)."""
    body = await read_json(request)
    check_json(body)
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle" or body.get("type") != "batch":
        return FhirResponse(outcome("invalid", "POST a Bundle of type batch to the base URL"), 400)
    entries = body.get("entry") or []
    if not isinstance(entries, list) or len(entries) > MAX_BATCH:
        return FhirResponse(outcome("too-costly", f"a batch holds at most {MAX_BATCH} entries"), 400)
    lang = request.headers.get("accept-language")
    catalog = request.state.catalog
    results = await run_in_threadpool(lambda: [_batch_entry(catalog, e, lang) for e in entries])
    return FhirResponse({"resourceType": "Bundle", "type": "batch-response", "entry": results})


def _batch_entry(catalog: Catalog, entry: Any, lang: str | None) -> dict[str, Any]:
    from urllib.parse import parse_qsl, urlsplit

    req = entry.get("request") if isinstance(entry, dict) else None
    url = req.get("url") if isinstance(req, dict) else None
    if not isinstance(url, str):
        status, resource = 400, outcome("invalid", "each batch entry needs request.url")
    else:
        parts = urlsplit(url)
        operation = OPERATIONS.get(parts.path.strip("/"))
        values: dict[str, list[Any]] = {}
        for k, v in parse_qsl(parts.query):
            values.setdefault(k, []).append(v)
        res = entry.get("resource")
        if operation is None:
            status, resource = 404, outcome("not-supported", f"no operation at {url[:100]!r} in a batch")
        else:
            try:
                if isinstance(res, dict):
                    for name, value in _parameters_of(res):
                        values.setdefault(name, []).append(value)
                status, resource = run(catalog, operation, OperationParams(values), lang)
            except TxError as e:
                status, resource = e.status, operation_outcome(e.issues)
    return {"resource": resource, "response": {"status": str(status)}}


def routes() -> list[BaseRoute]:
    both = ["GET", "POST"]
    out: list[BaseRoute] = [
        Route("/", batch, methods=["POST"], name="fhir_batch"),
        Route("/metadata", metadata, name="fhir_metadata"),
        Route("/$versions", versions, name="fhir_versions"),
        Route("/CodeSystem/$lookup", _endpoint(terminology.lookup), methods=both, name="fhir_lookup"),
        Route("/CodeSystem/$validate-code", _endpoint(validate.validate_code_system), methods=both,
              name="fhir_validate_code"),
        Route("/CodeSystem/$subsumes", _endpoint(terminology.subsumes), methods=both, name="fhir_subsumes"),
        Route("/ValueSet/$expand", _endpoint(expand.expand), methods=both, name="fhir_expand"),
        Route("/ValueSet/$validate-code", _endpoint(validate.validate_value_set), methods=both,
              name="fhir_vs_validate_code"),
        Route("/ValueSet/$batch-validate-code", batch_validate, methods=["POST"], name="fhir_batch_validate"),
        Route("/ConceptMap/$translate", _endpoint(terminology.translate), methods=both, name="fhir_translate"),
        *holdings.routes(),
    ]
    return out
