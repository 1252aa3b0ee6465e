"""Embeddings: cached by content hash, stored in the index, fused with the lexical ranking.

A fake encoder stands in for the model so these tests are fast and need no torch.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from medcodes.app.build import build_from_records
from medcodes.index import Catalog
from medcodes.search import engine_for, search, semantic

from .conftest import RECORDS

WORDS = ["heart", "infarction", "attack", "diabetes", "eye", "conjunctivitis", "knee", "fracture"]


def fake_encode(texts: list[str]) -> np.ndarray:
    fake_encode.calls.append(list(texts))  # type: ignore[attr-defined]
    out = np.zeros((len(texts), semantic.DIM), dtype=np.float32)
    for i, t in enumerate(texts):
        for j, w in enumerate(WORDS):
            out[i, j] = float(w in t.lower())
        out[i, 100 + len(t) % 50] = 0.1
        out[i] /= np.linalg.norm(out[i])
    return out


@pytest.fixture()
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_encode.calls = []  # type: ignore[attr-defined]
    monkeypatch.setattr(semantic, "encode", fake_encode)
    monkeypatch.setattr(semantic, "model", lambda: None)
    monkeypatch.setenv("MEDCODES_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MEDCODES_SEMANTIC", "on")
    monkeypatch.setattr(semantic, "installed", lambda: True)


def test_cache_by_content_hash(fake: None) -> None:
    a = semantic.cached_vectors(["heart attack", "diabetes"])
    b = semantic.cached_vectors(["diabetes", "heart attack", "pink eye"])
    assert fake_encode.calls == [["diabetes", "heart attack"], ["pink eye"]]  # type: ignore[attr-defined]
    assert np.allclose(a[0], b[1], atol=1e-3)
    semantic.cached_vectors(["pink eye", "diabetes"])
    assert len(fake_encode.calls) == 2  # type: ignore[attr-defined]


def test_rebuild_of_unchanged_source_computes_nothing(fake: None, tmp_path: Path) -> None:
    build_from_records(RECORDS, tmp_path / "a.sqlite")
    first = sum(len(c) for c in fake_encode.calls)  # type: ignore[attr-defined]
    build_from_records(RECORDS, tmp_path / "b.sqlite")
    assert first > 0 and sum(len(c) for c in fake_encode.calls) == first  # type: ignore[attr-defined]
    n = sqlite3.connect(tmp_path / "b.sqlite").execute("SELECT count(*) FROM search_vectors").fetchone()[0]
    assert n == first


def test_fused_search(fake: None, tmp_path: Path) -> None:
    build_from_records(RECORDS, tmp_path / "s.sqlite")
    cat = Catalog(tmp_path / "s.sqlite")
    assert engine_for(cat).semantic(cat.conn) is not None
    r = search(cat, "heart attack")
    # descriptors say everything asked: the encoder is not asked at all
    assert not r["parsed"]["semantic"] and r["results"][0]["code"].startswith("I21")
    # a word no descriptor has still finds codes by meaning
    r = search(cat, "infarction eye zzzq")
    assert r["parsed"]["semantic"] and r["results"]


def test_off_means_no_vectors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDCODES_SEMANTIC", "off")
    build_from_records(RECORDS, tmp_path / "o.sqlite")
    conn = sqlite3.connect(tmp_path / "o.sqlite")
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name='search_vectors'").fetchone()[0] == 0
    monkeypatch.setenv("MEDCODES_SEMANTIC", "sometimes")
    with pytest.raises(Exception, match="auto, on or off"):
        semantic.mode()


def test_fusion_is_skipped_when_words_already_answer() -> None:
    from medcodes.search.engine import Lexical, lexically_answered
    from medcodes.search.rank import Candidate

    def hits(*coverages: float) -> list[Candidate]:
        return [Candidate(i, "icd10cm", f"A0{i}", "code", 1, False, 1.0, coverage=c)
                for i, c in enumerate(coverages)]

    assert lexically_answered(Lexical(hits=hits(1.0, 1.0, 1.0, 0.5)))
    assert not lexically_answered(Lexical(hits=hits(1.0, 1.0, 0.5)))  # too few full answers
    assert not lexically_answered(Lexical(hits=hits(1.0, 1.0, 1.0), relaxed=True))  # words were dropped
