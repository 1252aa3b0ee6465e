"""Search benchmark: speed (p50/p99/qps/RSS) and quality against a plain SQLite FTS5 BM25 baseline.

    .venv/bin/python bench/search.py --db full.sqlite [--semantic] [--quick]

Quality sets (success@1, success@10, MRR@10; a query succeeds when a result's code starts
with one of its expected codes, or is it exactly where the set says "=CODE", or starts with a
match of a pattern with * ? [..]; "S52.5*[ABC]" counts initial encounters and not sequelae):
- first_result hand-judged queries and the code(s) a coder accepts as the FIRST result: codes
               are exact, not prefixes (bench/queries/first_result.tsv); read its success@1
- lay_abbr     hand-written lay phrases and abbreviations (bench/queries/lay_abbr.tsv)
- lexicon      every lexicon.tsv entry that names an expected code
- typos        short ICD-10-CM category titles with one typo in a word of 5+ letters
- pcs_index    ICD-10-PCS index terms -> the table or code they point at (the terms are indexed)
- pcs_heldout  the same queries on an index built WITHOUT the PCS index terms
- hcpcs_short  HCPCS short descriptors -> their code, on an index where short descriptors are NOT indexed
- payer        payer policy titles -> the HCPCS and ICD-10-CM codes the policy cites (../shared/data)
- codes        codes as people type them (lower case, no dot, with dot) -> the code

Speed: the timed mix is searched with semantic retrieval off and on (--semantic) in one process, the
two modes taking turns query by query, each in a Catalog of its own; RSS is read once each mode's
engine is loaded and warmed (the "on" line's holds both). --inline adds "on-inline": semantic retrieval with
no pass started ahead in a background thread (it starts only when a core is free), to see what that gives.

The baseline indexes the same codes (code, title, inclusion terms, synonyms, index terms) in
one FTS5 column and ANDs the query's words, ranked by bm25(): what a plain implementation does.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import random
import re
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from medcodes.index import Catalog  # noqa: E402
from medcodes.search import engine_for, indexer, lexicon, search  # noqa: E402
from medcodes.search.query import words  # noqa: E402
from medcodes.systems import compact  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
Expect = list[tuple[str, str]]  # (system, compact code prefix, "=CODE" or a fnmatch pattern)
QuerySet = list[tuple[str, Expect]]
Searcher = Callable[[str], list[tuple[str, str]]]  # query -> [(system, compact code)] best first


# -- query sets ------------------------------------------------------------------
def parse_expect(text: str) -> Expect:
    out = []
    for part in text.split("|"):
        system, _, code = part.strip().partition(":")
        out.append((system, compact(code)))
    return out


def hit(system: str, code: str, expect: Expect) -> bool:
    """Whether (system, compact code) is one of the expected answers."""
    for es, ec in expect:
        if system != es:
            continue
        if ec.startswith("="):  # exact: the code itself, or ("=04100?K") a match of the whole pattern
            if code == ec[1:] or (any(ch in ec for ch in "*?[") and fnmatch.fnmatchcase(code, ec[1:])):
                return True
        elif any(ch in ec for ch in "*?["):
            # a pattern is a prefix too, like a plain code ("0SR[FG]" is any code of those tables), as
            # the sets' writers meant and checked them; "S52.5*[ABC]" still leaves the sequelae out
            if fnmatch.fnmatchcase(code, ec + "*"):
                return True
        elif code.startswith(ec):
            return True
    return False


def tsv_set(name: str, exact: bool = False) -> QuerySet:
    """A hand-written set from bench/queries; `exact`: a plain code means that code, not a prefix."""
    out = []
    for line in (REPO / "bench" / "queries" / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            q, expect = line.split("\t")
            parsed = parse_expect(expect)
            if exact:
                parsed = [(s, c if c.startswith("=") or any(ch in c for ch in "*?[") else "=" + c) for s, c in parsed]
            out.append((q, parsed))
    return out


def lay_abbr() -> QuerySet:
    return tsv_set("lay_abbr.tsv")


def first_result() -> QuerySet:
    return tsv_set("first_result.tsv", exact=True)


def lexicon_set() -> QuerySet:
    return [(" ".join(e.term), [(s, compact(c)) for s, c in e.expect]) for e in lexicon.entries() if e.expect]


def typos(conn: sqlite3.Connection, n: int, rng: random.Random) -> QuerySet:
    rows = conn.execute("SELECT code, title FROM codes WHERE system='icd10cm' AND kind='category'"
                        " AND length(title) < 45 ORDER BY seq").fetchall()
    out = []
    for code, title in rng.sample(rows, min(len(rows), n * 2)):
        ws = words(title)
        long = [i for i, w in enumerate(ws) if len(w) >= 5 and w.isalpha()]
        if not long:
            continue
        i = rng.choice(long)
        ws[i] = _typo(ws[i], rng)
        out.append((" ".join(ws), [("icd10cm", compact(code))]))
        if len(out) == n:
            break
    return out


def _typo(w: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(w) - 1)
    kind = rng.choice(("drop", "swap", "sub", "dup"))
    if kind == "drop":
        return w[:i] + w[i + 1:]
    if kind == "swap":
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]
    if kind == "dup":
        return w[:i] + w[i] + w[i:]
    return w[:i] + rng.choice("aeiourstnl".replace(w[i], "")) + w[i + 1:]


def pcs_index(conn: sqlite3.Connection, n: int, rng: random.Random) -> QuerySet:
    rows = conn.execute("SELECT term, code FROM terms WHERE system='icd10pcs' AND term NOT LIKE '%see %'"
                        " ORDER BY rowid").fetchall()
    by_term: dict[str, set[str]] = {}
    for term, code in rows:
        by_term.setdefault(term, set()).add(compact(code))
    picked = rng.sample(sorted(by_term), min(n, len(by_term)))
    return [(t, [("icd10pcs", c) for c in sorted(by_term[t])]) for t in picked]


def hcpcs_short(conn: sqlite3.Connection, n: int, rng: random.Random) -> QuerySet:
    rows = conn.execute("SELECT code, short_title FROM codes WHERE system='hcpcs' AND kind='code'"
                        " AND short_title IS NOT NULL AND short_title != title ORDER BY seq").fetchall()
    return [(s, [("hcpcs", compact(c))]) for c, s in rng.sample(rows, min(n, len(rows)))]


def payer(conn: sqlite3.Connection) -> QuerySet:
    folder = SHARED / "payer_policies_bcbsmn_fep_2021"
    if not folder.is_dir():
        return []
    known = {(s, c) for s, c in conn.execute("SELECT system, compact FROM codes WHERE system IN ('hcpcs','icd10cm')")}
    policies: dict[str, set[tuple[str, str]]] = {}
    for p in json.loads((folder / "fep_policies_full_with_icd10.json").read_text()):
        title = str(p.get("Full Policy") or "").strip()
        cited = {("hcpcs", c) for c in re.findall(r"\b[A-V]\d{4}\b", str(p.get("HCPCS") or ""))}
        for c in re.findall(r"\b[A-Z]\d{2}(?:\.\w{1,4})?", str(p.get("ICD10 Diagnosis codes") or "")):
            cited.add(("icd10cm", compact(c)[:4]))  # category + one: policies cite ranges
        if title:
            policies.setdefault(title, set()).update(cited)
    for code, pols in json.loads((folder / "bcbsmn_code_to_policy.json").read_text()).items():
        if re.fullmatch(r"[A-V]\d{4}", code):
            for p in pols:
                if p.get("Full Policy"):
                    policies.setdefault(p["Full Policy"].strip(), set()).add(("hcpcs", code))
    out = []
    for title, cited in sorted(policies.items()):
        ok = [(s, c) for s, c in sorted(cited) if (s, c) in known or s == "icd10cm"]
        if ok:
            out.append((title, ok))
    return out


def codes_set(conn: sqlite3.Connection, n: int, rng: random.Random) -> QuerySet:
    rows = conn.execute("SELECT system, code FROM codes WHERE kind='code' AND system IN"
                        " ('icd10cm','icd10pcs','hcpcs','icd9cm') ORDER BY id").fetchall()
    out = []
    for system, code in rng.sample(rows, min(n, len(rows))):
        typed = rng.choice((code, code.lower(), code.replace(".", ""), code.replace(".", "").lower()))
        out.append((typed, [(system, compact(code))]))
    return out


# -- judged sets drawn from the official files, written once to bench/queries ------------------
# Each is sampled with a fixed seed and cut in two: *_tune.tsv for tuning, *_report.tsv for the
# figure (never looked at while tuning). The hand-written sets also have *_fresh.tsv: queries written
# once tuning had ended, run untouched (--part fresh; later batches, --part fresh2 to fresh48, written
# by someone who had seen neither the earlier batches' results nor the engine's vocabulary files).
SPLIT_SEED = 20261202


def gems_pairs(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """ICD-9-CM diagnosis descriptors -> their ICD-10-CM GEMs targets (forward map, mapped rows only)."""
    rows = conn.execute(
        "SELECT c.title, group_concat(r.target_code, '|') FROM relations r"
        " JOIN codes c ON c.system='icd9cm' AND c.code=r.source_code"
        " WHERE r.type='gem' AND r.source_system='icd9cm' AND r.target_system='icd10cm'"
        " AND json_extract(r.attributes, '$.no_map') = 0 GROUP BY c.code ORDER BY c.code").fetchall()
    return [(title, "|".join(f"icd10cm:{c}" for c in sorted(set(codes.split("|"))))) for title, codes in rows]


def index_pairs(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """ICD-10-CM Alphabetic Index paths (and External Cause, Neoplasm, Drug tables) -> the code each names."""
    rows = conn.execute("SELECT term, group_concat(code, '|') FROM terms WHERE system='icd10cm'"
                        " GROUP BY term ORDER BY term").fetchall()
    # typed as a coder reads the entry: main term and subterms, without the nonessential modifiers
    # the index prints in parentheses
    return [(re.sub(r"\s+([,—])", r"\1", re.sub(r"\s+", " ", re.sub(r"\([^)]*\)", " ", t))).strip(),
             "|".join(f"icd10cm:{c}" for c in sorted(set(codes.split("|"))))) for t, codes in rows]


def write_sets(conn: sqlite3.Connection, n: int = 200) -> None:
    for name, pairs in (("gems", gems_pairs(conn)), ("index_paths", index_pairs(conn))):
        picked = random.Random(SPLIT_SEED).sample(pairs, min(len(pairs), 2 * n))
        for part, rows in (("tune", picked[:n]), ("report", picked[n:])):
            path = REPO / "bench" / "queries" / f"{name}_{part}.tsv"
            head = (f"# {name}: drawn from the official files by bench/search.py --write-sets (seed {SPLIT_SEED});"
                    f" the {part} half\n# query\texpect\n")
            path.write_text(head + "".join(f"{q}\t{e}\n" for q, e in rows))
            print(f"wrote {path.relative_to(REPO)}: {len(rows)} queries")


# -- engines ---------------------------------------------------------------------
def ours(cat: Catalog) -> Searcher:
    from medcodes.search import engine_for, search

    engine_for(cat)  # now, while MEDCODES_SEMANTIC says which mode this engine is in
    def run(q: str) -> list[tuple[str, str]]:
        return [(r["system"], compact(r["code"])) for r in search(cat, q, limit=10)["results"]]

    return run


def baseline(db: Path, short_titles: bool, index_terms: bool = True) -> Searcher:
    """Plain FTS5: one column of text per code, the query's words ANDed, ordered by bm25()."""
    mem = sqlite3.connect(":memory:")
    mem.execute("CREATE VIRTUAL TABLE b USING fts5(system UNINDEXED, code UNINDEXED, text)")
    src = sqlite3.connect(db)
    terms: dict[tuple[str, str], list[str]] = {}
    for s, c, t in src.execute("SELECT system, code, term FROM terms" + ("" if index_terms else " WHERE 0")):
        terms.setdefault((s, c), []).append(t)
    rows = []
    for s, c, title, short, syn, notes in src.execute(
            "SELECT system, code, title, short_title, synonyms, notes FROM codes"):
        inclusion = [t for kind, t in json.loads(notes) if kind == "inclusion"]
        parts = [c, compact(c), title, *(json.loads(syn)), *inclusion, *terms.get((s, c), [])]
        if short_titles and short:
            parts.append(short)
        rows.append((s, c, " ; ".join(parts)))
    mem.executemany("INSERT INTO b VALUES (?,?,?)", rows)

    def run(q: str) -> list[tuple[str, str]]:
        ws = words(q)
        if not ws:
            return []
        expr = " AND ".join(f'"{w}"' for w in ws)
        return [(s, compact(c)) for s, c in
                mem.execute("SELECT system, code FROM b WHERE b MATCH ? ORDER BY bm25(b) LIMIT 10", (expr,))]

    return run


def score(run: Searcher, qs: QuerySet) -> tuple[float, float, float]:
    s1 = s10 = rr = 0.0
    for q, expect in qs:
        got = run(q)
        for i, (system, code) in enumerate(got[:10]):
            if hit(system, code, expect):
                s1 += i == 0
                s10 += 1
                rr += 1 / (i + 1)
                break
    n = len(qs) or 1
    return s1 / n, s10 / n, rr / n


# -- judged sets with a system filter, tuning and report halves -------------------------------
# name -> the systems searched (as a user would filter), the baseline searching the same systems
JUDGED: dict[str, tuple[str, ...]] = {
    "gems": ("icd10cm",), "index_paths": ("icd10cm",), "plain_cm": ("icd10cm",), "plain_pcs": ("icd10pcs",),
    "plain_hcpcs": ("hcpcs",), "shorthand_cm": ("icd10cm",), "shorthand_pcs": ("icd10pcs",),
}


def ours_in(cat: Catalog, systems: tuple[str, ...]) -> Searcher:
    from medcodes.search import engine_for, search

    engine_for(cat)

    def run(q: str) -> list[tuple[str, str]]:
        return [(r["system"], compact(r["code"])) for r in search(cat, q, systems=list(systems), limit=10)["results"]]

    return run


def baseline_or(db: Path, systems: tuple[str, ...]) -> Searcher:
    """Plain FTS5 over the same systems' descriptors and index terms: the query's words ORed, ordered by bm25()."""
    mem = sqlite3.connect(":memory:")
    mem.execute("CREATE VIRTUAL TABLE b USING fts5(system UNINDEXED, code UNINDEXED, text)")
    src = sqlite3.connect(db)
    marks = ",".join("?" * len(systems))
    terms: dict[tuple[str, str], list[str]] = {}
    for s, c, t in src.execute(f"SELECT system, code, term FROM terms WHERE system IN ({marks})", systems):
        terms.setdefault((s, c), []).append(t)
    rows = [(s, c, " ; ".join([title, *terms.get((s, c), [])])) for s, c, title in
            src.execute(f"SELECT system, code, title FROM codes WHERE system IN ({marks})", systems)]
    mem.executemany("INSERT INTO b VALUES (?,?,?)", rows)

    def run(q: str) -> list[tuple[str, str]]:
        ws = words(q)
        if not ws:
            return []
        expr = " OR ".join(f'"{w}"' for w in dict.fromkeys(ws))
        return [(s, compact(c)) for s, c in
                mem.execute("SELECT system, code FROM b WHERE b MATCH ? ORDER BY bm25(b) LIMIT 10", (expr,))]

    return run


def part_files(name: str, part: str) -> list[Path]:
    """A judged set's files of one part: plain_pcs_tune.tsv and the tuning sets written later
    (plain_pcs_tune2.tsv, ...)."""
    folder = REPO / "bench" / "queries"
    if part.startswith("fresh"):  # each held-out batch on its own: fresh, fresh2, ...
        return [p for p in [folder / f"{name}_{part}.tsv"] if p.is_file()]
    return sorted(p for p in folder.glob(f"{name}_{part}*.tsv") if re.fullmatch(rf"{name}_{part}\d*\.tsv", p.name))


def known_word(vocab: set[str], q: str) -> bool:
    return any(w in vocab for w in words(q)) or any(lexicon.key(tuple(words(q))[i:i + 1]) in lexicon.known_terms()
                                                   for i in range(len(words(q))))


def judged(db: Path, modes: list[str], chosen: set[str] | None, parts: tuple[str, ...]) -> None:
    vocab = {w for (w,) in sqlite3.connect(db).execute("SELECT word FROM search_vocab")}
    header = f"{'set':<14} {'part':<7} {'n':>4}  {'engine':<22} {'s@1':>6} {'s@10':>6} {'MRR':>6} {'empty':>5}"
    print("\n" + header + "\n" + "-" * len(header))
    for name, systems in JUDGED.items():
        if chosen and name not in chosen:
            continue
        base = baseline_or(db, systems)
        for part in parts:
            files = part_files(name, part)
            if not files:
                continue
            qs = [q for path in files for q in tsv_set(path.name)]
            rows: list[tuple[str, Searcher]] = [("fts5 bm25 OR baseline", base)]
            for mode in modes:
                os.environ["MEDCODES_SEMANTIC"] = mode
                rows.append((f"medcodes ({'lexical' if mode == 'off' else 'fused'})", ours_in(Catalog(db), systems)))
            for label, run in rows:
                s1, s10, mrr = score(run, qs)
                empty = sum(1 for q, _ in qs if known_word(vocab, q) and not run(q))
                print(f"{name:<14} {part:<7} {len(qs):>4}  {label:<22} {s1:6.3f} {s10:6.3f} {mrr:6.3f} {empty:>5}")


# -- speed -----------------------------------------------------------------------
def speed_queries(conn: sqlite3.Connection, sets: dict[str, QuerySet], rng: random.Random, n: int) -> list[str]:
    qs: list[str] = []
    for name in ("lay_abbr", "typos", "pcs_index", "hcpcs_short", "codes", "payer"):
        qs += [q for q, _ in sets.get(name, [])]
    for name in JUDGED:  # old descriptions, index paths, plain words, shorthand (the first files: a fixed mix)
        qs += [q for part in ("tune", "report") if (REPO / "bench" / "queries" / f"{name}_{part}.tsv").is_file()
               for q, _ in tsv_set(f"{name}_{part}.tsv")]
    rows = conn.execute("SELECT code, title FROM codes WHERE kind='code' ORDER BY id").fetchall()
    for code, title in rng.sample(rows, 300):
        ws = words(title)
        qs.append(" ".join(ws[:rng.randint(1, min(4, len(ws)))]))  # as-you-type title starts
        qs.append(code[:rng.randint(2, max(2, len(code) - 1))])  # code prefixes
    qs += ["E08-E13", "A0021-A0999", "M25.50-M25.579", "S72.0", "0SG", "E11", "system:hcpcs wheelchair",
           "billable:yes fracture femur", "E11.9, I10, J1100"]
    rng.shuffle(qs)
    return qs[:max(n, 1000)]


def timed(cats: dict[str, Catalog], qs: list[str], vocab: set[str] | None = None) -> dict[str, dict[str, float]]:
    """Each query of `qs` searched in every mode's Catalog in turn (the modes' order alternating from one
    query to the next), so that no mode runs on caches another warmed for it, nor at a quieter moment."""
    modes = list(cats)
    lat: dict[str, list[float]] = {m: [] for m in modes}
    # CPU time too: on a shared machine, wall time also counts the wait for a core
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    empty = dict.fromkeys(modes, 0)
    for i, q in enumerate(qs):
        for mode in modes if i % 2 == 0 else modes[::-1]:
            t, c = time.perf_counter(), time.process_time()
            found = search(cats[mode], q, limit=10)
            lat[mode].append((time.perf_counter() - t) * 1000)
            cpu[mode].append((time.process_time() - c) * 1000)
            empty[mode] += not found["results"] and vocab is not None and known_word(vocab, q)
    out = {}
    for mode in modes:
        ms, cs = sorted(lat[mode]), sorted(cpu[mode])
        out[mode] = {"n": len(qs), "p50": statistics.median(ms), "p99": ms[int(len(ms) * 0.99) - 1],
                     "max": ms[-1], "qps": len(qs) / (sum(ms) / 1000), "empty": empty[mode],
                     "cpu_p50": statistics.median(cs), "cpu_p99": cs[int(len(cs) * 0.99) - 1],
                     "load": os.getloadavg()[0]}
    return out


def rss_mb() -> tuple[float, float]:
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- main ------------------------------------------------------------------------
# the held-out batches, each written after the tuning before it ended and run once when added
HELD_OUT = ("fresh", *(f"fresh{i}" for i in range(2, 49)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=os.environ.get("MEDCODES_TEST_FULL_DB", "full.sqlite"))
    p.add_argument("--semantic", action="store_true", help="also measure with semantic fusion on")
    p.add_argument("--quick", action="store_true", help="smaller generated sets")
    p.add_argument("--speed", type=int, default=1200, help="queries in the timed mix (at least 1000)")
    p.add_argument("--sets", help="only these quality sets, comma-separated (e.g. first_result,lay_abbr)")
    p.add_argument("--no-speed", action="store_true", help="quality only")
    p.add_argument("--speed-only", action="store_true", help="speed only, no quality sets")
    p.add_argument("--inline", action="store_true",
                   help="with --semantic, also time semantic=on with every pass made inline (none in the background)")
    p.add_argument("--write-sets", action="store_true", help="draw the GEMs and index-path sets from --db and stop")
    p.add_argument("--part", choices=("tune", "report", *HELD_OUT, "both", "all"),
                   default="both",
                   help="which part of the judged sets to score: tune while tuning, report for the figure,"
                        " fresh to fresh48 for the held-out batches written after tuning ended (each run once);"
                        " both = tune and report")
    args = p.parse_args()
    db = Path(args.db)
    rng = random.Random(20260)
    conn = sqlite3.connect(db)
    if args.write_sets:
        write_sets(conn)
        return
    n = 100 if args.quick else 300
    sets: dict[str, QuerySet] = {
        "first_result": first_result(),
        "lay_abbr": lay_abbr(), "lexicon": lexicon_set(), "typos": typos(conn, n, rng),
        "pcs_index": pcs_index(conn, n, rng), "hcpcs_short": hcpcs_short(conn, n, rng), "payer": payer(conn),
        "codes": codes_set(conn, n, rng),
    }
    modes = ["off", "on"] if args.semantic else ["off"]
    print(f"index {db} ({db.stat().st_size / 1e6:.0f} MB)")
    with open(db, "rb") as f:  # a serving process has the file in the OS page cache: so do we
        while f.read(1 << 24):
            pass
    timings = {}
    qs = speed_queries(conn, sets, rng, args.speed)  # one mix for every mode, so that they compare
    cats: dict[str, Catalog] = {}
    memory: dict[str, tuple[float, float]] = {}  # RSS once each mode's engine is loaded (the later ones hold all)
    timed_modes = [*modes, *(["on-inline"] if args.semantic and args.inline else [])]
    for mode in [] if args.no_speed else timed_modes:
        os.environ["MEDCODES_SEMANTIC"] = mode.split("-")[0]
        cats[mode] = Catalog(db)
        engine = engine_for(cats[mode])
        engine.semantic(cats[mode].conn)  # the mode is read when the engine is made and loaded
        if mode == "on-inline":  # no semantic pass started ahead in a background thread (Engine.foresee)
            engine.foresee = lambda *a, **k: None  # type: ignore[method-assign]
        for q in qs[:50]:
            search(cats[mode], q)  # warm: engine arrays, page cache
        memory[mode] = rss_mb()
    if cats:
        timings = timed(cats, qs, {w for (w,) in conn.execute("SELECT word FROM search_vocab")})
    for mode in cats:
        cur, peak = memory[mode]
        t = timings[mode]
        print(f"speed semantic={mode}: {t['n']} queries  p50 {t['p50']:.2f} ms  p99 {t['p99']:.2f} ms"
              f"  max {t['max']:.1f} ms  {t['qps']:.0f} q/s  RSS {cur:.0f} MB (peak {peak:.0f} MB)"
              f"  CPU time p50 {t['cpu_p50']:.2f} ms p99 {t['cpu_p99']:.2f} ms  load average {t['load']:.1f}"
              f"  empty answers with a known word: {t['empty']:.0f}")
    if args.speed_only:
        return
    chosen = set(args.sets.split(",")) if args.sets else None
    parts = {"both": ("tune", "report"), "all": ("tune", "report", *HELD_OUT)}.get(args.part, (args.part,))
    judged(db, modes, chosen, parts)
    if chosen is None or chosen - set(JUDGED):
        _quality(db, sets, modes, chosen)


def _quality(db: Path, sets: dict[str, QuerySet], modes: list[str], chosen: set[str] | None = None) -> None:
    sets = {**sets, "pcs_heldout": sets["pcs_index"]}
    if chosen:
        sets = {k: v for k, v in sets.items() if k in chosen}
    base_full, base_noshort, base_noterms = baseline(db, True), baseline(db, False), baseline(db, True, False)
    no_short = _variant(db, short_titles=False) if "hcpcs_short" in sets else db
    no_terms = _variant(db, index_terms=False) if "pcs_heldout" in sets else db
    header = f"{'set':<12} {'n':>4}  {'engine':<22} {'s@1':>6} {'s@10':>6} {'MRR':>6}"
    print("\n" + header + "\n" + "-" * len(header))
    for name, qs in sets.items():
        if not qs:
            print(f"{name:<12} {0:>4}  (no data)")
            continue
        target = {"hcpcs_short": no_short, "pcs_heldout": no_terms}.get(name, db)
        base = {"hcpcs_short": base_noshort, "pcs_heldout": base_noterms}.get(name, base_full)
        rows = [("fts5 bm25 baseline", base)]
        for mode in modes:
            os.environ["MEDCODES_SEMANTIC"] = mode
            rows.append((f"medcodes ({'lexical' if mode == 'off' else 'fused'})", ours(Catalog(target))))
        for label, run in rows:
            s1, s10, mrr = score(run, qs)
            print(f"{name:<12} {len(qs):>4}  {label:<22} {s1:6.3f} {s10:6.3f} {mrr:6.3f}")
    for path in (no_short, no_terms):
        if path != db:
            shutil.rmtree(path.parent, ignore_errors=True)


def _variant(db: Path, short_titles: bool = True, index_terms: bool = True) -> Path:
    """A copy of the index whose search tables leave short descriptors or index terms out."""
    folder = Path(tempfile.mkdtemp(prefix="medcodes-bench-"))
    out = folder / "variant.sqlite"
    shutil.copyfile(db, out)
    conn = sqlite3.connect(out)
    indexer.build_lexical(conn, short_titles=short_titles, index_terms=index_terms)
    conn.commit()
    conn.close()
    return out


if __name__ == "__main__":
    main()
