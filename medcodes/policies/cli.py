"""`medcodes policies ingest|import-map|import-mcd|coverage-api|list|show|codes`: thin wrappers over the library."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import settings
from ..errors import BadRequest, MedcodesError, NotFound
from ..storage import Location, location


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(metavar="ACTION", dest="policies_action")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help="index file to read (default: $MEDCODES_DB)")
    common.add_argument("--store", help="policy store: a file or a postgresql:// URL (default: $MEDCODES_STORE,"
                        " beside the index)")
    common.add_argument("--json", action="store_true", help="print JSON")

    i = sub.add_parser("ingest", parents=[common], help="ingest policy documents (HTML, PDF, text): files, "
                                                          "folders, URLs, or a crawled policy index")
    i.add_argument("inputs", nargs="*", metavar="PATH|URL")
    i.add_argument("--payer", help="the payer, when the document does not say (or says it wrongly)")
    i.add_argument("--id", dest="policy_id", help="store under this policy id (one input only)")
    i.add_argument("--title", help="the title, when the document's is wrong (one input only)")
    i.add_argument("--crawl", metavar="URL", help="follow a payer's policy index page within its site")
    i.add_argument("--depth", type=int, default=1, help="link levels to follow from the index (default 1)")
    i.add_argument("--max-pages", type=int, default=200, help="most pages one crawl fetches (default 200)")
    i.add_argument("--rate", type=float, default=1.0, help="requests per second to one site (default 1)")
    i.set_defaults(policies_func=cmd_ingest)

    m = sub.add_parser("import-map", parents=[common], help="import policy-to-code maps (CSV or JSON rows)")
    m.add_argument("files", nargs="+", metavar="FILE")
    m.add_argument("--payer", help="the payer of every row (required when the map has no payer column)")
    m.set_defaults(policies_func=cmd_import_map)

    b = sub.add_parser("import-mcd", parents=[common], help="import a Medicare Coverage Database bulk download "
                                                              "(zip of CSVs, a folder of them, or a report CSV)")
    b.add_argument("path", metavar="ZIP|DIR|CSV")
    b.set_defaults(policies_func=cmd_import_mcd)

    c = sub.add_parser("coverage-api", parents=[common], help="import LCDs, Articles and NCDs from the CMS "
                                                                "Coverage API")
    c.add_argument("--article", action="append", default=[], metavar="ID", help="an article, e.g. A52837")
    c.add_argument("--lcd", action="append", default=[], metavar="ID", help="an LCD, e.g. L36668")
    c.add_argument("--ncd", action="append", default=[], metavar="ID", help="an NCD by its document id")
    c.add_argument("--all", choices=("articles", "lcds", "ncds"), action="append", default=[],
                   help="every document of this kind the API lists (repeatable)")
    c.add_argument("--status", default="A", help="with --all: A(ctive), R(etired), F(uture) (default A)")
    c.add_argument("--limit", type=int, help="with --all: at most this many documents of each kind")
    c.add_argument("--base-url", default=None, help="the API (default https://api.coverage.cms.gov)")
    c.add_argument("--rate", type=float, default=5.0, help="requests per second (default 5)")
    c.set_defaults(policies_func=cmd_coverage_api)

    ls = sub.add_parser("list", parents=[common], help="list or search the stored policies")
    ls.add_argument("q", nargs="?", default="", help="words or a code to search for")
    ls.add_argument("--payer", help="only this payer")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(policies_func=cmd_list)

    s = sub.add_parser("show", parents=[common], help="a policy with its versions and every code it cites")
    s.add_argument("policy_id")
    s.set_defaults(policies_func=cmd_show)

    r = sub.add_parser("remove", parents=[common], help="remove a policy, its versions and its code links")
    r.add_argument("policy_ids", nargs="+", metavar="POLICY_ID")
    r.set_defaults(policies_func=cmd_remove)

    k = sub.add_parser("codes", parents=[common], help="the policies that cite one code")
    k.add_argument("code")
    k.add_argument("--system", help="code system id, when the code exists in several")
    k.set_defaults(policies_func=cmd_code)


def run(args: argparse.Namespace) -> int:
    func = getattr(args, "policies_func", None)
    if func is None:
        raise BadRequest("say what to do: medcodes policies"
                         " ingest|import-map|import-mcd|coverage-api|list|show|remove|codes")
    return int(func(args))


def _store_path(args: argparse.Namespace) -> Location:
    return location(args.store or settings.store_path(getattr(args, "db", None)))


def _store(args: argparse.Namespace) -> Any:
    from .store import PolicyStore

    return PolicyStore(_store_path(args))


def _checker(args: argparse.Namespace) -> Any:
    from ..index import Catalog
    from .linking import CatalogChecker

    return CatalogChecker(Catalog(settings.db_path(getattr(args, "db", None))))


def _report(outcomes: Iterable[Any], as_json: bool) -> int:
    failed = 0
    rows = []
    for o in outcomes:
        r = o.result
        row = {"source": o.source, "policy_id": r.policy_id if r else None, "version": r.version if r else None,
               "status": r.status if r else ("skipped" if o.skipped else "failed"), "links": r.links if r else 0,
               "ranges": r.ranges if r else 0, "title": o.title, "payer": o.payer, "error": o.error or o.skipped}
        rows.append(row)
        # each document's line as soon as it is stored (flushed): a batch stopped half way has said
        # what it stored; with --json, on stderr, the JSON array coming at the end
        if o.error:
            failed += 1
            print(f"medcodes: error: {o.error}", file=sys.stderr, flush=True)
        else:
            print(_line(row), file=sys.stderr if as_json else sys.stdout, flush=True)
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    return 1 if failed else 0


def _line(row: dict[str, Any]) -> str:
    if row["status"] == "skipped":
        return f"skipped   {row['source']}: {row['error']}"
    codes = f"{row['links']} codes" + (f", {row['ranges']} ranges" if row["ranges"] else "")
    return f"{row['status']:<9} {row['policy_id']} v{row['version']}  {row['title']} ({row['payer']}; {codes})"


# -- commands ----------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    from .http import HttpClient
    from .ingest import ingest, ingest_crawl

    if not args.inputs and not args.crawl:
        raise BadRequest("give files, folders or URLs to ingest, or --crawl URL")
    if (args.policy_id or args.title) and (len(args.inputs) != 1 or args.crawl or Path(args.inputs[0]).is_dir()):
        raise BadRequest("--id and --title name one policy: give exactly one file or URL")
    checker, store = _checker(args), _store(args)
    with HttpClient(rate=args.rate) as http:
        outcomes = ingest(store, args.inputs, checker, payer=args.payer, policy_id=args.policy_id,
                          title=args.title, http=http)
        if args.crawl:
            outcomes = itertools.chain(outcomes, ingest_crawl(store, args.crawl, checker, http, payer=args.payer,
                                                              max_pages=args.max_pages, depth=args.depth))
        return _report(outcomes, args.json)


def cmd_import_map(args: argparse.Namespace) -> int:
    from .ingest import Outcome
    from .maps import MapReport, map_records, read_rows

    checker, store = _checker(args), _store(args)

    def outcomes() -> Iterator[Any]:  # one at a time, so each is reported as soon as it is stored
        for file in args.files:
            report = MapReport()
            path = Path(file).expanduser()
            for record in map_records(read_rows(path, payer=args.payer), checker, report, source=str(path)):
                yield Outcome(str(path), store.put(record), record.title, record.payer)
            print(f"{path}: {report.rows} rows, {report.policies} policies, {report.links} links,"
                  f" {report.ranges} ranges; {len(report.unknown)} entries not codes of the loaded systems",
                  file=sys.stderr)
            for u in report.unknown[:10]:
                print(f"  not linked: {u}", file=sys.stderr)

    return _report(outcomes(), args.json)


def cmd_import_mcd(args: argparse.Namespace) -> int:
    from .ingest import Outcome
    from .mcd_bulk import read

    checker, store = _checker(args), _store(args)
    path = Path(args.path).expanduser()
    outcomes = (Outcome(str(path), store.put(r), r.title, r.payer) for r in read(path, checker))
    return _report(outcomes, args.json)


def cmd_coverage_api(args: argparse.Namespace) -> int:
    from .coverage_api import DEFAULT_BASE_URL, CoverageAPI, article_record, lcd_record, ncd_record
    from .http import FetchError
    from .ingest import Outcome

    if not (args.article or args.lcd or args.ncd or args.all):
        raise BadRequest("say what to import: --article ID, --lcd ID, --ncd ID or --all articles|lcds|ncds")
    checker, store = _checker(args), _store(args)
    makers = {"articles": article_record, "lcds": lcd_record, "ncds": ncd_record}

    def outcomes(api: CoverageAPI) -> Iterator[Any]:  # one at a time, reported as soon as stored
        todo: list[tuple[str, str, dict[str, Any] | None]] = [
            *(("articles", x, None) for x in args.article), *(("lcds", x, None) for x in args.lcd),
            *(("ncds", x, None) for x in args.ncd)]
        for kind in args.all:
            for row in api.report(kind, status=args.status, limit=args.limit):
                todo.append((kind, str(row.get("document_id") or row.get("document_display_id")), row))
        for kind, doc_id, listed in todo:
            try:
                record = makers[kind](api, doc_id, checker, listed=listed)
            except (FetchError, MedcodesError) as e:
                yield Outcome(doc_id, error=str(e))
                continue
            yield Outcome(doc_id, store.put(record), record.title, record.payer)

    with CoverageAPI(args.base_url or DEFAULT_BASE_URL, rate=args.rate) as api:
        return _report(outcomes(api), args.json)


def cmd_list(args: argparse.Namespace) -> int:
    from .queries import search_policies

    found = search_policies(_store_path(args), args.q, limit=args.limit, payer=args.payer)
    if args.json:
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return 0
    for p in found:
        dates = ", ".join(x for x in (f"effective {p['effective']}" if p["effective"] else "",
                                      f"reviewed {p['last_reviewed']}" if p["last_reviewed"] else "") if x)
        print(f"{p['policy_id']:<40} {p['payer']} — {p['title']}" + (f" [{p['number']}]" if p["number"] else "")
              + f"  {p['codes']} codes" + (f"  ({dates})" if dates else ""))
    if not found:
        print("no policies" + (f" match {args.q!r}" if args.q else " stored yet"), file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ..index import Catalog
    from .queries import policy_page

    db = settings.db_path(getattr(args, "db", None))
    page = policy_page(_store_path(args), args.policy_id, Catalog(db) if db.is_file() else None)
    if args.json:
        print(json.dumps({k: v for k, v in page.items() if k != "html"}, indent=2, ensure_ascii=False))
        return 0
    print(f"{page['title']}\n  {page['payer']}" + (f" · {page['number']}" if page["number"] else "")
          + (f" · effective {page['effective']}" if page["effective"] else "")
          + (f" · reviewed {page['last_reviewed']}" if page["last_reviewed"] else ""))
    if page["url"]:
        print(f"  {page['url']}")
    print(f"  version {page['version']} of {len(page['versions'])}")
    for key, label in page["sections"].items():
        codes = [c for c in page["codes"] if c["section"] == key]
        ranges = [r for r in page["ranges"] if r["section"] == key]
        print(f"\n{label} ({len(codes) + len(ranges)})")
        for r in ranges:
            print(f"  {r['system']:<9} {r['first']}-{r['last']}")
        for c in codes[:200]:
            print(f"  {c['system']:<9} {c['code']:<9} {c['title'] or ''}")
        if len(codes) > 200:
            print(f"  … {len(codes) - 200} more")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        missing = [pid for pid in args.policy_ids if not store.delete(pid)]
    finally:
        store.close()
    for pid in args.policy_ids:
        if pid not in missing:
            print(f"removed   {pid}")
    if missing:
        raise NotFound("no stored policy " + ", ".join(repr(pid) for pid in missing))
    return 0


def cmd_code(args: argparse.Namespace) -> int:
    """The policies citing a code. Without --system, every system the code may be in is asked and
    those with policies answer: "63650" is ICD-9-CM 636.50 in the index but CPT 63650 in policies."""
    from .. import systems
    from .queries import policies_for_code

    store = _store_path(args)
    candidates = [args.system] if args.system else _guess_systems(args)
    found = {s: policies_for_code(store, s, args.code) for s in candidates}
    shown = {s: f for s, f in found.items() if f} or {candidates[0]: []}
    if args.json:
        rows = [{"system": s, "code": systems.normalize(s, args.code), **p} for s, f in shown.items() for p in f]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for system, policies in shown.items():
        print(f"Medical policies and guidelines for {systems.normalize(system, args.code)}"
              f" ({systems.get(system).name}): {len(policies)}")
        for p in policies:
            print(f"  {p['section_label']:<40} {p['payer']} — {p['title']} ({p['policy_id']})\n      {p['snippet']}")
    return 0


def _guess_systems(args: argparse.Namespace) -> list[str]:
    """Systems the code is in (index order), then the systems it has the shape of."""
    from .. import systems

    out: list[str] = []
    db = settings.db_path(getattr(args, "db", None))
    if db.is_file():
        from ..index import Catalog

        out += [str(r["system"]) for r in Catalog(db).find(args.code)]
    for s in ("icd10cm", "hcpcs", "cpt", "icd10pcs"):
        if s not in out and systems.looks_like(s, args.code):
            out.append(s)
    if not out:
        raise BadRequest(f"cannot tell the system of {args.code!r}: give --system")
    return out
