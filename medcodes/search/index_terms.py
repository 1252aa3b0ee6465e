"""The ICD-10-CM Alphabetic Index's main terms as vocabulary inside longer queries.

A main term is the name a coder looks a condition up by, and many are the words people use:
"Cradle cap" (L21.0, "Seborrhea capitis"), "Dandruff", "Sty, stye — see Hordeolum". The index
paths (paths.py) answer a query that is only such a name; in a longer one ("sty on upper eyelid",
"dandruff behind the ears") no path says every word, so the name is read here as the lexicon reads
its own terms (lexicon.groups): its words, or the words of the code it leads to, and that code as
what it means when nothing more is said. The curated lexicon comes first; these fill what it lacks.

Read from the `terms` and `term_refs` tables when the engine is made (a few thousand rows).
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping

from .lexicon import MAX_PHRASE, STOPWORDS, Entry, key
from .paths import entry_key
from .query import words

ORIGIN = "ICD-10-CM Alphabetic Index: "  # an entry's origin: this, then the index entry it was read from
# a name its code's descriptor says is the answer only where few codes say it ("croup": 7 codes)
RARE = 20
REFERENCE_CODES = 3  # codes a "see" reference may mean: the target entry's own
# words a descriptor qualifies a meaning with: a name means its code's other words
QUALIFIERS = frozenset("unspecified other specified not elsewhere classified nos nec".split())
# targets that send the coder elsewhere rather than to a code ("Bladder — see condition")
NOWHERE = re.compile(r"\bcondition\b|\btable\b|\bby site\b|\bneoplasm\b", re.IGNORECASE)
_MODIFIERS = re.compile(r"\([^)]*\)")
_FIRST = re.compile(r"[A-Za-z0-9]+")
_WORD = re.compile(r"[^\W_]+")  # as query.words reads words, less its folding of accents (rare in titles)
ABBREVIATION = re.compile(r"[A-Z0-9-]{2,}")


def vocabulary(conn: sqlite3.Connection) -> dict[tuple[str, ...], Entry]:
    """Main terms (and their spelling variants) of the ICD-10-CM Alphabetic Index, by lexicon key."""
    try:
        rows = conn.execute("SELECT t.code, t.term, t.path, c.title FROM terms t JOIN codes c"
                            " ON c.system = t.system AND c.code = t.code"
                            " WHERE t.system = 'icd10cm' AND t.source = 'index' ORDER BY t.rowid").fetchall()
        refs = conn.execute("SELECT term, target, kind FROM term_refs WHERE system = 'icd10cm' AND source = 'index'"
                            " AND kind IN ('see', 'see_also') AND path NOT LIKE '%\",\"%' ORDER BY rowid").fetchall()
    except sqlite3.OperationalError:  # an index built without the Alphabetic Index
        return {}
    # how many ICD-10-CM descriptors use each word ("nephrolithiasis": none, though ICD-9-CM's do)
    titles = "\n".join(t for (t,) in conn.execute("SELECT title FROM codes WHERE system = 'icd10cm'")).lower()
    count = Counter(_WORD.findall(titles))
    # the entries the references name (and the references' own), each with its codes and their titles;
    # only rows that begin with a word one of them begins with are read closely (a tenth of 62k)
    firsts = {entry_key(target).split(" ")[0] for _, target, _ in refs}
    coded = {entry_key(term) for code, term, path, title in rows if '","' not in path}  # main terms with a code
    own: dict[str, list[tuple[str, str]]] = {}
    for code, term, path, title in rows:
        first = _FIRST.match(term)
        if first is None or first.group(0).lower() not in firsts or path.count('","') > 2:
            continue
        own.setdefault(entry_key(term), []).append((code, title))
        levels = path[2:-2].split('","')  # a JSON list of plain strings, read without a parser (62k rows)
        if "," in levels[0]:  # "Calculus, calculous, calculi ..., kidney" is "Calculus, kidney"
            short = entry_key(", ".join([levels[0].split(",")[0], *levels[1:]]))
            if short != entry_key(term):
                own.setdefault(short, []).append((code, title))
    out: dict[tuple[str, ...], Entry] = {}
    for code, term, path, title in rows:
        if '","' not in path:  # a main term: its own code
            _add(out, term, [(code, title)], count)
    for term, target, kind in refs:
        # "see also" is the answer only of a main term with no code of its own ("Nephrolithiasis — see
        # also Calculus, kidney")
        if not NOWHERE.search(target) and (kind == "see" or entry_key(term) not in coded):
            said = f"{term} — {kind.replace('_', ' ')} {target}"
            _add(out, term, own.get(entry_key(target), [])[:REFERENCE_CODES], count, target, said)
    return out


def _add(out: dict[tuple[str, ...], Entry], term: str, codes: list[tuple[str, str]], count: Mapping[str, int],
         target: str = "", printed: str = "") -> None:
    if not codes:
        return
    code, title = codes[0]
    said = set(words(title))
    means: list[tuple[str, ...]] = []
    named = tuple(w for w in words(_MODIFIERS.sub(" ", target)) if w not in STOPWORDS)
    if named:
        means.append(named)
    if not named or not set(named) <= said:
        means.append(_gist(title))
    expect = tuple(dict.fromkeys(("icd10cm", c.replace(".", "")) for c, _ in codes))
    for name in _names(term):
        k = key(name)
        if not k or len(k) > MAX_PHRASE or k in out:
            continue
        if len(name) == 1 and count.get(name[0], 0) or set(name) <= said:
            # a word the descriptors use already says what they say ("Suicidal" is not only "Suicide
            # attempt", "Chondritis" not only "disorders of cartilage"); only a rare name its
            # own code says ("Croup", J05.0) is worth its code as the default
            if not set(name) <= said or min(count[w] for w in name) > RARE or target:
                continue
            out[k] = Entry(name, (name,), "lay", expect, 0, (), ORIGIN + (printed or term))
        else:  # a name no descriptor says ("Sty", "Cradle cap"): the words of what it leads to
            out[k] = Entry(name, tuple(m for m in dict.fromkeys(means) if m != name) or (name,), "lay", expect, 0,
                           (), ORIGIN + (printed or term))


def _gist(title: str) -> tuple[str, ...]:
    """A descriptor's words less its qualifiers and stop words: what it says the code is."""
    return tuple(w for w in words(title) if w not in STOPWORDS and w not in QUALIFIERS)


def _names(term: str) -> Iterable[tuple[str, ...]]:
    """The names a main term gives: "Sty, stye (external)" is "sty" and "stye"; "Fire, Saint
    Anthony's" is "Saint Anthony's fire" (and as printed)."""
    if ABBREVIATION.fullmatch(term.split(",")[0].strip()):
        return []  # "PIN" (prostatic intraepithelial neoplasia) is also a word: the lexicon says abbreviations
    parts = [p.strip() for p in _MODIFIERS.sub(" ", term).split(",") if p.strip()]
    if not parts:
        return []
    if len(parts) == 1:
        return [tuple(words(parts[0]))]
    first = words(parts[0])
    if all(w[:3] == first[0][:3] for p in parts[1:] for w in words(p)[:1]) and first:
        return [tuple(words(p)) for p in parts]  # spellings of one name
    if len(parts) == 2:
        return [tuple(words(parts[1]) + first), tuple(first + words(parts[1]))]
    return []


def path_of(entry: Entry) -> str | None:
    """The index entry a main-term entry was read from ("Abdominalgia — see Pain, abdominal")."""
    return entry.origin[len(ORIGIN):] if entry.origin.startswith(ORIGIN) else None


DDL = """
DROP TABLE IF EXISTS search_index_terms;
CREATE TABLE search_index_terms (key TEXT PRIMARY KEY, term TEXT NOT NULL, means TEXT NOT NULL,
                                 expect TEXT NOT NULL, origin TEXT NOT NULL) WITHOUT ROWID;
"""


def build(conn: sqlite3.Connection) -> None:
    """`search_index_terms`: the vocabulary, made once at build time (a second of reading the index that
    a search process would otherwise spend when it starts). Words are space separated, alternatives and
    expected codes "|" separated."""
    conn.executescript(DDL)
    conn.executemany("INSERT INTO search_index_terms VALUES (?, ?, ?, ?, ?)", [
        (" ".join(k), " ".join(e.term), "|".join(" ".join(m) for m in e.means),
         "|".join(f"{s}:{c}" for s, c in e.expect), e.origin) for k, e in sorted(vocabulary(conn).items())])


def load(conn: sqlite3.Connection) -> dict[tuple[str, ...], Entry]:
    """The vocabulary the build stored; made here from an index built before it was stored."""
    try:
        rows = conn.execute("SELECT key, term, means, expect, origin FROM search_index_terms").fetchall()
    except sqlite3.OperationalError:
        return vocabulary(conn)
    return {tuple(k.split()): Entry(tuple(t.split()), tuple(tuple(m.split()) for m in means.split("|")), "lay",
                                    tuple(_expected(x) for x in expect.split("|")), 0, (), origin)
            for k, t, means, expect, origin in rows}


def _expected(text: str) -> tuple[str, str]:
    system, _, code = text.partition(":")
    return system, code
