"""The `medcodes` command: parse arguments, call the library, print. Errors become clean exits."""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import backup, settings
from .content import cli as content_cli
from .data import cli as data_cli
from .dates import iso_day
from .errors import MedcodesError, no_room_message, out_of_room
from .fetch import commands as fetch_commands
from .policies import cli as policies_cli
from .record import CodeRecord
from .storage import describe, location


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    # A terminated build or download unwinds like an interrupt, so its temporary files are removed.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return int(args.func(args) or 0)
    except MedcodesError as e:
        print(f"medcodes: error: {e}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as e:
        if not out_of_room(e):
            raise
        # one line, not a traceback: each document and each build is its own transaction, so what
        # was stored before is kept (and said, line by line, by the commands that store documents)
        store = location(getattr(args, "store", None) or settings.store_path(getattr(args, "db", None)))
        where = f"the store {describe(store)} or the index"
        print(f"medcodes: error: {no_room_message(where, 'what was stored before is kept')}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("medcodes: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _terminated(signum: int, _frame: object) -> None:
    print("medcodes: terminated", file=sys.stderr)
    raise SystemExit(128 + signum)


def _parser() -> argparse.ArgumentParser:
    env = "\n".join(f"  {s.name:<22} {s.help} (default: {s.default or 'unset'})" for s in settings.SETTINGS)
    p = argparse.ArgumentParser(
        prog="medcodes", description="Search and reference for medical code systems.",
        epilog=f"settings (environment variables):\n{env}", formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="index file to read (default: $MEDCODES_DB)")
    for name, func, help_, add in COMMANDS:
        sp = sub.add_parser(name, parents=[common], help=help_, description=help_)
        add(sp)
        sp.set_defaults(func=func)
    return p


# -- build ---------------------------------------------------------------------
def _add_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", action="append", default=[], metavar="NAME=PATH",
                   help="add an official file (repeatable), e.g. hcpcs=HCPC2025_JAN.zip")
    p.add_argument("--no-default", action="store_true", help="leave out the embedded default data")
    p.add_argument("--out", help="index file to write (default: the --db / $MEDCODES_DB file)")


def cmd_build(args: argparse.Namespace) -> int:
    from .app.build import build_index
    from .sources.embedded import default_sources

    sources = [] if args.no_default else default_sources()
    for item in args.source:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise MedcodesError(f"--source wants NAME=PATH, got {item!r}")
        sources.append((name.strip(), Path(path).expanduser()))
    if not sources:
        raise MedcodesError("nothing to build: give --source NAME=PATH or drop --no-default")
    out = Path(args.out).expanduser() if args.out else settings.db_path(args.db)
    report = build_index(sources, out, log=lambda m: print(m, file=sys.stderr))
    counts = ", ".join(f"{s} {n:,}" for s, n in report.counts_by_system.items())
    print(f"built {out} in {report.seconds:.1f}s: {counts}")
    if report.orphans:
        print(f"note: {report.orphans} codes name a parent that no source defines", file=sys.stderr)
    return 0


# -- show ----------------------------------------------------------------------
def _add_show(p: argparse.ArgumentParser) -> None:
    p.add_argument("code", help="a code in any format: e119, E11.9, 0SG00A0, J1100")
    p.add_argument("--system", help="code system id (icd10cm, icd10pcs, hcpcs, ...)")
    p.add_argument("--json", action="store_true", help="print the code data as JSON")
    p.add_argument("--as-of", metavar="DATE", help="answer for this date of service (YYYY-MM-DD)")


def cmd_show(args: argparse.Namespace) -> int:
    from .app import codes
    from .index import Catalog

    catalog = Catalog(settings.db_path(args.db))
    as_of = _iso_date(args.as_of) if args.as_of else None
    data = [codes.code_data(catalog, system, code, as_of=as_of)
            for system, code in codes.code_keys(catalog, args.code, args.system)]
    if args.json:
        shown = [d.to_json() for d in data]
        print(json.dumps(shown[0] if len(shown) == 1 else shown, indent=2, ensure_ascii=False))
        return 0
    if len(data) > 1:
        print(f"{args.code!r} is a code in {len(data)} systems:\n")
    print("\n\n".join(format_code(d) for d in data))
    return 0


def _iso_date(text: str) -> str:
    return iso_day(text, "--as-of")


def format_code(d: CodeRecord) -> str:
    billable = {True: "billable", False: "not billable", None: ""}[d.billable]
    title = d.title or f"(no descriptor: {d.system_name} text is licensed; no loaded data includes it)"
    lines = [f"{d.code} — {title}", f"  {d.system_label} · {d.kind}"
             + (f" · {billable}" if billable else "") + (f" · {d.release}" if d.release else "")]
    if d.short_title and d.short_title != d.title:
        lines.append(f"  short: {d.short_title}")
    if d.as_of:
        a = d.as_of
        state = "valid" if a.valid else "NOT valid"
        lines.append(f"  on {a.date}: {state}" + (f" — {a.reason}" if a.reason else "")
                     + (f"; release in force: {a.release}" if a.release else ""))
        if a.title != d.title:
            lines.append(f"  title then: {a.title}")
    if d.deleted_in:
        lines.append(f"  deleted in {d.deleted_in}")
    if d.ancestors:
        lines.append("\nHierarchy")
        lines += [f"  {'  ' * i}{a.code}  {a.title}" for i, a in enumerate(d.ancestors)]
    if d.children:
        lines.append(f"\nChildren ({len(d.children)})")
        lines += [f"  {c.code}  {c.title}" for c in d.children[:25]]
        if len(d.children) > 25:
            lines.append(f"  … {len(d.children) - 25} more")
    if d.notes:
        lines.append("\nNotes")
        lines += [f"  [{n.type}{' from ' + n.inherited_from if n.inherited_from else ''}] {n.text}" for n in d.notes]
    if d.crosswalks:
        lines.append("\nCrosswalks")
        for x in d.crosswalks[:30]:
            flags = ", ".join(k for k, v in x.attributes.items() if v is True)
            lines.append(f"  {x.direction:<4} {x.system} {x.code or '(no map)'}  {x.title or ''}"
                         + (f"  [{flags}]" if flags else ""))
    if d.history:
        lines.append("\nHistory")
        for h in d.history:
            text = {"added": h.new_title, "deleted": h.old_title,
                    "revised": f"{h.old_title} -> {h.new_title}"}[h.change]
            repl = f" (replaced by {', '.join(h.replaced_by)})" if h.replaced_by else ""
            where = f" [{h.source}]" if h.source else ""
            lines.append(f"  {h.release}: {h.change} — {text}{repl}{where}")
    lines += _format_edits(d.edits)
    lines += _format_extras(d)
    if d.attributes:
        lines.append("\nAttributes")
        for k, v in d.attributes.items():
            text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            lines.append(f"  {k}: {text[:200]}")
    return "\n".join(lines)


def _format_edits(e: Mapping[str, Any] | None) -> list[str]:
    """The coding edits as the code page shows them (templates/_edits.html): each fact with its table."""
    if not e:
        return []
    checked = e.get("checked") or {}

    def source(f: Mapping[str, Any]) -> str:
        return f"  [{f['source']['title']}, {f['source']['version']}]"

    lines = ["\nCoding edits"]
    if "cc_mcc" in e:
        if e["cc_mcc"]:
            text = f"{e['cc_mcc']['level']} as a secondary diagnosis" + source(e["cc_mcc"])
        elif "cc_mcc" in checked:
            text = f"neither a CC nor an MCC (on neither Table 6I nor 6J, {checked['cc_mcc']['version']})"
        else:
            text = "no CC/MCC table loaded"
        lines.append(f"  CC / MCC: {text}")
    x = e.get("cc_exclusion")
    if x:
        lines.append("  CC exclusions:" + source(x))
        lines.append(f"    not a CC/MCC when the principal diagnosis is one of the {x['principal_count']:,} codes of"
                     f" PDX collection {x['collection']}" if x.get("collection")
                     else "    no principal diagnosis cancels it (no PDX exclusion)")
        if x.get("alive_only"):
            lines.append("    a CC/MCC only if the patient is discharged alive")
        lines += [f"    not a CC/MCC in MS-DRGs {', '.join(b['drgs'])} ({b['title']})"
                  for b in x.get("drg_exclusions", [])]
    g = e.get("ms_drg")
    if g:
        lines.append("  MS-DRGs:" + source(g))
        if g["mdc"]:
            lines.append("    as principal diagnosis: " + "; ".join(f"MDC {m['mdc']} ({m['title']})" for m in g["mdc"]))
        for grp in g["groups"]:
            first = grp["drgs"][0].get("title") if grp["drgs"] else None
            lines.append(f"    {', '.join(d['code'] for d in grp['drgs'])}" + (f"  {first}" if first else "")
                         + (" …" if first and len(grp["drgs"]) > 1 else "")
                         + (f"  [{grp['list']}]" if grp["list"] else ""))
    elif "ms_drg" in checked:
        lines.append(f"  MS-DRGs: on no list of the {checked['ms_drg']['version']} Definitions Manual:"
                     " it does not affect the MS-DRG")
    else:
        lines.append("  MS-DRGs: no MS-DRG definitions loaded")
    if "hcc" in e:
        if e["hcc"]:
            text = "; ".join(f"HCC {c['hcc']} {c['label']}" for c in e["hcc"]["categories"]) + source(e["hcc"])
        elif "hcc" in checked:
            text = f"no payment HCC ({checked['hcc']['title']}, {checked['hcc']['version']})"
        else:
            text = "no CMS-HCC mapping loaded"
        lines.append(f"  CMS-HCC: {text}")
    if e.get("mce"):
        lines.append("  Medicare Code Editor:" + source(e["mce"]))
        lines += [f"    {m['edit']}" + (f" ({m['detail']})" if m["detail"] else "") for m in e["mce"]["edits"]]
    elif "mce" in checked:
        lines.append(f"  Medicare Code Editor: no MCE edit applies ({checked['mce']['title']},"
                     f" {checked['mce']['version']})")
    lines += [f"  {n['name']}: not loaded — {n['reason']}" for n in e.get("not_loaded", [])]
    return lines


def _format_extras(d: CodeRecord) -> list[str]:
    lines = []
    if d.policies:
        lines.append(f"\nMedical policies and guidelines ({d.policies_total})")
        lines += [f"  {p.section_label}: {p.payer} — {p.title} ({p.policy_id})" for p in d.policies]
    if d.similar:
        lines.append("\nSimilar codes")
        lines += [f"  {s.system} {s.code}  {s.title or ''}  ({s.reason})" for s in d.similar]
    generated = d.explainer.generated if d.explainer else None
    if generated:
        lines.append(f"\nExplainer: {generated.label} ({generated.model}, {generated.date},"
                     f" {generated.review_status}); `--json` shows its sections")
    return lines


# -- sources -------------------------------------------------------------------
def _add_sources(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")
    p.add_argument("--unresolved", action="store_true",
                   help="list the index entries whose code is not in the loaded release")


def cmd_sources(args: argparse.Namespace) -> int:
    from .index import Catalog

    catalog = Catalog(settings.db_path(args.db))
    if args.unresolved:
        rows = catalog.unresolved_terms()
        if args.json:
            print(json.dumps(rows, indent=2, ensure_ascii=False))
            return 0
        for r in rows:
            print(f"{r['system']:<9} {r['code']:<9} {r['source']:<9} {r['term']}  [{r['reason']}; {r['release']}]")
        print(f"{len(rows):,} index entries whose code is not in the loaded release", file=sys.stderr)
        return 0
    srcs = catalog.sources()
    if args.json:
        print(json.dumps({"sources": srcs, "counts": catalog.counts()}, indent=2, ensure_ascii=False))
        return 0
    for s in srcs:
        rel = "; ".join(r["name"] for r in s["releases"])
        counts = ", ".join(f"{v:,} {k}" for k, v in s["counts"].items() if v)
        print(f"{s['name']:<9} {rel}\n          {s['path']}\n          sha256 {s['sha256'][:16]}…  "
              f"{counts}  imported {s['imported_at']}")
        if p := s.get("provenance"):
            o = p["official"]
            print(f"          derived {p['derived_on']} from {o['file']} (sha256 {o['sha256'][:16]}…)\n"
                  f"          {o['publisher']}: {o['url']}")
            if p["note"]:
                print(f"          note: {p['note']}")
    print("codes: " + ", ".join(f"{k} {v:,}" for k, v in catalog.counts().items()))
    from .edits.lookup import sources as edit_sources

    for e in edit_sources(catalog.conn):
        print(f"edits     {e['title']}, {e['version']}\n          {e['file']} ({e['package']})"
              f"  sha256 {e['sha256'][:16]}…  {e['rows']:,} rows")
    return 0


# -- serve ---------------------------------------------------------------------
def _add_serve(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="default $MEDCODES_HOST")
    p.add_argument("--port", type=int, default=None, help="default $MEDCODES_PORT")
    p.add_argument("--workers", type=int, default=None, help="default $MEDCODES_WORKERS")


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from .index import Catalog
    from .web import server

    db = settings.db_path(args.db)
    Catalog(db)  # fail now, with a clear message, rather than on the first request
    os.environ["MEDCODES_DB"] = str(db)
    server.raise_descriptor_limit()  # each connection is a file descriptor: allow what the system does
    uvicorn.run("medcodes.web.app:create_app", factory=True,
                host=args.host or settings.get("MEDCODES_HOST"),
                port=args.port or int(settings.get("MEDCODES_PORT")),
                workers=args.workers or int(settings.get("MEDCODES_WORKERS")), log_level="info",
                http=server.PROTOCOL, loop=server.loop(settings.get("MEDCODES_LOOP")))
    return 0


# -- search --------------------------------------------------------------------
def _add_search(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", help='words, codes, prefixes or ranges: "heart attack", e119, S72.0, E08-E13')
    p.add_argument("--system", action="append", metavar="S", help="only this code system (repeatable)")
    p.add_argument("--limit", type=int, default=10, metavar="N", help="results to show (default 10)")
    p.add_argument("--json", action="store_true", help='print {"query", "total", "facets", "results"} as JSON')
    p.add_argument("--as-of", metavar="DATE", help="only codes that existed on this date of service (YYYY-MM-DD)")


def cmd_search(args: argparse.Namespace) -> int:
    from .search import search

    as_of = _iso_date(args.as_of) if args.as_of else None
    result = search(settings.db_path(args.db), args.query, systems=args.system, limit=args.limit, as_of=as_of)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    facets = ", ".join(f"{s} {n:,}" for s, n in result["facets"].items())
    print(f"{result['total']:,} results" + (f" ({facets})" if facets else ""))
    if result["did_you_mean"]:
        print(f"did you mean: {result['did_you_mean']}")
    if result.get("notice"):
        print(result["notice"])
    for r in result["results"]:
        flag = "" if r["billable"] is None else (" *" if r["billable"] else "")
        then = r.get("as_of") or {}
        note = f"  [{then['reason']}]" if then.get("reason") else ""
        print(f"  {r['system']:<9} {r['code']:<10} {then.get('title') or r['title']}{flag}{note}")
    return 0


COMMANDS: list[tuple[str, Callable[[argparse.Namespace], int], str, Callable[[argparse.ArgumentParser], None]]] = [
    ("build", cmd_build, "build the index from the embedded default and/or official files", _add_build),
    ("show", cmd_show, "print a code with hierarchy, notes and crosswalks", _add_show),
    ("search", cmd_search, "search every code system: words, lay terms, codes, prefixes, ranges", _add_search),
    ("sources", cmd_sources, "list the loaded sources: releases, file hashes, counts", _add_sources),
    ("serve", cmd_serve, "serve the web site, JSON API and FHIR operations", _add_serve),
    ("content", content_cli.run, "generate, review, export and import explainer text", content_cli.add_arguments),
    ("fetch", fetch_commands.cmd_fetch, "download official release files (CMS, CDC) into the local cache",
     fetch_commands.add_fetch),
    ("update", fetch_commands.cmd_update, "fetch the newest official releases and rebuild the index",
     fetch_commands.add_update),
    ("policies", policies_cli.run, "ingest payer and Medicare medical policies and link them to codes",
     policies_cli.add_arguments),
    ("store", backup.run, "back up or restore the store of policies and generated text (safe while serving)",
     backup.add_arguments),
    ("data", data_cli.run, "derive the vendored data files from official files; list and check them",
     data_cli.add_arguments),
]


if __name__ == "__main__":
    sys.exit(main())
