"""`medcodes content generate|export|import|review`: thin wrappers over the content library."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from .. import settings
from ..errors import BadRequest, MedcodesError
from ..record import CodeRecord
from ..storage import location


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(metavar="ACTION", dest="content_action")
    # --db is accepted after the action too ("content generate --db X"); SUPPRESS keeps a value given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help="index file to read (default: $MEDCODES_DB)")
    common.add_argument("--store", help="content store: a file or a postgresql:// URL (default: $MEDCODES_STORE,"
                        " beside the index)")

    g = sub.add_parser("generate", parents=[common], help="generate explainer text with a language model")
    g.add_argument("targets", nargs="+", metavar="CODE|RANGE|PREFIX", help="E11.9, E10-E11 or E11* (quote the *)")
    g.add_argument("--system", help="code system id (icd10cm, icd10pcs, hcpcs, ...)")
    g.add_argument("--billable-only", action="store_true", help="skip header codes")
    g.add_argument("-j", "--concurrency", type=int, default=4, help="requests in flight (default 4)")
    g.add_argument("--attempts", type=int, default=3, help="answers asked per code before giving up (default 3)")
    g.add_argument("--force", action="store_true", help="regenerate codes already stored for this prompt version")
    g.add_argument("--base-url", help="default $MEDCODES_LLM_BASE_URL")
    g.add_argument("--model", help="default $MEDCODES_LLM_MODEL")
    g.add_argument("--gguf", metavar="FILE", help="run a local GGUF model in-process (needs llama-cpp-python)")
    g.add_argument("--timeout", type=float, default=300.0,
                   help="seconds to wait for one answer before retrying (default 300: CPU servers are slow)")
    g.add_argument("--code-timeout", type=float, default=600.0,
                   help="seconds one code may take, every attempt included, before it is recorded as failed"
                        " and the run goes on (default 600)")
    g.add_argument("--threads", type=int, help="CPU threads for --gguf (default: every core)")
    g.add_argument("--dry-run", action="store_true", help="say what would be generated and stop")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(content_func=cmd_generate)

    e = sub.add_parser("export", parents=[common], help="write stored text as a JSONL content pack")
    e.add_argument("file", help="output file ('-' for standard output)")
    e.add_argument("--status", choices=("unreviewed", "approved", "rejected"), action="append",
                   help="only text with this review status (repeatable)")
    e.add_argument("--system", help="only this code system")
    e.set_defaults(content_func=cmd_export)

    i = sub.add_parser("import", parents=[common], help="read a JSONL content pack into the store")
    i.add_argument("file")
    i.add_argument("--replace", action="store_true", help="replace text already stored for the same code and"
                                                           " prompt version (default: keep it)")
    i.set_defaults(content_func=cmd_import)

    r = sub.add_parser("review", parents=[common], help="show a code's generated text; approve or reject it;"
                                                          " with --failed, the codes whose answers failed the checks")
    r.add_argument("code", nargs="?")
    r.add_argument("--failed", action="store_true", help="list codes whose last answers failed the checks")
    r.add_argument("--system", help="code system id, when the code exists in several")
    decision = r.add_mutually_exclusive_group()
    decision.add_argument("--approve", dest="status", action="store_const", const="approved")
    decision.add_argument("--reject", dest="status", action="store_const", const="rejected")
    decision.add_argument("--reset", dest="status", action="store_const", const="unreviewed",
                          help="back to unreviewed")
    r.add_argument("--note", help="why (kept in the review history)")
    r.add_argument("--reviewer", help="who reviewed it")
    r.add_argument("--json", action="store_true")
    r.set_defaults(content_func=cmd_review)


def run(args: argparse.Namespace) -> int:
    func = getattr(args, "content_func", None)
    if func is None:
        raise BadRequest("say what to do: medcodes content generate|export|import|review (see --help)")
    return int(func(args))


def _store(args: argparse.Namespace) -> Any:
    from .store import ContentStore

    return ContentStore(location(args.store or settings.store_path(getattr(args, "db", None))))


def _catalog(args: argparse.Namespace) -> Any:
    from ..index import Catalog

    return Catalog(settings.db_path(getattr(args, "db", None)))


# -- generate ------------------------------------------------------------------
def cmd_generate(args: argparse.Namespace) -> int:
    from .generate import resolve_targets
    from .prompt import PROMPT_VERSION

    catalog = _catalog(args)
    targets = resolve_targets(catalog, args.targets, args.system, args.billable_only)
    store = _store(args)
    if args.dry_run:
        stored = set() if args.force else store.done(PROMPT_VERSION)
        todo = [t for t in targets if t not in stored]
        print(f"{len(todo)} to generate, {len(targets) - len(todo)} already stored for {PROMPT_VERSION}")
        return 0
    if args.concurrency < 1 or args.attempts < 1:
        raise BadRequest("--concurrency and --attempts must be at least 1")
    return asyncio.run(_generate(args, catalog, store, targets))


async def _generate(args: argparse.Namespace, catalog: Any, store: Any, targets: list[tuple[str, str]]) -> int:
    from tqdm import tqdm

    from .generate import generate
    from .llm import client_from_settings
    from .prompt import PROMPT_VERSION

    client = client_from_settings(base_url=args.base_url, model=args.model, gguf=args.gguf,
                                  concurrency=args.concurrency, timeout=args.timeout, threads=args.threads)
    bar: Any = None

    def on_plan(todo: int, skipped: int) -> None:
        nonlocal bar
        print(f"{todo} to generate with {client.model} at concurrency {args.concurrency}"
              f" ({skipped} already stored for {PROMPT_VERSION})", file=sys.stderr)
        bar = tqdm(total=todo, unit="code", file=sys.stderr, disable=args.quiet or todo == 0, mininterval=0.5,
                   dynamic_ncols=True)

    def on_done(outcome: Any) -> None:
        bar.update(1)
        if not outcome.ok:
            bar.write(f"failed {outcome.system} {outcome.code}: {'; '.join(outcome.problems)[:200]}")

    try:
        report = await generate(catalog, store, client, targets, concurrency=args.concurrency,
                                attempts=args.attempts, force=args.force, timeout=args.code_timeout,
                                on_plan=on_plan, on_done=on_done)
    except asyncio.CancelledError:
        print("interrupted: finished codes are stored; run the same command again to resume", file=sys.stderr)
        raise KeyboardInterrupt from None
    finally:
        if bar is not None:
            bar.close()
        await client.aclose()
    print(f"generated {report.generated}, failed {report.failed}, skipped {report.skipped} (already stored)"
          f" in {report.seconds:.1f}s ({report.rate:.2f} codes/s); {report.retried} needed a second answer")
    return 1 if report.failed else 0


# -- export / import -----------------------------------------------------------
_PACK_FIELDS = ("system", "code", "prompt_version", "section_set", "sections", "model", "created", "facts_hash",
                "attempts", "origin", "review_status", "reviewed_by", "reviewed_at", "review_note")


def cmd_export(args: argparse.Namespace) -> int:
    from .pack import PACK_FORMAT
    from .store import now

    store = _store(args)
    rows = [r for r in store.iter_all()
            if (not args.status or r["review_status"] in args.status)
            and (not args.system or r["system"] == args.system)]
    out = sys.stdout if args.file == "-" else open(args.file, "w", encoding="utf-8")  # noqa: SIM115
    try:
        out.write(json.dumps({"format": PACK_FORMAT, "version": 1, "exported": now(), "count": len(rows)}) + "\n")
        for r in rows:
            out.write(json.dumps({k: r[k] for k in _PACK_FIELDS}, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"exported {len(rows)} explainers to {args.file}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .pack import read_pack

    store = _store(args)
    existing = {(r["system"], r["code"], r["prompt_version"]) for r in store.iter_all()}
    added = replaced = kept = 0
    for item in read_pack(Path(args.file)):
        key = (item["system"], item["code"], item["prompt_version"])
        if key in existing and not args.replace:
            kept += 1
            continue
        store.put(item, commit=False)
        replaced += key in existing
        added += key not in existing
    store.commit()
    print(f"imported {added} new, replaced {replaced}, kept {kept} already stored")
    return 0


# -- review --------------------------------------------------------------------
def cmd_review(args: argparse.Namespace) -> int:
    from ..errors import NotFound
    from .explain import explainer

    if args.failed or not args.code:
        return _list_failures(args)
    catalog = _catalog(args)
    rows = catalog.find(args.code, args.system)
    if not rows:
        raise NotFound(f"no code {args.code!r}" + (f" in {args.system}" if args.system else ""))
    if len(rows) > 1:
        raise BadRequest(f"{args.code!r} is a code in {', '.join(r['system'] for r in rows)}: add --system")
    row = rows[0]
    store = _store(args)
    if args.status:
        store.review(row["system"], row["code"], args.status, reviewer=args.reviewer, note=args.note)
    item = store.get(row["system"], row["code"], include_rejected=True)
    if item is None:
        raise MedcodesError(f"no generated text stored for {row['system']} {row['code']}:"
                            f" run `medcodes content generate --system {row['system']} {row['code']}`")
    data = catalog.official(row["system"], row["code"])  # the explainer is built just below
    shown = explainer(store, data)
    history = store.reviews(row["system"], row["code"])
    if args.json:
        print(json.dumps({"stored": item, "explainer": shown.to_json(), "reviews": history}, indent=2,
                         ensure_ascii=False))
        return 0
    print(_format_review(data, item, history))
    return 0


def _list_failures(args: argparse.Namespace) -> int:
    """Codes whose answers failed the checks (or timed out) and have no text since: never shown on a page."""
    failures = _store(args).open_failures()
    if args.json:
        print(json.dumps(failures, indent=2, ensure_ascii=False))
        return 0
    for f in failures:
        print(f"{f['system']} {f['code']}  {f['at']}  {f['model']}  {f['attempts']} answers: {f['reason'][:160]}")
    n = len(failures)
    print(f"{n} {'code' if n == 1 else 'codes'} with failed text (kept off every page)", file=sys.stderr)
    return 0


def _format_review(data: CodeRecord, item: dict[str, Any], history: list[dict[str, Any]]) -> str:
    lines = [f"{data.code} — {data.title}",
             f"  generated by {item['model']} on {item['created']} ({item['prompt_version']}, {item['origin']})",
             f"  review status: {item['review_status']}"
             + (f" by {item['reviewed_by']}" if item["reviewed_by"] else "")
             + (f" on {item['reviewed_at']}" if item["reviewed_at"] else "")]
    for s in item["sections"]:
        lines.append(f"\n{s['title']}")
        body = [f"  • {x}" for x in s["items"]] if s.get("items") else [f"  {s['text']}"]
        lines += body
    if history:
        lines.append("\nReview history")
        lines += [f"  {h['at']} {h['status']}" + (f" by {h['reviewer']}" if h["reviewer"] else "")
                  + (f": {h['note']}" if h["note"] else "") for h in history]
    lines.append("\napprove: --approve · reject: --reject [--note WHY] · back to unreviewed: --reset")
    return "\n".join(lines)
