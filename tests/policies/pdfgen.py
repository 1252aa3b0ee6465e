"""Tiny PDFs written by hand for tests: text pages, and the broken ones a policy ingester must survive.

Nothing here is a general PDF library: one Helvetica font, WinAnsi text, one line per row of text.
"""

from __future__ import annotations

import io
import zlib

LINES_PER_PAGE = 58
WRAP = 100


def _escape(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _wrap(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        while len(line) > WRAP and "|" not in line:
            cut = line.rfind(" ", 0, WRAP)
            cut = cut if cut > 20 else WRAP
            out.append(line[:cut])
            line = "   " + line[cut:].lstrip() if line.startswith("   ") else line[cut:].lstrip()
        out.append(line)
    return out


def _content(lines: list[str]) -> bytes:
    ops = [b"BT", b"/F1 9 Tf", b"11 TL", b"50 790 Td"]
    for line in lines:
        ops.append(b"(" + _escape(line) + b") Tj T*" if line.strip() else b"T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def _assemble(objects: list[bytes], *, trailer_extra: bytes = b"", info: int | None = None) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    info_ref = f" /Info {info} 0 R".encode() if info else b""
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R".encode() + info_ref + trailer_extra
              + f" >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _stream(data: bytes, compress: bool) -> bytes:
    if compress:
        data = zlib.compress(data)
        return f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode() + data + b"\nendstream"
    return f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def text_pdf(text: str, *, title: str | None = None, compress: bool = True, header: str | None = None,
             footer: str | None = None, lines_per_page: int = LINES_PER_PAGE) -> bytes:
    """A PDF whose pages show `text` line by line (long lines wrapped, as a word processor would).

    `header` and `footer` are printed on every page, as payers' templates do ("Page {page} of {pages}"
    is filled in), so they cut through whatever list or table runs across a page break.
    """
    lines = _wrap(text)
    pages = [lines[i:i + lines_per_page] for i in range(0, len(lines), lines_per_page)] or [[]]
    n = len(pages)
    if header or footer:
        pages = [([header, ""] if header else []) + page + (["", footer.format(page=i + 1, pages=n)] if footer else [])
                 for i, page in enumerate(pages)]
    # objects: 1 catalog, 2 pages, 3 font, then (page, content) pairs, then info
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    for i, page in enumerate(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Resources << /Font << /F1 3 0 R >> >>"
                       f" /Contents {5 + 2 * i} 0 R >>".encode())
        objects.append(_stream(_content(page), compress))
    info = None
    if title:
        objects.append(b"<< /Title (" + _escape(title) + b") /Producer (medcodes tests) >>")
        info = len(objects)
    return _assemble(objects, info=info)


def bomb_pdf(megabytes: int = 64) -> bytes:
    """One page whose content stream inflates to `megabytes` MB of spaces from a few hundred KB."""
    z = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    data = b"".join(z.compress(chunk) for _ in range(megabytes)) + z.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Resources << /Font << /F1 3 0 R >> >>"
               b" /Contents 5 0 R >>",
               f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode() + data + b"\nendstream"]
    return _assemble(objects)


def encrypted_pdf(text: str, user_password: str = "secret", owner_password: str = "owner") -> bytes:
    """`text_pdf(text)` encrypted (RC4, so no crypto library is needed to write or test it)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(text))))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def many_pages_pdf(pages: int) -> bytes:
    return text_pdf("\n".join(f"Page line {i}" for i in range(pages * LINES_PER_PAGE)))
