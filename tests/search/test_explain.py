"""What a result says of why it is there, read fast: highlighting, folding, the notes of a page of codes
read together and remembered, a small match counted and listed by one statement; and spelling
corrections compared only with the words that may be near."""

from __future__ import annotations

import json
import random
import sqlite3
import unicodedata
from html import escape

import pytest

from medcodes.index import Catalog
from medcodes.search import engine as engine_mod
from medcodes.search import engine_for, rank, search
from medcodes.search.lexicon import Group
from medcodes.search.query import fold


def _fold_by_character(text: str) -> str:
    """fold as first written: NFKD, then every character that is not a combining mark, lower-cased."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def test_fold_drops_accents_and_keeps_other_characters() -> None:
    assert fold("Ménière — see Vertigo") == "meniere — see vertigo"
    rng = random.Random(19)
    for _ in range(2000):
        text = "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 12)))
        assert fold(text) == _fold_by_character(text)


def test_highlighter_marks_the_query_words_and_escapes_the_rest() -> None:
    marks = rank.Highlighter(["fracture", "meniere"])
    assert marks("Fracture of <femur> & Ménière's") == \
        "<mark>Fracture</mark> of &lt;femur&gt; &amp; <mark>Ménière</mark>&#x27;s"
    assert marks("Tibia & fibula <closed>") == escape("Tibia & fibula <closed>")  # no word of the query
    assert marks("") == ""


def _groups(*words: str) -> list[Group]:
    return [Group(((w,),), (w,)) for w in words]


def test_notes_read_together_say_what_the_text_joined_says() -> None:
    coverage = rank.Coverage(_groups("pressure", "ulcer", "heel"))
    notes = ["Pressure injury", "decubitus ulcer", "bed sore of heel"]
    together = coverage.share(set().union(*(coverage.said(n) for n in notes)))
    assert together == coverage(" ; ".join(notes)) == 1.0
    assert coverage.share(coverage.said(notes[0])) == coverage(notes[0]) == pytest.approx(1 / 3)


def _alone(conn: sqlite3.Connection, cid: int) -> list[tuple[str, str]]:
    """A code's texts read one code at a time, the order the explanation weighs them in."""
    system, code, short, synonyms, notes = conn.execute(
        "SELECT system, code, short_title, synonyms, notes FROM codes WHERE id=?", (cid,)).fetchone()
    out = [("short_title", short)] if short else []
    out += [("synonym", s) for s in json.loads(synonyms)]
    out += [("inclusion", t) for kind, t in json.loads(notes) if kind == "inclusion"]
    out += [("index", t) for (t,) in conn.execute("SELECT term FROM terms WHERE system=? AND code=? ORDER BY rowid",
                                                  (system, code))]
    out += [("note", t) for kind, t in json.loads(notes) if kind in ("includes", "definition")]
    return out


def test_a_page_of_notes_is_read_at_once_as_each_alone(catalog: Catalog) -> None:
    conn = catalog.conn
    ids = [cid for (cid,) in conn.execute(
        "SELECT DISTINCT c.id FROM codes c JOIN terms t ON t.system = c.system AND t.code = c.code"
        " ORDER BY c.id LIMIT 6")]
    ids += [cid for (cid,) in conn.execute("SELECT id FROM codes WHERE notes != '[]' ORDER BY id LIMIT 6")]
    assert len(ids) > 6
    read = engine_mod.note_terms(conn, [*ids, 10**9])  # an id with no code has no texts
    assert read == {cid: _alone(conn, cid) for cid in ids}
    assert any(field == "index" for cid in ids for field, _ in read[cid])


def test_the_notes_of_codes_shown_are_remembered_within_a_bound(catalog: Catalog,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    engine = engine_for(catalog)
    monkeypatch.setattr(engine_mod, "NOTES_KEPT", 2)
    ids = [cid for (cid,) in catalog.conn.execute("SELECT id FROM codes ORDER BY id LIMIT 3")]
    read = engine_mod.note_terms(catalog.conn, ids)
    assert engine.notes(catalog.conn, ids) == {i: tuple(read.get(i, ())) for i in ids}
    assert list(engine._notes) == ids[1:]  # the oldest went
    assert engine.notes(catalog.conn, ids[:1]) == {ids[0]: tuple(_alone(catalog.conn, ids[0]))}


def test_a_small_match_is_counted_and_listed_by_one_statement(catalog: Catalog) -> None:
    engine = engine_for(catalog)
    engine._cache.clear()
    statements: list[str] = []
    catalog.conn.set_trace_callback(statements.append)
    try:
        found = search(catalog, "diabetes")
    finally:
        catalog.conn.set_trace_callback(None)
    assert found["results"]
    fts = [s for s in statements if "search_fts MATCH" in s]
    assert fts and not any("count(*)" in s for s in fts)  # no second pass over the same words to count them


def test_spelling_is_corrected_from_the_words_that_share_letter_pairs(catalog: Catalog) -> None:
    """The letter-pair filter only narrows what the edit distance compares: every word within the
    allowed edits is still found, in the same order, as when every word of a like length is compared."""
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import extract

    vocab = engine_for(catalog).vocab
    narrowed = vocab._bigrams().within("diabetis", 1)
    assert narrowed is not None and "diabetes" in narrowed and len(narrowed) < len(vocab._pool(8, 1))

    def compared_with_all(word: str, k: int) -> tuple[str, ...]:
        found = extract(word, vocab._pool(len(word), k), scorer=OSA.distance, score_cutoff=k, limit=50)
        found.sort(key=lambda m: (m[1], -vocab.count[m[0]], m[0]))
        return tuple(w for w, _, _ in found if w != word)

    rng = random.Random(7)
    words = [w for w in vocab.count if w.isalpha() and len(w) >= 5]
    tried = 0
    for word in rng.sample(words, min(200, len(words))):
        typo = list(word)
        at = rng.randrange(len(typo) - 1)
        typo[at:at + 2] = rng.choice([[typo[at + 1]], ["x", typo[at + 1]], ["e", typo[at], typo[at + 1]],
                                      [typo[at + 1], typo[at]]])  # dropped, changed, added, swapped
        for k in (1, 2):
            vocab._corrections.cache_clear()
            assert vocab._corrections("".join(typo), k) == compared_with_all("".join(typo), k)
            tried += 1
    assert tried and vocab.corrections("diabetis")[:1] == ["diabetes"]
    assert vocab.corrections("fractuer")[:1] == ["fracture"]  # two letters swapped: one edit, not two


def test_a_word_too_misspelt_for_the_edit_rule_is_matched_by_sound() -> None:
    """"hemmroids" is three edits from "hemorrhoids" (the rule allows two at that length) and answered
    nothing; both sound h-m-r-d-s. A word that only looks alike, shorter by two, is not taken."""
    import sqlite3

    from medcodes.search.spell import Vocabulary, skeleton

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE search_vocab (word TEXT, n INTEGER)")
    conn.executemany("INSERT INTO search_vocab VALUES (?, ?)",
                     [("hemorrhoids", 40), ("pneumonia", 300), ("amnio", 5), ("hammer", 3), ("fracture", 900)])
    vocab = Vocabulary(conn)
    assert skeleton("hemmroids") == skeleton("hemorrhoids") == "hmrds"
    assert skeleton("numonia") == skeleton("pneumonia")  # a silent first letter
    assert vocab.corrections("hemmroids") == ["hemorrhoids"]
    assert vocab.corrections("numonia") == ["pneumonia"]
    assert vocab.corrections("ammonia") == []  # "amnio" sounds alike but is two letters shorter
    assert vocab.corrections("fractuer") == ["fracture"]  # the edit rule first
    assert vocab.corrections("hemmroids", edits=2) == []  # "did you mean" asks for edits only
