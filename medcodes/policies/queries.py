"""Reading the policy store: the data behind a code page's policy section, policy search and a policy page.

Each function takes the store path and opens it read-only; a missing store reads as empty.
The web layer and the CLI render these dicts; they never query the tables themselves.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .. import systems
from ..errors import NotFound
from ..fts import phrase
from ..storage import RowLike, Store
from .records import SECTIONS
from .store import policy_dict, reader

_RANK = {"not_covered": 0, "investigational": 0, "covered": 0, "coding": 1, "mentioned": 2}
_CODE_SHAPED = re.compile(r"^[A-Za-z0-9]{3,7}(?:\.[A-Za-z0-9]{1,4})?$")

_LINKS_SQL = """
SELECT p.*, l.section, l.snippet, l.mention, l.version AS link_version
FROM policy_links l JOIN policies p ON p.id = l.policy_id AND p.current_version = l.version
WHERE l.system = ? AND l.code = ?
"""
# A range kept as written (a system the catalog does not hold) covers codes of the same length between its ends.
_RANGES_SQL = """
SELECT p.*, r.section, r.snippet, r.mention, r.version AS link_version
FROM policy_ranges r JOIN policies p ON p.id = r.policy_id AND p.current_version = r.version
WHERE r.system = ? AND length(r.first) = length(?) AND r.first <= ? AND r.last >= ?
"""


def policies_for_code(store_path: str | Path, system: str, code: str) -> list[dict[str, Any]]:
    """Policies that cite this code: one entry per policy with its strongest statement first.

    Each: policy_id, payer, title, number, url, effective, last_reviewed, kind, version, section,
    section_label, snippet, mention, and `mentions` (every section the policy cites the code under).
    """
    conn = reader(store_path)
    if conn is None:
        return []
    canonical = systems.normalize(system, code)
    rows = conn.execute(_LINKS_SQL, (system, canonical)).fetchall()
    rows += conn.execute(_RANGES_SQL, (system, canonical, canonical, canonical)).fetchall()
    grouped: dict[str, list[RowLike]] = {}
    for r in rows:
        grouped.setdefault(r["id"], []).append(r)
    out = []
    for group in grouped.values():
        group.sort(key=lambda r: _RANK.get(r["section"], 3))
        best = group[0]
        mentions = [{"section": r["section"], "section_label": SECTIONS.get(r["section"], r["section"]),
                     "snippet": r["snippet"], "mention": r["mention"]} for r in group]
        out.append({**policy_dict(best), "section": best["section"],
                    "section_label": SECTIONS.get(best["section"], best["section"]),
                    "snippet": best["snippet"], "mention": best["mention"], "mentions": mentions})
    out.sort(key=lambda d: (_RANK.get(d["section"], 3), d["payer"].lower(), d["title"].lower()))
    return out


_CITING_SQL = """
SELECT DISTINCT policy_id FROM (
  SELECT l.policy_id FROM policy_links l JOIN policies p ON p.id = l.policy_id AND p.current_version = l.version
  WHERE l.system = ? AND l.code = ?
  UNION
  SELECT r.policy_id FROM policy_ranges r JOIN policies p ON p.id = r.policy_id AND p.current_version = r.version
  WHERE r.system = ? AND length(r.first) = length(?) AND r.first <= ? AND r.last >= ?
) AS citing ORDER BY policy_id LIMIT ?
"""
MAX_CITING = 25  # policies read per code
BROAD_POLICY = 200  # a policy citing more codes than this (a whole fee schedule) says little about any pair


def co_cited_codes(store_path: str | Path, system: str, code: str) -> list[dict[str, Any]]:
    """[{system, code, count}]: the codes cited by the policies that cite this code, with how many
    of those policies cite each. A few indexed queries, however large the policies (similar codes)."""
    conn = reader(store_path)
    if conn is None:
        return []
    canonical = systems.normalize(system, code)
    ids = [r[0] for r in conn.execute(_CITING_SQL, (system, canonical, system, canonical, canonical,
                                                    canonical, MAX_CITING))]
    narrow = [v for v in (_current_version(conn, pid) for pid in ids) if v is not None]
    counts: dict[tuple[str, str], int] = {}
    for pid, version in narrow:
        for r in conn.execute("SELECT DISTINCT system, code FROM policy_links WHERE policy_id=? AND version=?",
                              (pid, version)):
            counts[(r[0], r[1])] = counts.get((r[0], r[1]), 0) + 1
    return [{"system": s, "code": c, "count": n} for (s, c), n in counts.items() if (s, c) != (system, canonical)]


def _current_version(conn: Store, policy_id: str) -> tuple[str, int] | None:
    """(id, current version) of a policy that cites at most BROAD_POLICY codes; None for a broader one.
    The stored link count settles most policies without reading their links (an FEP policy has 20,000)."""
    row = conn.execute("SELECT v.version, v.links FROM policies p JOIN policy_versions v ON v.policy_id = p.id"
                       " AND v.version = p.current_version WHERE p.id=?", (policy_id,)).fetchone()
    if row is None:
        return None
    if row[1] > BROAD_POLICY:  # links are per (code, section): count the codes, stopping past the limit
        n = conn.execute("SELECT COUNT(*) FROM (SELECT DISTINCT system, code FROM policy_links"
                         " WHERE policy_id=? AND version=? LIMIT ?) AS codes",
                         (policy_id, row[0], BROAD_POLICY + 1)).fetchone()[0]
        if n > BROAD_POLICY:
            return None
    return policy_id, row[0]


def fts_query(q: str) -> str:
    """User words as FTS5 phrases: no user string is ever FTS syntax (STYLE.md principle 4)."""
    words = re.findall(r"[\w][\w.\-/]*", q)
    groups = []
    for w in words[:20]:
        forms = [phrase(f) for f in word_forms(w)]
        groups.append(forms[0] if len(forms) == 1 else "(" + " OR ".join(forms) + ")")
    return " AND ".join(groups)  # FTS5 has no implicit AND next to a parenthesised group


def word_forms(word: str) -> list[str]:
    """A word and its other number, so "wheelchair" finds "Wheelchairs" and "biopsies" "biopsy"."""
    w = word.lower()
    if len(w) < 4 or not w.isalpha():
        return [word]
    if w.endswith("ies"):
        return [word, w[:-3] + "y"]
    if w.endswith(("sses", "xes", "ches", "shes")):
        return [word, w[:-2]]
    if w.endswith("s") and not w.endswith("ss"):
        return [word, w[:-1]]
    if w.endswith("y") and w[-2] not in "aeiou":
        return [word, w[:-1] + "ies"]
    if w.endswith(("s", "x", "ch", "sh")):
        return [word, w + "es"]
    return [word, w + "s"]


def search_policies(store_path: str | Path, q: str = "", limit: int = 20, offset: int = 0,
                    payer: str | None = None) -> list[dict[str, Any]]:
    """Policies whose title, payer, number or text match `q` (all words), best first; all when q is empty.

    A code-shaped query ("E11.9", "22612") also finds the policies linked to that code.
    """
    conn = reader(store_path)
    if conn is None:
        return []
    return _search(conn, q.strip(), max(1, min(limit, 500)), max(0, offset), payer)


def _search(conn: Store, q: str, limit: int, offset: int, payer: str | None) -> list[dict[str, Any]]:
    where_payer = " AND p.payer = ?" if payer else ""
    args_payer = [payer] if payer else []
    if not q:
        rows = conn.execute(f"SELECT p.*, '' AS snip FROM policies p WHERE 1=1{where_payer}"
                            " ORDER BY p.payer, p.title LIMIT ? OFFSET ?", (*args_payer, limit, offset)).fetchall()
        return [_summary(conn, r) for r in rows]
    found: dict[str, dict[str, Any]] = {}
    if _CODE_SHAPED.match(q):
        linked = conn.execute(
            f"SELECT DISTINCT p.*, l.snippet AS snip FROM policy_links l JOIN policies p ON p.id = l.policy_id"
            f" AND p.current_version = l.version WHERE (l.code = ? OR replace(l.code, '.', '') = ?){where_payer}"
            " LIMIT ?", (q.upper(), q.upper().replace(".", ""), *args_payer, limit + offset)).fetchall()
        for r in linked:
            found.setdefault(r["id"], _summary(conn, r))
    for r in _text_search(conn, q, where_payer, args_payer, limit + offset):
        found.setdefault(r["id"], _summary(conn, r))
    return list(found.values())[offset:offset + limit]


def _text_search(conn: Store, q: str, where_payer: str, args_payer: list[str], limit: int) -> list[RowLike]:
    """Policies whose words match all of q's (each word in either number), best first, with a snippet."""
    if conn.dialect == "postgresql":
        return _text_search_postgres(conn, q, where_payer, args_payer, limit)
    match = fts_query(q)
    if not match:
        return []
    return conn.execute(
        "SELECT p.*, snippet(policy_fts, 4, '', '', '…', 16) AS snip FROM policy_fts f"
        f" JOIN policies p ON p.id = f.policy_id WHERE policy_fts MATCH ?{where_payer}"
        " ORDER BY bm25(policy_fts, 0.0, 10.0, 4.0, 8.0, 1.0) LIMIT ?",
        (match, *args_payer, limit)).fetchall()


# title, number, payer, body weighted as the FTS5 table's bm25 weights (10, 8, 4, 1), in ts_rank's
# {D, C, B, A} order
_POSTGRES_WEIGHTS = "'{0.1, 0.4, 0.8, 1.0}'"
_POSTGRES_HEADLINE = "'MaxWords=16, MinWords=8, StartSel=\"\", StopSel=\"\", MaxFragments=1, FragmentDelimiter=…'"


def _text_search_postgres(conn: Store, q: str, where_payer: str, args_payer: list[str],
                          limit: int) -> list[RowLike]:
    """The same search with PostgreSQL's full-text search: each user word (and its other number)
    is a phrase query built by phraseto_tsquery, never tsquery syntax."""
    groups: list[list[str]] = [word_forms(w) for w in re.findall(r"[\w][\w.\-/]*", q)[:20]]
    if not groups:
        return []
    query = " && ".join("(" + " || ".join("phraseto_tsquery('simple', ?)" for _ in forms) + ")" for forms in groups)
    args = [f for forms in groups for f in forms]
    return conn.execute(
        f"WITH q AS (SELECT {query} AS query) SELECT p.*,"
        f" ts_headline('simple', f.body, q.query, {_POSTGRES_HEADLINE}) AS snip"
        f" FROM policy_fts f CROSS JOIN q JOIN policies p ON p.id = f.policy_id"
        f" WHERE f.words @@ q.query AND numnode(q.query) > 0{where_payer}"
        f" ORDER BY ts_rank({_POSTGRES_WEIGHTS}, f.words, q.query) DESC, p.id LIMIT ?",
        (*args, *args_payer, limit)).fetchall()


def _summary(conn: Store, row: RowLike) -> dict[str, Any]:
    n = conn.execute("SELECT COUNT(*) FROM policy_links WHERE policy_id=? AND version=?",
                     (row["id"], row["current_version"])).fetchone()[0]
    n += conn.execute("SELECT COUNT(*) FROM policy_ranges WHERE policy_id=? AND version=?",
                      (row["id"], row["current_version"])).fetchone()[0]
    return {**policy_dict(row), "codes": n, "snippet": row["snip"] or ""}


def policy_page(store_path: str | Path, policy_id: str, catalog: Any = None) -> dict[str, Any]:
    """Everything about one policy: its metadata, versions, and all the codes it cites by section.

    With a catalog, each code gets its title (CPT codes without loaded CPT data get none).
    """
    conn = reader(store_path)
    if conn is None:
        raise NotFound(f"no policy {policy_id!r}: no policies have been ingested")
    row = conn.execute("SELECT * FROM policies WHERE id=?", (policy_id,)).fetchone()
    if row is None:
        raise NotFound(f"no policy {policy_id!r}")
    version = row["current_version"]
    versions = [dict(v) for v in conn.execute(
        "SELECT version, content_hash, ingested, format, title, effective, last_reviewed, links"
        " FROM policy_versions WHERE policy_id=? ORDER BY version DESC", (policy_id,))]
    cur = conn.execute("SELECT html, text FROM policy_versions WHERE policy_id=? AND version=?",
                       (policy_id, version)).fetchone()
    links = conn.execute("SELECT system, code, section, snippet, mention, validated FROM policy_links"
                         " WHERE policy_id=? AND version=?", (policy_id, version)).fetchall()
    ranges = conn.execute("SELECT system, first, last, section, snippet, mention FROM policy_ranges"
                          " WHERE policy_id=? AND version=?", (policy_id, version)).fetchall()
    codes = [{"system": r["system"], "code": r["code"], "section": r["section"],
              "section_label": SECTIONS.get(r["section"], r["section"]), "snippet": r["snippet"],
              "mention": r["mention"], "validated": bool(r["validated"]), "title": None} for r in links]
    _add_titles(codes, catalog)
    codes.sort(key=lambda c: (list(SECTIONS).index(c["section"]) if c["section"] in SECTIONS else 9,
                              c["system"], c["code"]))
    sections = {key: label for key, label in SECTIONS.items() if any(c["section"] == key for c in codes)
                or any(r["section"] == key for r in ranges)}
    return {**policy_dict(row), "source": row["source"], "versions": versions, "codes": codes,
            "ranges": [dict(r) for r in ranges], "sections": sections,
            "html": cur["html"] if cur else None, "text": cur["text"] if cur else ""}


def _add_titles(codes: list[dict[str, Any]], catalog: Any) -> None:
    if catalog is None or not codes:
        return
    found = catalog.titles([(c["system"], c["code"]) for c in codes])
    for c in codes:
        hit = found.get((c["system"], c["code"]))
        c["title"] = hit["title"] if hit else None
