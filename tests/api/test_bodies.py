"""JSON request bodies (POST /api/v1/validate, FHIR operations) that Python parses but no UTF-8 can
carry: a clear 400 in the caller's error shape, never a 500."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from starlette.testclient import TestClient

FHIR_JSON = "application/fhir+json"
CM = "http://hl7.org/fhir/sid/icd-10-cm"


def _parameters(*items: tuple[str, str, str]) -> bytes:
    body = {"resourceType": "Parameters", "parameter": [{"name": n, k: v} for n, k, v in items]}
    return json.dumps(body).encode()  # ensure_ascii: a lone surrogate goes out as its \\u escape


@pytest.mark.parametrize("body", [
    b'{"codes":["\\ud800"]}',
    b'{"codes":["E11.9\\udfff"]}',
    b'{"codes":[{"system":"icd10cm","code":"E11.9"}],"\\udbff":1}',
    b'{"codes":["E11.9\xed\xa0\x80"]}',  # a surrogate as UTF-8 bytes
])
def test_validate_refuses_surrogates(client: TestClient, body: bytes) -> None:
    r = client.post("/api/v1/validate", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert "surrogate" in r.json()["message"] or "UTF-8" in r.json()["message"]


def test_a_paired_surrogate_escape_is_text(client: TestClient) -> None:
    r = client.post("/api/v1/validate", content=b'{"codes":["E11.9\\ud83d\\ude00"]}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["count"] == 1


@pytest.mark.parametrize(("operation", "items"), [
    ("CodeSystem/$lookup", [("system", "valueUri", CM), ("code", "valueCode", "E11.9\ud800")]),
    ("CodeSystem/$validate-code", [("url", "valueUri", CM), ("code", "valueCode", "E11.9\ud800")]),
    ("ConceptMap/$translate", [("system", "valueUri", CM), ("code", "valueCode", "E11.9\ud800")]),
    ("CodeSystem/$subsumes", [("system", "valueUri", CM), ("codeA", "valueCode", "E11"),
                              ("codeB", "valueCode", "E11.9\ud800")]),
    ("ValueSet/$expand", [("url", "valueUri", CM + "?fhir_vs"), ("filter", "valueString", "heart\ud800")]),
])
def test_fhir_operations_refuse_surrogates(client: TestClient, operation: str,
                                           items: list[tuple[str, str, str]]) -> None:
    r = client.post(f"/fhir/{operation}", content=_parameters(*items), headers={"Content-Type": FHIR_JSON})
    assert r.status_code == 400, r.text
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome" and "surrogate" in outcome["issue"][0]["diagnostics"]
