"""The in-process path against the real llama.cpp runtime (llama-cpp-python), with a tiny random-weight
GGUF written at test time: the grammar built from the answer schema, thread and sampling settings,
and a whole generation run. Skipped when llama-cpp-python is not installed (it builds llama.cpp from
source: `pip install llama-cpp-python`)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from medcodes.content.generate import explain_code, generate
from medcodes.content.llm import LlamaCppClient, Sampling
from medcodes.content.prompt import answer_schema, validation_schema
from medcodes.content.sections import DIAGNOSIS
from medcodes.content.store import ContentStore
from medcodes.index import Catalog

from .tiny_gguf import write_tiny_gguf

llama_cpp = pytest.importorskip("llama_cpp")
pytest.importorskip("gguf")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


def test_the_sent_schema_makes_a_small_grammar() -> None:
    """Length limits in the schema became 2,500 nested optional groups, past llama.cpp's limit (a crash);
    the schema sent now has none, and the limits are checked on the answer."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    sent = json_schema_to_gbnf(json.dumps(answer_schema(DIAGNOSIS)))
    old = json_schema_to_gbnf(json.dumps(validation_schema(DIAGNOSIS)))
    assert len(sent) < 5_000 < 100_000 < len(old)


def test_a_completion_from_the_real_runtime(model: Path) -> None:
    client = LlamaCppClient(model, threads=2, max_tokens=40, n_ctx=2048)
    completion = asyncio.run(client.complete([{"role": "user", "content": "Explain E11.9"}],
                                             answer_schema(DIAGNOSIS), Sampling(max_tokens=30, repeat_penalty=1.15)))
    assert completion.text.startswith("{") and completion.finish_reason in ("length", "stop")
    assert completion.model == "tiny.gguf" and completion.seconds > 0


def test_a_run_on_the_real_runtime_records_what_fails_and_goes_on(model: Path, catalog: Catalog,
                                                                   tmp_path: Path) -> None:
    """Random weights never finish a section within the token limit: each code is retried with fewer
    tokens and a repetition penalty, then recorded as failed; the run reaches every code."""
    store = ContentStore(tmp_path / "content.sqlite")
    client = LlamaCppClient(model, threads=2, max_tokens=40, n_ctx=4096)
    outcome = asyncio.run(explain_code(catalog, client, "icd10cm", "E11.9", attempts=2, max_tokens=40))
    assert not outcome.ok and outcome.attempts == 2 and "token limit" in outcome.problems[0]
    report = asyncio.run(generate(catalog, store, client, [("icd10cm", "E11.9"), ("icd10cm", "E10.9")],
                                  concurrency=2, attempts=2))
    assert report.failed == 2 and len(store.open_failures()) == 2 and store.done("x") == set()


def test_a_prompt_longer_than_the_context_fails_that_code_only(model: Path, catalog: Catalog, tmp_path: Path) -> None:
    """llama.cpp refuses a prompt longer than its context with a ValueError; that is one failed code,
    recorded, not the end of the run."""
    store = ContentStore(tmp_path / "content.sqlite")
    client = LlamaCppClient(model, threads=2, max_tokens=40, n_ctx=512)
    report = asyncio.run(generate(catalog, store, client, [("icd10cm", "E11.9"), ("icd10cm", "E10.9")],
                                  concurrency=1, attempts=1))
    assert report.failed == 2 and "exceed context window" in report.failures[0][2]
