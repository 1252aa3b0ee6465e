"""HTTP details shared by pages, the JSON API and FHIR: cached responses and bounded bodies."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from .. import settings
from .errors import ApiError

CODE_CACHE_CONTROL = "public, max-age=300"
MAX_BODY = 512 * 1024  # bytes: 1,000 codes as objects take about 50 KiB


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def cached(request: Request, body: bytes, media_type: str, *, salt: str = "",
           headers: dict[str, str] | None = None) -> Response:
    """A response with a strong ETag over its body; 304 when the client already has it."""
    etag = '"' + hashlib.blake2b(salt.encode() + body, digest_size=12).hexdigest() + '"'
    head = {"ETag": etag, "Cache-Control": CODE_CACHE_CONTROL, **(headers or {})}
    wanted = request.headers.get("if-none-match", "")
    if etag in {t.strip().removeprefix("W/") for t in wanted.split(",")} or wanted.strip() == "*":
        return Response(status_code=304, headers=head)
    return Response(body, media_type=media_type, headers=head)


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, f"the request body is larger than {limit // 1024} KiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the request body is larger than {limit // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> Any:
    body = await read_body(request)
    if not body.strip():
        raise ApiError(400, "the request body is empty; send JSON")
    try:
        # strictly decoded: json.loads(bytes) lets UTF-8-encoded surrogates through
        text = body.decode(json.detect_encoding(body))
    except UnicodeDecodeError:
        raise ApiError(400, "the request body is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested arrays
        raise ApiError(400, "the request body is not valid JSON") from None
    # JSON may escape half of a UTF-16 pair ("\\ud800"): Python takes it as a string that no UTF-8
    # can encode, which would fail much later (SQLite, the response) as a server error
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(data):
        raise ApiError(400, "the request body holds an unpaired UTF-16 surrogate (\\ud800-\\udfff);"
                            " send text as UTF-8")
    return data


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _has_lone_surrogate(data: Any) -> bool:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def public_url(path: str) -> str:
    """An address of this server as users reach it: MEDCODES_BASE_URL + `path`, or `path` alone.
    Never built from the request's Host header, which any client may forge (cache poisoning, links
    to another site in a CapabilityStatement)."""
    return settings.get("MEDCODES_BASE_URL").strip().rstrip("/") + path


def quote_path(path: str) -> str:
    """A path from `url_path_for` made safe for a URL: codes may hold spaces or odd characters."""
    return quote(str(path), safe="/-._~$")
