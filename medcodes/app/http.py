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
MAX_DRAIN = 8 * MAX_BODY  # a refused body up to this size is read to its end before the 413


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
    declared = int(length) if length.isdigit() else None
    # A body refused for its size is still read (and dropped) to its end when it is not absurdly
    # large: a connection closed with unread bytes is reset, and a client still sending then sees the
    # reset, not the 413 that says why. A larger one is cut off at once.
    if declared is not None and declared > MAX_DRAIN:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_DRAIN:
            break
        if size <= limit:
            chunks.append(chunk)
    if size > limit or (declared is not None and declared > limit):
        raise _too_large(limit)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body is larger than {limit // 1024} KiB")


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
