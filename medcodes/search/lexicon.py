"""The curated dictionary of abbreviations, synonyms and lay terms (lexicon.tsv).

An entry maps a phrase as users type it ("heart attack", "chf", "broken") to the words the
code sets use ("myocardial infarction", "congestive heart failure", "fracture"). Query words
are rewritten span by span, longest phrase first, and the user's own words always stay one
of the alternatives, so an entry can add recall but never hide a literal match.

The first code an entry expects is what the term means when nothing more is said, as the
ICD-10-CM Alphabetic Index gives a default code for a main term ("Diabetes ... E11.9"): the
ranking puts that family first (rank.rescore). A "term" entry is a code-set word that needs
nothing but that default ("hypertension": I10, not "Other hypertension").
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from .query import words

MAX_PHRASE = 5  # words in the longest entry worth looking for
JOINED_LETTERS = 6  # letters of the shortest term written as one word that is still read as the term
KINDS = ("abbr", "lay", "term", "word")


@dataclass(frozen=True, slots=True)
class Entry:
    term: tuple[str, ...]  # folded words
    means: tuple[tuple[str, ...], ...]  # alternatives, each a tuple of folded words
    kind: str  # abbr, lay, term (a code-set word and its default code), word
    expect: tuple[tuple[str, str], ...]  # (system, code or code prefix) a good answer starts with
    line: int
    prefer: tuple[str, ...] = ()  # systems whose codes this term usually means (a procedure: icd10pcs)
    origin: str = "lexicon.tsv"  # the file and, for a drug brand, where the pair comes from


@dataclass(frozen=True, slots=True)
class Group:
    """One required part of a query: any one of `alternatives` (tuples of words) must match."""

    alternatives: tuple[tuple[str, ...], ...]
    words: tuple[str, ...]  # the user's words this group stands for
    entry: Entry | None = None  # the lexicon entry that added alternatives, if any

    @property
    def finished(self) -> bool:
        """The user's words are exactly a lexicon term ("tha"), so they are not a prefix to complete."""
        return self.entry is not None and key(self.words) == key(self.entry.term)


def parse_line(line: str, number: int) -> Entry | None:
    text = line.rstrip("\n")
    if not text.strip() or text.lstrip().startswith("#"):
        return None
    cols = text.split("\t")
    if len(cols) < 3:
        raise ValueError(f"lexicon.tsv:{number}: want term, means, kind[, expect]; got {text!r}")
    term = tuple(words(cols[0]))
    means = tuple(tuple(words(alt)) for alt in cols[1].split("|") if words(alt))
    kind = cols[2].strip()
    expect = tuple(_expect(e, number) for e in cols[3].split("|") if e.strip()) if len(cols) > 3 else ()
    prefer = tuple(p.strip() for p in cols[4].split(",") if p.strip()) if len(cols) > 4 else ()
    if not term or not means or kind not in KINDS:
        raise ValueError(f"lexicon.tsv:{number}: bad entry {text!r}")
    return Entry(term, means, kind, expect, number, prefer)


def _expect(text: str, number: int) -> tuple[str, str]:
    system, sep, code = text.strip().partition(":")
    if not sep or not code:
        raise ValueError(f"lexicon.tsv:{number}: expectation {text!r} is not system:code")
    return system, code


@functools.cache
def entries() -> tuple[Entry, ...]:
    text = resources.files(__package__).joinpath("lexicon.tsv").read_text(encoding="utf-8")
    out = [e for n, line in enumerate(text.splitlines(), 1) if (e := parse_line(line, n))]
    return tuple(out) + drug_entries()


@functools.cache
def drug_entries() -> tuple[Entry, ...]:
    """drugs.tsv: a brand name means the generic name HCPCS descriptors use ("keytruda" -> pembrolizumab)."""
    text = resources.files(__package__).joinpath("drugs.tsv").read_text(encoding="utf-8")
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 4 or not words(cols[0]) or not words(cols[1]) or not cols[3].strip():
            raise ValueError(f"drugs.tsv:{n}: want brand, generic, hcpcs codes, source; got {line!r}")
        brand = tuple(words(cols[0]))
        expect = tuple(("hcpcs", c.strip()) for c in cols[2].split("|") if c.strip())
        out.append(Entry(brand, (tuple(words(cols[1])), brand), "lay", expect, n, ("hcpcs",),
                         f"drugs.tsv ({cols[3].strip()})"))
    return tuple(out)


# "get", "got": "getting my tubes tied", "getting metal out of my eye" say nothing a title says; nor do
# the words people stress a complaint with ("really dry skin", "passing a lot of gas", "feels like")
STOPWORDS = frozenset("a an the of on in at to for with and or by from my is are i me as its into"
                      " get gets getting got gotten"
                      " really alot much kinda super always constantly keep keeps kept feel feels am like"
                      .split())
# whose it is, inside a phrase ("fluid in her lungs" is "fluid in lungs"); words of some titles, so only here
PRONOUNS = frozenset("his her their your our".split())
# and the past of "is" ("hit my head and was knocked out" is "hit head knocked out")
AUXILIARIES = frozenset("was were been".split())
# "a lot" in a phrase whose other words are a term ("passing a lot of gas": passing gas), but a term of
# its own with one word ("pee a lot"); "too", "suddenly" and "just" likewise ("potassium too low": low
# potassium; "scope of colon just to look": scope of colon to look; "epidural while in labor": epidural in labor)
FILLERS = frozenset({"lot", "lots", "too", "suddenly", "just", "while"})


SIDES = frozenset({"left", "right", "bilateral"})  # as the titles say a side
SIDE_WORDS = SIDES | {"l", "r", "lt", "rt", "both"}  # and as notes and people write it

# Words a phrase may say either way: "hernia operation" is the entry "hernia surgery".
SAME = {"operation": "surgery", "operations": "surgery", "surgeries": "surgery",
        # a clinician's abbreviation of a word entries spell out ("hip fx" is the entry "hip fracture")
        "fx": "fracture", "fxs": "fracture", "ca": "cancer", "bx": "biopsy", "dz": "disease",
        # and a plain verb of the one people write ("umbilical hernia fix" is the entry "... repair")
        "fix": "repair", "fixing": "repair",
        # and when it began ("headache since hitting my head" is the entry "headache after hitting head")
        "since": "after", "following": "after",
        # a "not" typed as a contraction ("my thyroid isnt making enough" is "thyroid not making enough")
        "isnt": "not", "arent": "not", "wasnt": "not", "doesnt": "not", "dont": "not", "didnt": "not"}


SAME_PHRASES = ((("dilation", "curettage"), ("d", "c")), (("dilation", "evacuation"), ("d", "e")))


# Words a letter names the kind of ("influenza a", "hep a", "type a dissection"): there "a" is no article
LETTERED = frozenset("influenza flu hepatitis hep vitamin vit strep group type".split())


def lettered(ws: Sequence[str], i: int) -> bool:
    """Whether word i is a letter naming a kind ("flu a"), not the article."""
    return ws[i] == "a" and i > 0 and ws[i - 1] in LETTERED


def key(ws: tuple[str, ...]) -> tuple[str, ...]:
    """How a phrase is looked up: stop words dropped, plural s dropped ("ringing in my ears"
    finds "ringing in the ear"), a word said either way said one way ("operation": surgery)."""
    kept = tuple(w for i, w in enumerate(ws) if w not in STOPWORDS and w not in PRONOUNS and w not in AUXILIARIES
                 or lettered(ws, i)) or ws
    if len([w for w in kept if w not in FILLERS]) > 1:
        kept = tuple(w for w in kept if w not in FILLERS)
    if len(kept) > 1:  # in a phrase only: "fx" alone is its own entry, and "fracture" alone no entry's
        kept = tuple(SAME.get(w, w) for w in kept)
        for long, short in SAME_PHRASES:  # "D&C" is read as "dilation and curettage" before the lexicon
            for i in range(len(kept) - len(long) + 1):
                if kept[i:i + len(long)] == long:
                    kept = (*kept[:i], *short, *kept[i + len(long):])
                    break
    return tuple(_singular(w) for w in kept)


# Words ending in s that are no plural: "he does dialysis" is no DOE (dyspnea on exertion)
NOT_PLURAL = frozenset("does goes this thus hers ours yours theirs always perhaps sometimes various previous"
                       " serious nervous famous obvious anxious jealous anus virus bonus".split())


def _singular(word: str) -> str:
    """ "biopsies": biopsy, "tubes": tube; "abscess" and "does" stay."""
    if len(word) > 5 and word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") \
        and word not in NOT_PLURAL else word


@functools.cache
def _by_term() -> dict[tuple[str, ...], Entry]:
    return {key(e.term): e for e in entries()}


def _stem(word: str) -> str:
    """A word without its -ing, -ed or -s ending: "coughing", "coughed" and "coughs" are "cough"."""
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[:-len(ending)]
    return word


@functools.cache
def _by_stems() -> dict[tuple[str, ...], Entry]:
    """Entries by the stems of their terms' words, where no two entries share them: a phrase typed
    with another ending ("leaking urine when I cough") finds the entry ("... when coughing") when
    its own words are no term."""
    out: dict[tuple[str, ...], Entry | None] = {}
    for k, e in _by_term().items():
        stems = tuple(_stem(w) for w in k)
        out[stems] = None if stems in out and out[stems] is not e else e
    return {k: e for k, e in out.items() if e is not None}


@functools.cache
def _by_bag() -> dict[frozenset[str], Entry]:
    """Entries of two or three words by the set of their words' stems, where no two entries share
    it: a phrase said in another order ("ablation for afib" is "afib ablation", "removal of the
    gallbladder" is "gallbladder removal")."""
    out: dict[frozenset[str], Entry | None] = {}
    for k, e in _by_term().items():
        if 2 <= len(k) <= 3 and len(set(k)) == len(k):
            bag = frozenset(_stem(w) for w in k)
            if bag not in out:
                out[bag] = e
            elif (before := out[bag]) is not None and before is not e and before.expect != e.expect:
                out[bag] = None  # two entries that mean different codes ("frozen shoulder", "shoulder frozen": one)
    return {k: e for k, e in out.items() if e is not None}


@functools.cache
def _paired() -> frozenset[str]:
    """The stems of the words of two-word entries (_apart looks for no other)."""
    return frozenset(w for bag in _by_bag() if len(bag) == 2 for w in bag)


@functools.cache
def _by_joined() -> dict[str, Entry]:
    """Entries of two words by the words written as one, where that is no term and no two entries
    share it: "solumedrol" is "Solu-Medrol", "lapchole" is "lap chole"."""
    table = _by_term()
    out: dict[str, Entry | None] = {}
    for k, e in table.items():
        joined = "".join(k)
        if len(k) == 2 and len(joined) >= JOINED_LETTERS and joined.isalpha() and (joined,) not in table:
            out[joined] = None if joined in out and out[joined] is not e else e
    return {k: e for k, e in out.items() if e is not None}


def joined(word: str) -> Entry | None:
    """The entry whose term is this one word written apart ("depoprovera": depo provera)."""
    return _by_joined().get(word)


@functools.cache
def names() -> frozenset[str]:
    """The one-word terms of five letters or more that are names of their own, not rewrites ("lovenox",
    "keytruda", "nstemi"): words a query may misspell where no code says them."""
    return frozenset(e.term[0] for e in entries()
                     if len(e.term) == 1 and len(e.term[0]) >= 5 and e.term[0].isalpha() and e.kind != "word")


@functools.cache
def term_words() -> frozenset[str]:
    """Every word of a lexicon term, as written and as looked up."""
    return frozenset(w for e in entries() for w in (*e.term, *key(e.term)))


@functools.cache
def _terms_sorted() -> tuple[tuple[str, ...], ...]:
    return tuple(sorted(_by_term()))


def completions(query_words: tuple[str, ...], limit: int = 3) -> list[Entry]:
    """Entries whose term the unfinished end of the query starts ("heart att" -> "heart attack")."""
    out: list[Entry] = []
    if not query_words or len(query_words[-1]) < 3:
        return out
    terms = _terms_sorted()
    for n in range(min(MAX_PHRASE, len(query_words)), 0, -1):
        head, last = key(query_words[-n:-1]) if n > 1 else (), query_words[-1]
        # terms sort as tuples: those that start with head + last are one run from (*head, last)
        i = bisect.bisect_left(terms, (*head, last))
        while i < len(terms) and terms[i][:len(head)] == head and len(terms[i]) > len(head) \
                and terms[i][len(head)].startswith(last):
            term = terms[i]
            if len(term) == len(head) + 1 and term[-1] != last:
                out.append(_by_term()[term])
            i += 1
        if out:
            break
    # a term with a code of its own before a word rewrite ("trach": tracheostomy, then trachea)
    out.sort(key=lambda e: e.kind == "word")
    return out[:limit]


def groups(query_words: tuple[str, ...], partial: bool = False,
           more: Mapping[tuple[str, ...], Entry] | None = None, termed: frozenset[str] = frozenset()) -> list[Group]:
    """Split the query into groups, rewriting the longest lexicon phrase at each position.

    With `partial`, the query's unfinished end may also be the start of an entry's term. `more`:
    entries by key beside the lexicon's own (the Alphabetic Index's main terms: index_terms.py),
    read where the lexicon has none of the same length; `termed`: the words of both's terms.
    """
    out = _apart(_greedy(query_words, more or {}, termed))
    if partial and out and out[-1].entry is None and query_words[-1].isalpha():
        tail = completions(query_words)
        if tail:
            n = len(tail[0].term)
            head = _greedy(query_words[:-n], more or {}, termed) if n < len(query_words) else []
            span = query_words[-n:]
            # the first completion's meaning only: a longer meaning of another ("hypert": hyperthyroid's
            # "thyrotoxicosis unspecified ...") would outrank what most people typing it mean
            alts = (span, *(t.term for t in tail), *tail[0].means)
            return [*head, Group(tuple(dict.fromkeys(alts)), span, tail[0])]
    return out


def _greedy(query_words: tuple[str, ...], more: Mapping[tuple[str, ...], Entry],
            termed: frozenset[str] = frozenset()) -> list[Group]:
    """`termed`: the words of the lexicon's terms and of `more`'s, which stay in their terms (the
    lexicon's own when not given)."""
    table = _by_term()
    termed = termed or term_words()
    out: list[Group] = []
    i = 0
    while i < len(query_words):
        for n in range(min(MAX_PHRASE + 2, len(query_words) - i), 0, -1):
            span = query_words[i:i + n]
            if span[0] in STOPWORDS or span[-1] in STOPWORDS and not lettered(span, n - 1):
                continue
            entry = table.get(key(span)) or more.get(key(span))
            if entry is None and n > 1:  # a word said as a word entry rewrites it ("can't hold my pee": urine),
                # in the query and in the term ("broke her collarbone" is "broken collarbone": fracture)
                reworded = key(_reworded(span))
                entry = table.get(reworded) or _by_reworded().get(reworded)
            if entry is None and n > 1:  # one word's ending is left to the spelling ("coughs": cough)
                entry = _by_stems().get(tuple(_stem(w) for w in key(span)))
            if entry is None and n > 1 and all(w in STOPWORDS for w in query_words[i + n:i + n + 1]) \
                    and not _joins_two(span, table):
                # in another order, where no word after it may name what its last word is of ("stent
                # in the kidney artery" is no kidney stent), nor two things said one after the other
                # ("pregnant and can't keep anything down" is no "can't get pregnant")
                entry = _by_bag().get(frozenset(_stem(w) for w in key(span))) \
                    or _by_bag().get(frozenset(_stem(w) for w in key(_reworded(span))))
            sides: tuple[str, ...] = ()
            if entry is None and n > 2 and any(w in SIDE_WORDS for w in span[1:-1]):
                # a side inside a term ("ORIF L elbow" is "ORIF elbow", left): the term, then the side
                sides = tuple(w for w in span[1:-1] if w in SIDE_WORDS)
                span = tuple(w for w in span if w not in sides)
                entry = (table.get(key(span)) or _by_reworded().get(key(_reworded(span)))
                         or _by_bag().get(frozenset(_stem(w) for w in key(span)))) \
                    if len(span) > 1 else None  # "fx L hip" is "hip fx", left
            if entry is None and n > 2 and not sides:
                # one word inside a term ("perc dilational trach" is "perc trach", dilational): the
                # term, then the word; only a word no term uses ("depo provera shot" is no "depo shot")
                for k in range(1, n - 1):
                    inner = span[k]
                    if inner in STOPWORDS or inner in termed:
                        continue
                    rest = span[:k] + span[k + 1:]
                    entry = table.get(key(rest))
                    if entry is not None and len(entry.term) > 1:
                        sides, span = (inner,), rest
                        break
                    entry = None
            if entry is not None:
                alts = (span, *(m for m in entry.means if m != span))
                out.append(Group(alts, span, entry))
                out += [_word_group(w, table) for w in sides]
                i += n
                break
        else:
            out.append(Group(((query_words[i],),), (query_words[i],)))
            i += 1
    return out


@functools.cache
def _rewrites() -> dict[str, str]:
    """Words that a word entry rewrites as one other word ("pee": urine or urinary, "broke": fracture); not
    where it means two things ("sx": surgery or symptoms; "implant": insertion or implantation)."""
    out = {}
    for e in entries():
        others = [m for m in e.means if m != e.term]
        if e.kind == "word" and len(e.term) == 1 and others and \
                all(len(m) == 1 and m[0][:4] == others[0][0][:4] for m in others):
            out[e.term[0]] = others[0][0]
    return out


@functools.cache
def _by_reworded() -> dict[tuple[str, ...], Entry]:
    """Entries by their terms as word entries rewrite them ("broken collarbone": fracture clavicle),
    where no two entries share them and the term has a word rewritten."""
    out: dict[tuple[str, ...], Entry | None] = {}
    for k, e in _by_term().items():
        if len(k) > 1 and (reworded := key(_reworded(k))) != k:
            out[reworded] = None if reworded in out and out[reworded] is not e else e
    return {k: e for k, e in out.items() if e is not None}


def _reworded(span: tuple[str, ...]) -> tuple[str, ...]:
    table = _rewrites()
    return tuple(table.get(w, w) for w in span)


CONJUNCTIONS = frozenset({"and", "or", "but"})


def _joins_two(span: tuple[str, ...], table: Mapping[tuple[str, ...], Entry]) -> bool:
    """Whether a conjunction in the span joins two things said one after the other, not the words of a
    term ("incision and drainage")."""
    return any(w in CONJUNCTIONS and not (0 < k < len(span) - 1 and key(span[k - 1:k + 2]) in table)
               for k, w in enumerate(span))


APART = 2  # groups other than stop words that may stand between the two words of a term said apart (_apart)
OF_A_PART = frozenset("artery arteries vein veins vessel vessels nerve nerves duct ducts valve valves".split())


def _apart(groups: list[Group]) -> list[Group]:
    """A two-word term whose words are said apart, either way round, with at most APART groups
    between ("shoulder stiff and frozen": frozen shoulder): one group, the term's, in place of the
    first word; what stands between stays as said. Only words read alone (their own entry at most)."""
    def alone(g: Group) -> bool:
        word = g.words[0]
        return len(g.words) == 1 and word not in STOPWORDS and word.isalpha() \
            and (g.entry is None or len(g.entry.term) == 1) and _stem(_singular(SAME.get(word, word))) in paired
    bags, paired = _by_bag(), _paired()

    def pair(a: str, b: str) -> Entry | None:
        entry = bags.get(frozenset(_stem(w) for w in key((a, b))))
        return entry if entry is not None and len(key(entry.term)) == 2 else None  # "sunburn with blisters"
    out = list(groups)
    i = 0
    while i < len(out):
        if alone(out[i]):
            for j in range(i + 2, len(out)):
                if sum(1 for g in out[i + 1:j] if not set(g.words) <= STOPWORDS) > APART:
                    break  # stop words between do not count ("ultrasound to check on the baby")
                if not alone(out[j]):
                    continue
                if any(w in ("no", "not", "without") for g in out[i + 1:j] for w in g.words):
                    break  # "PTCA RCA, no stent" is no stent's
                if j + 1 < len(out) and set(out[j + 1].words) & OF_A_PART:
                    continue  # the word is what a vessel or duct is of ("stent in the kidney artery")
                between = [g.words[0] for g in out[i + 1:j] if alone(g)]
                if any(pair(w, out[j].words[0]) or pair(out[i].words[0], w) for w in between):
                    continue  # a word between makes a term with one of them ("ovary cyst removed": the cyst's)
                entry = pair(out[i].words[0], out[j].words[0])
                if entry is not None:
                    span = (out[i].words[0], out[j].words[0])
                    out[i] = Group((span, *(m for m in entry.means if m != span)), span, entry)
                    del out[j]
                    break
        i += 1
    return out


def _word_group(word: str, table: Mapping[tuple[str, ...], Entry]) -> Group:
    """One word read on its own, with what the lexicon says it means ("both": bilateral)."""
    entry = table.get(key((word,)))
    if entry is None:
        return Group(((word,),), (word,))
    return Group(((word,), *(m for m in entry.means if m != (word,))), (word,), entry)


def word_groups(ws: tuple[str, ...]) -> list[Group]:
    """The words of a term read one by one, each with what the lexicon says it means on its own."""
    table = _by_term()
    return [_word_group(w, table) for w in ws]


def within(ws: tuple[str, ...], keep: Callable[[Entry], bool]) -> list[Group]:
    """The words of a term read without it: the longest shorter terms inside it that `keep` accepts,
    the other words one by one ("blocked heart arteries", a diagnosis, in a procedure query: blocked,
    and the heart artery a stent is put in)."""
    table = _by_term()
    out: list[Group] = []
    i = 0
    while i < len(ws):
        for n in range(min(len(ws) - i, len(ws) - 1, MAX_PHRASE), 1, -1):
            span = ws[i:i + n]
            entry = table.get(key(span))
            if entry is not None and keep(entry):
                out.append(Group((span, *(m for m in entry.means if m != span)), span, entry))
                i += n
                break
        else:
            out.append(_word_group(ws[i], table))
            i += 1
    return out


def corrected(typed: tuple[str, ...], fixes: list[str]) -> Group:
    """The group for a misspelt word: what was typed, its corrections, and when the best correction
    is a lexicon term, that term's meaning ("diabetis" -> diabetes and what diabetes means)."""
    entry = _by_term().get(key((fixes[0],)))
    alts = (typed, *((f,) for f in fixes), *(entry.means if entry is not None else ()))
    return Group(tuple(dict.fromkeys(alts)), typed, entry)


def entry_for(ws: tuple[str, ...]) -> Entry | None:
    """The entry whose term these words are, if any."""
    return _by_term().get(key(ws))


def known_terms() -> frozenset[tuple[str, ...]]:
    return frozenset(_by_term())
