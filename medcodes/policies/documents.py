"""Policy documents -> text blocks: HTML (parsed with lxml, sanitised with nh3), PDF (pypdf), plain text.

HTML is sanitised *before* anything reads its text, so what the extractor sees is exactly
what the policy page shows, and no script, event handler or javascript: URL is ever stored.
PDFs are read under hard limits (size, pages, decompressed stream size, text size, time) so
a corrupt, encrypted, huge or decompression-bomb file fails with one clear message.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lxml.html
import nh3
from lxml import etree

from ..errors import MedcodesError
from .records import Block, Document

MAX_HTML_BYTES = 20 * 1024 * 1024
MAX_PDF_BYTES = 50 * 1024 * 1024
MAX_PDF_PAGES = 2000
MAX_PDF_STREAM = 20 * 1024 * 1024  # decompressed bytes of one stream: above this it is a bomb, not a policy
MAX_TEXT_CHARS = 5_000_000
PDF_SECONDS = 60.0

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Tags whose content is dropped with them, not unwrapped into text.
DROP_WITH_CONTENT = {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
                     "textarea", "select", "button", "head", "title"}

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "table", "blockquote", "pre", "hr",
               "thead", "tbody", "tfoot", "tr", "td", "th", "caption", *_HEADINGS}
_ITEM_TAGS = {"li", "dt", "dd"}
_EMPHASIS = {"b", "strong", "u"}
_WS = re.compile(r"\s+")
_LABEL_MAX = 400


class DocumentError(MedcodesError):
    """A document that cannot be read: the message names it and says why."""

    def __init__(self, source: str | None, message: str) -> None:
        self.source = source or "document"
        self.detail = message
        super().__init__(f"{self.source}: {message}")


# -- sniffing --------------------------------------------------------------------------
def sniff(data: bytes, name: str = "", content_type: str = "") -> str:
    """"pdf", "html" or "text" from the bytes first, then the content type and name."""
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    low = head[:512].lower()
    if low.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<body" in low or b"<head" in low:
        return "html"
    if "pdf" in content_type or name.lower().endswith(".pdf"):
        return "pdf"
    if "html" in content_type or name.lower().endswith((".html", ".htm", ".xhtml")):
        return "html"
    return "text"


def read_bytes(data: bytes, *, name: str = "", url: str | None = None, content_type: str = "") -> Document:
    """Parse one document of any supported format."""
    kind = sniff(data, name, content_type)
    source = url or name or None
    if kind == "pdf":
        return read_pdf(data, source=source, url=url)
    if kind == "html":
        return read_html(data, source=source, url=url)
    return read_text(_decode(data, source), source=source, url=url)


def read_path(path: Path) -> Document:
    try:
        size = path.stat().st_size
        if size > MAX_PDF_BYTES:
            raise DocumentError(str(path), f"file is {size / 1e6:.0f} MB, over the {MAX_PDF_BYTES // 2**20} MB limit")
        data = path.read_bytes()
    except OSError as e:
        raise DocumentError(str(path), f"cannot read: {e.strerror or e}") from None
    return read_bytes(data, name=str(path))


def _decode(data: bytes, source: str | None) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise DocumentError(source, "binary data, not a text, HTML or PDF document")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# -- HTML ------------------------------------------------------------------------------
def sanitize_html(html: str) -> str:
    """Only structural tags and http(s)/mailto links survive; scripts and handlers never do."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     clean_content_tags=DROP_WITH_CONTENT, link_rel="noopener nofollow noreferrer",
                     strip_comments=True)


def read_html(data: bytes | str, *, source: str | None = None, url: str | None = None) -> Document:
    if len(data) > MAX_HTML_BYTES:
        raise DocumentError(source, f"HTML is over the {MAX_HTML_BYTES // 2**20} MB limit")
    try:
        root = lxml.html.document_fromstring(_html_text(data) if isinstance(data, bytes) else data)
    except (etree.ParserError, ValueError) as e:
        raise DocumentError(source, f"not readable as HTML: {e}") from None
    meta = _html_meta(root)
    if url:
        try:
            root.make_links_absolute(url, resolve_base_href=True, handle_failures="discard")
        except ValueError:
            pass
    body = root.find("body")
    inner = lxml.html.tostring(body if body is not None else root, encoding="unicode")
    clean = sanitize_html(inner)
    blocks = tuple(html_blocks(clean))
    text = "\n".join(b.text for b in blocks)
    return Document("html", blocks, text, title=meta.get("title"), html=clean, meta=meta, url=url, source=source)


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)


def _html_text(data: bytes) -> str:
    """Bytes -> text: BOM, then a declared charset, then UTF-8, then Windows-1252 (what undeclared pages use)."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace")
    m = _CHARSET.search(data[:4096])
    if m:
        try:
            return data.decode(m.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _html_meta(root: lxml.html.HtmlElement) -> dict[str, str]:
    meta: dict[str, str] = {}
    title = root.findtext(".//title")
    if title and title.strip():
        meta["title"] = _WS.sub(" ", title).strip()
    for m in root.iter("meta"):
        key = (m.get("name") or m.get("property") or "").strip().lower()
        value = _WS.sub(" ", m.get("content") or "").strip()
        if key and value and len(value) < 500:
            meta.setdefault(key, value)
    return meta


def html_blocks(clean_html: str) -> Iterator[Block]:
    """Walk sanitised HTML in document order, yielding headings, labels, paragraphs, items and rows."""
    if not clean_html.strip():
        return
    container = lxml.html.fragment_fromstring(clean_html, create_parent="div")
    yield from _walk(container)


def _walk(el: lxml.html.HtmlElement) -> Iterator[Block]:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _HEADINGS:
        text = _text(el)
        if text:
            yield Block("heading", text, level=_HEADINGS[tag])
        return
    if tag == "table":
        yield from _table(el)
        return
    if tag == "dl":
        yield from _definitions(el)
        return
    if not any(isinstance(c.tag, str) and c.tag in _BLOCK_TAGS for c in el.iterdescendants()):
        yield from _leaf(el, tag)
        return
    # Mixed: inline runs between block children become their own paragraphs.
    run: list[str] = [el.text or ""]
    for child in el:
        ctag = child.tag if isinstance(child.tag, str) else ""
        if ctag in _BLOCK_TAGS:
            yield from _leaf_text("".join(run), "item" if tag in _ITEM_TAGS else "para")
            run = []
            yield from _walk(child)
            run.append(child.tail or "")
        else:
            run.append(_inline(child) + (child.tail or ""))
    yield from _leaf_text("".join(run), "item" if tag in _ITEM_TAGS else "para")


def _definitions(dl: lxml.html.HtmlElement) -> Iterator[Block]:
    """<dt>Policy #</dt><dd>7.01.45</dd> reads as one line "Policy #: 7.01.45"."""
    term: str | None = None
    for child in dl:
        ctag = child.tag if isinstance(child.tag, str) else ""
        if ctag == "dt":
            if term:
                yield Block("item", term)
            term = _text(child)
        elif ctag == "dd":
            value = _text(child)
            if term and not any(isinstance(c.tag, str) and c.tag in _BLOCK_TAGS for c in child.iterdescendants()):
                yield Block("item", f"{term.rstrip(':')}: {value}")
            else:
                if term:
                    yield Block("label", term)
                yield from _walk(child)
            term = None
    if term:
        yield Block("item", term)


def _leaf(el: lxml.html.HtmlElement, tag: str) -> Iterator[Block]:
    raw = _inline(el)
    kind = "item" if tag in _ITEM_TAGS else "para"
    if _is_emphasis_only(el) and len(_WS.sub(" ", raw).strip()) <= _LABEL_MAX:
        text = _WS.sub(" ", raw).strip()
        if text:
            yield Block("label", text)
        return
    yield from _leaf_text(raw, kind)


def _leaf_text(raw: str, kind: str) -> Iterator[Block]:
    # <br> separates lines: each line of a "22612<br>22614" list is an item of its own
    lines = [_WS.sub(" ", x).strip() for x in raw.split("\n")]
    lines = [x for x in lines if x]
    if not lines:
        return
    if len(lines) > 1:
        kind = "item"
    for line in lines:
        yield Block("label" if _is_label(line) else kind, line)


def _is_label(text: str) -> bool:
    return text.endswith(":") and len(text) <= _LABEL_MAX


def _is_emphasis_only(el: lxml.html.HtmlElement) -> bool:
    """A paragraph whose whole text is bold/underlined: a sub-heading in disguise."""
    if (el.text or "").strip():
        return False
    kids = [c for c in el if isinstance(c.tag, str)]
    if not kids or any(c.tag not in _EMPHASIS and c.tag != "br" for c in kids):
        return False
    return all(not (c.tail or "").strip(" :\n\t") for c in kids)


def _inline(el: lxml.html.HtmlElement, pre: bool = False) -> str:
    """Text of an element with <br> (and line ends inside <pre>) as newlines, other white space as spaces."""
    if el.tag == "br":
        return "\n"
    pre = pre or el.tag == "pre"

    def ws(s: str | None) -> str:
        return (s or "") if pre else _WS.sub(" ", s or "")

    parts = [ws(el.text)]
    for child in el:
        parts.append(_inline(child, pre) if isinstance(child.tag, str) else "")
        parts.append(ws(child.tail))
    return "".join(parts)


def _text(el: lxml.html.HtmlElement) -> str:
    return _WS.sub(" ", " ".join(el.itertext())).strip()


def _table(table: lxml.html.HtmlElement) -> Iterator[Block]:
    caption = table.find("caption")
    if caption is not None and _text(caption):
        yield Block("caption", _text(caption))
    header: tuple[str, ...] = ()
    for i, tr in enumerate(tr for tr in table.iter("tr")):
        cells = tuple(_text(c) for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th"))
        filled = [c for c in cells if c]
        if not filled:
            continue
        all_th = all(c.tag == "th" for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th"))
        in_thead = tr.getparent() is not None and tr.getparent().tag == "thead"
        if (in_thead or (all_th and i == 0)) and len(filled) > 1:
            header = cells
            yield Block("row", " | ".join(filled), cells=cells)  # kept: metadata tables put facts here
            continue
        if len(filled) == 1 and not _CODEISH.search(filled[0]) and len(filled[0]) <= _LABEL_MAX:
            yield Block("label", filled[0], level=1)  # a spanning row that titles the rows below it
            continue
        yield Block("row", " | ".join(filled), cells=cells, header=header)


_CODEISH = re.compile(r"\b(?:[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?|[0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})\b")


# -- plain text (and PDF text) ------------------------------------------------------------
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_BULLET = re.compile(r"^\s*(?:[-*•·▪◦‣–]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])\s+")
_NUMBERED_HEADING = re.compile(r"^(?:[IVX]{1,5}|[0-9]{1,2}|[A-H])[.)]\s+([A-Z][^.:;]{1,70})$")
_CODE_LED = re.compile(r"^\s*(?:[A-Z][0-9][0-9A-Z](?:\.[0-9A-Zx]{1,4})?|[0-9]{4}[0-9AFMTU]|[A-Z][0-9]{4}|"
                       r"[0-9A-HJ-NP-Z]{7})\b")
_RULE = re.compile(r"^\s*[-=_+|*]{3,}\s*$")


def read_text(text: str, *, source: str | None = None, url: str | None = None, format: str = "text",
              title: str | None = None, meta: dict[str, str] | None = None) -> Document:
    if len(text) > MAX_TEXT_CHARS:
        raise DocumentError(source, f"text is over the {MAX_TEXT_CHARS:,} character limit")
    blocks = tuple(_join_wrapped_cells(text_blocks(text)))
    plain = "\n".join(b.text for b in blocks)
    return Document(format, blocks, plain, title=title, meta=meta or {}, url=url, source=source)


def text_blocks(text: str) -> Iterator[Block]:
    """Lines -> blocks: headings (markdown, underlined, ALL CAPS, numbered), labels, items, rows, paragraphs.

    A line that starts in lower case carries on the block before it (a wrapped line); a paragraph or
    item that ends with ':' becomes a label for what follows.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    current: tuple[str, list[str]] | None = None
    header: tuple[str, ...] = ()
    for i, raw in enumerate(lines):
        line = raw.strip()
        if current and line and _continues(current, line):
            current[1].append(line)
            continue
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        kind, value, level = _line_kind(line, nxt)
        if kind == "para" and current and current[0] == "para" and not _ENUM_START.match(line):
            current[1].append(value)
            continue
        if kind == "skip":  # a rule line, also inside a table ("|---|---|")
            continue
        if current:
            yield _joined(*current)
            current = None
        if kind in ("para", "item", "label"):
            current = (kind, [value])
        elif kind == "row":
            cells = tuple(c.strip() for c in re.split(r"\s*\|\s*|\t+", value.strip("| ")) if c.strip())
            if not header and not _CODEISH.search(value):
                header = cells
                yield Block("row", " | ".join(cells), cells=cells)
                continue
            yield Block("row", " | ".join(cells), cells=cells, header=header)
            continue
        elif kind == "heading":
            yield Block(kind, value, level=level)
        header = ()
    if current:
        yield _joined(*current)


def _join_wrapped_cells(blocks: Iterator[Block]) -> Iterator[Block]:
    """A line in lower case right after a table row is the end of its last cell, wrapped ("... includes all
    components" / "and accessories"), not a paragraph that would end the list the row belongs to."""
    held: Block | None = None
    for block in blocks:
        if held is not None and block.kind in ("para", "item") and block.text[:1].islower():
            cells = (*held.cells[:-1], f"{held.cells[-1]} {block.text}") if held.cells else (block.text,)
            held = Block("row", f"{held.text} {block.text}", cells=cells, header=held.header)
            continue
        if held is not None:
            yield held
            held = None
        if block.kind == "row":
            held = block
        else:
            yield block
    if held is not None:
        yield held


def _continues(current: tuple[str, list[str]], line: str) -> bool:
    """Whether a line carries on the block before it: a hard-wrapped sentence, not a new item or field."""
    if line[0].islower() or line[0] in "(,;&":
        return True
    kind, lines = current
    prev = lines[-1]
    if kind not in ("para", "item") or prev.endswith((".", ":", "!", "?")) or _FIELD.match(lines[0]):
        return False
    if _BULLET.match(line) or _ENUM_START.match(line) or _MD_HEADING.match(line) or "\t" in line \
            or line.count("|") >= 2 or _RULE.match(line):
        return False
    if _CODE_LED.match(line):
        return not _CODE_LED.match(prev)  # a code line after prose wraps; after a code line it is the next one
    return not _looks_like_heading(line) or prev.endswith((",", ";"))


def _joined(kind: str, lines: list[str]) -> Block:
    text = _WS.sub(" ", " ".join(lines)).strip()
    return Block("label" if _is_label(text) else kind, text)


_ENUM_START = re.compile(r"^(?:[A-Z]|[0-9]{1,2}|[IVX]{1,4})[.)]\s+\S")
_ENUM_ITEM = re.compile(r"^(?:[A-HJ-UWYZ]|[0-9]{1,2})[.)]\s+\S")  # not I, V, X: roman numerals head paragraphs
_FIELD = re.compile(r"^[A-Z][\w .#/&()'-]{1,40}:\s+\S")


def _line_kind(line: str, nxt: str) -> tuple[str, str, int]:
    if not line:
        return "blank", "", 0
    if _RULE.match(line):
        return "skip", "", 0
    m = _MD_HEADING.match(line)
    if m:
        return "heading", m.group(2), len(m.group(1))
    if nxt and _RULE.match(nxt) and len(line) < 100 and "|" not in nxt:
        return "heading", line, 2
    if line.count("|") >= 2 or "\t" in line:
        return "row", line, 0
    if _CODE_LED.match(line):
        return "item", line, 0
    if _ENUM_ITEM.match(line) and not _NUMBERED_HEADING.match(line):
        return ("label" if _is_label(line) else "item"), line, 0  # "A. ...", "2) ..." under a label
    bullet = _BULLET.match(line)
    if bullet and not _NUMBERED_HEADING.match(line):
        rest = line[bullet.end():].strip()
        return ("label" if _is_label(rest) else "item"), rest, 0
    if _is_label(line):
        return "label", line, 0
    if _FIELD.match(line) and len(line) < 160:
        return "item", line, 0  # "Policy Number: RP-2025-014", "Effective: October 1, 2024"
    if _looks_like_heading(line):
        return "heading", line, 2 if line.isupper() or _NUMBERED_HEADING.match(line) else 3
    return "para", line, 0


def _looks_like_heading(line: str) -> bool:
    line = re.sub(r"\s*\([^)]*\)", "", line).strip()  # "LUMBAR SPINE MRI (CPT 72148, 72149)"
    if not line or len(line) > 80 or line[-1] in ".,;":
        return False
    if sum(c.isdigit() for c in line) > 4 and not (line.isupper() and len(re.findall(r"[A-Z]{3,}", line)) >= 2):
        return False  # "LCD L33822 - GLUCOSE MONITORS" is a heading; "Page 12 of 26, 2024-01-15" is not
    letters = [c for c in line if c.isalpha()]
    if len(letters) < 3:
        return False
    if line.isupper():
        return True
    numbered = _NUMBERED_HEADING.match(line)
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'/-]*", numbered.group(1) if numbered else line)
             if len(w) > 3 and w.lower() not in _MINOR]
    return len(words) >= 1 and all(w[0].isupper() for w in words) and len(line) < 70


_MINOR = {"that", "with", "from", "into", "than", "when", "this", "these", "those", "over", "under", "without",
          "within", "after", "before", "their", "other", "which", "does", "about"}


# -- PDF -------------------------------------------------------------------------------
@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """pypdf logs every repairable oddity; a corrupt file gets one clear error instead."""
    logger = logging.getLogger(logger_name)
    before = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(before)


def read_pdf(data: bytes, *, source: str | None = None, url: str | None = None) -> Document:
    if len(data) > MAX_PDF_BYTES:
        raise DocumentError(source, f"PDF is {len(data) / 1e6:.0f} MB, over the {MAX_PDF_BYTES // 2**20} MB limit")
    if b"%PDF-" not in data[:1024]:
        raise DocumentError(source, "not a PDF (no %PDF- header)")
    pages, meta = _pdf_text(data, source)
    text = "\n".join(strip_running_lines(pages))
    if not text.strip():
        raise DocumentError(source, "no text in this PDF (a scanned image? OCR it first)")
    doc = read_text(text, source=source, url=url, format="pdf", title=meta.get("title"), meta=meta)
    return doc


def _pdf_text(data: bytes, source: str | None) -> tuple[list[str], dict[str, str]]:
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    limits: dict[str, Any] = dict(zlib_maximum_output_length=MAX_PDF_STREAM, lzw_maximum_output_length=MAX_PDF_STREAM,
                  run_length_maximum_output_length=MAX_PDF_STREAM, maximum_declared_stream_length=MAX_PDF_STREAM,
                  array_based_stream_maximum_output_length=MAX_PDF_STREAM)
    try:
        with _quiet("pypdf"), pypdf.apply_configuration(None, **limits):
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
            _unlock(reader, source)
            return _pages(reader, source), _pdf_meta(reader)
    except DocumentError:
        raise
    except LimitReachedError:
        raise DocumentError(source, f"PDF expands past the {MAX_PDF_STREAM // 2**20} MB limit per stream"
                                    " (a decompression bomb?); not read") from None
    except (FileNotDecryptedError, DependencyError):
        raise DocumentError(source, "encrypted PDF: cannot be read without its password") from None
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError,
            OverflowError, MemoryError, AssertionError, UnicodeError, ArithmeticError) as e:
        reason = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise DocumentError(source, f"corrupt or unreadable PDF ({reason})") from None


def _unlock(reader: object, source: str | None) -> None:
    from pypdf import PasswordType

    if not getattr(reader, "is_encrypted", False):
        return
    # Many published PDFs are "encrypted" with an empty user password only to restrict printing.
    result = reader.decrypt("")  # type: ignore[attr-defined]
    if result == PasswordType.NOT_DECRYPTED:
        raise DocumentError(source, "encrypted PDF: cannot be read without its password")


def _pages(reader: object, source: str | None) -> list[str]:
    pages = reader.pages  # type: ignore[attr-defined]
    if len(pages) > MAX_PDF_PAGES:
        raise DocumentError(source, f"PDF has {len(pages):,} pages, over the {MAX_PDF_PAGES:,} page limit")
    deadline = time.monotonic() + PDF_SECONDS
    out: list[str] = []
    total = 0
    for page in pages:
        text = _page_text(page)
        total += len(text)
        if total > MAX_TEXT_CHARS:
            raise DocumentError(source, f"PDF text is over the {MAX_TEXT_CHARS:,} character limit")
        if time.monotonic() > deadline:
            raise DocumentError(source, f"PDF took over {PDF_SECONDS:.0f} s to read; not read")
        out.append(text)
    return out


_RUNNING_ZONE = 3  # lines at the top and at the bottom of a page where headers and footers sit
_DIGITS = re.compile(r"[0-9]+")


def strip_running_lines(pages: list[str]) -> list[str]:
    """Pages without their running headers and footers: a line at the top or bottom of at least half the
    pages (page numbers aside: "Page 2 of 3") is the template, not the policy. Left in, it cuts a code
    table in two at every page break, and its contract numbers and ZIP codes sit right next to codes."""
    if len(pages) < 2:
        return pages
    split = [page.split("\n") for page in pages]

    def zone(lines: list[str]) -> list[int]:
        filled = [i for i, line in enumerate(lines) if line.strip()]
        return sorted(set(filled[:_RUNNING_ZONE] + filled[-_RUNNING_ZONE:]))

    def key(line: str) -> str:
        return _DIGITS.sub("#", _WS.sub(" ", line).strip().lower())

    seen: dict[str, int] = {}
    for lines in split:
        for k in {key(lines[i]) for i in zone(lines)}:
            seen[k] = seen.get(k, 0) + 1
    running = {k for k, n in seen.items() if n >= max(2, (len(pages) + 1) // 2)}
    if not running:
        return pages
    out = []
    for lines in split:
        drop = {i for i in zone(lines) if key(lines[i]) in running}
        out.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return out


_COLUMN_GAP = re.compile(r"(?<=\S) {4,}(?=\S)")


def _page_text(page: object) -> str:
    """Layout mode keeps blank lines between paragraphs and wide gaps between table columns (-> tabs)."""
    try:
        text = page.extract_text(extraction_mode="layout") or ""  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError, IndexError, ZeroDivisionError):
        text = page.extract_text() or ""  # type: ignore[attr-defined]
    return "\n".join(_COLUMN_GAP.sub("\t", line.rstrip()) for line in text.splitlines())


def _pdf_meta(reader: object) -> dict[str, str]:
    meta: dict[str, str] = {}
    info = getattr(reader, "metadata", None)
    if not info:
        return meta
    for key, name in (("/Title", "title"), ("/Author", "author"), ("/Subject", "subject")):
        value = info.get(key)
        if isinstance(value, str) and value.strip() and len(value) < 500:
            meta[name] = _WS.sub(" ", value).strip()
    return meta
