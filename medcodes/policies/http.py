"""Policies fetch through the package's one HTTP client (medcodes.http_client), politely: a rate
limit per client, which a robots.txt Crawl-delay can slow further."""

from __future__ import annotations

from typing import Any

from ..http_client import Fetched, FetchError, RateLimiter
from ..http_client import HttpClient as _HttpClient

__all__ = ["FetchError", "Fetched", "HttpClient", "RateLimiter", "USER_AGENT"]

USER_AGENT = "medcodes-policies/0.1 (+https://github.com/medcodes; policy ingest)"


class HttpClient(_HttpClient):
    def __init__(self, *, rate: float = 2.0, user_agent: str = USER_AGENT, **kwargs: Any) -> None:
        super().__init__(rate=rate, user_agent=user_agent, **kwargs)
