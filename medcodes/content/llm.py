"""Language-model clients: any OpenAI-compatible chat-completions endpoint (llama.cpp server,
vLLM, Ollama, hosted APIs), or a local GGUF file in-process through llama-cpp-python.

Transport problems (timeouts, refused connections, 429 and 5xx answers) are retried by the
package's one retry rule (medcodes.http_client.Retries: backoff, a capped Retry-After, a
deadline); what the model says is judged elsewhere (checks.py). The API key is sent as a bearer
token and never appears in messages, reprs or logs.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import re
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import certifi
import httpx

from .. import settings
from ..errors import MedcodesError
from ..http_client import RETRY_STATUSES, FetchError, Limits, Retries

MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is waited only this long

Messages = list[dict[str, str]]


class LLMError(MedcodesError):
    """The model could not be asked (transport, auth, configuration); retrying the answer will not help."""


class LLMConfigError(LLMError):
    """No model can be asked at all (no endpoint, a refused key): every code would fail the same way."""


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    finish_reason: str | None  # "length" = cut off by the token limit
    model: str
    seconds: float = 0.0  # the model's own time: from the request leaving to the answer (no queueing here)
    tokens: int | None = None  # completion tokens the endpoint reports (usage.completion_tokens)
    prompt_tokens: int | None = None  # usage.prompt_tokens
    cached_tokens: int | None = None  # of those, read from the server's prompt cache (prompt_tokens_details)


@dataclass(frozen=True, slots=True)
class Sampling:
    """Per-request settings a retry changes: fewer tokens and a repetition penalty after an answer
    that ran to the token limit (a model that loops runs until it is cut off)."""

    max_tokens: int | None = None  # None: the client's own
    repeat_penalty: float = 1.0  # 1.0 = none; llama.cpp's repeat_penalty, OpenAI's frequency_penalty


# llama.cpp's DRY ("don't repeat yourself") sampler, on every attempt: it penalises a token that would
# extend a sequence already written, so a small model stops looping instead of running to the token
# limit. A sequence ends only at a newline: with llama.cpp's default breakers (newline, ':', '"', '*')
# every JSON string starts a fresh sequence and a list item written forty times ("Type 2 diabetes
# mellitus" for E11.9, SmolLM2 135M) is never penalised. Where the grammar allows one token only
# (JSON structure), a penalty changes nothing.
DRY_SEQUENCE_BREAKERS = ("\n",)
DRY_BASE = 1.75
DRY_ALLOWED_LENGTH = 2


class ChatClient(Protocol):
    model: str

    async def complete(self, messages: Messages, schema: dict[str, Any],
                       sampling: Sampling = ...) -> Completion: ...

    async def aclose(self) -> None: ...


def completion_from(body: Any, default_model: str, seconds: float = 0.0) -> Completion:
    """Read an OpenAI-shaped chat-completions body (the same shape llama-cpp-python returns)."""
    try:
        choice = body["choices"][0]
        content = choice["message"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise LLMError("the endpoint answered without choices[0].message: not a chat-completions answer") from None
    if not isinstance(content, str):
        content = ""
    usage: dict[str, Any] = body["usage"] if isinstance(body.get("usage"), dict) else {}
    details: dict[str, Any] = usage.get("prompt_tokens_details") or {}
    if not isinstance(details, dict):
        details = {}
    return Completion(content, choice.get("finish_reason"), str(body.get("model") or default_model), seconds,
                      _count(usage.get("completion_tokens")), _count(usage.get("prompt_tokens")),
                      _count(details.get("cached_tokens")))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) else None


_PER_SHARD = 8  # connections per HTTP client (see OpenAIChatClient.__init__)

# Servers that do not know a response_format answer 400; fall back one step at a time.
_FORMATS = ("json_schema", "json_object", "none")
# A 400 naming one of llama.cpp's own sampling fields: the endpoint is not llama.cpp and refuses them.
_LLAMA_FIELD = re.compile(r"dry_|repeat_penalty")


class OpenAIChatClient:
    """POST {base_url}/chat/completions; base_url usually ends in /v1 (http://127.0.0.1:8080/v1)."""

    def __init__(self, base_url: str, model: str, api_key: str = "", *, timeout: float = 300.0,
                 connect_timeout: float = 10.0, retries: int = 3, backoff: float = 0.5, max_tokens: int = 3000,
                 temperature: float = 0.2, response_format: str = "json_schema", concurrency: int = 8,
                 dry_multiplier: float = 0.0, dry_breakers: tuple[str, ...] | None = DRY_SEQUENCE_BREAKERS,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not base_url:
            raise LLMConfigError("no endpoint: set MEDCODES_LLM_BASE_URL (e.g. http://127.0.0.1:8080/v1)")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self.max_tokens, self.temperature = max_tokens, temperature
        self._format = _FORMATS.index(response_format)
        self.dry_multiplier = dry_multiplier  # 0: off (an endpoint that is not llama.cpp)
        self.dry_breakers = dry_breakers  # None: the server's own
        self._llama_fields = True  # llama.cpp's own sampling fields; dropped when the endpoint refuses them
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # httpcore's pool scans every connection for every queued request: at 64 connections that
        # scan, not the network, is the limit. Small pools side by side keep each scan short.
        shards = max(1, math.ceil(concurrency / _PER_SHARD))
        limits = httpx.Limits(max_connections=_PER_SHARD, max_keepalive_connections=_PER_SHARD)
        tls = ssl.create_default_context(cafile=certifi.where())  # loaded once, not once per pool
        self._shards = [httpx.AsyncClient(headers=headers, transport=transport, limits=limits, verify=tls,
                                          timeout=httpx.Timeout(timeout, connect=connect_timeout))
                        for _ in range(shards)]
        self._next = itertools.count()

    def __repr__(self) -> str:
        return f"OpenAIChatClient({self.url!r}, model={self.model!r})"

    def _body(self, messages: Messages, schema: dict[str, Any], sampling: Sampling) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature,
                                "max_tokens": sampling.max_tokens or self.max_tokens}
        if sampling.repeat_penalty != 1.0:
            body["frequency_penalty"] = round(sampling.repeat_penalty - 1.0, 3)  # the OpenAI name
            if self._llama_fields:
                body["repeat_penalty"] = sampling.repeat_penalty  # llama.cpp server's own
        if self.dry_multiplier and self._llama_fields:
            body.update(dry_multiplier=self.dry_multiplier, dry_base=DRY_BASE, dry_allowed_length=DRY_ALLOWED_LENGTH)
            if self.dry_breakers is not None:
                body["dry_sequence_breakers"] = list(self.dry_breakers)
        fmt = _FORMATS[self._format]
        if fmt == "json_schema":
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "explainer", "schema": schema, "strict": True}}
        elif fmt == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    async def complete(self, messages: Messages, schema: dict[str, Any],
                       sampling: Sampling = Sampling()) -> Completion:  # noqa: B008 - frozen, shared
        # the whole exchange, retries and waits included, within the tries' read timeouts and backoff
        deadline = (self.timeout + self.backoff * 2 ** self.retries + MAX_RETRY_AFTER) * (self.retries + 1)
        tries = Retries(self.url, Limits(retries=self.retries, backoff=self.backoff, deadline=deadline,
                                         max_retry_after=MAX_RETRY_AFTER))
        while True:
            try:
                http = self._shards[next(self._next) % len(self._shards)]
                sent = time.perf_counter()
                r = await http.post(self.url, json=self._body(messages, schema, sampling))
            except httpx.TimeoutException as e:
                await self._wait(tries, f"timed out ({type(e).__name__})")
                continue
            except httpx.TransportError as e:
                await self._wait(tries, f"cannot reach it ({type(e).__name__}: {e})")
                continue
            if r.status_code == 200:
                return self._read(r, time.perf_counter() - sent)
            if r.status_code == 400 and "format" in r.text.lower() and self._format < len(_FORMATS) - 1:
                self._format += 1  # the server does not know this response_format: ask more plainly
                return await self.complete(messages, schema, sampling)
            if r.status_code == 400 and self._llama_fields and _LLAMA_FIELD.search(r.text):
                self._llama_fields = False  # an endpoint that refuses fields it does not know: ask plainly
                return await self.complete(messages, schema, sampling)
            if r.status_code in (401, 403):
                raise LLMConfigError(f"{self.url} refused the API key (HTTP {r.status_code});"
                                     " check MEDCODES_LLM_API_KEY")
            if r.status_code not in RETRY_STATUSES:
                raise LLMError(f"{self.url} answered HTTP {r.status_code}: {r.text[:300]}")
            await self._wait(tries, f"HTTP {r.status_code}", r.headers.get("retry-after"))

    async def _wait(self, tries: Retries, problem: str, retry_after: str | None = None) -> None:
        """The shared retry rule (medcodes.http_client.Retries), in this client's words."""
        try:
            wait = tries.wait_before_next(problem, retry_after)
        except FetchError:
            raise LLMError(f"{self.url}: {problem} ({tries.attempt + 1} tries)") from None
        await asyncio.sleep(wait)

    def _read(self, r: httpx.Response, seconds: float) -> Completion:
        try:
            body = r.json()
        except ValueError:
            raise LLMError(f"{self.url} answered 200 with a body that is not JSON: {r.text[:200]!r}") from None
        return completion_from(body, self.model, seconds)

    async def aclose(self) -> None:
        for http in self._shards:
            await http.aclose()


class LlamaCppClient:
    """A local GGUF model in this process (llama-cpp-python, an optional dependency).

    llama.cpp answers one request at a time, so calls are serialised on a lock and run in a
    worker thread to keep the event loop free.
    """

    def __init__(self, model_path: str | Path, *, n_ctx: int = 8192, max_tokens: int = 3000,
                 temperature: float = 0.2, threads: int | None = None, **llama_kwargs: Any) -> None:
        try:
            import llama_cpp
        except ImportError:
            raise LLMError("in-process generation needs llama-cpp-python: pip install llama-cpp-python"
                           " (or point MEDCODES_LLM_BASE_URL at a llama.cpp server)") from None
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise LLMError(f"{path}: no GGUF model file here")
        self.model = path.name
        self.max_tokens, self.temperature = max_tokens, temperature
        self._lock = threading.Lock()
        # llama.cpp's default is one thread per physical core it detects, which in a container is
        # often 1; generation scales with threads up to the cores there are (2 threads: 40-55% faster)
        threads = threads or os.cpu_count() or 1
        self._llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, verbose=False, n_threads=threads,
                                    n_threads_batch=threads, **llama_kwargs)

    def _call(self, messages: Messages, schema: dict[str, Any], sampling: Sampling) -> tuple[Any, float]:
        with self._lock:  # time waiting for the lock is queueing, not the model's time
            started = time.perf_counter()
            try:
                body = self._create(messages, schema, sampling)
            except ValueError as e:  # llama.cpp's own refusal, e.g. a prompt longer than the context
                raise LLMError(f"{self.model}: {e}") from None
            return body, time.perf_counter() - started

    def _create(self, messages: Messages, schema: dict[str, Any], sampling: Sampling) -> Any:
        return self._llm.create_chat_completion(
            messages=cast(Any, messages), temperature=self.temperature,
            max_tokens=sampling.max_tokens or self.max_tokens, repeat_penalty=sampling.repeat_penalty,
            response_format={"type": "json_object", "schema": schema})

    async def complete(self, messages: Messages, schema: dict[str, Any],
                       sampling: Sampling = Sampling()) -> Completion:  # noqa: B008 - frozen, shared
        body, seconds = await asyncio.to_thread(self._call, messages, schema, sampling)
        if isinstance(body, dict):
            body = {**body, "model": self.model}  # the file's name, not the path llama.cpp reports
        return completion_from(body, self.model, seconds)

    async def aclose(self) -> None:
        return None


def client_from_settings(*, base_url: str | None = None, model: str | None = None, api_key: str | None = None,
                         gguf: str | None = None, concurrency: int = 8, timeout: float = 300.0,
                         threads: int | None = None, dry_multiplier: float | None = None) -> ChatClient:
    """The client the settings describe: a GGUF file (given, or as MEDCODES_LLM_MODEL with no
    base URL) runs in-process; otherwise the OpenAI-compatible endpoint."""
    base_url = base_url if base_url is not None else settings.get("MEDCODES_LLM_BASE_URL")
    model = model if model is not None else settings.get("MEDCODES_LLM_MODEL")
    api_key = api_key if api_key is not None else settings.get("MEDCODES_LLM_API_KEY")
    if gguf or (not base_url and model.endswith(".gguf")):
        return LlamaCppClient(gguf or model, threads=threads)
    if not base_url:
        raise LLMError("no model configured: set MEDCODES_LLM_BASE_URL and MEDCODES_LLM_MODEL"
                       " (an OpenAI-compatible endpoint), or give a GGUF file with --gguf")
    if not model:
        raise LLMError("set MEDCODES_LLM_MODEL: the model name the endpoint serves")
    if dry_multiplier is None:
        dry_multiplier = _float_setting("MEDCODES_LLM_DRY")
    return OpenAIChatClient(base_url, model, api_key, concurrency=concurrency, timeout=timeout,
                            dry_multiplier=dry_multiplier)


def _float_setting(name: str) -> float:
    value = settings.get(name)
    try:
        return float(value or 0)
    except ValueError:
        raise LLMConfigError(f"{name}={value!r}: expected a number") from None
