"""Typo tolerance and "did you mean": the index's own vocabulary, searched by edit distance.

A word of 5-8 letters may be one edit away from what the user meant, a word of 9 or more two
edits (the issue's rule); shorter words are never corrected, since "arm" and "ear" are one
edit from too many real words. An edit is a letter added, dropped or changed, or two neighbouring
letters swapped ("fractuer", "myositsi": the commonest slip of typing, which plain Levenshtein
distance counts as two). Candidates are ranked by distance, then by how many codes use the word,
so "diabetis" becomes "diabetes" rather than a rare neighbour.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import json
import os
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from importlib import resources

import numpy as np
from rapidfuzz.distance import OSA
from rapidfuzz.process import extract

MIN_LENGTH = 5
# A word used at least this often in a word-frequency list of English is what its writer meant
# ("worse", "turned", "shave"), however near it is to a word of the index ("horse", "burned", "have"):
# only its own forms correct it ("bruised": bruise, "itchy": itch). Rarer words are slips as often
# as not ("carpel", "cesarian").
ENGLISH_FROM = 100


SOUND_LENGTH = 6  # words this long or longer that no edit rule corrects are matched by sound
SOUND_EDITS = 3


def skeleton(word: str) -> str:
    """The consonants of a word as they sound, first letter kept: "ph" is "f", a soft "c" is "s",
    vowels, "h", "w" and "y" after the first letter go, and doubled letters count once
    ("hemorrhoids" and "hemmroids": hmrds; "pneumonia" and "numonia": nmn)."""
    w = word.lower()
    w = re.sub(r"^(?:p(?=[nst])|[kg](?=n)|w(?=r))", "", w)  # silent first letters: "pneumonia", "knee"
    w = w.replace("ph", "f").replace("ck", "k").replace("qu", "kw").replace("x", "ks")
    w = re.sub(r"c(?=[eiy])", "s", w).replace("c", "k").replace("z", "s")
    rest = re.sub(r"[aeiouyhw]", "", w[1:])
    out = w[:1] + rest
    return re.sub(r"(.)\1+", r"\1", out)


@functools.cache
def english_words() -> frozenset[str]:
    """The words of pyspellchecker's English frequency list (MIT) used at least ENGLISH_FROM times;
    none without the package, and then every unknown word is corrected as before."""
    try:
        data = (resources.files("spellchecker") / "resources" / "en.json.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        return frozenset()
    counts: dict[str, int] = json.loads(gzip.decompress(data))
    return frozenset(w for w, n in counts.items() if n >= ENGLISH_FROM)


def same_word(a: str, b: str) -> bool:
    """Forms of one word ("crusty", "crust"; "chiropractor", "chiropractic"), not neighbours by a
    letter ("worse", "horse"; "shave", "have")."""
    shorter = min(len(a), len(b))
    common = len(os.path.commonprefix([a, b]))
    return common >= 4 and common >= shorter - (2 if shorter >= 8 else 1)


def max_edits(word: str) -> int:
    if len(word) >= 9:
        return 2
    return 1 if len(word) >= MIN_LENGTH else 0


class Vocabulary:
    """Every word of the search index with the number of codes that use it."""

    def __init__(self, conn: sqlite3.Connection, names: Iterable[str] = ()) -> None:
        """`names`: words no code uses that a query may misspell all the same (a brand the lexicon
        knows: "lovanox" is Lovenox); known, and a correction after any word a code uses."""
        self.count: dict[str, int] = dict(conn.execute("SELECT word, n FROM search_vocab"))
        for name in names:
            self.count.setdefault(name, 0)
        by_length: dict[int, list[str]] = defaultdict(list)
        for word in self.count:
            if word.isalpha():
                by_length[len(word)].append(word)
        self._by_length = dict(by_length)
        self._sorted = sorted(self.count)
        # made with the engine (50 ms of its 0.9 s): made on the first misspelt word, it held up that
        # search, or (in a thread of its own) the searches beside it
        self._grams = _Bigrams([w for n in sorted(by_length) for w in by_length[n]])
        self._skeletons: dict[str, list[str]] | None = None  # made on first use (_sounds_like)
        english_words()  # read once per process with the engine (0.1 s), not by the first misspelt query

    def __contains__(self, word: str) -> bool:
        return word in self.count

    def known(self, word: str) -> bool:
        """In the vocabulary, or an inflection of a word that is ("fractures", "injected")."""
        if word in self.count or not word.isalpha():
            return True
        for suffix in ("s", "es", "ed", "ing", "ly"):
            if word.endswith(suffix) and word[: -len(suffix)] in self.count:
                return True
        return False

    def unfinished(self, word: str) -> bool:
        """Whether a last word typed without a space after it is still being typed: not a word of
        the index, or one used by far fewer codes than a word it starts. "diab" is a word of
        ICD-9 short titles, yet someone typing it is on the way to "diabetes"; "eye" stays "eye"."""
        if not self.known(word):
            return True
        found = self.complete(word, limit=1)
        return bool(found) and self.count[found[0]] >= 2 * max(self.count.get(word, 0), 1)

    def has_prefix(self, prefix: str) -> bool:
        i = bisect.bisect_left(self._sorted, prefix)
        return i < len(self._sorted) and self._sorted[i].startswith(prefix)

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        """The most used words that start with `prefix`, at most 8 whatever `limit` (for as-you-type
        matching: the index stems words, and a stem such as "conjunct" is not found by the prefix
        "conjunctiv")."""
        return self._completions(prefix)[:limit]

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one Vocabulary per index and process)
    def _completions(self, prefix: str) -> list[str]:
        if len(prefix) < 3:
            return []
        i = bisect.bisect_left(self._sorted, prefix)
        found: list[str] = []
        while i < len(self._sorted) and self._sorted[i].startswith(prefix) and len(found) < 2000:
            found.append(self._sorted[i])
            i += 1
        found.sort(key=lambda w: -self.count[w])
        return [w for w in found[:8] if w != prefix]

    @functools.lru_cache(maxsize=64)  # noqa: B019 (one Vocabulary per index and process)
    def _pool(self, length: int, k: int) -> list[str]:
        """The words within k letters of `length` long: the only ones k edits can reach."""
        return [w for n in range(length - k, length + k + 1) for w in self._by_length.get(n, ())]

    def corrections(self, word: str, edits: int | None = None, limit: int = 3, slip: bool = False) -> list[str]:
        """Known words within the allowed number of edits, best first; for a long word none is near
        by letters, the words that sound alike (`_sounds_like`). An English word only by its own
        forms, unless `slip` (the caller knows the correction fits: "whopping cough")."""
        k = max_edits(word) if edits is None else edits
        if k == 0 or not word.isalpha():
            return []
        found = self._corrections(word, k)
        if not found and edits is None and len(word) >= SOUND_LENGTH:
            found = self._sounds_like(word)
        if not slip and word in english_words():
            found = tuple(w for w in found if same_word(word, w))
        return list(found[:limit])

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one Vocabulary per index and process)
    def _sounds_like(self, word: str) -> tuple[str, ...]:
        """Words with the same consonant skeleton (`skeleton`) within SOUND_EDITS edits, nearest and
        most used first: "hemmroids" is three edits from "hemorrhoids", too many for the edit rule
        (which would then find anything), but both are h-m-r-d-s."""
        key = skeleton(word)
        if len(key) < 3:
            return ()
        if self._skeletons is None:
            by_key: dict[str, list[str]] = defaultdict(list)
            for w in self.count:
                if w.isalpha() and len(w) >= SOUND_LENGTH - 1:
                    by_key[skeleton(w)].append(w)
            self._skeletons = dict(by_key)
        # a misspelling drops letters more often than it adds them: a word may be up to SOUND_EDITS
        # letters longer, one shorter ("ammonia" is not "amnio")
        near = [(OSA.distance(word, w), -self.count[w], w) for w in self._skeletons.get(key, ())
                if len(word) - 1 <= len(w) <= len(word) + SOUND_EDITS]
        return tuple(w for d, _n, w in sorted(near) if d <= SOUND_EDITS and w != word)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one Vocabulary per index and process)
    def _corrections(self, word: str, k: int) -> tuple[str, ...]:
        pool = self._grams.within(word, k)
        if pool is None:
            pool = self._pool(len(word), k)
        found = extract(word, pool, scorer=OSA.distance, score_cutoff=k, limit=50)
        found.sort(key=lambda m: (m[1], -self.count[m[0]], m[0]))
        return tuple(w for w, _dist, _i in found if w != word)

    def _bigrams(self) -> _Bigrams:
        return self._grams


class _Bigrams:
    """Which words share letter pairs with a word: a word k edits from another keeps all but 3k of
    its distinct letter pairs (a letter added, dropped or changed breaks at most two pairs, two
    letters swapped three), so only the words that hold that
    many are compared by edit distance, not every word of a like length (a few hundred of 10-13k:
    the comparison took 1.5-2 ms a misspelt word). Made with numpy with the vocabulary (30k
    words in 50 ms): a letter pair is a number, two code points side by side."""

    def __init__(self, words: list[str]) -> None:
        self.words = words  # by length, then as Vocabulary._pool lists them: its order, restricted
        self.lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        owner = np.repeat(np.arange(len(words), dtype=np.int64), self.lengths)
        pairs = _pairs("".join(words))
        inside = owner[:-1] == owner[1:]  # not the last letter of one word and the first of the next
        per_word = np.sort((owner[:-1][inside] << 42) | pairs[inside])
        per_word = per_word[np.append(True, per_word[1:] != per_word[:-1])]  # each pair once per word
        grams, holders = per_word & ((1 << 42) - 1), per_word >> 42
        order = np.argsort(grams, kind="stable")  # by pair, each pair's words in word order
        by_gram = grams[order]
        self.starts = np.flatnonzero(np.append(True, by_gram[1:] != by_gram[:-1]))
        self.grams = by_gram[self.starts]
        self.holders = holders[order]
        self.ends = np.append(self.starts[1:], len(order))

    def within(self, word: str, k: int) -> list[str] | None:
        """The words that may be `k` edits or fewer from `word`, in the pool's order; None when letter
        pairs cannot narrow them (a word too short for its pairs to survive k edits)."""
        grams = np.array(sorted(set(_pairs(word).tolist())), dtype=np.int64)
        need = len(grams) - 3 * k  # a swap of two letters ("fractuer") breaks three pairs
        if need < 1:
            return None
        at = np.searchsorted(self.grams, grams)
        found = (at < len(self.grams)) & (self.grams[np.minimum(at, len(self.grams) - 1)] == grams)
        held = [self.holders[self.starts[i]:self.ends[i]] for i in at[found].tolist()]
        if not held:
            return []
        hits = np.bincount(np.concatenate(held), minlength=len(self.words))
        near = np.flatnonzero((hits >= need) & (np.abs(self.lengths - len(word)) <= k))
        return [self.words[i] for i in near.tolist()]


def _pairs(text: str) -> np.ndarray:
    """Each pair of neighbouring characters of `text` as one number (21 bits a code point)."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return (points[:-1] << 21) | points[1:]
