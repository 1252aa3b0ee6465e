"""Semantic retrieval with the real model (the wordllama package, a main dependency): vectors made
at build time, queries found by meaning alone, fusion that leaves exact answers alone, and an index
whose vectors are missing or damaged searched by words, with a log line."""

from __future__ import annotations

import json
import logging
import sqlite3
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from medcodes.app.build import build_from_records
from medcodes.errors import MedcodesError
from medcodes.index import Catalog
from medcodes.model import Code
from medcodes.search import engine_for, lexicon, search, semantic
from medcodes.search.engine import Filter as engine_filter
from medcodes.search.engine import Lexical
from medcodes.search.query import parse

from ..indexes import SEARCH_RECORDS, build_index


@pytest.fixture(scope="module")
def fused_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("semantic") / "index.sqlite"
    return build_index(path, "search", semantic="on")


@pytest.fixture()
def on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCODES_SEMANTIC", "on")


def codes(result: dict[str, object]) -> list[str]:
    return [r["code"] for r in result["results"]]  # type: ignore[attr-defined,index]


def test_vectors_are_made_at_build_time(fused_path: Path) -> None:
    conn = sqlite3.connect(fused_path)
    name, dim, ids, vectors, weights = conn.execute("SELECT * FROM search_vectors").fetchone()
    assert name == semantic.model_name() and dim == semantic.DIM
    id_of = dict(conn.execute("SELECT id, code FROM codes").fetchall())
    embedded = {id_of[int(i)] for i in np.frombuffer(ids, "<i4")}
    # whole codes and PCS tables; not 7th-character variants, chapters or PCS codes
    assert {"I21", "I21.9", "N39.0", "0SG", "K0001", "S52.501"} <= embedded
    assert not embedded & {"S52.501A", "I00-I99", "0SG00A1", "250.00"}
    matrix = np.frombuffer(vectors, "<f2").reshape(len(embedded), dim).astype(np.float32)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-2)
    assert len(weights) == 4 * semantic.model().table.shape[0]


def test_a_query_found_by_meaning_alone(fused_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCODES_SEMANTIC", "off")
    assert search(Catalog(fused_path), "bladder infection")["results"] == []  # no descriptor has the words
    monkeypatch.setenv("MEDCODES_SEMANTIC", "on")
    cat = Catalog(fused_path)
    r = search(cat, "bladder infection")
    assert r["parsed"]["semantic"] and codes(r)[0] == "N39.0"
    assert r["results"][0]["match"]["field"] == "semantic"
    found = codes(search(cat, "infected eye"))[:3]  # "eye infection" is conjunctivitis, a lexicon term now
    assert found[0] == "N39.0" and set(found[1:]) == {"H10", "H10.9"}, found  # meaning after the word match


def test_words_no_code_set_knows_get_no_look_alikes(fused_path: Path, on: None) -> None:
    """A query none of whose words the index, the lexicon or the spelling knows: the model sees word
    pieces and answers codes that look alike ("xarelto" -> exposure to ignition of clothing), so it
    is not asked; one known word is enough for it to help. ("xarelto" is a lexicon word now.)"""
    cat = Catalog(fused_path)
    for q in ("zelvoraxin", "quorblex", "elbow twinge"):  # none of these words is in this index
        found = search(cat, q)
        assert found["results"] == [] and not found["parsed"]["semantic"], q
    assert search(cat, "eye infection")["parsed"]["semantic"]


def test_the_filter_applies_to_meaning_too(fused_path: Path, on: None) -> None:
    r = search(Catalog(fused_path), "bladder infection", systems=["hcpcs"])
    assert r["results"] and all(x["system"] == "hcpcs" for x in r["results"])


def test_fusion_leaves_exact_answers_alone(fused_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {}
    for mode in ("off", "on"):
        monkeypatch.setenv("MEDCODES_SEMANTIC", mode)
        cat = Catalog(fused_path)
        assert (engine_for(cat).semantic(cat.conn) is not None) == (mode == "on")
        answers[mode] = [codes(search(cat, q)) for q in ("E11.9", "i219", "S52.5-S52.502", "heart attack")]
        assert not search(cat, "E11.9")["parsed"]["semantic"]
    assert answers["on"] == answers["off"]


BRANDS = [Code("hcpcs", "J9271", "Injection, pembrolizumab, 1 mg", billable=True),
          Code("hcpcs", "J2323", "Injection, natalizumab, 1 mg", billable=True),
          Code("icd10cm", "G83.4", "Cauda equina syndrome", billable=True),
          Code("icd10cm", "S34.3", "Injury of cauda equina", billable=False)]


def test_a_brand_name_is_embedded_as_its_generic(tmp_path: Path, on: None) -> None:
    """"keytruda" is word pieces to the model, which puts it near "cauda equina": the pass embeds
    the lexicon's meaning (pembrolizumab), so what follows the brand's own code is another
    antibody injection, not a spinal syndrome."""
    cat = Catalog(build_index(tmp_path / "brands.sqlite", "search", extra=BRANDS, semantic="on"))
    found = codes(search(cat, "keytruda"))
    assert found[:2] == ["J9271", "J2323"]
    assert "G83.4" not in found or found.index("G83.4") > found.index("J2323")


def test_the_embedded_text_is_the_query_as_read(fused_path: Path) -> None:
    cat = Catalog(fused_path)
    engine = engine_for(cat)

    def read(text: str) -> str:
        lex = engine.lexical(engine.tune(cat.conn), tuple(parse(text).words), False, engine_filter(), index=False)
        return semantic.meant(lex.groups, ())
    assert read("chf") == "congestive heart failure"
    assert read("keytruda") == "pembrolizumab"
    assert read("diabetis") == "diabetes mellitus"  # the correction, a lexicon term: its meaning
    assert read("eye inflammation") == "eye inflammation"
    assert read("urinery") == "urinary"  # a correction that is no lexicon term


def test_off_builds_and_loads_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCODES_SEMANTIC", "off")
    build_from_records(SEARCH_RECORDS, tmp_path / "o.sqlite")
    conn = sqlite3.connect(tmp_path / "o.sqlite")
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name='search_vectors'").fetchone()[0] == 0
    cat = Catalog(tmp_path / "o.sqlite")
    assert engine_for(cat).semantic(cat.conn) is None
    assert not search(cat, "bladder infection")["parsed"]["semantic"]
    monkeypatch.setenv("MEDCODES_SEMANTIC", "sometimes")
    with pytest.raises(MedcodesError, match="auto, on or off"):
        semantic.mode()


def test_missing_vectors_mean_words_only_with_a_log_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("MEDCODES_SEMANTIC", "off")
    build_from_records(SEARCH_RECORDS, tmp_path / "o.sqlite")
    monkeypatch.setenv("MEDCODES_SEMANTIC", "on")
    cat = Catalog(tmp_path / "o.sqlite")
    with caplog.at_level(logging.WARNING, logger="medcodes.search.semantic"):
        r = search(cat, "urinary infection")
    assert codes(r) == ["N39.0"] and not r["parsed"]["semantic"]
    assert "no semantic vectors" in caplog.text


@pytest.mark.parametrize("damage", [
    "UPDATE search_vectors SET vectors = substr(vectors, 1, 100)",
    "UPDATE search_vectors SET model = 'another-model/v9'",
    "UPDATE search_vectors SET weights = x'00'",
    "DELETE FROM search_vectors",
])
def test_damaged_vectors_mean_words_only_with_a_log_line(fused_path: Path, tmp_path: Path, damage: str, on: None,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "damaged.sqlite"
    path.write_bytes(fused_path.read_bytes())
    conn = sqlite3.connect(path)
    conn.execute(damage)
    conn.commit()
    conn.close()
    cat = Catalog(path)
    with caplog.at_level(logging.WARNING, logger="medcodes.search.semantic"):
        r = search(cat, "urinary infection")
    assert codes(r) == ["N39.0"] and not r["parsed"]["semantic"]
    assert "searching by words only" in caplog.text


def test_pooling_is_the_weighted_mean_of_token_vectors() -> None:
    m = semantic.model()
    texts = ["Acute myocardial infarction", "", "knee", "Type 2 diabetes mellitus without complications"] * 40
    tokens = m.tokens(texts)
    weights = np.linspace(0.1, 1.0, m.table.shape[0]).astype(np.float32)
    got = m.pool(tokens, weights)
    start = 0
    for i, n in enumerate(tokens.lens.tolist()):
        ids = tokens.flat[start:start + n]
        start += n
        want = (np.asarray(m.table[ids], dtype=np.float32) * weights[ids, None]).sum(axis=0)
        want = want / np.linalg.norm(want) if n else want
        assert np.allclose(got[i], want, atol=1e-5), texts[i]
    # one text alone is pooled exactly as in a batch (queries and descriptors share one space), and
    # small batches as one large one
    assert np.allclose(m.encode(["knee"], weights)[0], got[2], atol=1e-6)
    assert np.allclose(m.pool(tokens, weights, budget=8), got, atol=1e-6)


def test_rare_tokens_weigh_more() -> None:
    m = semantic.model()
    tokens = m.tokens(["Pain in knee", "Pain in shoulder", "Pain in hip", "Infarction"])
    weights = semantic.token_weights(m, tokens)
    pain, infarction = (m.word(w)[0] for w in ("pain", "infarction"))
    assert weights[pain] < weights[infarction] <= 1.0


def test_a_weights_file_of_another_shape_is_refused(tmp_path: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}).encode()
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    with pytest.raises(MedcodesError, match="bad.safetensors: expected one float16 matrix"):
        semantic.read_safetensors(bad)


def test_the_lexical_gate() -> None:
    from medcodes.search.engine import Lexical, lexically_answered
    from medcodes.search.rank import Candidate

    def hits(*coverages: float) -> list[Candidate]:
        return [Candidate(i, "icd10cm", f"A0{i}", "code", 1, False, 1.0, coverage=c)
                for i, c in enumerate(coverages)]

    assert lexically_answered(Lexical(hits=hits(1.0, 1.0, 1.0, 0.5)))
    assert not lexically_answered(Lexical(hits=hits(1.0, 1.0, 0.5)))  # too few full answers
    assert not lexically_answered(Lexical(hits=hits(1.0, 1.0, 1.0), relaxed=True))  # words were dropped


def test_meaning_comes_after_the_word_matches_in_their_order(fused_path: Path, on: None) -> None:
    from medcodes.search.engine import Filter, Lexical
    from medcodes.search.query import parse
    from medcodes.search.rank import Candidate

    cat = Catalog(fused_path)
    engine = engine_for(cat)
    id_of = dict(cat.conn.execute("SELECT code, id FROM codes WHERE system='icd10cm'").fetchall())
    forced, strong, weak = id_of["E11.9"], id_of["I21.9"], id_of["M25.50"]
    lex = Lexical(hits=[Candidate(strong, "icd10cm", "I21.9", "code", 1, False, 0.9, coverage=1.0),
                        Candidate(weak, "icd10cm", "M25.50", "code", 1, False, 0.1, coverage=0.5)],
                  groups=lexicon.groups(("bladder", "infection")))
    # a plan that put E11.9 first (as the GEMs do) above a higher-scored code: that order is kept
    fused = engine.fuse(cat.conn, parse("bladder infection"), lex, Filter(("icd10cm",)),
                        [forced, strong, weak], {forced: 0.5, strong: 0.9, weak: 0.1})
    assert fused is not None
    ordered, scores, by_meaning = fused
    assert id_of["N39.0"] in by_meaning and not {forced, strong, weak} & by_meaning
    assert ordered[:3] == [forced, strong, weak] and len(ordered) > 3
    assert scores[forced] == 0.5 and 0 < scores[id_of["N39.0"]] < 1


def test_a_filtered_search_reads_only_its_systems_rows_with_the_same_answer(fused_path: Path, on: None) -> None:
    cat = Catalog(fused_path)
    engine = engine_for(cat)
    index = engine.semantic(cat.conn)
    spans = engine.semantic_spans()
    assert index is not None and spans is not None
    vec = index.model.encode(["bladder infection"], index.weights)[0]
    for system in ("icd10cm", "hcpcs", "icd10pcs"):
        number = engine.system_number(system)
        keep = engine.system[index.ids] == number
        rows, sims = semantic.nearest(index, vec, keep)
        sliced, sliced_sims = semantic.nearest(index, vec, None, [spans[number]])
        assert rows.tolist() == sliced.tolist() and np.allclose(sims, sliced_sims)
        assert all(engine.system[index.ids[r]] == number for r in sliced)


def test_meaning_fills_in_only_where_the_words_find_less_than_a_page(fused_path: Path, on: None) -> None:
    cat = Catalog(fused_path)
    engine = engine_for(cat)
    query = parse("bladder infection")
    weak = Lexical(groups=lexicon.groups(query.words))  # no descriptor says all the words
    ids = list(range(1, 11))
    assert engine.fuse(cat.conn, query, weak, engine_filter(), ids[:3], {}) is not None
    assert engine.fuse(cat.conn, query, weak, engine_filter(), ids, {}) is None  # a page of words: skipped
    assert engine.fuse(cat.conn, query, weak, engine_filter(), ids[:4], {}, planned=6) is None  # codes typed too


def test_a_query_asked_again_reuses_its_nearest_codes(fused_path: Path, on: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cat = Catalog(fused_path)
    first = search(cat, "bladder infection")
    passes: list[int] = []
    real = semantic.nearest
    monkeypatch.setattr(semantic, "nearest", lambda *a, **k: passes.append(1) or real(*a, **k))
    assert search(cat, "bladder infection") == first and not passes  # the next page, the JSON of the page
    hcpcs = search(cat, "bladder infection", systems=["hcpcs"])  # another filter: another pass
    assert passes and all(r["system"] == "hcpcs" for r in hcpcs["results"])


def test_nearest_gives_the_most_alike_codes_best_first(fused_path: Path, on: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cat = Catalog(fused_path)
    index = engine_for(cat).semantic(cat.conn)
    assert index is not None
    vec = index.model.encode(["bladder infection"], index.weights)[0]
    monkeypatch.setattr(semantic, "SHORTLIST", len(index.ids))  # every row shortlisted: compare with all
    rows, sims = semantic.nearest(index, vec)
    every = index.full.astype(np.float32) @ vec
    assert rows.tolist() == np.argsort(-every, kind="stable")[:semantic.NEAREST].tolist()
    assert sims.tolist() == sorted(sims.tolist(), reverse=True)
    keep = np.ones(len(index.ids), dtype=bool)
    keep[rows[0]] = False  # the nearest code filtered out: the next ones follow
    assert semantic.nearest(index, vec, keep)[0].tolist()[:5] == rows.tolist()[1:6]
    monkeypatch.setattr(semantic, "SHORTLIST", 20)  # the shortlist: the rows most alike on the leading dimensions
    short, _ = semantic.nearest(index, vec)
    coarse = index.coarse @ np.ascontiguousarray(vec[:semantic.COARSE])
    assert set(short.tolist()) == set(np.argsort(-coarse, kind="stable")[:20].tolist())


def _passes_in_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the thread each semantic pass runs in."""
    threads: list[str] = []
    real = semantic.nearest
    monkeypatch.setattr(semantic, "nearest",
                        lambda *a, **k: threads.append(threading.current_thread().name) or real(*a, **k))
    return threads


class _StartingPool(ThreadPoolExecutor):
    """Background threads whose jobs have begun when submit returns (a pass not begun by the time fuse
    asks is made inline: see the next tests)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        begun = threading.Event()

        def run():  # type: ignore[no-untyped-def]
            begun.set()
            return fn(*args, **kwargs)

        job = super().submit(run)
        begun.wait()
        return job


def test_a_weak_query_starts_its_pass_beside_the_words_when_a_core_is_free(
        fused_path: Path, on: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic, "_idle_core", lambda: False)
    inline = search(Catalog(fused_path), "bladder infection")
    monkeypatch.setattr(semantic, "_idle_core", lambda: True)
    pool = _StartingPool(max_workers=1, thread_name_prefix="medcodes-semantic")
    monkeypatch.setattr(semantic, "_pool", lambda: pool)
    threads = _passes_in_threads(monkeypatch)
    cat = Catalog(fused_path)
    try:
        assert search(cat, "bladder infection") == inline
        assert len(threads) == 1 and threads[0].startswith("medcodes-semantic")  # one pass, in the background
        assert search(cat, "bladder infection") == inline and len(threads) == 1  # remembered: no second pass
    finally:
        pool.shutdown()


def test_a_busy_machine_makes_the_pass_inline(fused_path: Path, on: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic.os, "getloadavg", lambda: (64.0, 64.0, 64.0))
    threads = _passes_in_threads(monkeypatch)
    assert search(Catalog(fused_path), "bladder infection")["parsed"]["semantic"]
    assert threads == [threading.current_thread().name]


def test_a_pass_still_waiting_for_a_thread_is_made_inline(fused_path: Path, on: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic, "_idle_core", lambda: False)
    inline = search(Catalog(fused_path), "bladder infection")
    busy = ThreadPoolExecutor(max_workers=1)
    release = threading.Event()
    busy.submit(release.wait)  # every background thread taken by another search
    monkeypatch.setattr(semantic, "_pool", lambda: busy)
    monkeypatch.setattr(semantic, "_idle_core", lambda: True)
    threads = _passes_in_threads(monkeypatch)
    try:
        assert search(Catalog(fused_path), "bladder infection") == inline
        assert threads == [threading.current_thread().name]  # not waited for: cancelled and made here
    finally:
        release.set()
        busy.shutdown()
