"""Follow a payer's policy index page to the policies it links to: same site, robots.txt obeyed, rate limited.

The index page itself is not a policy; the pages and PDFs it links to (and, with depth > 1, what
those link to) are fetched and handed to the ingester. Links leave the start page's site never:
the same host, or a host under the same domain ("www.plan.com" -> "policies.plan.com"). robots.txt
is read first and obeyed for every URL, its Crawl-delay slows the crawler down, and an unreachable
robots.txt (5xx, timeout) means nothing may be fetched (RFC 9309).
"""

from __future__ import annotations

import urllib.robotparser
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlparse

import lxml.html
from lxml import etree

from .http import Fetched, FetchError, HttpClient

SKIP_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".svg", ".css", ".js", ".ico", ".zip", ".mp4", ".mp3",
                 ".woff", ".woff2", ".xml", ".json", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx")
DOCUMENT_TYPES = ("text/html", "application/xhtml", "application/pdf", "text/plain")


@dataclass
class CrawlReport:
    fetched: int = 0
    disallowed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # off-site, not a document


def same_site(start: str, url: str) -> bool:
    """The start page's host, or a host under its domain (the "www." dropped)."""
    a, b = (urlparse(start).hostname or "").lower(), (urlparse(url).hostname or "").lower()
    if not a or not b or urlparse(url).scheme not in ("http", "https"):
        return False
    base = a[4:] if a.startswith("www.") else a
    return b == a or b == base or b.endswith("." + base)


def links(page: Fetched) -> list[str]:
    """Absolute http(s) links of an HTML page, in page order, fragments dropped."""
    try:
        root = lxml.html.document_fromstring(page.content)
    except (etree.ParserError, ValueError):
        return []
    out: list[str] = []
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        url = urldefrag(urljoin(page.url, href))[0]
        if urlparse(url).scheme in ("http", "https") and url not in out:
            out.append(url)
    return out


def crawl_delay(robots: str, user_agent: str) -> float | None:
    """The Crawl-delay for us: our own group's, else the "*" group's. (urllib's parser reads whole seconds only.)"""
    token = user_agent.split("/")[0].lower()
    delays: dict[str, float] = {}
    agents: list[str] = []
    in_rules = False
    for raw in robots.splitlines():
        line = raw.split("#", 1)[0].strip()
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
        elif key in ("allow", "disallow", "crawl-delay"):
            in_rules = True
            if key == "crawl-delay":
                try:
                    for agent in agents:
                        delays[agent] = float(value)
                except ValueError:
                    continue
    mine = next((d for a, d in delays.items() if a != "*" and a in token), None)
    return mine if mine is not None else delays.get("*")


class Crawler:
    def __init__(self, start: str, http: HttpClient, *, max_pages: int = 200, depth: int = 1) -> None:
        self.start, self.http = start, http
        self.max_pages, self.depth = max_pages, depth
        self.report = CrawlReport()
        self.robots = self._robots()

    def _robots(self) -> urllib.robotparser.RobotFileParser:
        parts = urlparse(self.start)
        url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        parser = urllib.robotparser.RobotFileParser(url)
        try:
            got = self.http.get(url, ok=frozenset(range(200, 500)), retries=1)
        except FetchError:
            parser.disallow_all = True  # type: ignore[attr-defined]  # unreachable: assume everything is disallowed (RFC 9309 2.3.1.4)
            return parser
        if got.status >= 400:
            parser.allow_all = True  # type: ignore[attr-defined]  # no robots.txt: everything is allowed
        else:
            parser.parse(got.content.decode("utf-8", errors="replace").splitlines())
            delay = crawl_delay(got.content.decode("utf-8", errors="replace"), self.http.user_agent)
            if delay:
                self.http.limiter.slow_down(delay)
        return parser

    def allowed(self, url: str) -> bool:
        return self.robots.can_fetch(self.http.user_agent, url)

    def pages(self) -> Iterator[Fetched]:
        """The documents the index links to (breadth first), each fetched once."""
        if not self.allowed(self.start):
            self.report.disallowed.append(self.start)
            return
        queue: deque[tuple[str, int]] = deque([(self.start, 0)])
        seen = {self.start}
        while queue and self.report.fetched < self.max_pages + 1:
            url, level = queue.popleft()
            page = self._fetch(url)
            if page is None:
                continue
            ctype = page.content_type.lower()
            if level > 0 and (not ctype or any(t in ctype for t in DOCUMENT_TYPES)):
                yield page
            if level < self.depth and "html" in page.content_type:
                for nxt in links(page):
                    if nxt not in seen and self._worth(nxt):
                        seen.add(nxt)
                        queue.append((nxt, level + 1))

    def _worth(self, url: str) -> bool:
        if not same_site(self.start, url):
            self.report.skipped.append(url)
            return False
        if urlparse(url).path.lower().endswith(SKIP_SUFFIXES):
            self.report.skipped.append(url)
            return False
        if not self.allowed(url):
            self.report.disallowed.append(url)
            return False
        return True

    def _fetch(self, url: str) -> Fetched | None:
        try:
            page = self.http.get(url)
        except FetchError as e:
            self.report.failed.append(str(e))
            return None
        self.report.fetched += 1
        if not same_site(self.start, page.url):  # redirected off the site
            self.report.skipped.append(page.url)
            return None
        return page
