"""`medcodes data derive|list|verify`: thin wrappers over the data layer."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import MedcodesError
from . import DATA_DIR, layer, verify


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(metavar="ACTION", dest="data_action")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", default=None, help="data folder (default: the package's medcodes/data)")

    d = sub.add_parser("derive", parents=[common], help="make derived files from official files")
    d.add_argument("items", nargs="+", metavar="SOURCE=PATH",
                   help="e.g. hcpcs=january-2025-alpha-numeric-hcpcs-file.zip, icd10pcs=icd10pcs_tables_2026.xml; "
                        "an ICD-10-PCS or ICD-10-CM zip gives one derived file per member the layer takes")
    d.add_argument("--url", help="where the publisher serves the file (default: from the release table)")
    d.add_argument("--note", help="what a reader of the provenance should know about the file")
    d.add_argument("--force", action="store_true", help="allow a release older than the one the folder holds")
    d.set_defaults(data_func=cmd_derive)

    ls = sub.add_parser("list", parents=[common], help="the derived files and their provenance")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(data_func=cmd_list)

    v = sub.add_parser("verify", parents=[common], help="check every derived file against its provenance hash")
    v.set_defaults(data_func=cmd_verify)


def run(args: argparse.Namespace) -> int:
    func = getattr(args, "data_func", None)
    if func is None:
        raise MedcodesError("medcodes data: give an action: derive, list or verify")
    return int(func(args))


def _dir(args: argparse.Namespace) -> Path:
    return Path(args.dir).expanduser() if args.dir else DATA_DIR


def cmd_derive(args: argparse.Namespace) -> int:
    from .derive import derive_all

    items = []
    for item in args.items:
        source, sep, path = item.partition("=")
        if not sep or not source or not path:
            raise MedcodesError(f"derive wants SOURCE=PATH, got {item!r}")
        items.append((source.strip(), Path(path).expanduser()))
    if len(items) > 1 and (args.url or args.note):
        raise MedcodesError("--url and --note describe one file: derive one SOURCE=PATH at a time with them")
    for source, path in items:
        for rec in derive_all(source, path, _dir(args), url=args.url, note=args.note, force=args.force):
            counts = ", ".join(f"{v:,} {k}" for k, v in rec.counts.items())
            member = f" (from {rec.official.member})" if rec.official.member else ""
            print(f"{rec.file}{member}: {', '.join(rec.releases)}; {counts}; {rec.size:,} bytes, sha256 {rec.sha256}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    records = layer(_dir(args))
    if args.json:
        print(json.dumps([r.as_dict() for r in records], indent=2, ensure_ascii=False))
        return 0
    for r in records:
        print(f"{r.file}  {r.size:,} bytes  {', '.join(r.releases)}\n  from {r.official.file} "
              f"(sha256 {r.official.sha256[:16]}…, {r.official.publisher}) derived {r.derived_on}")
    print(f"{len(records)} files, {sum(r.size for r in records):,} bytes")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    records = layer(_dir(args))
    for r in records:
        verify(_dir(args) / r.file)
    print(f"{len(records)} derived files match their provenance")
    return 0
