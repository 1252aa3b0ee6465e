"""A local chat-completions server that answers with canned JSON, for tests and benchmarks.

It speaks the OpenAI chat-completions protocol on 127.0.0.1, so the real client is exercised
end to end. A good answer is built from the request itself (the schema's keys, the descriptor
line of the prompt); a script of behaviours makes it misbehave on purpose: malformed, slow,
truncated, invented-code, dropped-section, contradicting answers and HTTP errors.

    python -m medcodes.content.fakellm --port 8089     # serve until interrupted
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BEHAVIOURS = ("ok", "fenced", "malformed", "truncated", "invented", "drop", "empty", "contradict", "slow",
              "error500", "error429", "error401", "not_chat", "reject_format")


@dataclass
class FakeLLM:
    """`with FakeLLM(script=[...]) as llm: client = OpenAIChatClient(llm.base_url, "fake")`.

    `script`: behaviours for the next requests, in order; then `default`. `per_code`: behaviours
    for the requests about one code (read from the prompt's "Code:" line), used before `script`.
    "slow" waits `slow_seconds`, then answers well.
    """

    script: Iterable[str] = ()
    default: str = "ok"  # once the script is used up
    per_code: dict[str, list[str]] = field(default_factory=dict)
    slow_seconds: float = 2.0
    model: str = "fake-model"
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    max_in_flight: int = 0  # most requests answered at the same time


    def __post_init__(self) -> None:
        self._script = deque(self.script)
        self._per_code = {k: deque(v) for k, v in self.per_code.items()}
        self._lock = threading.Lock()
        self._in_flight = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self, port: int = 0) -> FakeLLM:
        fake = self

        class Handler(_Handler):
            llm = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def next_behaviour(self, code: str | None) -> str:
        with self._lock:
            queue = self._per_code.get(code or "")
            if queue:
                return queue.popleft()
            return self._script.popleft() if self._script else self.default


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    llm: FakeLLM

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        llm = self.llm
        with llm._lock:
            llm._in_flight += 1
            llm.max_in_flight = max(llm.max_in_flight, llm._in_flight)
        try:
            self._answer()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout, a cancelled run): nothing to answer
        finally:
            with llm._lock:
                llm._in_flight -= 1

    def _answer(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        with self.llm._lock:
            self.llm.requests.append(body)
            self.llm.headers.append({k.lower(): v for k, v in self.headers.items()})
        if not self.path.endswith("/chat/completions"):
            return self._send(404, {"error": {"message": "not found"}})
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user")
        code = _line(prompt, "Code")
        behaviour = self.llm.next_behaviour(code)
        if behaviour == "slow":
            time.sleep(self.llm.slow_seconds)
            behaviour = "ok"
        if behaviour == "error500":
            return self._send(500, {"error": {"message": "internal error"}})
        if behaviour == "error401":
            return self._send(401, {"error": {"message": "invalid api key"}})
        if behaviour == "error429":
            return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
        if behaviour == "reject_format" and "response_format" in body:
            return self._send(400, {"error": {"message": "response_format is not supported"}})
        unknown = sorted(k for k in body if k.startswith("dry_") or k == "repeat_penalty")
        if behaviour == "reject_llama_fields" and unknown:  # OpenAI's own answer to a field it does not know
            return self._send(400, {"error": {"message": f"Unrecognized request argument supplied: {unknown[0]}"}})
        if behaviour == "reject_llama_fields":
            behaviour = "ok"
        if behaviour == "not_chat":
            return self._send(200, {"hello": "world"})
        text, finish = answer(body, prompt, behaviour)
        self._send(200, {"id": "fake", "object": "chat.completion", "model": self.llm.model,
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                      "finish_reason": finish}],
                         "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(text) // 4}})

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


def _line(prompt: str, name: str) -> str | None:
    m = re.search(rf"^{name}: (.*)$", prompt, re.M)
    return m.group(1).strip() if m else None


def _keys(body: dict[str, Any], prompt: str) -> list[tuple[str, bool]]:
    """(section key, list allowed) from the request's schema, else from the prompt's example."""
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema")
    if schema:
        return [(k, "anyOf" in v) for k, v in schema["properties"].items()]
    shape = next((line for m in body.get("messages", []) for line in str(m.get("content", "")).splitlines()
                  if line.startswith('{"')), "")  # the JSON shape the instructions end with
    try:
        example = json.loads(shape)
    except json.JSONDecodeError:
        return [("summary", False)]
    return [(k, isinstance(v, list)) for k, v in example.items()]


def answer(body: dict[str, Any], prompt: str, behaviour: str = "ok") -> tuple[str, str]:
    """(content, finish_reason) for one request."""
    descriptor = _line(prompt, "Official descriptor") or "this condition"
    if behaviour == "contradict":
        swaps = {"right": "left", "left": "right", "without": "with", "with": "without",
                 "type 1": "type 2", "type 2": "type 1", "initial": "subsequent", "benign": "malignant",
                 "malignant": "benign"}
        descriptor = re.sub(r"\b(right|left|without|with|type 1|type 2|initial|benign|malignant)\b",
                            lambda m: swaps[m.group(1).lower()], descriptor, flags=re.I)
    out: dict[str, Any] = {}
    for i, (key, as_list) in enumerate(_keys(body, prompt)):
        if i == 0:
            out[key] = f"In plain words: {descriptor}. This is a made-up answer from the test server."
        elif as_list:
            out[key] = [f"First usual point about {key.replace('_', ' ')}.", "Second usual point."]
        else:
            out[key] = f"A plain sentence about {key.replace('_', ' ')}."
    keys = list(out)
    if behaviour == "invented":
        out[keys[-1]] = "See also code Z99.999 and J9999Z for this."
    elif behaviour == "drop":
        del out[keys[-1]]
    elif behaviour == "empty":
        out[keys[-1]] = "N/A"
    text = json.dumps(out)
    if behaviour == "fenced":
        return f"Here is the JSON:\n```json\n{text}\n```", "stop"
    if behaviour == "malformed":
        return text.replace('":', '"', 1) + " trailing words", "stop"
    if behaviour == "truncated":
        return text[: len(text) // 2], "length"
    return text, "stop"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--slow", type=float, default=0.0, help="seconds to wait before every answer")
    args = p.parse_args(argv)
    llm = FakeLLM(default="slow" if args.slow else "ok", slow_seconds=args.slow).start(args.port)
    print(llm.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        llm.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
