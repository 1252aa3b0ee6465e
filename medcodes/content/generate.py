"""The generation pipeline: codes in, checked explainer text out, stored as it arrives.

Codes are worked on by `concurrency` coroutines sharing one HTTP client. Each finished code is
written to the store at once (committed at least every second), so an interrupted run loses
at most a second of work and the next run skips every code already stored for the current
prompt version (resume). A rejected answer is retried with the reasons; a code whose answers
stay bad is recorded in `content_failures` and left for the next run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import systems
from ..errors import NotFound
from .checks import check_answer
from .llm import ChatClient, LLMConfigError, LLMError, Sampling
from .prompt import (
    PROMPT_VERSION,
    answer_schema,
    build_messages,
    facts_hash,
    grounding,
    retry_messages,
    validation_schema,
)
from .quality import tagged
from .sections import section_set, section_set_name
from .store import ContentStore, now

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer the model gave for a code, and what the checks said of it (for benchmarks and review)."""

    text: str
    finish_reason: str | None
    seconds: float
    tokens: int | None  # completion tokens, when the endpoint says
    problems: tuple[str, ...]  # empty: it passed; each a quality.Problem naming its check
    prompt_tokens: int | None = None  # when the endpoint says
    cached_tokens: int | None = None  # of the prompt tokens, read from the server's prompt cache


@dataclass
class Outcome:
    system: str
    code: str
    ok: bool
    attempts: int
    seconds: float
    item: dict[str, Any] | None = None  # the stored row when ok
    problems: list[str] = field(default_factory=list)  # of the last attempt when not ok
    answers: list[Answer] = field(default_factory=list)  # every answer, in order


@dataclass
class GenerateReport:
    requested: int = 0
    skipped: int = 0  # already stored for this prompt version
    generated: int = 0
    failed: int = 0
    retried: int = 0  # codes that needed more than one attempt
    seconds: float = 0.0
    failures: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Finished codes (stored or failed) per second of wall time."""
        return (self.generated + self.failed) / self.seconds if self.seconds else 0.0


def resolve_targets(catalog: Any, specs: Iterable[str], system: str | None = None,
                    billable_only: bool = False) -> list[Key]:
    """CODE, RANGE ("E10-E11") or PREFIX ("E11*") arguments -> (system, code) pairs in code order."""
    out: dict[Key, None] = {}
    for spec in specs:
        rows = _rows_for(catalog, spec.strip(), system)
        if not rows:
            raise NotFound(f"no code matches {spec!r}" + (f" in {system}" if system else ""))
        for r in rows:
            if not billable_only or r["billable"]:
                out[(r["system"], r["code"])] = None
    return list(out)


def _rows_for(catalog: Any, spec: str, system: str | None) -> list[Any]:
    if spec.endswith("*"):
        prefix = systems.compact(spec[:-1])
        # a range, not LIKE: it uses the compact index and needs no escaping ("~" sorts after A-Z, 0-9)
        sql = "SELECT system, code, billable FROM codes WHERE compact>=? AND compact<?"
        args: list[Any] = [prefix, prefix + "~"]
        if system:
            sql += " AND system=?"
            args.append(system)
        return list(catalog.conn.execute(sql + " ORDER BY system, seq", args))
    exact = catalog.find(spec, system)
    first, sep, last = spec.partition("-")
    if sep and first and last and not exact:
        for sys_id in [system] if system else sorted({r["system"] for r in catalog.find(first)}):
            try:
                return list(catalog.code_range(sys_id, first, last))
            except NotFound:
                continue
    return list(exact)


# A retry after an answer cut off by the token limit: the model was looping or wordy, so it gets
# fewer tokens and a repetition penalty, from the original prompt.
RETRY_TOKENS = 0.6
RETRY_PENALTY = 1.15
CODE_TIMEOUT = 600.0  # seconds one code may take, every attempt included, before it is recorded as failed


async def explain_code(catalog: Any, client: ChatClient, system: str, code: str, *, attempts: int = 3,
                       code_exists: Callable[[str], bool] | None = None, max_tokens: int = 3000) -> Outcome:
    """Ask the model for one code's sections until an answer passes the checks (or attempts run out).

    `seconds` is the model's own time over every attempt, not time spent waiting for a turn."""
    # the prompt is grounded in official data only: similar codes and policies would be wasted work here
    data = catalog.official(system, code)
    sections = section_set(data)
    schema, limits = answer_schema(sections), validation_schema(sections)
    original = build_messages(data)
    messages, sampling = original, Sampling()
    grounded = grounding(data)
    exists = code_exists or (lambda token: bool(catalog.find(token)))
    problems: list[str] = []
    answers: list[Answer] = []
    seconds = 0.0
    for attempt in range(1, attempts + 1):
        completion = await client.complete(messages, schema, sampling)
        seconds += completion.seconds
        if completion.finish_reason == "length":
            problems = tagged("token_limit", ["the answer was cut off by the token limit; keep every section shorter"])
            # from the client's own limit: a retry asking for more than the first try would loop longer
            tokens = int((sampling.max_tokens or getattr(client, "max_tokens", None) or max_tokens) * RETRY_TOKENS)
            sampling = Sampling(max_tokens=tokens, repeat_penalty=RETRY_PENALTY)
        else:
            out, problems = check_answer(completion.text, sections, limits, data, exists, grounded)
        answers.append(Answer(completion.text, completion.finish_reason, completion.seconds, completion.tokens,
                              tuple(problems), completion.prompt_tokens, completion.cached_tokens))
        if not problems:
            item = {"system": data.system, "code": data.code, "prompt_version": PROMPT_VERSION,
                    "section_set": section_set_name(data), "sections": out,
                    "model": client.model or completion.model, "created": now(),
                    "facts_hash": facts_hash(data), "attempts": attempt, "seconds": round(seconds, 3)}
            return Outcome(system, code, True, attempt, seconds, item, answers=answers)
        messages = retry_messages(original, problems)
    return Outcome(system, code, False, attempts, seconds, problems=problems, answers=answers)


async def explain_within(catalog: Any, client: ChatClient, system: str, code: str, timeout: float,
                         **kwargs: Any) -> Outcome:
    """explain_code with a deadline; a code that runs past it, or whose requests fail, is a failed
    code (recorded, the run goes on), not the end of the run. A refused key or a missing endpoint
    (LLMConfigError) still ends the run: every other code would fail the same way."""
    try:
        return await asyncio.wait_for(explain_code(catalog, client, system, code, **kwargs), timeout)
    except TimeoutError:
        return Outcome(system, code, False, 0, timeout, problems=tagged("timeout", [f"no answer within {timeout:g} s"]))
    except LLMConfigError:
        raise
    except LLMError as e:
        return Outcome(system, code, False, 0, 0.0, problems=tagged("request_failed", [str(e)]))


async def generate(catalog: Any, store: ContentStore, client: ChatClient, targets: list[Key], *,
                   concurrency: int = 4, attempts: int = 3, force: bool = False, timeout: float = CODE_TIMEOUT,
                   on_plan: Callable[[int, int], None] | None = None,
                   on_done: Callable[[Outcome], None] | None = None) -> GenerateReport:
    """Generate and store explainers for `targets`, skipping those stored for this prompt version.

    A code whose requests fail or time out is recorded as failed and the run goes on; a refused
    key or a missing endpoint (LLMConfigError) stops it. What was finished stays stored.
    """
    started = time.perf_counter()
    stored = set() if force else store.done(PROMPT_VERSION)
    todo = [t for t in targets if t not in stored]
    report = GenerateReport(requested=len(targets), skipped=len(targets) - len(todo))
    if on_plan:
        on_plan(len(todo), report.skipped)
    pending = iter(todo)
    exists_cache: dict[str, bool] = {}
    last_commit = time.monotonic()

    def exists(token: str) -> bool:
        if token not in exists_cache:
            exists_cache[token] = bool(catalog.find(token))
        return exists_cache[token]

    def record(o: Outcome) -> None:
        nonlocal last_commit
        if o.ok and o.item is not None:
            store.put(o.item, commit=False)
            report.generated += 1
            report.retried += o.attempts > 1
        else:
            store.fail(o.system, o.code, PROMPT_VERSION, client.model, o.attempts, "; ".join(o.problems))
            report.failed += 1
            report.failures.append((o.system, o.code, "; ".join(o.problems)))
        if time.monotonic() - last_commit > 1.0:
            store.commit()
            last_commit = time.monotonic()
        if on_done:
            on_done(o)

    async def worker() -> None:
        for system, code in pending:  # one shared iterator: each code goes to exactly one worker
            record(await explain_within(catalog, client, system, code, timeout, attempts=attempts,
                                        code_exists=exists))

    tasks = [asyncio.create_task(worker()) for _ in range(max(1, min(concurrency, len(todo))))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        store.commit()
        report.seconds = time.perf_counter() - started
    return report

