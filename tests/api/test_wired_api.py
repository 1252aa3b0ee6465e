"""The code data's explainer, similar codes and policies in the JSON API and `medcodes show --json`;
the similar, policies and changes endpoints; as_of on the API and `date` on FHIR $validate-code."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from medcodes import search as search_library
from medcodes.app import codes, memo
from medcodes.cli import main
from medcodes.index import Catalog

from .test_v1 import assert_error

if TYPE_CHECKING:
    from starlette.testclient import TestClient

CM = "http://hl7.org/fhir/sid/icd-10-cm"
POLICY_KEYS = {"policy_id", "payer", "title", "url", "section", "snippet", "version"}


def test_code_data_carries_explainer_similar_and_policies(client: TestClient) -> None:
    body = client.get("/api/v1/codes/icd10cm/E11.65").json()
    sections = body["explainer"]["sections"]
    assert sections and all({"title", "text", "source"} <= set(s) for s in sections)
    official = [s for s in sections if s["source"]["type"] == "official"]
    generated = [s for s in sections if s["source"]["type"] == "generated"]
    assert official[0]["title"] == "Summary" and official[0]["source"]["fields"]
    assert [s["title"] for s in generated] == ["Summary", "Symptoms"]
    assert generated[0]["source"] == {"type": "generated", "model": "test-model-7b", "date": "2026-01-02",
                                      "review_status": "unreviewed", "prompt_version": "test-v1"}
    assert body["explainer"]["generated"]["label"] == "Generated — not medical advice"
    assert len(body["similar"]) <= 10 and all({"system", "code", "title", "reason"} <= set(s) for s in body["similar"])
    assert body["policies_total"] == 3 and all(POLICY_KEYS <= set(p) for p in body["policies"])
    cgm = next(p for p in body["policies"] if p["policy_id"] == "example-cgm")
    assert (cgm["section"], cgm["version"], cgm["url"]) == ("covered", 1, "https://example.org/policies/cgm")
    assert [m["section"] for m in cgm["mentions"]] == ["covered", "coding"]


def test_a_code_without_policies_or_generated_text(client: TestClient) -> None:
    body = client.get("/api/v1/codes/icd10cm/E11.9").json()
    assert body["policies"] == [] and body["policies_total"] == 0
    assert {s["source"]["type"] for s in body["explainer"]["sections"]} == {"official"}
    assert body["explainer"]["generated"] is None and body["similar"]


@pytest.mark.parametrize(("args", "url"), [
    (["E11.65"], "/api/v1/codes/icd10cm/E11.65"),
    (["63650", "--system", "cpt"], "/api/v1/codes/cpt/63650"),
    (["0SG00A1"], "/api/v1/codes/icd10pcs/0SG00A1"),
])
def test_show_json_is_the_api_answer(client: TestClient, index_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch, args: list[str], url: str) -> None:
    monkeypatch.delenv("MEDCODES_STORE", raising=False)  # the store beside the index, as the app reads it
    assert main(["show", *args, "--db", str(index_path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == client.get(url).json()
    for key in ("explainer", "similar", "policies"):
        assert key in shown


def test_show_names_both_meanings_of_a_cpt_lookalike(index_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDCODES_STORE", raising=False)
    assert main(["show", "63650", "--db", str(index_path)]) == 0
    out = capsys.readouterr().out
    assert "is a code in 2 systems" in out and "636.50" in out and "63650 — (no descriptor" in out
    assert "Spinal cord stimulation" in out


def test_the_catalog_code_data_is_the_api_answer(client: TestClient, index_path: Path, store_path: Path) -> None:
    catalog = Catalog(index_path, store=store_path)
    assert client.get("/api/v1/codes/icd10cm/E11.65").json() == codes.code_data(catalog, "icd10cm", "E11.65").to_json()


def test_similar_endpoint(client: TestClient) -> None:
    r = client.get("/api/v1/codes/icd10cm/e1165/similar", params={"limit": "3"})
    body = r.json()
    assert r.status_code == 200 and body["system"] == "icd10cm" and body["code"] == "E11.65"
    assert len(body["similar"]) == 3 and r.headers["etag"]
    assert r.headers["link"] == '</api/v1/codes/icd10cm/E11.65/similar>; rel="canonical"'
    full = client.get("/api/v1/codes/icd10cm/E11.65").json()["similar"]
    assert body["similar"] == full[:3]


def test_policies_endpoint(client: TestClient) -> None:
    body = client.get("/api/v1/codes/icd10cm/E11.65/policies").json()
    assert body["total"] == 3 and [p["policy_id"] for p in body["policies"]][0] == "example-cgm"
    page = client.get("/api/v1/codes/icd10cm/E11.65/policies", params={"limit": "1", "offset": "1"}).json()
    assert page["total"] == 3 and page["policies"] == body["policies"][1:2]
    cpt = client.get("/api/v1/codes/cpt/63660/policies").json()  # cited only through the range 63650-63688
    assert cpt["total"] == 1 and cpt["policies"][0]["section"] == "coding"
    assert client.get("/api/v1/codes/icd10cm/E11.9/policies").json() == {
        "system": "icd10cm", "code": "E11.9", "total": 0, "policies": []}


def test_policy_search_and_policy_json(client: TestClient) -> None:
    found = client.get("/api/v1/policies", params={"q": "spinal"}).json()
    assert found["query"] == "spinal" and [r["policy_id"] for r in found["results"]] == ["example-scs"]
    by_code = client.get("/api/v1/policies", params={"q": "E11.65"}).json()["results"]
    assert {r["policy_id"] for r in by_code} == {"example-cgm", "example-scs", "hostile"}
    every = client.get("/api/v1/policies").json()["results"]
    assert len(every) == 3
    one = client.get("/api/v1/policies", params={"payer": "Example Health Plan", "limit": "1"}).json()["results"]
    assert len(one) == 1 and one[0]["payer"] == "Example Health Plan"
    policy = client.get("/api/v1/policies/example-scs").json()
    assert policy["title"] == "Spinal cord stimulation" and "html" not in policy and "text" not in policy
    assert {(c["system"], c["code"]) for c in policy["codes"]} == {("cpt", "63650"), ("cpt", "63685"),
                                                                  ("icd10cm", "E11.65")}
    assert policy["ranges"][0]["first"] == "63650"


def test_changes_json(client: TestClient) -> None:
    body = client.get("/api/v1/changes/icd10cm/ICD-10-CM FY2026").json()
    assert body["counts"] == {"added": 4, "revised": 1, "deleted": 1} and body["effective"] == "2025-10-01"
    assert {c["code"] for c in body["changes"] if c["change"] == "deleted"} == {"E11.8"}
    releases = client.get("/api/v1/changes").json()["releases"]
    assert releases == [{"system": "icd10cm", "release": "ICD-10-CM FY2026", "effective": "2025-10-01",
                         "added": 4, "revised": 1, "deleted": 1}]


def test_code_as_of_a_date(client: TestClient) -> None:
    before = client.get("/api/v1/codes/icd10cm/E11.8", params={"as_of": "2025-01-01"}).json()["as_of"]
    assert before["valid"] is True and before["release"] == "ICD-10-CM FY2025"
    after = client.get("/api/v1/codes/icd10cm/E11.8", params={"as_of": "2025-10-01"}).json()["as_of"]
    assert after["valid"] is False and "deleted in ICD-10-CM FY2026" in after["reason"]
    old = client.get("/api/v1/codes/icd10cm/E11.65", params={"as_of": "2025-01-01"}).json()["as_of"]
    assert old["title"] == "Type 2 diabetes mellitus with hyperglycemia (old)"
    new = client.get("/api/v1/codes/icd10cm/E10.9", params={"as_of": "2025-01-01"}).json()["as_of"]
    assert new["valid"] is False and "added in ICD-10-CM FY2026" in new["reason"]
    assert "as_of" not in client.get("/api/v1/codes/icd10cm/E11.8").json()


def test_as_of_before_the_first_release_is_unknown(client: TestClient, index_path: Path) -> None:
    """Before the first loaded release, the index cannot say the code was valid."""
    then = Catalog(index_path).as_of("icd10cm", "E11.9", "2019-06-01").to_json()
    assert then["valid"] is None and then["release"] is None and then["exists"] is None
    assert then["reason"].startswith("no release of ICD-10-CM loaded in force on 2019-06-01")
    assert "ICD-10-CM FY2025, effective 2024-10-01" in then["reason"]
    api = client.get("/api/v1/codes/icd10cm/E11.9", params={"as_of": "2019-06-01"}).json()["as_of"]
    assert api == then
    # A release without an effective date is taken to be in force (HCPCS files carry none here)
    assert Catalog(index_path).as_of("hcpcs", "J1100", "1990-01-01").valid is True
    cpt = client.get("/api/v1/codes/cpt/63650", params={"as_of": "2025-01-01"}).json()["as_of"]
    assert cpt["valid"] is None and "no loaded CPT data includes 63650" in cpt["reason"]


def test_search_takes_as_of(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    r = client.get("/api/v1/search", params={"q": "diabetes", "as_of": "2025-01-01"})
    assert r.status_code == 200 and r.json()["results"]
    if "as_of" in inspect.signature(search_library.search).parameters:
        assert "2025-01-01" in r.text  # the library's own as-of answer, whatever its shape
    seen: dict[str, Any] = {}

    def search(catalog: Any, q: str, systems: Any = None, billable: Any = None, limit: int = 10,
               offset: int = 0, as_of: str | None = None) -> dict[str, Any]:
        seen["as_of"] = as_of
        return {"query": q, "total": 0, "facets": {}, "results": [], "did_you_mean": None, "parsed": {}}

    monkeypatch.setattr(search_library, "search", search)
    memo.SEARCHES.clear()  # the same request again would be answered from memory
    client.get("/api/v1/search", params={"q": "diabetes", "as_of": "2025-01-01"})
    assert seen == {"as_of": "2025-01-01"}  # passed on once the library takes it


def test_fhir_validate_code_on_a_date(client: TestClient) -> None:
    def validate(**p: str) -> dict[str, Any]:
        r = client.get("/fhir/CodeSystem/$validate-code", params={"url": CM, **p})
        assert r.status_code == 200, r.text
        return {x["name"]: next((v for k, v in x.items() if k.startswith("value")), None)
                for x in r.json()["parameter"]}

    now = validate(code="E11.8")  # deleted in the newest release: still a code, inactive
    assert now["result"] is True and now["inactive"] is True
    then = validate(code="E11.8", date="2025-01-01")
    assert then["result"] is True and "ICD-10-CM FY2025" in then["message"]
    assert validate(code="E11.8", date="2025-11-01")["result"] is False
    assert validate(code="E10.9", date="2025-01-01")["result"] is False  # added in FY2026
    old = validate(code="E11.65", date="2025-01-01T08:30:00Z", display="Type 2 diabetes mellitus with hyperglycemia"
                   " (old)")
    assert old["result"] is True and old["display"].endswith("(old)")
    unknown = validate(code="E11.9", date="2001-01-01")
    assert unknown["result"] is False and unknown["message"].startswith("cannot tell")
    assert validate(code="E11", date="2025-11-01")["result"] is True  # a header is in the code system


@pytest.mark.parametrize("date", ["2025-13-01", "2025-02-30", "yesterday", "20250101", "2025-01-01T25:00",
                                  "2025-01-01 trailing", "2025"])
def test_fhir_bad_dates_are_operation_outcomes(client: TestClient, date: str) -> None:
    r = client.get("/fhir/CodeSystem/$validate-code", params={"url": CM, "code": "E11.9", "date": date})
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    assert r.json()["issue"][0]["code"] == "invalid" and "date" in r.json()["issue"][0]["diagnostics"]
    post = client.post("/fhir/CodeSystem/$validate-code", json={"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": CM}, {"name": "code", "valueCode": "Z99.99"}, {"name": "date", "valueDate": date}]},
        headers={"Content-Type": "application/fhir+json"})
    assert post.status_code == 400 and post.json()["resourceType"] == "OperationOutcome"


BAD_GETS = [
    ("/api/v1/codes/icd10cm/E11.9?as_of=2025-13-01", 400),
    ("/api/v1/codes/icd10cm/E11.9?as_of=2025-1-1", 400),
    ("/api/v1/codes/icd10cm/E11.9?as_of=" + "9" * 300, 400),
    ("/api/v1/codes/icd11/E11.9?as_of=bad", 400),
    ("/api/v1/codes/icd10cm/Z99.99?as_of=2025-01-01", 404),
    ("/api/v1/search?q=diabetes&as_of=2025-02-30", 400),
    ("/api/v1/codes/icd10cm/E11.9/similar?limit=0", 400),
    ("/api/v1/codes/icd10cm/E11.9/similar?limit=51", 400),
    ("/api/v1/codes/icd10cm/Z99.99/similar", 404),
    ("/api/v1/codes/icd11/E11.9/similar", 404),
    ("/api/v1/codes/icd10cm/%3Cb%3E/similar", 400),
    ("/api/v1/codes/icd10cm/E11.9/policies?limit=x", 400),
    ("/api/v1/codes/icd10cm/E11.9/policies?offset=-1", 400),
    ("/api/v1/codes/cpt/63700/policies", 404),
    ("/api/v1/codes/cpt/63700", 404),
    ("/api/v1/codes/icd10cm/E11.9/nope", 400),
    ("/api/v1/codes/icd10cm/E11.9/similar/more", 400),
    ("/api/v1/policies?q=" + "a" * 201, 400),
    ("/api/v1/policies?q=%00", 400),
    ("/api/v1/policies?limit=0", 400),
    ("/api/v1/policies/nope", 404),
    ("/api/v1/policies/%01", 400),
    ("/api/v1/changes/icd10cm/FY1999", 404),
    ("/api/v1/changes/icd11/ICD-10-CM%20FY2026", 404),
    ("/api/v1/changes/icd10cm/%01", 400),
    ("/api/v1/changes/icd10cm", 404),
]


@pytest.mark.parametrize(("url", "status"), BAD_GETS)
def test_bad_gets_answer_the_one_error_shape(client: TestClient, url: str, status: int) -> None:
    assert_error(client.get(url, follow_redirects=True), status)


def test_new_routes_are_documented_with_their_parameters(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/codes/{system}/{code}/similar", "/api/v1/codes/{system}/{code}/policies",
                 "/api/v1/policies", "/api/v1/policies/{policy_id}", "/api/v1/changes/{system}/{release}"):
        assert "get" in paths[path], path
    names = {p["name"] for p in paths["/api/v1/codes/{system}/{code}"]["get"]["parameters"]}
    assert "as_of" in names
    assert "as_of" in {p["name"] for p in paths["/api/v1/search"]["get"]["parameters"]}
