"""The one HTTP client against real servers on 127.0.0.1: internal addresses refused unless allowed
(first URL and every redirect), a redirect cap, an overall deadline a dripping server cannot
stretch, Retry-After capped and counted against the deadline, a size cap."""

from __future__ import annotations

import socket
import time
from http.server import BaseHTTPRequestHandler

import pytest

from medcodes.http_client import FetchError, HttpClient, Limits, Retries, retry_after

from .sites import Site, answer, site


@pytest.fixture(autouse=True)
def _private_addresses_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDCODES_ALLOW_PRIVATE_URLS", raising=False)


def test_internal_addresses_are_refused_by_default() -> None:
    with site() as st, HttpClient() as http:
        st.routes["/"] = answer(200, b"hello")
        for url in (st.url + "/", st.url.replace("127.0.0.1", "localhost") + "/"):
            with pytest.raises(FetchError, match="loopback, private or link-local"):
                http.get(url)
        assert st.hits == []  # refused before connecting
        assert HttpClient(allow_private=True).get(st.url + "/").content == b"hello"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://example.org/", "/relative"])
def test_other_schemes_are_refused(url: str) -> None:
    with HttpClient(allow_private=True) as http, pytest.raises(FetchError, match="only http and https"):
        http.get(url)


def test_a_redirect_is_checked_like_the_first_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Allowed: 127.0.0.1 only. Its redirect to 127.0.0.2 (another internal address) is refused."""
    monkeypatch.setenv("MEDCODES_ALLOW_PRIVATE_URLS", "127.0.0.1")
    with site() as allowed, site("127.0.0.2") as internal, HttpClient() as http:
        internal.routes["/secret"] = answer(200, b"internal")
        allowed.routes["/go"] = answer(302, Location=internal.url + "/secret")
        allowed.routes["/file"] = answer(302, Location="file:///etc/passwd")
        allowed.routes["/here"] = answer(301, Location="/doc")
        allowed.routes["/doc"] = answer(200, b"doc")
        with pytest.raises(FetchError, match="127.0.0.2 is a loopback, private or link-local"):
            http.get(allowed.url + "/go")
        with pytest.raises(FetchError, match="only http and https"):
            http.get(allowed.url + "/file")
        got = http.get(allowed.url + "/here")
        assert got.content == b"doc" and got.url == allowed.url + "/doc"
    assert internal.hits == []


def test_a_redirect_loop_stops_at_the_cap() -> None:
    with site() as st, HttpClient(allow_private=True) as http:
        st.routes["/loop"] = answer(302, Location="/loop")
        with pytest.raises(FetchError, match="more than 10 redirects"):
            http.get(st.url + "/loop")
    assert len(st.hits) == 11


def _drip(h: BaseHTTPRequestHandler, st: Site) -> None:
    h.send_response(200)
    h.send_header("Content-Length", "1000")
    h.end_headers()
    try:
        for _ in range(1000):
            h.wfile.write(b"x")
            h.wfile.flush()
            st.sent += 1
            time.sleep(0.1)
    except OSError:
        return  # the client hung up


def test_a_dripping_server_is_cut_off_at_the_deadline() -> None:
    """Each byte comes well within the read timeout, so only the overall deadline ends it."""
    with site() as st, HttpClient(allow_private=True, timeout=30, deadline=1.0) as http:
        st.routes["/drip"] = _drip
        with pytest.raises(FetchError, match="within the 1 s deadline"):
            http.get(st.url + "/drip")
        assert st.sent < 1000


def test_retry_after_is_capped_and_counted_against_the_deadline() -> None:
    slept: list[float] = []
    with site() as st:
        st.routes["/busy"] = answer(503, b"", Retry_After="3600")
        with HttpClient(allow_private=True, retries=2, deadline=300, sleep=slept.append) as http:
            with pytest.raises(FetchError, match="cannot fetch after 3 tries: HTTP 503") as e:
                http.get(st.url + "/busy")
        assert slept == [60.0, 60.0] and e.value.status == 503  # an hour asked, a minute waited
        slept.clear()
        with HttpClient(allow_private=True, retries=5, deadline=30, sleep=slept.append) as http:
            with pytest.raises(FetchError, match="asked to wait 60 s, past the 30 s deadline"):
                http.get(st.url + "/busy")
        assert slept == [] and len(st.hits) == 4


def test_retries_count_the_time_already_spent() -> None:
    now = [0.0]
    tries = Retries("http://x/", Limits(retries=10, backoff=1.0, deadline=10.0), clock=lambda: now[0])
    assert 1.0 <= tries.wait_before_next("HTTP 503") < 1.2
    now[0] = 9.5
    with pytest.raises(FetchError, match="past the 10 s deadline"):
        tries.wait_before_next("HTTP 503", "2")


def test_retry_after_forms() -> None:
    assert retry_after("120") == 120.0 and retry_after(" 1.5 ") == 1.5
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412480.0 - 30) == 30.0
    assert retry_after("soon") is None and retry_after("") is None and retry_after(None) is None


def test_a_body_over_the_cap_is_refused() -> None:
    with site() as st, HttpClient(allow_private=True, max_bytes=1000) as http:
        st.routes["/big"] = answer(200, b"x" * 5000)
        with pytest.raises(FetchError, match="over the 1,000-byte limit") as e:
            http.get(st.url + "/big")
        assert e.value.too_big


def test_unreachable_is_one_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with HttpClient(allow_private=True, retries=1, backoff=0.01) as http:
        with pytest.raises(FetchError, match=r"cannot fetch after 2 tries: cannot connect"):
            http.get(f"http://127.0.0.1:{port}/")
