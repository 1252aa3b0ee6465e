"""One polite HTTP client for URLs, the crawler and the CMS Coverage API: rate limit, retries, size cap."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ..errors import MedcodesError

USER_AGENT = "medcodes-policies/0.1 (+https://github.com/medcodes; policy ingest)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BYTES = 50 * 1024 * 1024
MAX_RETRY_AFTER = 120.0


class FetchError(MedcodesError):
    """A URL that could not be fetched: the message names it and says why."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(f"{url}: {message}")


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
    def __init__(self, *, rate: float = 2.0, retries: int = 4, backoff: float = 0.5, timeout: float = 30.0,
                 max_bytes: int = MAX_BYTES, user_agent: str = USER_AGENT,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.limiter = RateLimiter(rate, sleep=sleep)
        self.retries, self.backoff, self.max_bytes = retries, backoff, max_bytes
        self.user_agent = user_agent
        self._sleep = sleep
        self.requests = 0
        self._client = httpx.Client(timeout=timeout, follow_redirects=True, transport=transport,
                                    headers={"User-Agent": user_agent})

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
            ok: frozenset[int] = frozenset({200}), retries: int | None = None) -> Fetched:
        """GET with retries on transport errors and 429/5xx (honouring Retry-After), then one clear error."""
        attempt, limit = 0, self.retries if retries is None else retries
        while True:
            self.limiter.wait()
            self.requests += 1
            try:
                got = self._once(url, params, headers)
            except httpx.HTTPError as e:
                if attempt >= limit:
                    raise FetchError(url, f"cannot fetch after {attempt + 1} tries: {_reason(e)}") from None
                self._sleep(self._delay(attempt, None))
                attempt += 1
                continue
            if got.status in RETRY_STATUSES and attempt < limit:
                self._sleep(self._delay(attempt, got.headers.get("retry-after")))
                attempt += 1
                continue
            if got.status not in ok:
                raise FetchError(url, f"HTTP {got.status}{_detail(got)}", got.status)
            return got

    def _once(self, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None) -> Fetched:
        with self._client.stream("GET", url, params=params, headers=headers) as r:
            declared = r.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(url, f"answer is {int(declared) / 1e6:.0f} MB, over the "
                                      f"{self.max_bytes // 2**20} MB limit", r.status_code)
            chunks, total = [], 0
            for chunk in r.iter_bytes():
                total += len(chunk)
                if total > self.max_bytes:
                    raise FetchError(url, f"answer is over the {self.max_bytes // 2**20} MB limit", r.status_code)
                chunks.append(chunk)
            return Fetched(str(r.url), r.status_code, b"".join(chunks), r.headers.get("content-type", ""),
                           dict(r.headers))

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        told = _retry_after(retry_after)
        if told is not None:
            return min(told, MAX_RETRY_AFTER)
        return self.backoff * (2 ** attempt) * (1 + random.random() * 0.1)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _reason(e: Exception) -> str:
    return str(e) or type(e).__name__


def _detail(got: Fetched) -> str:
    if "json" in got.content_type:
        try:
            body = got.json()
        except FetchError:
            return ""
        if isinstance(body, dict) and body.get("message"):
            return f": {str(body['message'])[:200]}"
    return ""
