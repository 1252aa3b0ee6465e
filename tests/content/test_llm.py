"""The real chat-completions client against a local server that misbehaves on purpose."""

from __future__ import annotations

import asyncio
import socket
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from medcodes.content.fakellm import FakeLLM
from medcodes.content.llm import LlamaCppClient, LLMError, OpenAIChatClient, client_from_settings
from medcodes.content.prompt import answer_schema
from medcodes.content.sections import DIAGNOSIS

SCHEMA = answer_schema(DIAGNOSIS)
MESSAGES = [{"role": "user", "content": "Code: E11.9\nOfficial descriptor: Type 2 diabetes mellitus"}]


def _ask(llm: FakeLLM, **kwargs: Any) -> Any:
    async def go() -> Any:
        client = OpenAIChatClient(llm.base_url, "fake", "sk-secret", backoff=0.01, **kwargs)
        try:
            return await client.complete(MESSAGES, SCHEMA)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_answer_schema_and_key_are_sent(fake_llm: FakeLLM) -> None:
    got = _ask(fake_llm)
    assert got.finish_reason == "stop" and got.model == "fake-model" and '"summary"' in got.text
    body = fake_llm.requests[0]
    assert body["model"] == "fake" and body["response_format"]["json_schema"]["schema"] == SCHEMA
    assert fake_llm.headers[0]["authorization"] == "Bearer sk-secret"


def test_key_never_in_repr() -> None:
    assert "sk-secret" not in repr(OpenAIChatClient("http://127.0.0.1:9/v1", "m", "sk-secret"))


def test_server_errors_and_rate_limits_are_retried(fake_llm: FakeLLM) -> None:
    fake_llm._script.extend(["error500", "error429"])
    assert '"summary"' in _ask(fake_llm).text
    assert len(fake_llm.requests) == 3


def test_gives_up_after_retries(fake_llm: FakeLLM) -> None:
    fake_llm._script.extend(["error500"] * 5)
    with pytest.raises(LLMError, match=r"HTTP 500 \(3 tries\)"):
        _ask(fake_llm, retries=2)


def test_slow_answer_times_out_then_retry_succeeds(fake_llm: FakeLLM) -> None:
    fake_llm._script.extend(["slow"])
    assert '"summary"' in _ask(fake_llm, timeout=0.2).text
    fake_llm._script.extend(["slow", "slow"])
    with pytest.raises(LLMError, match="timed out"):
        _ask(fake_llm, timeout=0.2, retries=1)


def test_truncated_and_malformed_answers_come_back_as_they_are(fake_llm: FakeLLM) -> None:
    fake_llm._script.extend(["truncated", "malformed"])
    cut = _ask(fake_llm)
    assert cut.finish_reason == "length"
    assert "trailing words" in _ask(fake_llm).text  # judging the answer is checks.py's work


def test_server_without_response_format_gets_plainer_requests(fake_llm: FakeLLM) -> None:
    fake_llm._script.extend(["reject_format", "reject_format"])
    assert '"summary"' in _ask(fake_llm).text
    formats = [r.get("response_format", {}).get("type") for r in fake_llm.requests]
    assert formats == ["json_schema", "json_object", None]


def test_dry_sampling_is_sent_and_dropped_for_an_endpoint_that_refuses_it(fake_llm: FakeLLM) -> None:
    """llama.cpp's DRY sampler on every request stops a small model looping inside a list; an endpoint
    that refuses llama.cpp's own fields (OpenAI's answers 400) gets the same request without them."""
    _ask(fake_llm, dry_multiplier=0.8)
    assert fake_llm.requests[0]["dry_multiplier"] == 0.8 and fake_llm.requests[0]["dry_allowed_length"] == 2
    assert fake_llm.requests[0]["dry_sequence_breakers"] == ["\n"]  # a repeated list item is a repeat too
    fake_llm._script.append("reject_llama_fields")
    assert '"summary"' in _ask(fake_llm, dry_multiplier=0.8).text
    refused, plain = fake_llm.requests[1:]
    assert "dry_multiplier" in refused and not any(k.startswith("dry_") for k in plain)
    _ask(fake_llm)  # 0: off
    assert "dry_multiplier" not in fake_llm.requests[-1]


def test_not_a_chat_answer(fake_llm: FakeLLM) -> None:
    fake_llm._script.append("not_chat")
    with pytest.raises(LLMError, match=r"choices\[0\]\.message"):
        _ask(fake_llm)


def test_unreachable_endpoint() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    client = OpenAIChatClient(f"http://127.0.0.1:{port}/v1", "m", backoff=0.01, retries=1)
    with pytest.raises(LLMError, match="cannot reach it"):
        asyncio.run(client.complete(MESSAGES, SCHEMA))


def test_settings_choose_the_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MEDCODES_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("MEDCODES_LLM_MODEL", raising=False)
    with pytest.raises(LLMError, match="no model configured"):
        client_from_settings()
    monkeypatch.setenv("MEDCODES_LLM_BASE_URL", "http://127.0.0.1:8080/v1")
    with pytest.raises(LLMError, match="set MEDCODES_LLM_MODEL"):
        client_from_settings()
    monkeypatch.setenv("MEDCODES_LLM_MODEL", "qwen")
    client = client_from_settings()
    assert isinstance(client, OpenAIChatClient) and client.url == "http://127.0.0.1:8080/v1/chat/completions"
    assert client.dry_multiplier == 0.8  # the setting's default
    asyncio.run(client.aclose())
    monkeypatch.setenv("MEDCODES_LLM_DRY", "0")
    client = client_from_settings()
    assert isinstance(client, OpenAIChatClient) and client.dry_multiplier == 0
    asyncio.run(client.aclose())
    monkeypatch.setenv("MEDCODES_LLM_DRY", "strong")
    with pytest.raises(LLMError, match="MEDCODES_LLM_DRY='strong': expected a number"):
        client_from_settings()


def test_llama_cpp_is_optional(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if not installed
    with pytest.raises(LLMError, match="pip install llama-cpp-python"):
        LlamaCppClient(tmp_path / "model.gguf")
    monkeypatch.delenv("MEDCODES_LLM_BASE_URL", raising=False)
    monkeypatch.setenv("MEDCODES_LLM_MODEL", str(tmp_path / "model.gguf"))
    with pytest.raises(LLMError, match="llama-cpp-python"):
        client_from_settings()


def test_llama_cpp_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []

    class Llama:
        def __init__(self, model_path: str, **kwargs: Any) -> None:
            self.model_path = model_path

        def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"choices": [{"message": {"role": "assistant", "content": '{"summary": "x"}'},
                                 "finish_reason": "stop"}]}

    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=Llama))
    gguf = tmp_path / "tiny.gguf"
    with pytest.raises(LLMError, match="no GGUF model file"):
        LlamaCppClient(gguf)
    gguf.write_bytes(b"GGUF")
    client = client_from_settings(gguf=str(gguf))
    got = asyncio.run(client.complete(MESSAGES, SCHEMA))
    assert got.text == '{"summary": "x"}' and got.model == "tiny.gguf"
    assert calls[0]["response_format"] == {"type": "json_object", "schema": SCHEMA}
