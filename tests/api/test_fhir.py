"""FHIR R4 terminology operations over the fixture index, and OperationOutcome for every bad input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from starlette.testclient import TestClient

CM = "http://hl7.org/fhir/sid/icd-10-cm"
PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
HCPCS = "urn:oid:2.16.840.1.113883.6.285"
CPT = "http://www.ama-assn.org/go/cpt"
ICD9 = "http://hl7.org/fhir/sid/icd-9-cm"
FHIR_JSON = "application/fhir+json"


def ok(r: Any, resource_type: str = "Parameters") -> dict[str, Any]:
    assert r.status_code == 200, r.text[:400]
    assert r.headers["content-type"].startswith(FHIR_JSON)
    body = r.json()
    assert body["resourceType"] == resource_type
    return body  # type: ignore[no-any-return]


def values(params: dict[str, Any], name: str) -> list[Any]:
    out = []
    for p in params["parameter"]:
        if p["name"] == name:
            out.append(next(v for k, v in p.items() if k.startswith("value")) if "part" not in p else p["part"])
    return out


def props(params: dict[str, Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for parts in values(params, "property"):
        code = next(p["valueCode"] for p in parts if p["name"] == "code")
        value = next(v for p in parts if p["name"] == "value" for k, v in p.items() if k.startswith("value"))
        out.setdefault(code, []).append(value)
    return out


def outcome(r: Any, status: int, issue: str) -> str:
    assert r.status_code == status, (r.status_code, r.text[:400])
    assert r.headers["content-type"].startswith(FHIR_JSON)
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error" and body["issue"][0]["code"] == issue, body
    return body["issue"][0]["diagnostics"]  # type: ignore[no-any-return]


def test_capability_statement(client: TestClient) -> None:
    cs = ok(client.get("/fhir/metadata"), "CapabilityStatement")
    assert cs["fhirVersion"] == "4.0.1" and cs["kind"] == "instance"
    ops = {(r["type"], o["name"]) for r in cs["rest"][0]["resource"] for o in r["operation"]}
    assert ops == {("CodeSystem", "lookup"), ("CodeSystem", "validate-code"), ("CodeSystem", "subsumes"),
                   ("ValueSet", "expand"), ("ValueSet", "validate-code"), ("ConceptMap", "translate")}
    assert CM in cs["implementation"]["description"]


def test_lookup(client: TestClient) -> None:
    p = ok(client.get("/fhir/CodeSystem/$lookup", params={"system": CM, "code": "e119"}))
    assert values(p, "name") == ["ICD-10-CM"]
    assert values(p, "display") == ["Type 2 diabetes mellitus without complications"]
    assert values(p, "version") == ["2026"]
    pr = props(p)
    assert pr["parent"] == ["E11"] and pr["billable"] == [True] and pr["inactive"] == [False]
    designations = values(p, "designation")
    assert any(x["name"] == "value" and x.get("valueString") == "Type 2 diabetes mellitus w/o complications"
               for d in designations for x in d)
    children = props(ok(client.get("/fhir/CodeSystem/$lookup", params={"system": CM, "code": "E11"})))["child"]
    assert children == ["E11.2", "E11.65", "E11.8", "E11.9"]  # E11.8 deleted, still a concept


def test_lookup_property_filter_and_post(client: TestClient) -> None:
    p = ok(client.get("/fhir/CodeSystem/$lookup", params=[("system", CM), ("code", "E11"), ("property", "parent")]))
    assert set(props(p)) == {"parent"}
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": PCS, "code": "0SG00A1"}}]}
    p = ok(client.post("/fhir/CodeSystem/$lookup", json=body, headers={"Content-Type": FHIR_JSON}))
    assert values(p, "name") == ["ICD-10-PCS"] and props(p)["parent"] == ["0SG"]


@pytest.mark.parametrize(("uri", "code", "name", "display_start"), [
    (HCPCS, "J1100", "HCPCS Level II", "Injection, dexamethasone"),
    (HCPCS, "lt", "HCPCS modifier", "Left side"),
    (ICD9, "250.00", "ICD-9-CM", "Diabetes mellitus without mention"),
    (ICD9, "25000", "ICD-9-CM", "Diabetes mellitus without mention"),
    (ICD9, "45.13", "ICD-9-CM Vol. 3", "Other endoscopy"),
    (ICD9, "451.3", "ICD-9-CM", "Invented phlebitis"),
    (ICD9, "8108", "ICD-9-CM Vol. 3", "Lumbar and lumbosacral fusion"),
    (CPT, "99999", "CPT", "Invented evaluation"),
])
def test_shared_uris_resolve_by_code_shape(client: TestClient, uri: str, code: str, name: str,
                                           display_start: str) -> None:
    p = ok(client.get("/fhir/CodeSystem/$lookup", params={"system": uri, "code": code}))
    assert values(p, "name") == [name] and values(p, "display")[0].startswith(display_start)


def test_validate_code(client: TestClient) -> None:
    def check(**params: str) -> dict[str, Any]:
        return ok(client.get("/fhir/CodeSystem/$validate-code", params=params))

    good = check(url=CM, code="E11.9")
    assert values(good, "result") == [True] and values(good, "display")[0].startswith("Type 2")
    assert values(check(system=CM, code="e119"), "result") == [True]
    missing = check(url=CM, code="Z99.99")
    assert values(missing, "result") == [False] and "Unknown code 'Z99.99'" in values(missing, "message")[0]
    # a deleted code is still a code of the system: valid, inactive, with a warning
    deleted = check(url=CM, code="E11.8")
    assert values(deleted, "result") == [True] and values(deleted, "inactive") == [True]
    assert "has a status of retired and inactive" in values(deleted, "message")[0]
    right = check(url=CM, code="E11.9", display="type 2 diabetes mellitus w/o complications")
    assert values(right, "result") == [True]
    wrong = check(url=CM, code="E11.9", display="Broken leg")
    assert values(wrong, "result") == [False] and "Broken leg" in values(wrong, "message")[0]


@pytest.mark.parametrize(("a", "b", "result"), [
    ("E11", "E11.9", "subsumes"),
    ("E11.9", "E11", "subsumed-by"),
    ("E08-E13", "E11.21", "subsumes"),
    ("e119", "E11.9", "equivalent"),
    ("E10", "E11.9", "not-subsumed"),
])
def test_subsumes(client: TestClient, a: str, b: str, result: str) -> None:
    p = ok(client.get("/fhir/CodeSystem/$subsumes", params={"system": CM, "codeA": a, "codeB": b}))
    assert values(p, "outcome") == [result]


def test_subsumes_with_codings(client: TestClient) -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "codingA", "valueCoding": {"system": PCS, "code": "0S"}},
        {"name": "codingB", "valueCoding": {"system": PCS, "code": "0SG00A1"}}]}
    assert values(ok(client.post("/fhir/CodeSystem/$subsumes", json=body)), "outcome") == ["subsumes"]


def expand(client: TestClient, **params: str) -> dict[str, Any]:
    return ok(client.get("/fhir/ValueSet/$expand", params=params), "ValueSet")["expansion"]  # type: ignore[no-any-return]


def test_expand_whole_system_with_paging(client: TestClient) -> None:
    all_ = expand(client, url=f"{CM}?fhir_vs", count="1000")
    codes = [c["code"] for c in all_["contains"]]
    assert all_["total"] == len(codes) == 16 and codes[0] == "E00-E89"
    assert all_["contains"][0]["abstract"] is True and all_["contains"][0]["system"] == CM
    assert next(c for c in all_["contains"] if c["code"] == "E11.8")["inactive"] is True
    page = expand(client, url=f"{CM}?fhir_vs", count="3", offset="2")
    assert [c["code"] for c in page["contains"]] == codes[2:5] and page["offset"] == 2 and page["total"] == 16
    active = expand(client, url=f"{CM}?fhir_vs", count="1000", activeOnly="true")
    assert active["total"] == 15


def test_expand_isa_and_filter(client: TestClient) -> None:
    isa = expand(client, url=f"{CM}?fhir_vs=isa/E11")
    assert [c["code"] for c in isa["contains"]] == ["E11", "E11.2", "E11.21", "E11.65", "E11.8", "E11.9"]
    kidney = expand(client, url=f"{CM}?fhir_vs=isa/e11", filter="kidney")
    assert [c["code"] for c in kidney["contains"]] == ["E11.2"]
    by_code = expand(client, url=f"{CM}?fhir_vs", filter="E11.6")
    assert by_code["total"] == 0  # filter words are letters and digits; "E11.6" is two words, E11 and 6
    assert expand(client, url=f"{CM}?fhir_vs", filter="E11")["total"] == 6
    icd9 = expand(client, url=f"{ICD9}?fhir_vs")
    assert {c["code"] for c in icd9["contains"]} == {"250.00", "451.3", "636.50", "45.13", "81.08"}
    assert all(c["system"] == ICD9 for c in icd9["contains"])
    hcpcs = expand(client, url=f"{HCPCS}?fhir_vs=isa/J0120-J8499")
    assert [c["code"] for c in hcpcs["contains"]] == ["J0120-J8499", "J1100"]


def test_translate_over_gems(client: TestClient) -> None:
    p = ok(client.get("/fhir/ConceptMap/$translate", params={"system": ICD9, "code": "250.00", "targetsystem": CM}))
    assert values(p, "result") == [True]
    match = values(p, "match")[0]
    assert {"name": "equivalence", "valueCode": "equivalent"} in match
    concept = next(x["valueCoding"] for x in match if x["name"] == "concept")
    assert concept == {"system": CM, "code": "E11.9", "display": "Type 2 diabetes mellitus without complications"}
    p = ok(client.get("/fhir/ConceptMap/$translate", params={"system": CM, "code": "E11.65"}))
    assert {"name": "equivalence", "valueCode": "inexact"} in values(p, "match")[0]
    p = ok(client.get("/fhir/ConceptMap/$translate", params={"system": CM, "code": "I21.9"}))
    assert values(p, "result") == [False] and values(p, "match")[0] == [{"name": "equivalence",
                                                                          "valueCode": "unmatched"}]
    p = ok(client.get("/fhir/ConceptMap/$translate", params={"system": PCS, "code": "0SG00A1", "reverse": "true"}))
    assert values(p, "result") == [True]
    to_pcs = {"system": ICD9, "code": "250.00", "target": f"{PCS}?fhir_vs"}
    p = ok(client.get("/fhir/ConceptMap/$translate", params=to_pcs))
    assert values(p, "result") == [False]
    p = ok(client.get("/fhir/ConceptMap/$translate", params={"system": CM, "code": "Z99.99"}))
    assert values(p, "result") == [False]


BAD: list[tuple[str, str, dict[str, str] | list[tuple[str, str]], int, str]] = [
    ("GET", "/fhir/CodeSystem/$lookup", {}, 400, "required"),
    ("GET", "/fhir/CodeSystem/$lookup", {"system": CM}, 400, "required"),
    ("GET", "/fhir/CodeSystem/$lookup", {"code": "E11.9"}, 400, "required"),
    ("GET", "/fhir/CodeSystem/$lookup", {"system": "http://example.org/nope", "code": "E11.9"}, 404, "not-found"),
    ("GET", "/fhir/CodeSystem/$lookup", {"system": CM, "code": "Z99.99"}, 404, "not-found"),
    ("GET", "/fhir/CodeSystem/$lookup", {"system": CM, "code": "x" * 5000}, 400, "invalid"),
    ("GET", "/fhir/CodeSystem/$lookup", {"system": CM, "code": "E11\x00"}, 400, "invalid"),
    ("GET", "/fhir/CodeSystem/$lookup", {"system": CM, "code": "E11.9", "_format": "xml"}, 406, "not-supported"),
    ("GET", "/fhir/CodeSystem/$validate-code", {"code": "E11.9"}, 400, "required"),
    ("GET", "/fhir/CodeSystem/$validate-code", {"code": "E11.9", "display": "x" * 5000}, 400, "invalid"),
    ("GET", "/fhir/CodeSystem/$subsumes", {"system": CM, "codeA": "E11"}, 400, "required"),
    ("GET", "/fhir/CodeSystem/$subsumes", {"system": CM, "codeA": "E11", "codeB": "Z99"}, 404, "not-found"),
    ("GET", "/fhir/ValueSet/$expand", {}, 400, "required"),
    ("GET", "/fhir/ValueSet/$expand", {"url": "http://example.org/vs"}, 404, "not-found"),
    ("GET", "/fhir/ValueSet/$expand", {"url": CM}, 404, "not-found"),
    ("GET", "/fhir/ValueSet/$expand", {"url": f"{CM}?fhir_vs=refset/123"}, 404, "not-found"),
    ("GET", "/fhir/ValueSet/$expand", {"url": f"{CM}?fhir_vs=isa/Z99.99"}, 404, "not-found"),
    ("GET", "/fhir/ValueSet/$expand", {"url": f"{CM}?fhir_vs", "count": "-1"}, 400, "invalid"),
    ("GET", "/fhir/ValueSet/$expand", {"url": f"{CM}?fhir_vs", "count": "abc"}, 400, "invalid"),
    ("GET", "/fhir/ValueSet/$expand", {"url": f"{CM}?fhir_vs", "count": "100000"}, 400, "too-costly"),
    ("GET", "/fhir/ValueSet/$expand", {"url": f"{CM}?fhir_vs", "offset": "-5"}, 400, "invalid"),
    ("GET", "/fhir/ValueSet/$expand", {"url": f"{CM}?fhir_vs", "activeOnly": "maybe"}, 400, "invalid"),
    ("GET", "/fhir/ValueSet/$expand", {"url": f"{CM}?fhir_vs", "filter": "a" * 500}, 400, "invalid"),
    ("GET", "/fhir/ConceptMap/$translate", {"system": CM}, 400, "required"),
    ("GET", "/fhir/ConceptMap/$translate", {"system": CM, "code": "E11.9", "reverse": "yes"}, 400, "invalid"),
    ("GET", "/fhir/ConceptMap/$translate", {"system": CM, "code": "E11.9", "targetsystem": "urn:x"}, 404,
     "not-found"),
    ("GET", "/fhir/Patient/1", {}, 404, "not-found"),
    ("GET", "/fhir/CodeSystem/$nope", {}, 404, "not-found"),
    ("DELETE", "/fhir/CodeSystem/$lookup", {}, 405, "not-supported"),
    ("PUT", "/fhir/metadata", {}, 405, "not-supported"),
]


@pytest.mark.parametrize(("method", "url", "params", "status", "issue"), BAD, ids=range(len(BAD)))
def test_bad_parameters_give_operation_outcomes(client: TestClient, method: str, url: str,
                                                params: dict[str, str], status: int, issue: str) -> None:
    outcome(client.request(method, url, params=params), status, issue)


BAD_POSTS: list[tuple[bytes, str, int, str]] = [
    (b"", FHIR_JSON, 400, "invalid"),
    (b"{not json", FHIR_JSON, 400, "invalid"),
    (b'{"resourceType": "Patient"}', FHIR_JSON, 400, "structure"),
    (b'{"resourceType": "Parameters", "parameter": {}}', FHIR_JSON, 400, "structure"),
    (b'{"resourceType": "Parameters", "parameter": [{"valueCode": "E11"}]}', FHIR_JSON, 400, "structure"),
    (b'{"resourceType": "Parameters", "parameter": [{"name": "code"}]}', FHIR_JSON, 400, "structure"),
    (b'{"resourceType": "Parameters", "parameter": [{"name": "coding", "valueCoding": "E11"}]}', FHIR_JSON, 400,
     "invalid"),
    (b'{"resourceType": "Parameters", "parameter": [{"name": "code", "valueCode": {"a": 1}},'
     b' {"name": "system", "valueUri": "http://hl7.org/fhir/sid/icd-10-cm"}]}', FHIR_JSON, 400, "invalid"),
    (b"code=E11.9", "application/x-www-form-urlencoded", 415, "not-supported"),
    (b"[" * 50_000 + b"]" * 50_000, FHIR_JSON, 400, "invalid"),
    (b" " * (600 * 1024), FHIR_JSON, 413, "too-costly"),
]


@pytest.mark.parametrize(("body", "ctype", "status", "issue"), BAD_POSTS, ids=range(len(BAD_POSTS)))
def test_bad_posts_give_operation_outcomes(client: TestClient, body: bytes, ctype: str, status: int,
                                           issue: str) -> None:
    outcome(client.post("/fhir/CodeSystem/$lookup", content=body, headers={"Content-Type": ctype}), status, issue)


def test_post_expand_with_a_value_set_that_is_no_resource(client: TestClient) -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": f"{CM}?fhir_vs"}, {"name": "valueSet", "valueString": "x"}]}
    outcome(client.post("/fhir/ValueSet/$expand", json=body), 400, "invalid")
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": f"{CM}?fhir_vs=isa/E11"}, {"name": "count", "valueInteger": 2}]}
    assert len(ok(client.post("/fhir/ValueSet/$expand", json=body), "ValueSet")["expansion"]["contains"]) == 2
