"""The CMS Coverage API (Medicare Coverage Database): LCDs, NCDs, Articles and their code groups.

Paths and fields follow the Coverage API OpenAPI spec v1.5: `/v1/reports/...` list documents,
`/v1/data/{lcd,article,ncd}/...` hold one document's fields and its CPT/HCPCS and ICD-10 code groups.
Every answer is `{"meta": {...}, "data": [...]}`. LCD and Article data endpoints need the license
token from `/v1/metadata/license-agreement` (valid about an hour) as a Bearer token; the client
fetches it when first needed and again when the API answers 401.

The v1.5 spec defines no paging fields; when a response's `meta` carries a `next_token` the client
asks again with `next_token=<it>` (or follows `meta.next` when that is a URL) until none comes, so a
collection the server splits still arrives whole. Requests go through `HttpClient`: a rate limit
(default 5 a second; CMS throttles at 10,000), retries with backoff on 429 and 5xx honouring
Retry-After, and a size cap.

CPT descriptors the API returns (AMA-licensed) are never stored: a CPT link keeps its code, the code
group's paragraph and the document title only.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from .http import FetchError, HttpClient
from .medicare import (
    ARTICLE_PARTS,
    LCD_PARTS,
    LCD_TEXT,
    NCD_TEXT,
    html_text,
    iso_date,
    medicare_record,
    sections_html,
    table_mentions,
    text_mentions,
    view_url,
)
from .records import PolicyRecord

DEFAULT_BASE_URL = "https://api.coverage.cms.gov"
TOKEN_SECONDS = 55 * 60
MAX_PAGES = 10_000
LICENSE_PATH = "/v1/metadata/license-agreement/"

REPORTS = {
    "articles": "/v1/reports/local-coverage-articles/",
    "lcds": "/v1/reports/local-coverage-final-lcds/",
    "ncds": "/v1/reports/national-coverage-ncd/",
}


class CoverageAPI:
    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, http: HttpClient | None = None, rate: float = 5.0,
                 retries: int = 4) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http or HttpClient(rate=rate, retries=retries, timeout=60.0)
        self._token: str | None = None
        self._token_at = 0.0

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> CoverageAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ------------------------------------------------------------------------
    def license_token(self, *, refresh: bool = False) -> str:
        if self._token and not refresh and time.monotonic() - self._token_at < TOKEN_SECONDS:
            return self._token
        body = self.http.get(self.base_url + LICENSE_PATH).json()
        rows = _data(body, LICENSE_PATH)
        token = next((r.get("Token") or r.get("token") for r in rows if isinstance(r, dict)), None)
        if not token:
            raise FetchError(self.base_url + LICENSE_PATH, "no license token in the answer")
        self._token, self._token_at = str(token), time.monotonic()
        return self._token

    def page(self, url: str, params: dict[str, Any] | None = None, *, auth: bool = False) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.license_token()}"
        try:
            body = self.http.get(url, params=params, headers=headers).json()
        except FetchError as e:
            if not (auth and e.status == 401):
                raise
            headers["Authorization"] = f"Bearer {self.license_token(refresh=True)}"
            body = self.http.get(url, params=params, headers=headers).json()
        if not isinstance(body, dict):
            raise FetchError(url, "answer is not a {meta, data} object")
        return body

    def rows(self, path: str, params: dict[str, Any] | None = None, *, auth: bool = False,
             limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every row of a collection, page after page."""
        url, query = self.base_url + path, dict(params or {})
        seen: set[str] = set()
        count = 0
        for _ in range(MAX_PAGES):
            body = self.page(url, query, auth=auth)
            for row in _data(body, url):
                yield row
                count += 1
                if limit is not None and count >= limit:
                    return
            nxt = _next(body)
            if nxt is None or nxt in seen:
                return
            seen.add(nxt)
            if nxt.startswith(("http://", "https://", "/")):
                url, query = urljoin(self.base_url + "/", nxt), {}
            else:
                query = {**dict(params or {}), "next_token": nxt}

    # -- documents ------------------------------------------------------------------------
    def report(self, kind: str, *, status: str | None = None, limit: int | None = None) -> Iterator[dict[str, Any]]:
        params = {"status": status} if status and kind != "ncds" else None
        return self.rows(REPORTS[kind], params, limit=limit)

    def document(self, kind: str, doc_id: str, version: str | None = None) -> dict[str, Any]:
        path, key, auth = {"lcd": ("/v1/data/lcd/", "lcdid", True), "article": ("/v1/data/article/", "articleid", True),
                           "ncd": ("/v1/data/ncd/", "ncdid", False)}[kind]
        params = {key: doc_id}
        if version:
            params["ncdver" if kind == "ncd" else "ver"] = version
        rows = list(self.rows(path, params, auth=auth, limit=1))
        if not rows:
            shown = {"article": "A", "lcd": "L"}.get(kind, "") + str(doc_id)
            raise FetchError(self.base_url + path, f"no {kind} {shown}" + (f" version {version}" if version else ""))
        return rows[0]

    def part(self, kind: str, name: str, doc_id: str, version: str | None = None) -> list[dict[str, Any]]:
        """One of a document's parts: hcpc-code, hcpc-code-group, icd10-covered, icd10-noncovered-group..."""
        params = {("lcdid" if kind == "lcd" else "articleid"): doc_id}
        if version:
            params["ver"] = version
        return list(self.rows(f"/v1/data/{kind}/{name}", params, auth=True))


def _data(body: Any, url: str) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    if data is None:
        return []
    if not isinstance(data, list):
        raise FetchError(url, "answer's data is not a list")
    return [r for r in data if isinstance(r, dict)]


def _next(body: dict[str, Any]) -> str | None:
    meta = body.get("meta")
    if not isinstance(meta, dict):
        return None
    for key in ("next_token", "nextToken", "next"):
        value = meta.get(key)
        if value:
            return str(value)
    return None


def article_record(api: CoverageAPI, article_id: str, checker: Any, *, version: str | None = None,
                   listed: dict[str, Any] | None = None) -> PolicyRecord:
    """A billing and coding article with its CPT/HCPCS groups and covered / non-covered ICD-10 groups."""
    aid = re.sub(r"\D", "", str(article_id))
    doc = api.document("article", aid, version)
    ver = str(doc.get("article_version") or version or "")
    title = str(doc.get("title") or (listed or {}).get("title") or f"Article A{aid}")

    def part(name: str) -> list[dict[str, Any]]:
        return api.part("article", name.replace("_", "-"), aid, ver or None)

    mentions, paragraphs = table_mentions(part, ARTICLE_PARTS, title, checker)
    text = "\n".join([title, html_text(doc.get("description")), html_text(doc.get("other_comments")), *paragraphs])
    return medicare_record("article", f"A{aid}", ver, title, listed, mentions, text, checker,
                           effective=iso_date(doc.get("article_eff_date")), reviewed=iso_date(doc.get("last_updated")),
                           url=view_url("article", aid, ver))


def lcd_record(api: CoverageAPI, lcd_id: str, checker: Any, *, version: str | None = None,
               listed: dict[str, Any] | None = None) -> PolicyRecord:
    """An LCD: its CPT/HCPCS groups, and the codes its indication and coding text cite."""
    lid = re.sub(r"\D", "", str(lcd_id))
    doc = api.document("lcd", lid, version)
    ver = str(doc.get("lcd_version") or version or "")
    title = str(doc.get("title") or (listed or {}).get("title") or f"LCD L{lid}")

    def part(name: str) -> list[dict[str, Any]]:
        return api.part("lcd", name.replace("_", "-"), lid, ver or None)

    mentions, paragraphs = table_mentions(part, LCD_PARTS, title, checker)
    html = sections_html(doc, LCD_TEXT)
    mentions += text_mentions(html, f"LCD L{lid}", checker)
    return medicare_record("lcd", f"L{doc.get('display_id') or lid}", ver, title, listed, mentions,
                           "\n".join([title, html_text(html), *paragraphs]), checker,
                           effective=iso_date(doc.get("rev_eff_date") or doc.get("orig_det_eff_date")),
                           reviewed=iso_date(doc.get("last_reviewed_on") or doc.get("last_updated")),
                           url=view_url("lcd", lid, ver))


def ncd_record(api: CoverageAPI, ncd_id: str, checker: Any, *, version: str | None = None,
               listed: dict[str, Any] | None = None) -> PolicyRecord:
    """An NCD: it has no code groups, so its codes are the ones its text cites."""
    doc = api.document("ncd", str(ncd_id), version)
    ver = str(doc.get("document_version") or version or "")
    display = str(doc.get("document_display_id") or (listed or {}).get("document_display_id") or ncd_id)
    title = str(doc.get("title") or f"NCD {display}")
    html = sections_html(doc, NCD_TEXT)
    return medicare_record("ncd", display, ver, title, listed, text_mentions(html, f"NCD {display}", checker),
                           "\n".join([title, html_text(html)]), checker, effective=iso_date(doc.get("effective_date")),
                           reviewed=None, url=view_url("ncd", str(ncd_id), ver))
