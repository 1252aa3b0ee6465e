"""Every 4xx and 5xx in one shape (the API's JSON error, an OperationOutcome under /fhir, an HTML
page for browsers), each with the security headers; a forged Host header never comes back."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from medcodes.index import Catalog
from medcodes.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from .. import live

CM = "http://hl7.org/fhir/sid/icd-10-cm"
FORGED = "evil.example"


def _assert_json_error(r: Any, status: int) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["ok"] is False and body["status"] == status and body["error"] and body["message"]
    assert r.headers["x-content-type-options"] == "nosniff"


def _assert_outcome(r: Any, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.json()["resourceType"] == "OperationOutcome" and r.json()["issue"][0]["diagnostics"]
    assert r.headers["x-content-type-options"] == "nosniff"


def _assert_page(r: Any, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"


def test_server_errors_carry_the_security_headers(index_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 500 is answered outside the middleware that sets headers on every other response."""

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("index broke")

    monkeypatch.setattr(Catalog, "official", broken)
    with TestClient(create_app(index_path), raise_server_exceptions=False) as c:
        _assert_page(c.get("/codes/icd10cm/E11.9"), 500)
        _assert_json_error(c.get("/api/v1/codes/icd10cm/E11.9"), 500)
        _assert_outcome(c.get("/fhir/CodeSystem/$lookup", params={"system": CM, "code": "E11.9"}), 500)
        cors = c.get("/api/v1/codes/icd10cm/E11.9")
        assert cors.headers["access-control-allow-origin"] == "*"  # a cross-origin reader sees the error


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/v1/nothing-here", 404),
    ("GET", "/api/v1/codes/icd11/E11.9", 404),
    ("POST", "/api/v1/search", 405),
    ("GET", "/api/v1/validate", 405),
    ("GET", "/api/v1/search?q=", 400),
    ("GET", "/api/v1/search?q=diabetes&as_of=", 400),
    ("POST", "/api/v1/validate", 400),
])
def test_api_errors_are_json(client: TestClient, method: str, path: str, status: int) -> None:
    _assert_json_error(client.request(method, path), status)


def test_bodies_past_the_limit_are_refused_in_the_error_shape(client: TestClient) -> None:
    big = json.dumps({"codes": ["E11.9"] * 60_000}).encode()  # about 600 KiB
    _assert_json_error(client.post("/api/v1/validate", content=big,
                                   headers={"content-type": "application/json"}), 413)

    def chunks() -> Any:  # no Content-Length: counted as it comes
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]

    _assert_json_error(client.post("/api/v1/validate", content=chunks(),
                                   headers={"content-type": "application/json"}), 413)
    params = json.dumps({"resourceType": "Parameters", "parameter": [
        {"name": "code", "valueCode": "E11.9"}, {"name": "system", "valueUri": CM},
        {"name": "display", "valueString": "x" * 600_000}]})
    _assert_outcome(client.post("/fhir/CodeSystem/$validate-code", content=params,
                                headers={"content-type": "application/fhir+json"}), 413)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/fhir/Nothing", 404),
    ("DELETE", "/fhir/metadata", 405),
    ("GET", "/fhir/CodeSystem/$lookup?system=" + CM, 400),
    ("GET", "/fhir/CodeSystem/$lookup?system=" + CM + "&code=E11.9&_format=xml", 406),
])
def test_fhir_errors_are_operation_outcomes(client: TestClient, method: str, path: str, status: int) -> None:
    _assert_outcome(client.request(method, path), status)


@pytest.mark.parametrize(("path", "status"), [
    ("/nothing-here", 404), ("/static/nothing.css", 404), ("/codes/icd10cm/Z99.99", 404), ("/search?q=%00", 400),
])
def test_page_errors_are_pages_with_the_headers(client: TestClient, path: str, status: int) -> None:
    _assert_page(client.get(path), status)


@pytest.mark.parametrize("path", [
    "/fhir/metadata", "/fhir/metadata?mode=terminology", "/fhir/CodeSystem", "/fhir/ValueSet",
    "/fhir", "/api/v1", "/browse/", "/static", "/api/docs/", "/codes/icd10cm/e119", "/search?q=E11.9",
])
def test_a_forged_host_is_never_reflected(client: TestClient, path: str) -> None:
    r = client.get(path, headers={"Host": FORGED})
    assert FORGED not in r.text
    assert FORGED not in r.headers.get("location", "")
    assert FORGED not in r.headers.get("link", "")


def test_absolute_urls_come_from_the_configured_base(index_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCODES_BASE_URL", "https://codes.example.org/")
    with TestClient(create_app(index_path), follow_redirects=False) as c:
        cs = c.get("/fhir/metadata", headers={"Host": FORGED}).json()
        assert cs["implementation"]["url"] == "https://codes.example.org/fhir"
        assert c.get("/fhir", headers={"Host": FORGED}).headers["location"] == "https://codes.example.org/fhir/"
    monkeypatch.delenv("MEDCODES_BASE_URL")
    with TestClient(create_app(index_path), follow_redirects=False) as c:
        assert c.get("/fhir/metadata").json()["implementation"]["url"] == "/fhir"


def _raw(base: str, request: bytes) -> tuple[bytes, dict[str, str], bytes]:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return lines[0].encode(), headers, body


def test_errors_the_server_answers_itself_keep_the_shape(index_path: Path, tmp_path: Path) -> None:
    """What uvicorn and the connection limits answer before the app sees a request."""
    env = {"MEDCODES_HEADER_TIMEOUT": "1", "MEDCODES_STORE": str(index_path.with_name("medcodes-store.sqlite"))}
    with live.medcodes_serve(index_path, tmp_path / "serve.log", env=env) as base:
        cases = [
            (b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
            (b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n", 408),
            (b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", 400),
            (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n", 400),  # TLS to a plain port
        ]
        for request, status in cases:
            line, headers, body = _raw(base, request)
            assert line.startswith(f"HTTP/1.1 {status} ".encode()), (request[:40], line)
            assert headers["content-type"] == "application/json" and headers["x-content-type-options"] == "nosniff"
            got = json.loads(body)
            assert got["ok"] is False and got["status"] == status and got["message"]
        line, headers, body = _raw(base, b"GET /fhir/metadata HTTP/1.1\r\nHost: x\r\n")
        assert line.startswith(b"HTTP/1.1 408 ") and json.loads(body)["resourceType"] == "OperationOutcome"
        # a body past the limit sent whole by a plain client: it reads the 413, not a reset connection
        big = json.dumps({"codes": ["E11.9"] * 350_000}).encode()  # 3.5 MB: most of it unsent when refused
        req = urllib.request.Request(f"{base}/api/v1/validate", data=big, headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=60)
        assert refused.value.code == 413 and json.loads(refused.value.read())["status"] == 413
