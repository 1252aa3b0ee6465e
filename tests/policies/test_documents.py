"""Reading documents: HTML sanitised before anything sees it, text structure, and PDFs that must fail cleanly."""

from __future__ import annotations

import pytest

from medcodes.policies import documents
from medcodes.policies.documents import (
    DocumentError,
    read_bytes,
    read_html,
    read_pdf,
    read_text,
    sanitize_html,
    sniff,
)

from .corpus import CORPUS
from .pdfgen import bomb_pdf, encrypted_pdf, many_pages_pdf, text_pdf

HOSTILE = b"""<html><head><script>alert(1)</script><style>body{}</style></head>
<body onload="steal()"><h1 onclick="x()">Title</h1>
<p><a href="javascript:alert(document.cookie)">criteria</a> <a href="https://ok.example/a" onmouseover="x()">ok</a>
<a href="JaVaScRiPt&#58;alert(1)">encoded</a> <a href="data:text/html;base64,PHNjcmlwdD4=">data</a></p>
<img src=x onerror="alert(1)"><iframe src="https://evil.example/"></iframe><svg><script>alert(2)</script></svg>
<object data="x.swf"></object><form action="https://evil.example"><input name=q></form>
<p style="background:url(javascript:alert(1))">styled E11.9</p><noscript><p>no</p></noscript></body></html>"""


def test_sanitised_html_keeps_no_script_handler_or_javascript_url() -> None:
    doc = read_html(HOSTILE, source="hostile.html")
    clean = (doc.html or "").lower()
    for bad in ("<script", "onload", "onclick", "onmouseover", "onerror", "javascript", "<iframe", "<svg",
                "<object", "<form", "style=", "data:text", "alert("):
        assert bad not in clean, bad
    assert 'href="https://ok.example/a"' in clean and 'rel="noopener nofollow noreferrer"' in clean
    assert "E11.9" in doc.text and "alert" not in doc.text


def test_sanitize_is_idempotent_and_keeps_tables() -> None:
    html = "<table><tr><th colspan=2>Codes</th></tr><tr><td>E11.9</td><td onclick=x>Type 2</td></tr></table>"
    once = sanitize_html(html)
    assert sanitize_html(once) == once
    assert '<th colspan="2">' in once and "onclick" not in once


def test_html_blocks_keep_structure() -> None:
    html = b"""<h1>T</h1><dl><dt>Policy #</dt><dd>7.01.45</dd></dl><p><strong>CPT codes covered:</strong></p>
    <table><thead><tr><th>Code</th><th>Description</th></tr></thead><tr><td>22612</td><td>x</td></tr>
    <tr><td colspan=2>ICD-10 codes</td></tr></table><ul><li>one<br>two</li></ul>"""
    kinds = [(b.kind, b.text) for b in read_html(html).blocks]
    assert kinds == [("heading", "T"), ("item", "Policy #: 7.01.45"), ("label", "CPT codes covered:"),
                     ("row", "Code | Description"), ("row", "22612 | x"), ("label", "ICD-10 codes"),
                     ("item", "one"), ("item", "two")]


def test_html_charset_guessing() -> None:
    assert "·" in read_html("<p>a · b</p>".encode()).text
    assert "é" in read_html("<meta charset='windows-1252'><p>caf\xe9</p>".encode("cp1252")).text


def test_text_blocks_join_wrapped_lines_and_split_items() -> None:
    text = ("Policy Number: X-1\nEffective: 01/01/2025\n\nI. POLICY\nA. Fusion (CPT 22612) is medically necessary\n"
            "for members with any of the following:\n   1. scoliosis (M41.00)\n   2. spondylolisthesis\n"
            "| Code | Description |\n|---|---|\n| 22612 | x |\n")
    kinds = [(b.kind, b.text) for b in read_text(text).blocks]
    assert kinds == [
        ("item", "Policy Number: X-1"), ("item", "Effective: 01/01/2025"), ("heading", "I. POLICY"),
        ("label", "A. Fusion (CPT 22612) is medically necessary for members with any of the following:"),
        ("item", "1. scoliosis (M41.00)"), ("item", "2. spondylolisthesis"), ("row", "Code | Description"),
        ("row", "22612 | x")]


def test_sniff() -> None:
    assert sniff(b"%PDF-1.7\n...") == "pdf"
    assert sniff(b"<!DOCTYPE html><html>") == "html"
    assert sniff(b"plain words", "x.txt") == "text"
    assert sniff(b"<p>hi</p>", "", "text/html; charset=utf-8") == "html"


def test_binary_garbage_is_refused() -> None:
    with pytest.raises(DocumentError, match="binary data"):
        read_bytes(b"\x00\x01\x02" * 100, name="x.bin")


# -- PDFs ---------------------------------------------------------------------------------
def test_pdf_text_roundtrip() -> None:
    source = (CORPUS / "26-pdf-genetic-brca.pdfsrc").read_text()
    doc = read_pdf(text_pdf(source, title="BRCA testing"), source="brca.pdf")
    assert doc.format == "pdf" and doc.meta["title"] == "BRCA testing"
    assert "C50.911" in doc.text and any(b.kind == "heading" and b.text == "Investigational" for b in doc.blocks)


def test_pdf_with_only_an_owner_password_is_read() -> None:
    doc = read_pdf(encrypted_pdf("Policy\nCPT 22612 is covered.", user_password=""), source="owner.pdf")
    assert "22612" in doc.text


@pytest.mark.parametrize("make,message", [
    (lambda: encrypted_pdf("CPT 22612 is covered."), "encrypted PDF: cannot be read without its password"),
    (lambda: bomb_pdf(64), "decompression bomb"),
    (lambda: text_pdf("CPT 22612 is covered.")[:600], "corrupt or unreadable PDF"),
    (lambda: b"%PDF-1.4\n" + b"\x8f garbage " * 200, "corrupt or unreadable PDF"),
    (lambda: b"not a pdf at all", "not a PDF"),
    (lambda: text_pdf(""), "no text in this PDF"),
])
def test_bad_pdfs_fail_with_one_clear_message(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DocumentError) as info:
        read_pdf(make(), source="bad.pdf")
    assert message in str(info.value) and str(info.value).startswith("bad.pdf: ")


def test_huge_pdfs_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_PDF_BYTES", 2000)
    with pytest.raises(DocumentError, match="over the"):
        read_pdf(text_pdf("x\n" * 500, compress=False), source="big.pdf")
    monkeypatch.setattr(documents, "MAX_PDF_BYTES", 50 * 2**20)
    monkeypatch.setattr(documents, "MAX_PDF_PAGES", 3)
    with pytest.raises(DocumentError, match="page limit"):
        read_pdf(many_pages_pdf(5), source="pages.pdf")
