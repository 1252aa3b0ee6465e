"""The generation pipeline end to end: real client, local server, store; retries, resume, concurrency."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from medcodes.content.explain import GENERATED_LABEL, explainer
from medcodes.content.fakellm import FakeLLM
from medcodes.content.generate import GenerateReport, generate, resolve_targets
from medcodes.content.llm import LLMError, OpenAIChatClient
from medcodes.content.prompt import PROMPT_VERSION
from medcodes.content.store import ContentStore
from medcodes.errors import NotFound
from medcodes.index import Catalog


def _run(catalog: Catalog, store: ContentStore, llm: FakeLLM, targets: list[tuple[str, str]],
         **kwargs: Any) -> GenerateReport:
    async def go() -> GenerateReport:
        client = OpenAIChatClient(llm.base_url, "fake", backoff=0.01, retries=1)
        try:
            return await generate(catalog, store, client, targets, **kwargs)
        finally:
            await client.aclose()

    return asyncio.run(go())


@pytest.fixture()
def store(tmp_path: Path) -> ContentStore:
    return ContentStore(tmp_path / "store.sqlite")


def test_resolve_code_range_prefix(catalog: Catalog) -> None:
    assert resolve_targets(catalog, ["e119"]) == [("icd10cm", "E11.9")]
    assert resolve_targets(catalog, ["E10-E11"], "icd10cm") == [
        ("icd10cm", c) for c in ("E10", "E10.9", "E11", "E11.65", "E11.8", "E11.9")]
    assert resolve_targets(catalog, ["E11*"], billable_only=True) == [
        ("icd10cm", c) for c in ("E11.65", "E11.8", "E11.9")]
    assert resolve_targets(catalog, ["E08-E13"]) == [("icd10cm", "E08-E13")]  # a block code, not a range
    assert resolve_targets(catalog, ["0SR9019", "0SR9019"]) == [("icd10pcs", "0SR9019")]
    with pytest.raises(NotFound, match="no code matches 'X99'"):
        resolve_targets(catalog, ["X99"])


def test_generate_stores_with_provenance(catalog: Catalog, store: ContentStore, fake_llm: FakeLLM) -> None:
    targets = [("icd10cm", "E11.9"), ("icd10pcs", "0SR9019"), ("hcpcs", "E0100"), ("msdrg", "291")]
    report = _run(catalog, store, fake_llm, targets)
    assert (report.generated, report.failed, report.skipped) == (4, 0, 0)
    item = store.get("icd10pcs", "0SR9019")
    assert item is not None and item["model"] == "fake" and item["prompt_version"] == PROMPT_VERSION
    assert item["review_status"] == "unreviewed" and item["section_set"] == "procedure"
    assert [s["title"] for s in item["sections"]][:3] == ["Summary", "Purpose", "Indications"]
    assert item["sections"][2]["items"]
    prompts = [r["messages"][1]["content"] for r in fake_llm.requests]
    prompt = next(p for p in prompts if "Code: 0SR9019" in p)
    assert "Replacement is officially defined as: Putting in or on biological" in prompt  # grounded in the axes
    assert "Character 1" not in prompt  # the same axes again, one line each: read once is enough


def test_resume_skips_what_is_stored(catalog: Catalog, store: ContentStore, fake_llm: FakeLLM) -> None:
    _run(catalog, store, fake_llm, [("icd10cm", "E11.9")])
    report = _run(catalog, store, fake_llm, [("icd10cm", "E11.9"), ("icd10cm", "E10.9")])
    assert (report.generated, report.skipped) == (1, 1) and len(fake_llm.requests) == 2
    report = _run(catalog, store, fake_llm, [("icd10cm", "E11.9")], force=True)
    assert report.generated == 1


@pytest.mark.parametrize("bad", ["malformed", "truncated", "invented", "drop", "empty", "contradict"])
def test_bad_answers_are_rejected_then_retried(catalog: Catalog, store: ContentStore, bad: str) -> None:
    with FakeLLM(per_code={"M16.11": [bad]}) as llm:
        report = _run(catalog, store, llm, [("icd10cm", "M16.11")])
        assert (report.generated, report.retried) == (1, 1)
        first, retry = llm.requests[0], llm.requests[1]
        # the original prompt again with what was wrong, never the rejected answer to copy
        assert [m["role"] for m in retry["messages"]] == [m["role"] for m in first["messages"]]
        assert "An earlier answer was rejected:" in retry["messages"][-1]["content"]
        if bad == "truncated":  # cut off by the token limit: fewer tokens and a repetition penalty
            assert retry["max_tokens"] < first["max_tokens"] and retry["repeat_penalty"] > 1
    assert store.get("icd10cm", "M16.11")["attempts"] == 2  # type: ignore[index]


def test_a_truncated_answer_is_retried_with_fewer_tokens_than_the_clients_own(catalog: Catalog) -> None:
    """The retry's token limit comes from the client's limit, not a default larger than it."""
    from medcodes.content.generate import explain_code
    from medcodes.content.quality import check_name

    with FakeLLM(per_code={"M16.11": ["truncated"]}) as llm:
        async def go() -> Any:
            client = OpenAIChatClient(llm.base_url, "fake", max_tokens=800, backoff=0.01, retries=1)
            try:
                return await explain_code(catalog, client, "icd10cm", "M16.11")
            finally:
                await client.aclose()

        outcome = asyncio.run(go())
        assert [r["max_tokens"] for r in llm.requests] == [800, 480]
    assert outcome.ok and [a.finish_reason for a in outcome.answers] == ["length", "stop"]
    assert [check_name(p) for p in outcome.answers[0].problems] == ["token_limit"]
    assert outcome.answers[1].problems == () and outcome.answers[1].tokens  # usage.completion_tokens


def test_a_code_whose_answers_stay_bad_is_recorded_and_left(catalog: Catalog, store: ContentStore) -> None:
    with FakeLLM(per_code={"E10.9": ["invented"] * 3}) as llm:
        report = _run(catalog, store, llm, [("icd10cm", "E10.9"), ("icd10cm", "E11.9")], attempts=3)
    assert (report.generated, report.failed) == (1, 1)
    assert report.failures[0][:2] == ("icd10cm", "E10.9") and "Z99.999" in report.failures[0][2]
    assert store.get("icd10cm", "E10.9") is None
    assert store.failures("icd10cm", "E10.9")[0]["attempts"] == 3


def test_a_code_whose_requests_fail_is_recorded_and_the_run_goes_on(catalog: Catalog, store: ContentStore) -> None:
    with FakeLLM(per_code={"E10.9": ["error500"] * 5}) as llm:
        report = _run(catalog, store, llm, [("icd10cm", "E10.9"), ("icd10cm", "E11.9")], concurrency=1)
    assert (report.generated, report.failed) == (1, 1) and "HTTP 500" in report.failures[0][2]
    assert store.done(PROMPT_VERSION) == {("icd10cm", "E11.9")}
    assert store.failures("icd10cm", "E10.9")


def test_a_code_past_its_deadline_is_recorded_and_the_run_goes_on(catalog: Catalog, store: ContentStore) -> None:
    with FakeLLM(per_code={"E10.9": ["slow"]}, slow_seconds=3) as llm:
        report = _run(catalog, store, llm, [("icd10cm", "E10.9"), ("icd10cm", "E11.9")], concurrency=2, timeout=0.5)
    assert report.generated == 1 and report.failures[0][:2] == ("icd10cm", "E10.9")
    assert "no answer within 0.5 s" in report.failures[0][2]


def test_a_refused_key_stops_the_run_and_keeps_finished_work(catalog: Catalog, store: ContentStore) -> None:
    with FakeLLM(per_code={"E10.9": ["error401"]}) as llm:
        with pytest.raises(LLMError, match="refused the API key"):
            _run(catalog, store, llm, [("icd10cm", "E11.9"), ("icd10cm", "E10.9")], concurrency=1)
    assert store.done(PROMPT_VERSION) == {("icd10cm", "E11.9")}


def test_concurrency_overlaps_slow_answers(catalog: Catalog, store: ContentStore) -> None:
    targets = resolve_targets(catalog, ["E*", "S*"], "icd10cm")[:8]
    with FakeLLM(default="slow", slow_seconds=0.3) as llm:
        report = _run(catalog, store, llm, targets, concurrency=4)
    assert report.generated == 8 and llm.max_in_flight == 4


def test_interrupted_run_keeps_finished_codes(catalog: Catalog, store: ContentStore) -> None:
    targets = resolve_targets(catalog, ["E*"], "icd10cm")
    with FakeLLM(per_code={"E11.9": ["slow"]}, slow_seconds=5) as llm:
        async def go() -> None:
            client = OpenAIChatClient(llm.base_url, "fake")
            task = asyncio.create_task(generate(catalog, store, client, targets, concurrency=1))
            while ("icd10cm", "E11.8") not in store.done(PROMPT_VERSION):
                await asyncio.sleep(0.02)
            task.cancel()  # what Ctrl-C does to asyncio.run's main task
            with pytest.raises(asyncio.CancelledError):
                await task
            await client.aclose()

        asyncio.run(go())
    done = store.done(PROMPT_VERSION)
    assert ("icd10cm", "E11.8") in done and ("icd10cm", "E11.9") not in done


def test_explainer_combines_both_layers(catalog: Catalog, store: ContentStore, fake_llm: FakeLLM) -> None:
    data = catalog.official("icd10cm", "E11.9")
    plain = explainer(store, data).to_json()
    assert plain["generated"] is None and {s["source"]["type"] for s in plain["sections"]} == {"official"}
    _run(catalog, store, fake_llm, [("icd10cm", "E11.9")])
    shown = explainer(store.path, data).to_json()
    assert shown["generated"]["label"] == GENERATED_LABEL == "Generated — not medical advice"
    assert shown["generated"]["model"] == "fake" and shown["generated"]["stale"] is False
    generated = [s for s in shown["sections"] if s["source"]["type"] == "generated"]
    assert [s["title"] for s in generated] == ["Summary", "Causes", "Symptoms", "Diagnosis", "Treatment",
                                               "Outlook", "Coding notes"]
    assert set(generated[0]["source"]) == {"type", "model", "date", "review_status", "prompt_version"}
    assert shown["sections"][0]["title"] == "Summary"
    store.review("icd10cm", "E11.9", "rejected", note="wrong")
    assert explainer(store, data).to_json()["generated"] is None  # rejected text is never shown
    changed = replace(data, title="Type 2 diabetes mellitus without complications (revised)")
    store.review("icd10cm", "E11.9", "approved")
    assert explainer(store, changed).to_json()["generated"]["stale"] is True


def test_failed_codes_are_listed_for_review_and_reviewed_only_hides_unreviewed(
        catalog: Catalog, store: ContentStore, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM(per_code={"E10.9": ["invented"] * 3}) as llm:
        _run(catalog, store, llm, [("icd10cm", "E10.9"), ("icd10cm", "E11.9")], attempts=3)
    (failed,) = store.open_failures()
    assert (failed["system"], failed["code"], failed["attempts"]) == ("icd10cm", "E10.9", 3)
    data = catalog.official("icd10cm", "E11.9")
    assert explainer(store, data).to_json()["generated"]["review_status"] == "unreviewed"
    monkeypatch.setenv("MEDCODES_CONTENT_REVIEWED_ONLY", "1")
    assert explainer(store, data).to_json()["generated"] is None  # not approved: not shown
    store.review("icd10cm", "E11.9", "approved")
    assert explainer(store, data).to_json()["generated"]["review_status"] == "approved"
