"""Explainer generation: the pipeline's own ceiling (test server), or a real model's quality and speed.

Test server (is the pipeline itself a bottleneck?):

    .venv/bin/python bench/generate.py [--db INDEX] [--codes 2000] [--concurrency 1,4,16,64] [--latency 0,0.2]

  For each server latency and concurrency, generates explainers for the same codes into a fresh store
  (the real pipeline: code data, prompt, HTTP client, JSON checks, store writes) and prints codes/s.
  At latency L and concurrency C an endpoint-bound run can reach C / L codes/s.

A real model on a llama.cpp server on 127.0.0.1 (started here, or one already running):

    .venv/bin/python bench/generate.py --db INDEX --sample bench/queries/generate_report.tsv \\
        --llama-server PATH/TO/llama-server --gguf MODEL.gguf --threads 2 [--answers answers.jsonl]
    .venv/bin/python bench/generate.py --db INDEX --sample ... --base-url http://127.0.0.1:8080/v1

  Re-judge answers recorded with --answers under the current checks (no model needed: for tuning
  the checks on a *_tune sample's answers):

    .venv/bin/python bench/generate.py --db INDEX --recheck answers.jsonl

  Generates the fixed sample of codes (CM, PCS and HCPCS) through the real pipeline and prints:
  codes/s, first-try and final pass rates, the share of answers stopped by each check, the reading
  grade of the patient sections, and the projected time for every billable code. The model's name,
  quantisation, threads and context are printed with the figures. Tune on *_tune samples, report
  on *_report ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from medcodes import settings
from medcodes.app.build import build_from_records
from medcodes.content.checks import parse_json_answer
from medcodes.content.generate import Outcome, generate
from medcodes.content.llm import DRY_SEQUENCE_BREAKERS, OpenAIChatClient
from medcodes.content.prompt import PROMPT_VERSION
from medcodes.content.quality import CODER_SECTIONS, check_name, flesch_kincaid_grade
from medcodes.content.store import ContentStore
from medcodes.index import Catalog
from medcodes.model import Code, Note, Release

PROJECTED_SYSTEMS = ("icd10cm", "icd10pcs", "hcpcs")


# -- the test-server run ----------------------------------------------------------
def synthetic_index(path: Path, n: int) -> list[tuple[str, str]]:
    """n made-up ICD-10-CM-shaped codes in families of 10, with notes, when no index is given."""
    records: list[object] = [Release("icd10cm", "synthetic")]
    targets = []
    for fam in range(min(n // 10 + 1, 2300)):
        cat = f"{'ABCDEFGHJKLMNPQRSTVWXYZ'[fam // 100 % 23]}{fam % 100:02d}"
        records.append(Code("icd10cm", cat, f"Made-up condition family {fam}", kind="category", billable=False,
                            notes=(Note("excludes1", "another made-up condition"),)))
        for i in range(10):
            code = f"{cat}.{i}"
            records.append(Code("icd10cm", code, f"Made-up condition family {fam}, variant {i}", parent=cat,
                                billable=True))
            targets.append(("icd10cm", code))
    build_from_records(records, path)  # type: ignore[arg-type]
    return targets[:n]


def billable_targets(catalog: Catalog, n: int) -> list[tuple[str, str]]:
    rows = catalog.conn.execute("SELECT system, code FROM codes WHERE billable=1 AND system IN"
                                " ('icd10cm', 'icd10pcs', 'hcpcs') ORDER BY random() LIMIT ?", (n,))
    return [(r[0], r[1]) for r in rows]


def start_fake_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "medcodes.content.fakellm", "--slow", str(latency)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


async def one_run(catalog: Catalog, store: ContentStore, url: str, targets: list[tuple[str, str]],
                  concurrency: int) -> tuple[float, int, int]:
    client = OpenAIChatClient(url, "bench", concurrency=concurrency)
    try:
        report = await generate(catalog, store, client, targets, concurrency=concurrency)
    finally:
        await client.aclose()
    return report.seconds, report.generated, report.failed


def pipeline_ceiling(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if args.db:
            catalog = Catalog(settings.db_path(args.db))
            targets = billable_targets(catalog, args.codes)
        else:
            targets = synthetic_index(Path(tmp) / "idx.sqlite", args.codes)
            catalog = Catalog(Path(tmp) / "idx.sqlite")
        print(f"{len(targets)} codes from {'the index ' + args.db if args.db else 'a synthetic index'}")
        print(f"{'latency s':>9} {'concurrency':>11} {'codes':>6} {'failed':>6} {'seconds':>8} {'codes/s':>8}"
              f" {'ceiling C/L':>11}")
        for latency in (float(x) for x in args.latency.split(",")):
            proc, url = start_fake_server(latency)
            try:
                for c in (int(x) for x in args.concurrency.split(",")):
                    n = len(targets) if latency == 0 else min(len(targets), max(20, int(c / latency * 5)))
                    store = ContentStore(Path(tmp) / f"store-{latency}-{c}-{time.time_ns()}.sqlite")
                    seconds, done, failed = asyncio.run(one_run(catalog, store, url, targets[:n], c))
                    ceiling = f"{c / latency:11.1f}" if latency else f"{'—':>11}"
                    print(f"{latency:9.2f} {c:11d} {done:6d} {failed:6d} {seconds:8.2f} {done / seconds:8.1f}"
                          f" {ceiling}")
            finally:
                proc.terminate()
                proc.wait()


# -- a real model -------------------------------------------------------------------
def read_sample(path: Path) -> list[tuple[str, str]]:
    """`system<TAB>code` lines; # starts a comment."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise SystemExit(f"{path}:{number}: expected system<TAB>code, got {line!r}")
        out.append((parts[0].strip(), parts[1].strip()))
    return out


def interleave(targets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One code of each system in turn, so a run stopped early still covers every system."""
    by_system: dict[str, list[tuple[str, str]]] = {}
    for t in targets:
        by_system.setdefault(t[0], []).append(t)
    queues = list(by_system.values())
    return [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]


# llama.cpp's general.file_type numbers (llama_ftype) for the usual quantisations
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
              11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M",
              18: "Q6_K", 32: "BF16"}
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def gguf_metadata(path: Path) -> dict[str, Any]:
    """The scalar and string key-values of a GGUF file's header (arrays, such as the vocabulary, skipped)."""
    def read(f: BinaryIO, fmt: str) -> Any:
        return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]

    def string(f: BinaryIO) -> str:
        return f.read(read(f, "<Q")).decode("utf-8", "replace")

    def value(f: BinaryIO, kind: int) -> Any:
        if kind == 8:
            return string(f)
        if kind == 9:
            item, n = read(f, "<I"), read(f, "<Q")
            for _ in range(n):
                value(f, item)
            return None
        return read(f, _SCALARS[kind])

    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise SystemExit(f"{path}: not a GGUF file")
        read(f, "<I")
        read(f, "<Q")
        out = {}
        for _ in range(read(f, "<Q")):
            key = string(f)
            v = value(f, read(f, "<I"))
            if v is not None:
                out[key] = v
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_llama_server(binary: str, gguf: Path, threads: int, ctx: int, slots: int,
                       log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """One request at a time, but a slot (with its own prompt cache) per section set: the server
    gives each request the slot whose cached prompt shares the most with it, so the instructions of
    a section set are read once, not once per code, while the sample's systems take turns."""
    port = free_port()
    cmd = [binary, "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port), "-t", str(threads),
           "-tb", str(threads), "-c", str(ctx * slots), "-np", str(slots), "--no-kv-unified"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"llama-server exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, f"{url}/v1"
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"llama-server did not become ready within 300 s; see {log}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL: llama-server finishes the answer it is writing before it exits, which
    with a looping small model is minutes (a run stopped from outside left it running, orphaned)."""
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def patient_text(answer_text: str) -> str | None:
    """The sections written for patients of one answer, or None when it is not a JSON object."""
    try:
        answer = parse_json_answer(answer_text)
    except json.JSONDecodeError:
        return None
    if not isinstance(answer, dict):
        return None
    parts = []
    for key, value in answer.items():
        if key in CODER_SECTIONS:
            continue
        parts += [str(x) for x in value] if isinstance(value, list) else [str(value)]
    return "\n".join(parts)


def summarize(outcomes: list[Outcome], wall: float) -> dict[str, Any]:
    codes = len(outcomes)
    answers = [a for o in outcomes for a in o.answers]
    stopped: Counter[str] = Counter()
    for a in answers:
        stopped.update({check_name(p) for p in a.problems})
    failed_without_answer = Counter(check_name(p) for o in outcomes if not o.answers for p in o.problems)
    first = sum(1 for o in outcomes if o.answers and not o.answers[0].problems)
    final = sum(1 for o in outcomes if o.ok)
    passed_grades = [flesch_kincaid_grade(t) for o in outcomes if o.ok and o.answers
                     for t in [patient_text(o.answers[-1].text)] if t]
    all_grades = [flesch_kincaid_grade(t) for a in answers for t in [patient_text(a.text)] if t]
    tokens = sum(a.tokens or 0 for a in answers)
    model_seconds = sum(a.seconds for a in answers)
    prompted = [a for a in answers if a.prompt_tokens is not None]
    return {
        "codes": codes, "answers": len(answers), "wall_s": round(wall, 1),
        "codes_per_s": round(codes / wall, 4) if wall else 0.0,
        "s_per_code": round(wall / codes, 1) if codes else 0.0,
        "first_try_pass": first, "final_pass": final,
        "stopped_by": dict(stopped.most_common()),
        "failed_without_answer": dict(failed_without_answer),
        "tokens_per_s": round(tokens / model_seconds, 1) if model_seconds else 0.0,
        "prompt_tokens_per_answer": _mean([a.prompt_tokens or 0 for a in prompted]),
        "cached_tokens_per_answer": _mean([a.cached_tokens or 0 for a in prompted]),
        "grade_passed": _grades(passed_grades), "grade_all": _grades(all_grades),
        "by_system": {s: {"codes": sum(o.system == s for o in outcomes),
                          "first_try_pass": sum(o.system == s and bool(o.answers) and not o.answers[0].problems
                                                for o in outcomes),
                          "final_pass": sum(o.system == s and o.ok for o in outcomes)}
                      for s in sorted({o.system for o in outcomes})},
    }


def _mean(values: list[int]) -> int | None:
    return round(statistics.mean(values)) if values else None


def _grades(grades: list[float]) -> dict[str, Any]:
    if not grades:
        return {"n": 0}
    return {"n": len(grades), "median": round(statistics.median(grades), 1), "max": round(max(grades), 1),
            "share_le_8": round(sum(g <= 8 for g in grades) / len(grades), 3)}


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else "0/0"


def print_summary(meta: dict[str, Any], s: dict[str, Any], billable: dict[str, int]) -> None:
    if meta.get("interrupted"):
        print(f"INTERRUPTED {meta['interrupted']}: the figures are those of the finished codes")
    print(f"model {meta['model']} ({meta.get('quantisation', '?')}, {meta.get('size_mb', '?')} MB),"
          f" {meta.get('threads', '?')} threads, context {meta.get('ctx', '?')} x {meta.get('slots', '?')} slots,"
          f" concurrency {meta['concurrency']}, max_tokens {meta['max_tokens']}, {meta['attempts']} attempts,"
          f" DRY {meta.get('dry', 0)}, prompt {PROMPT_VERSION}, sample {meta.get('sample', '?')}")
    print(f"load average before/after: {meta['load_before']} / {meta['load_after']};"
          f" server CPU {meta.get('server_cpu_s', '?')} s over {s['wall_s']} s wall")
    systems = ", ".join(f"{k} {v['codes']}" for k, v in s["by_system"].items())
    print(f"codes {s['codes']} ({systems}),"
          f" answers {s['answers']}, {s['codes_per_s']:.4f} codes/s ({s['s_per_code']} s a code),"
          f" {s['tokens_per_s']} tokens/s while generating")
    if s.get("prompt_tokens_per_answer") is not None:
        print(f"prompt tokens per answer: {s['prompt_tokens_per_answer']}, of which read from the server's prompt"
              f" cache: {s['cached_tokens_per_answer']}")
    print(f"passed first try: {_pct(s['first_try_pass'], s['codes'])}; passed in the end:"
          f" {_pct(s['final_pass'], s['codes'])}")
    for system, v in s["by_system"].items():
        print(f"  {system:9} first try {_pct(v['first_try_pass'], v['codes'])},"
              f" final {_pct(v['final_pass'], v['codes'])}")
    print("answers stopped by each check (an answer can be stopped by several):")
    for check, n in s["stopped_by"].items():
        print(f"  {check:20} {_pct(n, s['answers'])}")
    for check, n in s["failed_without_answer"].items():
        print(f"  codes with no answer at all, {check}: {n}")
    for label, g in (("passed answers", s["grade_passed"]), ("every JSON answer", s["grade_all"])):
        if g["n"]:
            print(f"reading grade (Flesch-Kincaid) of patient sections, {label}: median {g['median']}, max {g['max']},"
                  f" {100 * g['share_le_8']:.0f}% at grade 8 or below (n={g['n']})")
    total = sum(billable.values())
    if s["codes"] and total:
        seconds = s["wall_s"] / s["codes"] * total
        print(f"projected for every billable code ({', '.join(f'{k} {v}' for k, v in billable.items())};"
              f" {total} in all) at this rate: {seconds / 3600:.0f} h ({seconds / 86400:.1f} days) on this machine")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def real_model(args: argparse.Namespace) -> None:
    signal.signal(signal.SIGTERM, _interrupt)  # stopped from outside: still stop the server and print figures
    if not args.db:
        raise SystemExit("--db is needed with a real model: the sample's codes come from the index")
    catalog = Catalog(settings.db_path(args.db))
    targets = interleave(read_sample(Path(args.sample)))
    missing = [t for t in targets if not catalog.find(t[1], t[0])]
    if missing:
        raise SystemExit(f"{args.sample}: not in the index: {missing[:5]}")
    meta: dict[str, Any] = {"concurrency": args.concurrency, "max_tokens": args.max_tokens,
                            "attempts": args.attempts, "threads": args.threads, "ctx": args.ctx,
                            "slots": args.slots, "sample": Path(args.sample).name,
                            "dry": f"{args.dry} (server's breakers)" if args.dry_server_breakers else args.dry}
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.gguf:
            gguf = Path(args.gguf)
            info = gguf_metadata(gguf)
            meta.update(model=info.get("general.name") or gguf.name, file=gguf.name,
                        quantisation=FILE_TYPES.get(info.get("general.file_type", -1), "?"),
                        size_mb=round(gguf.stat().st_size / 1e6), architecture=info.get("general.architecture"))
            server, url = start_llama_server(args.llama_server, gguf, args.threads, args.ctx, args.slots,
                                             Path(tmp) / "server.log")
        else:
            url = args.base_url
            meta.update(model=args.model or "served model", threads=args.threads or "?")
        try:
            client = OpenAIChatClient(url, str(meta.get("file") or meta["model"]), timeout=args.code_timeout,
                                      max_tokens=args.max_tokens, concurrency=args.concurrency,
                                      dry_multiplier=args.dry,
                                      dry_breakers=None if args.dry_server_breakers else DRY_SEQUENCE_BREAKERS)
            store = ContentStore(Path(tmp) / "store.sqlite")
            outcomes: list[Outcome] = []
            answers_out = open(args.answers, "w", encoding="utf-8") if args.answers else None  # noqa: SIM115

            def done(o: Outcome) -> None:
                outcomes.append(o)
                mark = "ok" if o.ok else "FAILED"
                stops = "; ".join(",".join(sorted({check_name(p) for p in a.problems})) or "pass" for a in o.answers)
                print(f"  {o.system} {o.code}: {mark} after {o.attempts} answers, {o.seconds:.0f} s [{stops}]",
                      file=sys.stderr, flush=True)
                if answers_out:
                    for i, a in enumerate(o.answers, 1):
                        answers_out.write(json.dumps({"system": o.system, "code": o.code, "attempt": i,
                                                      "finish_reason": a.finish_reason, "seconds": round(a.seconds, 1),
                                                      "tokens": a.tokens, "prompt_tokens": a.prompt_tokens,
                                                      "cached_tokens": a.cached_tokens, "problems": list(a.problems),
                                                      "checks": sorted({check_name(p) for p in a.problems}),
                                                      "text": a.text}, ensure_ascii=False) + "\n")
                    answers_out.flush()

            meta["load_before"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
            cpu_before = cpu_seconds(server.pid) if server else None
            started = time.perf_counter()

            async def go() -> None:
                try:
                    await generate(catalog, store, client, targets, concurrency=args.concurrency,
                                   attempts=args.attempts, timeout=args.code_timeout, on_done=done)
                finally:
                    await client.aclose()

            try:
                asyncio.run(go())
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the figures of the codes finished so far
                meta["interrupted"] = f"after {len(outcomes)} of {len(targets)} codes"
            wall = time.perf_counter() - started
            if server and cpu_before is not None:
                meta["server_cpu_s"] = round(cpu_seconds(server.pid) - cpu_before, 1)
            meta["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
            if answers_out:
                answers_out.close()
        finally:
            if server:
                stop_server(server)
    billable = {s: catalog.conn.execute("SELECT count(*) FROM codes WHERE billable=1 AND system=?",
                                        (s,)).fetchone()[0] for s in PROJECTED_SYSTEMS}
    summary = summarize(outcomes, wall)
    print_summary(meta, summary, billable)
    if args.out:
        Path(args.out).write_text(json.dumps({"meta": meta, "summary": summary, "billable": billable,
                                              "prompt_version": PROMPT_VERSION}, indent=2))


def recheck(args: argparse.Namespace) -> None:
    """The recorded answers judged again by today's checks: what each check stops, before and now."""
    from medcodes.content.checks import check_answer
    from medcodes.content.prompt import grounding, validation_schema
    from medcodes.content.sections import section_set

    catalog = Catalog(settings.db_path(args.db))
    before: Counter[str] = Counter()
    now: Counter[str] = Counter()
    changed = []
    passed = 0
    rows = [json.loads(line) for line in Path(args.recheck).read_text(encoding="utf-8").splitlines() if line]
    for r in rows:
        before.update(set(r["checks"]))
        if r["finish_reason"] == "length":
            checks = ["token_limit"]
        else:
            data = catalog.official(r["system"], r["code"])
            sections = section_set(data)
            _, problems = check_answer(r["text"], sections, validation_schema(sections), data,
                                       lambda token: bool(catalog.find(token)), grounding(data))
            checks = sorted({check_name(p) for p in problems})
        now.update(checks)
        passed += not checks
        if sorted(r["checks"]) != checks:
            changed.append(f"  {r['system']} {r['code']} #{r['attempt']}: {','.join(r['checks']) or 'pass'}"
                           f" -> {','.join(checks) or 'pass'}")
    n = len(rows)
    print(f"{n} answers; stopped by each check, as recorded -> now:")
    for check in sorted(set(before) | set(now), key=lambda c: -now[c]):
        print(f"  {check:20} {before[check]:4d} -> {now[check]:4d}")
    print(f"  {'(passed)':20} {sum(not r['checks'] for r in rows):4d} -> {passed:4d}")
    print(f"{len(changed)} answers judged differently:")
    print("\n".join(changed))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="an index (default for the test server: a synthetic one)")
    ap.add_argument("--codes", type=int, default=2000, help="test server: codes to generate")
    ap.add_argument("--concurrency", default=None,
                    help="test server: comma-separated list (default 1,4,16,64); real model: one number (default 1)")
    ap.add_argument("--latency", default="0,0.2", help="test server: seconds per answer, comma-separated")
    ap.add_argument("--sample", help="real model: a file of system<TAB>code lines (bench/queries/generate_*.tsv)")
    ap.add_argument("--llama-server", help="real model: the llama.cpp server binary to start on 127.0.0.1")
    ap.add_argument("--gguf", help="real model: the GGUF file it serves")
    ap.add_argument("--threads", type=int, default=2, help="real model: server threads (default 2)")
    ap.add_argument("--ctx", type=int, default=4096, help="real model: context tokens a slot (default 4096)")
    ap.add_argument("--slots", type=int, default=5,
                    help="real model: server slots, each with its own prompt cache (default 5: one per section set of a"
                         " CM, PCS and HCPCS sample)")
    ap.add_argument("--dry", type=float, default=0.8,
                    help="real model: llama.cpp's DRY anti-repetition strength (default 0.8; 0: off)")
    ap.add_argument("--dry-server-breakers", action="store_true",
                    help="real model: DRY with the server's own sequence breakers (a quote and ':' too)")
    ap.add_argument("--base-url", help="real model: an OpenAI-compatible endpoint already running instead")
    ap.add_argument("--model", help="real model with --base-url: the name it serves")
    ap.add_argument("--max-tokens", type=int, default=900, help="real model: tokens an answer may take (default 900)")
    ap.add_argument("--attempts", type=int, default=3, help="real model: answers asked a code (default 3)")
    ap.add_argument("--code-timeout", type=float, default=600.0, help="real model: seconds a code may take")
    ap.add_argument("--answers", help="real model: write every answer, with the checks' verdicts, as JSONL here")
    ap.add_argument("--out", help="real model: write the figures as JSON here")
    ap.add_argument("--recheck", help="judge the answers of an --answers file again with the current checks")
    args = ap.parse_args()
    if args.recheck:
        if not args.db:
            raise SystemExit("--recheck needs --db: the codes' official data comes from the index")
        recheck(args)
    elif args.sample:
        if not (args.gguf and args.llama_server) and not args.base_url:
            raise SystemExit("a real model needs --llama-server and --gguf, or --base-url")
        args.concurrency = int(args.concurrency or 1)
        real_model(args)
    else:
        args.concurrency = args.concurrency or "1,4,16,64"
        pipeline_ceiling(args)


if __name__ == "__main__":
    main()
