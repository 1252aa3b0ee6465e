"""The one way medcodes talks HTTP: policy ingest and crawls, the CMS Coverage API, release
downloads, and the language-model endpoint's retries.

Every request has an overall deadline (redirects, retries, waits and the body together: a server
that drips a byte every few seconds cannot hold a command forever), a size cap, at most
`max_redirects` redirects each checked by the same rules as the first URL (http/https only, and
no loopback, private, link-local or otherwise internal address unless the operator allows them with
MEDCODES_ALLOW_PRIVATE_URLS), retries on transport errors and 429/5xx with backoff or the server's
Retry-After, capped and counted against the deadline.
"""

from __future__ import annotations

import ipaddress
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import httpx

from . import settings
from .errors import MedcodesError

USER_AGENT = "medcodes/0.1 (+https://github.com/medcodes)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class FetchError(MedcodesError):
    """A URL that could not be fetched, or a downloaded file that is not a good copy.

    `FetchError(url, message)` names the URL; `FetchError(message)` is about a file already here.
    `retryable`: a transport failure (timeout, refused or broken connection) that asking again
    may get past; `timed_out`: it was a timeout; `too_big`: the answer passed the size cap.
    """

    retryable = False
    timed_out = False
    too_big = False

    def __init__(self, url: str, message: str | None = None, status: int | None = None) -> None:
        self.url = url if message is not None else ""
        self.status = status
        super().__init__(f"{url}: {message}" if message is not None else url)


@dataclass(frozen=True, slots=True)
class Limits:
    timeout: float = 30.0  # seconds to connect, or between two reads
    deadline: float = 120.0  # seconds for the whole request: redirects, retries, waits, body
    max_bytes: int = 50 * 1024 * 1024
    max_redirects: int = 10
    retries: int = 4
    backoff: float = 0.5  # first wait between tries, doubled each time
    max_retry_after: float = 60.0  # a longer Retry-After is waited only this long
    allow_private: bool | None = None  # None: MEDCODES_ALLOW_PRIVATE_URLS


Allowed = bool | tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def private_allowed(limits: Limits) -> Allowed:
    """Which internal addresses may be fetched: all (True), none (False) or these networks, from
    MEDCODES_ALLOW_PRIVATE_URLS: "1" for all, or addresses and networks ("10.1.0.0/16,127.0.0.1")."""
    if limits.allow_private is not None:
        return limits.allow_private
    value = settings.get("MEDCODES_ALLOW_PRIVATE_URLS").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    try:
        return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in value.split(",") if v.strip())
    except ValueError:
        raise MedcodesError(f"MEDCODES_ALLOW_PRIVATE_URLS wants 1, or addresses and networks such as"
                            f" 10.1.0.0/16,127.0.0.1; got {value!r}") from None


# -- addresses -------------------------------------------------------------------------------
def check_url(url: str, allow_private: Allowed) -> None:
    """Refuse a URL medcodes must not fetch: another scheme, or a host that is (or resolves to)
    an internal address, where a document's link or a redirect could reach the operator's network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(url, f"only http and https URLs are fetched, not {parts.scheme or 'a relative URL'}")
    host = parts.hostname
    if not host:
        raise FetchError(url, "the URL has no host")
    if allow_private is True:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise FetchError(url, f"cannot resolve {host} ({e})") from None
    for info in infos:
        refuse_address(url, str(info[4][0]), allow_private or ())


def refuse_address(url: str, address: str, allowed: tuple[Any, ...] = ()) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in net for net in allowed if net.version == ip.version):
        return
    if not ip.is_global or ip.is_multicast:
        raise FetchError(url, f"{ip} is a loopback, private or link-local address; medcodes fetches only public"
                              " addresses unless MEDCODES_ALLOW_PRIVATE_URLS allows it")


# -- waiting ---------------------------------------------------------------------------------
def retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a Retry-After header asks for (delay-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now())


class Retries:
    """When to ask again, shared by every client: transport errors and 429/5xx, up to `retries`
    more tries, each wait the server's Retry-After (capped) or exponential backoff, never past
    the deadline."""

    def __init__(self, url: str, limits: Limits, clock: Callable[[], float] | None = None) -> None:
        self.url, self.limits, self._clock = url, limits, clock or time.monotonic
        self.ends = self._clock() + limits.deadline
        self.attempt = 0

    def left(self) -> float:
        return self.ends - self._clock()

    def check_deadline(self) -> None:
        if self.left() <= 0:
            raise FetchError(self.url, f"no complete answer within the {self.limits.deadline:g} s deadline")

    def wait_before_next(self, problem: str, retry_after_header: str | None = None, *,
                         status: int | None = None) -> float:
        """Seconds to wait before the next try, or FetchError saying why there is none."""
        if self.attempt >= self.limits.retries:
            raise FetchError(self.url, f"cannot fetch after {self.attempt + 1} tries: {problem}", status)
        told = retry_after(retry_after_header)
        if told is not None:
            wait = min(told, self.limits.max_retry_after)
        else:
            wait = self.limits.backoff * (2 ** self.attempt) * (1 + random.random() * 0.1)
        if wait >= self.left():
            raise FetchError(self.url, f"{problem}; asked to wait {wait:g} s, past the"
                                       f" {self.limits.deadline:g} s deadline", status)
        self.attempt += 1
        return wait


class RateLimiter:
    """At most `per_second` requests per second, spaced evenly, shared by all threads of a client."""

    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def slow_down(self, interval: float) -> None:
        """Never faster than this (a robots.txt Crawl-delay)."""
        self.interval = max(self.interval, interval)

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            self._sleep(delay)


# -- the client ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    status: int
    content: bytes
    content_type: str
    headers: Mapping[str, str]

    def json(self) -> Any:
        import json

        try:
            return json.loads(self.content)
        except ValueError as e:
            raise FetchError(self.url, f"answer is not JSON ({e})", self.status) from None


class HttpClient:
    def __init__(self, *, limits: Limits | None = None, rate: float = 0.0, user_agent: str = USER_AGENT,
                 headers: Mapping[str, str] | None = None, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, **overrides: Any) -> None:
        """`overrides`: Limits fields by name (retries=1, timeout=60.0, ...)."""
        self.limits = replace(limits or Limits(), **overrides)
        self.limiter = RateLimiter(rate, sleep=sleep)
        self.user_agent = user_agent
        self._sleep = sleep
        self.requests = 0
        self._client = httpx.Client(timeout=self.limits.timeout, follow_redirects=False, transport=transport,
                                    headers={"User-Agent": user_agent, **(headers or {})})

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
            ok: frozenset[int] = frozenset({200}), retries: int | None = None) -> Fetched:
        """GET the whole answer, retrying as `Retries` says, then one clear error."""
        limits = self.limits if retries is None else replace(self.limits, retries=retries)
        tries = Retries(url, limits)
        while True:
            try:
                got = self._get_once(url, params, headers, tries)
            except FetchError as e:
                if not e.retryable:
                    raise
                self._sleep(tries.wait_before_next(str(e).removeprefix(f"{url}: ")))
                continue
            if got.status in RETRY_STATUSES:
                self._sleep(tries.wait_before_next(f"HTTP {got.status}{_detail(got)}", got.headers.get("retry-after"),
                                                   status=got.status))
                continue
            if got.status not in ok:
                raise FetchError(url, f"HTTP {got.status}{_detail(got)}", got.status)
            return got

    def _get_once(self, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None,
                  tries: Retries) -> Fetched:
        with self.stream(url, params=params, headers=headers, tries=tries) as r:
            chunks = list(self.body(r, tries))
            return Fetched(str(r.url), r.status_code, b"".join(chunks), r.headers.get("content-type", ""),
                           dict(r.headers))

    @contextmanager
    def stream(self, url: str, *, params: Mapping[str, Any] | None = None,
               headers: Mapping[str, str] | None = None, tries: Retries | None = None) -> Iterator[httpx.Response]:
        """One GET, its redirects followed by hand (each checked), the final response open for
        reading with `body`. Transport errors become FetchError with `retryable` set."""
        tries = tries or Retries(url, self.limits)
        allow = private_allowed(self.limits)
        current, query = url, params
        for _hop in range(self.limits.max_redirects + 1):
            check_url(current, allow)
            tries.check_deadline()
            self.limiter.wait()
            self.requests += 1
            try:
                r = self._client.send(self._client.build_request("GET", current, params=query, headers=headers,
                                                                 timeout=self._timeout(tries)), stream=True)
            except httpx.HTTPError as e:
                raise _transport_error(current, e) from None
            try:
                if allow is not True:
                    _check_peer(current, r, allow or ())
                if r.status_code in REDIRECT_STATUSES and r.headers.get("location"):
                    current, query = urljoin(str(r.url), r.headers["location"]), None
                    continue
                yield r
                return
            finally:
                r.close()
        raise FetchError(url, f"more than {self.limits.max_redirects} redirects")

    def body(self, r: httpx.Response, tries: Retries | None = None, *, max_bytes: int | None = None,
             raw: bool = False) -> Iterator[bytes]:
        """The response's bytes as they come, within the size cap and the deadline."""
        cap = self.limits.max_bytes if max_bytes is None else max_bytes
        url = str(r.url)
        declared = r.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _too_big(FetchError(url, f"answer is {int(declared):,} bytes, over the {cap:,}-byte limit",
                                      r.status_code))
        total = 0
        try:
            for chunk in (r.iter_raw() if raw else r.iter_bytes()):
                total += len(chunk)
                if total > cap:
                    raise _too_big(FetchError(url, f"answer is over the {cap:,}-byte limit", r.status_code))
                if tries is not None:
                    tries.check_deadline()
                yield chunk
        except httpx.HTTPError as e:
            raise _transport_error(url, e) from None

    def _timeout(self, tries: Retries) -> httpx.Timeout:
        # no single wait may outlast what is left of the deadline
        return httpx.Timeout(max(0.001, min(self.limits.timeout, tries.left())))


def _too_big(e: FetchError) -> FetchError:
    e.too_big = True
    return e


def _check_peer(url: str, r: httpx.Response, allowed: tuple[Any, ...]) -> None:
    """The address actually connected to, in case the name resolved differently for the
    connection than for the check (DNS rebinding): nothing from an internal address is read."""
    stream = r.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if peer:
        refuse_address(url, str(peer[0]), allowed)


def _transport_error(url: str, e: httpx.HTTPError) -> FetchError:
    if isinstance(e, httpx.TimeoutException):
        err = FetchError(url, f"no answer within {type(e).__name__.removesuffix('Timeout').lower() or 'the'}"
                              " time allowed")
    elif isinstance(e, httpx.ConnectError):
        err = FetchError(url, f"cannot connect ({e})")
    else:
        err = FetchError(url, f"download broke off ({str(e) or type(e).__name__})")
    err.retryable = True
    err.timed_out = isinstance(e, httpx.TimeoutException)
    return err


def _detail(got: Fetched) -> str:
    if "json" in got.content_type:
        try:
            body = got.json()
        except FetchError:
            return ""
        if isinstance(body, dict) and body.get("message"):
            return f": {str(body['message'])[:200]}"
    return ""
