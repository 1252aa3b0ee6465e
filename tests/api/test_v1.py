"""JSON API: shapes, the same data as the catalog, validation, caching, CORS and every error path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from medcodes.app import codes
from medcodes.index import Catalog
from medcodes.web.templating import safe_fragment

if TYPE_CHECKING:
    from starlette.testclient import TestClient

ERROR_KEYS = {"ok", "status", "error", "message"}


def assert_error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == ERROR_KEYS and body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["message"]
    return body  # type: ignore[no-any-return]


def test_search_shape(client: TestClient) -> None:
    r = client.get("/api/v1/search", params={"q": "diabetes", "limit": "3"})
    body = r.json()
    assert set(body) >= {"query", "total", "facets", "results", "did_you_mean", "parsed"}
    assert body["query"] == "diabetes" and len(body["results"]) == 3 and body["total"] >= 3
    first = body["results"][0]
    assert set(first) >= {"system", "system_name", "code", "title", "kind", "billable", "score", "match"}
    assert set(first["match"]) >= {"field", "fragment", "term"}
    assert body["facets"]["icd10cm"] >= 1 and body["facets"]["icd9cm"] == 1


def test_search_filters_and_paging(client: TestClient) -> None:
    only = client.get("/api/v1/search", params={"q": "diabetes", "system": "icd9cm"}).json()
    assert {r["system"] for r in only["results"]} == {"icd9cm"}
    both = client.get("/api/v1/search", params=[("q", "diabetes"), ("system", "icd9cm,icd10cm")]).json()
    assert {r["system"] for r in both["results"]} == {"icd9cm", "icd10cm"}
    billable = client.get("/api/v1/search", params={"q": "diabetes", "billable": "true", "limit": "50"}).json()
    assert billable["results"] and all(r["billable"] is True for r in billable["results"])
    page1 = client.get("/api/v1/search", params={"q": "diabetes", "limit": "2"}).json()["results"]
    page2 = client.get("/api/v1/search", params={"q": "diabetes", "limit": "2", "offset": "2"}).json()["results"]
    assert {r["code"] for r in page1}.isdisjoint({r["code"] for r in page2})


def test_suggest(client: TestClient) -> None:
    body = client.get("/api/v1/suggest", params={"q": "diab"}).json()
    assert body["query"] == "diab" and body["results"]
    assert all(set(r) >= {"system", "code", "title", "match"} for r in body["results"])
    codes = client.get("/api/v1/suggest", params={"q": "E11"}).json()["results"]
    assert codes[0]["code"] == "E11"


def test_code_is_the_catalog_code_data(client: TestClient, index_path: Path) -> None:
    r = client.get("/api/v1/codes/icd10cm/E11.9")
    body = r.json()
    assert body == codes.code_data(Catalog(index_path), "icd10cm", "E11.9").to_json()
    for key in ("title", "billable", "ancestors", "children", "notes", "crosswalks", "history"):
        assert key in body
    assert body["billable"] is True and [a["code"] for a in body["ancestors"]][-1] == "E11"


def test_code_accepts_any_form_and_names_the_canonical_address(client: TestClient) -> None:
    r = client.get("/api/v1/codes/ICD10CM/e119")
    assert r.status_code == 200 and r.json()["code"] == "E11.9"
    assert r.headers["link"] == '</api/v1/codes/icd10cm/E11.9>; rel="canonical"'


def test_code_etag_and_cache_control(client: TestClient) -> None:
    r = client.get("/api/v1/codes/icd10cm/E11.9")
    etag = r.headers["etag"]
    assert etag.startswith('"') and "max-age" in r.headers["cache-control"]
    assert client.get("/api/v1/codes/icd10cm/e119", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/api/v1/codes/icd10cm/E11.9", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/api/v1/codes/icd10cm/E11.9", headers={"If-None-Match": f'W/{etag}'}).status_code == 304


def test_validate(client: TestClient) -> None:
    body = {"system": "icd10cm", "codes": ["e119", "E11", "Z99.99", {"system": "hcpcs", "code": "j1100"}, "E11$%"]}
    r = client.post("/api/v1/validate", json=body)
    out = r.json()
    assert out["count"] == 5
    e119, e11, missing, j1100, bad = out["results"]
    assert e119 == {"input": "e119", "system": "icd10cm", "code": "E11.9", "exists": True, "billable": True,
                    "title": "Type 2 diabetes mellitus without complications"}
    assert e11["exists"] is True and e11["billable"] is False
    assert missing["exists"] is False and missing["title"] is None
    assert j1100["system"] == "hcpcs" and j1100["code"] == "J1100" and j1100["billable"] is True
    assert bad["exists"] is False and bad["message"] == "not a well-formed code"


def test_validate_without_system_finds_the_system(client: TestClient) -> None:
    out = client.post("/api/v1/validate", json={"codes": ["0SG00A1", "4513", "E11.8"]}).json()["results"]
    assert out[0]["system"] == "icd10pcs" and out[0]["exists"] is True
    assert out[1]["exists"] is True and out[1]["system"] is None
    assert {m["system"] for m in out[1]["matches"]} == {"icd9cm", "icd9pcs"}
    assert out[2]["deleted_in"] == "ICD-10-CM FY2026"


def test_validate_a_thousand_codes(client: TestClient) -> None:
    codes = ["E11.9", "J1100", "nope"] * 333 + ["E11"]
    out = client.post("/api/v1/validate", json={"codes": codes}).json()
    assert out["count"] == 1000 and sum(r["exists"] for r in out["results"]) == 667


def test_systems_and_sources(client: TestClient) -> None:
    systems_ = client.get("/api/v1/systems").json()["systems"]
    by_id = {s["id"]: s for s in systems_}
    assert by_id["icd10cm"]["fhir_uri"] == "http://hl7.org/fhir/sid/icd-10-cm" and by_id["icd10cm"]["count"] > 5
    assert "cpt" in by_id
    sources = client.get("/api/v1/sources").json()
    assert sources["counts"]["icd10pcs"] == 4 and isinstance(sources["sources"], list)


def test_openapi_documents_every_api_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and spec["info"]["title"]
    documented = {(p, m.upper()) for p, ms in spec["paths"].items() for m in ms}
    app = client.app
    mount = next(r for r in app.routes if getattr(r, "path", "") == "/api/v1")  # type: ignore[attr-defined]
    served = set()
    for route in mount.routes:
        if not route.include_in_schema:  # answers only bad input: /codes/{system}/ and codes with a slash
            continue
        path = "/api/v1" + route.path.replace(":path}", "}")  # a policy id may hold a slash
        served |= {(path, m) for m in route.methods if m != "HEAD"}
    assert served == documented
    json.dumps(spec)  # serialisable as is


def test_cors_for_reads_only(client: TestClient) -> None:
    r = client.get("/api/v1/search", params={"q": "diabetes"}, headers={"Origin": "https://other.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    pre = client.options("/api/v1/codes/icd10cm/E11.9", headers={
        "Origin": "https://other.example", "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-methods"] == "GET, HEAD"
    post = client.post("/api/v1/validate", json={"codes": []}, headers={"Origin": "https://other.example"})
    assert post.status_code == 200 and "access-control-allow-origin" not in post.headers
    assert client.get("/fhir/metadata").headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in client.get("/").headers


BAD_GETS = [
    ("/api/v1/search", 400),
    ("/api/v1/search?q=", 400),
    ("/api/v1/search?q=%20%20", 400),
    ("/api/v1/search?q=" + "a" * 201, 400),
    ("/api/v1/search?q=" + "x" * 5000, 400),
    ("/api/v1/search?q=abc%00def", 400),
    ("/api/v1/search?q=abc%1b", 400),
    ("/api/v1/search?q=diabetes&limit=0", 400),
    ("/api/v1/search?q=diabetes&limit=101", 400),
    ("/api/v1/search?q=diabetes&limit=ten", 400),
    ("/api/v1/search?q=diabetes&limit=99999999999999999999", 400),
    ("/api/v1/search?q=diabetes&offset=-1", 400),
    ("/api/v1/search?q=diabetes&offset=1e3", 400),
    ("/api/v1/search?q=diabetes&offset=10001", 400),
    ("/api/v1/search?q=diabetes&billable=maybe", 400),
    ("/api/v1/search?q=diabetes&system=icd11", 400),
    ("/api/v1/search?q=diabetes&system=icd10cm,%3Cscript%3E", 400),
    ("/api/v1/suggest", 400),
    ("/api/v1/suggest?q=di&limit=21", 400),
    ("/api/v1/codes/icd11/E11.9", 404),
    ("/api/v1/codes/icd10cm/Z99.99", 404),
    ("/api/v1/codes/icd10cm/E11.9.9.9", 404),
    ("/api/v1/codes/icd10cm/%3Cscript%3E", 400),
    ("/api/v1/codes/icd10cm/" + "E" * 300, 400),
    ("/api/v1/codes/icd10cm/E11%00", 400),
    ("/api/v1/codes/icd10cm/%F0%9F%98%80", 400),
    ("/api/v1/codes/icd10cm/", 400),
    ("/api/v1/codes/icd10cm", 400),  # redirected to the trailing slash first
    ("/api/v1/nope", 404),
    ("/api/v1/validate", 405),
    ("/api/nope", 404),
]


@pytest.mark.parametrize(("url", "status"), BAD_GETS)
def test_bad_gets_answer_the_one_error_shape(client: TestClient, url: str, status: int) -> None:
    assert_error(client.get(url, follow_redirects=True), status)


def test_method_not_allowed_names_the_allowed_ones(client: TestClient) -> None:
    r = client.get("/api/v1/validate")
    assert "POST" in r.headers["allow"]
    assert_error(client.delete("/api/v1/search?q=x"), 405)


BAD_BODIES: list[tuple[Any, int]] = [
    (b"", 400),
    (b"not json", 400),
    (b"\xff\xfe\x00", 400),
    (b"[" * 100_000 + b"]" * 100_000, 400),
    (b"[1, 2]", 400),
    (b'"codes"', 400),
    (b"{}", 400),
    (b'{"codes": "E11.9"}', 400),
    (b'{"codes": [1, 2]}', 400),
    (b'{"codes": [null]}', 400),
    (b'{"codes": [""]}', 400),
    (b'{"codes": [{"system": "icd10cm"}]}', 400),
    (b'{"codes": [{"system": "nope", "code": "E11.9"}]}', 400),
    (b'{"codes": [{"system": 5, "code": "E11.9"}]}', 400),
    (b'{"system": "icd11", "codes": ["E11.9"]}', 400),
    (b'{"system": ["icd10cm"], "codes": ["E11.9"]}', 400),
    (json.dumps({"codes": ["x" * 101]}).encode(), 400),
    (json.dumps({"codes": ["E11.9"] * 1001}).encode(), 400),
    (json.dumps({"codes": ["E11.9"] * 60_000}).encode(), 413),
]


@pytest.mark.parametrize(("body", "status"), BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_validate_bodies(client: TestClient, body: bytes, status: int) -> None:
    r = client.post("/api/v1/validate", content=body, headers={"Content-Type": "application/json"})
    assert_error(r, status)


def test_errors_from_pages_are_json_when_asked(client: TestClient) -> None:
    assert_error(client.get("/codes/icd11/X", headers={"Accept": "application/json"}), 404)


@pytest.mark.parametrize(("fragment", "html"), [
    ("Type 2 <mark>diabetes</mark>", "Type 2 <mark>diabetes</mark>"),
    ("a &amp; b &lt;c&gt;", "a &amp; b &lt;c&gt;"),
    ("a & b", "a &amp; b"),
    ("<script>alert(1)</script><mark>x</mark>", "&lt;script&gt;alert(1)&lt;/script&gt;<mark>x</mark>"),
    ('<mark onclick="x">y</mark>', '&lt;mark onclick=&quot;x&quot;&gt;y</mark>'),
    ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
])
def test_fragments_keep_only_mark(fragment: str, html: str) -> None:
    assert str(safe_fragment(fragment)) == html


def test_health_says_ok_and_becomes_warm(client: TestClient) -> None:
    import time

    deadline = time.monotonic() + 30
    while True:
        r = client.get("/api/v1/health")
        assert r.status_code == 200 and r.json()["status"] == "ok" and r.headers["cache-control"] == "no-store"
        if r.json()["warm"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.json()["warm"] is True  # the fixture index's title indexes take milliseconds
