"""Ingest policy documents: files, folders and URLs -> parsed, extracted, linked, stored (one transaction each)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MedcodesError
from . import metadata
from .documents import DocumentError, read_bytes, read_path
from .extract import extract
from .http import FetchError, HttpClient
from .linking import history, link
from .records import Document, PolicyRecord
from .store import PolicyStore, PutResult, text_hash

DOCUMENT_SUFFIXES = (".html", ".htm", ".xhtml", ".pdf", ".txt", ".text", ".md")
UNKNOWN_PAYER = "Unknown payer"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input: stored (with the store's answer), skipped or failed (with why)."""

    source: str
    result: PutResult | None = None
    title: str | None = None
    payer: str | None = None
    error: str | None = None
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def document_record(doc: Document, checker: Any, *, payer: str | None = None, policy_id: str | None = None,
                    title: str | None = None, number: str | None = None) -> PolicyRecord:
    """A parsed document as one policy version: metadata, links and the text it was read from."""
    mentions = extract(doc, checker)
    links, ranges = link(mentions, checker)
    name = title or metadata.title(doc) or (Path(doc.source).stem if doc.source else "Untitled policy")
    return PolicyRecord(
        payer=payer or metadata.payer(doc) or UNKNOWN_PAYER,
        title=name,
        kind="document",
        content_hash=text_hash(doc.text),
        links=tuple(links),
        ranges=tuple(ranges),
        policy_id=policy_id,
        number=number or metadata.policy_number(doc),
        url=doc.url,
        source=doc.source,
        effective=metadata.effective_date(doc),
        last_reviewed=metadata.review_date(doc),
        format=doc.format,
        text=doc.text,
        html=doc.html,
        attributes={"mentions": len(mentions), **({"history": past} if (past := history(mentions)) else {})},
    )


def expand_inputs(inputs: Iterable[str]) -> Iterator[str]:
    """URLs as given; files as given; folders as the documents under them, in name order."""
    for item in inputs:
        if item.startswith(("http://", "https://")):
            yield item
            continue
        path = Path(item).expanduser()
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES and not p.name.startswith("."):
                    yield str(p)
        else:
            yield str(path)


def load(item: str, http: HttpClient | None = None) -> Document:
    """Read one file or URL into a Document (DocumentError / FetchError when it cannot be)."""
    if item.startswith(("http://", "https://")):
        client = http or HttpClient()
        got = client.get(item)
        return read_bytes(got.content, name=item, url=got.url, content_type=got.content_type)
    path = Path(item)
    if not path.exists():
        raise DocumentError(item, "no such file")
    doc = read_path(path.resolve())
    return doc


def ingest(store: PolicyStore, inputs: Iterable[str], checker: Any, *, payer: str | None = None,
           policy_id: str | None = None, title: str | None = None, http: HttpClient | None = None
           ) -> Iterator[Outcome]:
    """Ingest each input on its own: one that fails is reported and leaves nothing behind."""
    for item in expand_inputs(inputs):
        try:
            doc = load(item, http)
            record = document_record(doc, checker, payer=payer, policy_id=policy_id, title=title)
            result = store.put(record)
        except (DocumentError, FetchError) as e:
            yield Outcome(item, error=str(e))
            continue
        except MedcodesError as e:
            yield Outcome(item, error=f"{item}: {e}")
            continue
        yield Outcome(item, result, record.title, record.payer)


def ingest_crawl(store: PolicyStore, start: str, checker: Any, http: HttpClient, *, payer: str | None = None,
                 max_pages: int = 200, depth: int = 1) -> Iterator[Outcome]:
    """Ingest what a payer's policy index links to; pages that cite no code and name no policy are skipped."""
    from .crawl import Crawler

    crawler = Crawler(start, http, max_pages=max_pages, depth=depth)
    for page in crawler.pages():
        try:
            doc = read_bytes(page.content, name=page.url, url=page.url, content_type=page.content_type)
            record = document_record(doc, checker, payer=payer)
        except DocumentError as e:
            yield Outcome(page.url, error=str(e))
            continue
        if not record.links and not record.ranges and not record.number:
            yield Outcome(page.url, title=record.title, skipped="cites no code and names no policy number")
            continue
        yield Outcome(page.url, store.put(record), record.title, record.payer)
    for url in crawler.report.disallowed:
        yield Outcome(url, skipped="disallowed by robots.txt")
    for reason in crawler.report.failed:
        yield Outcome(reason.split(": ", 1)[0], error=reason)
