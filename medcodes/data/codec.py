"""The derived-file format: the records an importer yields, one JSON object a line, gzipped.

A derived file is what an importer read from one official file, written so the build can read it
back in a fraction of the time and without the official file. Line 1 is a header:

    {"format": "medcodes-derived", "version": 1, "source": "hcpcs", "part": "anweb", "expand": null}

and every other line one record: {"r": "code" | "term" | "reference" | "relation" | "release" |
"change", field: value, ...}, with the record's fields (medcodes.model) under their own names and
fields at their default value left out. Notes are [type, text] pairs; tuples become lists.

`expand` names a compaction the reader undoes: "icd10pcs-tables" means the file holds the PCS
section, body-system and table nodes but not the 79,000 codes the tables compose, which the reader
composes again from each table node (medcodes.sources.icd10pcs.tables.table_codes).

Bytes are reproducible: the same records give the same file (JSON with fixed separators, gzip
with mtime 0 and no file name), so a re-derive can be compared byte for byte.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..model import Change, Code, Note, Record, Reference, Relation, Release, Term

FORMAT = "medcodes-derived"
VERSION = 1
GZIP_MAGIC = b"\x1f\x8b"

_TYPES: dict[str, type[Any]] = {
    "code": Code, "term": Term, "reference": Reference, "relation": Relation, "release": Release, "change": Change,
}
_NAMES = {cls: name for name, cls in _TYPES.items()}
_TUPLES = ("synonyms", "path")


def _defaults(cls: type[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


_DEFAULTS = {cls: _defaults(cls) for cls in _TYPES.values()}


def encode(record: Record) -> dict[str, Any]:
    cls = type(record)
    defaults = _DEFAULTS[cls]
    out: dict[str, Any] = {"r": _NAMES[cls]}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if f.name in defaults and value == defaults[f.name]:
            continue
        if f.name == "notes":
            value = [[n.type, n.text] for n in value]
        elif isinstance(value, tuple):
            value = list(value)
        elif f.name == "attributes":
            value = dict(value)
        out[f.name] = value
    return out


def decode(obj: dict[str, Any]) -> Record:
    kind = obj.pop("r")
    if kind == "term" and len(obj) <= 5:  # the common case, without the generic path's look-ups
        return Term(obj["system"], obj["code"], obj["term"], obj["source"], tuple(obj.get("path", ())))
    cls = _TYPES[kind]
    if "notes" in obj:
        obj["notes"] = tuple(Note(t, x) for t, x in obj["notes"])
    for name in _TUPLES:
        if name in obj:
            obj[name] = tuple(obj[name])
    return cls(**obj)  # type: ignore[no-any-return]


def header(source: str, part: str, expand: str | None = None) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "source": source, "part": part, "expand": expand}


def dumps(head: dict[str, Any], records: Iterable[Record]) -> bytes:
    """The gzipped file's bytes: the same records always give the same bytes."""
    text = io.StringIO()
    for obj in (head, *(encode(r) for r in records)):
        text.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
        text.write("\n")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    return buf.getvalue()


def read_header(path: Path) -> dict[str, Any] | None:
    """The header of a derived file, or None when `path` is not one (any other file, official ones too)."""
    try:
        with open(path, "rb") as f:
            if f.read(2) != GZIP_MAGIC:
                return None
        with gzip.open(path, "rb") as gz:
            first = gz.readline(4096)
    except (OSError, EOFError):
        return None
    if not first.startswith(b'{"format":"' + FORMAT.encode() + b'"'):
        return None
    try:
        head = json.loads(first)
    except ValueError:
        return None
    return head if isinstance(head, dict) else None


Expander = Callable[[Record], Iterator[Record]]


def records(path: Path, expanders: dict[str, Expander]) -> Iterator[Record]:
    """Every record of a derived file, compactions undone. Errors name the file and line."""
    label = str(path)
    try:
        with gzip.open(path, "rb") as gz:
            text = gz.read().decode("utf-8")
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise SourceError(label, f"cannot read (damaged or truncated?): {exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(label, f"not UTF-8 text: {exc}") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise SourceError(label, "empty file")
    expand = _expander(label, _parse(label, lines[0], 1), expanders)
    # One parse of all lines costs a fraction of one json.loads a line.
    try:
        objs = json.loads("[" + ",".join(lines[1:]) + "]")
    except ValueError:
        objs = [_parse(label, line, n) for n, line in enumerate(lines[1:], 2)]  # finds the line at fault
    for number, obj in enumerate(objs, 2):
        try:
            rec = decode(obj)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SourceError(label, f"not a record: {exc!r}", number) from None
        yield rec
        if expand is not None:
            yield from expand(rec)


def _parse(label: str, line: str, number: int) -> Any:
    try:
        return json.loads(line)
    except ValueError as exc:
        raise SourceError(label, f"not a JSON line: {exc}", number) from None


def _expander(label: str, head: Any, expanders: dict[str, Expander]) -> Expander | None:
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise SourceError(label, f"not a {FORMAT} file", 1)
    if head.get("version") != VERSION:
        raise SourceError(label, f"{FORMAT} version {head.get('version')!r}; this medcodes reads {VERSION}", 1)
    name = head.get("expand")
    if name is None:
        return None
    if name not in expanders:
        raise SourceError(label, f"unknown compaction {name!r}", 1)
    return expanders[name]
