"""Semantic retrieval: static word-piece embeddings of code descriptors, fused with the lexical ranking.

The model is WordLlama `l2_supercat` (MIT): one 256-dimension vector per token of the Llama 2
vocabulary (32,000 x 256, float16, 16 MB), trained so that the mean of a text's token vectors
places texts of like meaning close together. Its weights and tokenizer ship inside the `wordllama`
wheel, a main dependency: they are read from site-packages with numpy and the `tokenizers`
package, never downloaded, and wordllama's own code is not imported. No torch, no GPU.

A text's vector is the weighted mean of its tokens' vectors. Tokens are weighted by how rare they
are in the embedded descriptors (smooth inverse frequency, a / (a + p), mild: see SIF_A): "of" and
"unspecified" say less about what a code means than "infarction". The weights are made at build
time and stored beside the vectors, so a query is weighted the same way.

What is embedded (`_texts`): descriptors of ICD-10-CM codes (not the 7th-character variants,
which share their parent's meaning), HCPCS codes, and ICD-10-PCS tables as "operation, body
system" ("Excision, Breast"): about 48k texts for the embedded data. Made at `medcodes build`
as a step of its own (bench/vectors.py: about 1.4 s of CPU and 120 MB above the process for 47,608
texts) and stored in `search_vectors` as float16 (12.5 MB).

A query is one tokenisation and a mean of a few rows (microseconds), then a shortlist made on 64
dimensions and ranked on 128 (`nearest`, a few ms; a search filtered to some systems reads only
their rows), and it runs only when the words answer the query weakly (engine.lexically_answered) and
find less than a page of codes (engine.SEMANTIC_BELOW); a query asked again reuses its nearest
codes. What it finds goes after the word matches (`fuse`): on the judged sets the words are better
than this model wherever they match.
MEDCODES_SEMANTIC: `auto` (the default) uses semantic retrieval when the model package is
installed, `on` requires it, `off` never loads it. An index without vectors, or with vectors that
do not fit the model, is searched by words only, with a warning in the log.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import sqlite3
import struct
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import settings
from ..errors import MedcodesError
from ..index.build import BuildReport

log = logging.getLogger("medcodes.search.semantic")

PACKAGE = "wordllama"
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
# WordLlama is trained so that the leading dimensions of a vector are a vector of their own (Matryoshka):
# 128 of the 256 found as well when tuned (fused success@10 0.580 against 0.585 on old ICD-9-CM
# titles searched in ICD-10-CM; 64 gave 0.550) for half the memory and time of each query
DIM = 128
COARSE = 64
SHORTLIST = 500
# Smooth inverse frequency: a token in one text of ten weighs half as much as a rare one. Mild on
# purpose: on old ICD-9-CM titles searched in ICD-10-CM (the tuning set), a = 1e-3 put the code in
# the fused top 10 for 0.580 of queries, 1e-2 for 0.635, 0.1 for 0.650, plain means for 0.645.
SIF_A = 0.1
NEAREST = 50
RECENT = 2048  # queries whose nearest codes are remembered (about 0.8 kB each)
WORKERS = 2  # background threads for passes started ahead of fuse (prefetch): the cores a search server has
# A code found by meaning alone comes after the word matches, scored FILL * cosine. Put before word
# matches that miss some of the query's words when at least c alike, it lost on the tuning sets at
# every c tried: success@1 on GEMs 0.860 -> 0.745 (c = 0.7), 0.825 (0.8), 0.855 (0.9); on index
# paths 0.255 -> 0.205, 0.235, 0.255; and at 0.9 on the GEMs report set 0.950 -> 0.940. Partial
# word matches are right more often than this model's nearest codes.
FILL = 0.60
_SELECT = ("SELECT c.id, c.title, CASE WHEN c.kind = 'table' THEN (SELECT p.title FROM codes p"
           " WHERE p.system = c.system AND p.code = c.parent) END FROM codes c WHERE c.deleted_in IS NULL AND ("
           " (c.system='icd10cm' AND length(c.compact) <= 6 AND instr(c.compact, '-') = 0)"
           " OR (c.system='hcpcs' AND c.kind='code') OR (c.system='icd10pcs' AND c.kind='table'))"
           " ORDER BY c.id")
_WORD = re.compile(r"[a-z0-9]+")
_lock = threading.Lock()
_model: Model | None = None


def mode() -> str:
    value = settings.get("MEDCODES_SEMANTIC").strip().lower()
    if value not in ("auto", "on", "off"):
        raise MedcodesError(f"MEDCODES_SEMANTIC must be auto, on or off, not {value!r}")
    return value


def package_dir() -> Path | None:
    """Where the model package is installed; found without importing it (its import sets up logging)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed() -> bool:
    folder = package_dir()
    return folder is not None and (folder / WEIGHTS).is_file() and (folder / TOKENIZER).is_file()


def wanted() -> bool:
    m = mode()
    if m == "on" and not installed():
        raise MedcodesError(f"MEDCODES_SEMANTIC=on but the model package is not installed: pip install {PACKAGE}")
    return m == "on" or (m == "auto" and installed())


def model_name() -> str:
    """What the stored vectors were made with: a different model's vectors are not comparable."""
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    return f"{PACKAGE}-{version}/{Path(WEIGHTS).stem}"


# -- the model -------------------------------------------------------------------
class Model:
    """Token vectors and the tokenizer they belong to; texts are lower-cased and split into words
    first, and each word is tokenised once (the Llama tokenizer runs BPE over a whole string as one
    piece, which is slow on long texts; split at spaces, it gives the same tokens)."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self.table = read_safetensors(folder / WEIGHTS)[:, :DIM]
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        self._pieces: dict[str, tuple[int, ...]] = {}
        self._pieces_lock = threading.Lock()

    def word(self, word: str) -> tuple[int, ...]:
        """Token ids of one word, remembered (bounded: a server sees endless new words)."""
        ids = self._pieces.get(word)
        if ids is None:
            ids = tuple(self.tokenizer.encode(word, add_special_tokens=False).ids)
            with self._pieces_lock:
                if len(self._pieces) > 200_000:
                    self._pieces.clear()
                self._pieces[word] = ids
        return ids

    def tokens(self, texts: Iterable[str]) -> Tokens:
        """Token ids of each text, gathered into flat arrays as they come (no list of word lists:
        48k descriptors of ~10 words as Python strings cost tens of MB at build time)."""
        flat, lens = array("q"), array("q")
        for text in texts:
            n = len(flat)
            for w in _WORD.findall(text.lower()):
                flat.extend(self.word(w))
            lens.append(len(flat) - n)
        return Tokens(np.frombuffer(flat, dtype=np.int64), np.frombuffer(lens, dtype=np.int64))

    def encode(self, texts: list[str], weights: np.ndarray) -> np.ndarray:
        """L2-normalised weighted mean token vector of each text (a zero row for a text of no words)."""
        return self.pool(self.tokens(texts), weights)

    def pool(self, tokens: Tokens, weights: np.ndarray, budget: int = 32_768) -> np.ndarray:
        """Texts taken in order of length, a batch at a time as a (texts x tokens) matrix padded with
        weight 0: one batched product sums each text's weighted token vectors (numpy's segment sums,
        add.reduceat and add.at, are several times slower on rows of vectors). A batch holds at most
        `budget` token slots (16 MB of vectors), however long the longest descriptors are."""
        n, lens = len(tokens.lens), tokens.lens
        table = self.table if n < 64 else np.asarray(self.table, dtype=np.float32)  # many: convert once
        out = np.zeros((n, table.shape[1]), dtype=np.float32)
        starts = np.cumsum(lens) - lens
        order = np.argsort(lens, kind="stable")
        begin = 0
        while begin < n:
            end = begin + 1
            while end < n and (end - begin + 1) * max(int(lens[order[end]]), 1) <= budget:
                end += 1
            sel = order[begin:end]
            width = int(lens[sel[-1]])
            begin = end
            if width == 0:
                continue
            inside = np.arange(width) < lens[sel][:, None]
            at = np.where(inside, starts[sel][:, None] + np.arange(width), 0)
            ids = tokens.flat[at]
            mix = (weights[ids] * inside).astype(np.float32)
            out[sel] = np.matmul(mix[:, None, :], np.asarray(table[ids], dtype=np.float32))[:, 0, :]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


@dataclass(frozen=True)
class Tokens:
    """The token ids of many texts, end to end, and how many belong to each text."""

    flat: np.ndarray
    lens: np.ndarray


def read_safetensors(path: Path) -> np.ndarray:
    """The one tensor of a safetensors file, memory-mapped (float16, not copied into memory)."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
    tensors = [v for k, v in header.items() if k != "__metadata__"]
    if len(tensors) != 1 or tensors[0].get("dtype") != "F16" or len(tensors[0].get("shape", ())) != 2:
        raise MedcodesError(f"{path}: expected one float16 matrix, found {sorted(header)}")
    rows, dim = tensors[0]["shape"]
    begin, end = tensors[0]["data_offsets"]
    if end - begin != rows * dim * 2:
        raise MedcodesError(f"{path}: the matrix is {end - begin} bytes, not {rows} x {dim} float16")
    return np.memmap(path, dtype=np.float16, mode="r", offset=8 + size + begin, shape=(rows, dim))


def model() -> Model:
    """The model, loaded once per process (about 0.3 s: the tokenizer's vocabulary and merges)."""
    global _model
    with _lock:
        if _model is None:
            folder = package_dir()
            if folder is None:
                raise MedcodesError(f"the semantic model package is not installed: pip install {PACKAGE}")
            _model = Model(folder)
        return _model


def token_weights(m: Model, tokens: Tokens) -> np.ndarray:
    """Smooth inverse frequency of each token over the embedded texts (1.0 for tokens they lack)."""
    vocab = m.table.shape[0]
    owner = np.repeat(np.arange(len(tokens.lens)), tokens.lens)
    pairs = np.sort(owner * vocab + tokens.flat)
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]  # each token once per text
    freq = np.bincount(pairs % vocab, minlength=vocab) / max(len(tokens.lens), 1)
    return (SIF_A / (SIF_A + freq)).astype(np.float32)


# -- build -----------------------------------------------------------------------
def _texts(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    out = []
    for cid, title, parent in conn.execute(_SELECT):
        # a PCS table's title is its root operation alone ("Excision"): the body system says where
        out.append((cid, f"{title}, {parent}" if parent else title))
    return out


def build(conn: sqlite3.Connection, report: BuildReport | None = None) -> None:
    """Store the vector of each selected code in `search_vectors` (a build step)."""
    conn.execute("DROP TABLE IF EXISTS search_vectors")
    if not wanted():
        return
    rows = _texts(conn)
    if not rows:
        return  # an index of systems none of whose codes are embedded (LOINC, NDC, RxNorm alone)
    m = model()
    tokens = m.tokens(t for _, t in rows)
    weights = token_weights(m, tokens)
    vectors = m.pool(tokens, weights)
    ids = np.fromiter((cid for cid, _ in rows), dtype="<i4", count=len(rows))
    conn.execute("CREATE TABLE search_vectors (model TEXT NOT NULL, dim INTEGER NOT NULL, ids BLOB NOT NULL,"
                 " vectors BLOB NOT NULL, weights BLOB NOT NULL)")
    conn.execute("INSERT INTO search_vectors VALUES (?, ?, ?, ?, ?)",
                 (model_name(), DIM, ids.tobytes(), vectors.astype("<f2").tobytes(),
                  weights.astype("<f4").tobytes()))


# -- query -----------------------------------------------------------------------
@dataclass
class Index:
    ids: np.ndarray  # code ids in ascending order, one per row
    coarse: np.ndarray  # float32, the first COARSE dimensions of each vector: the shortlist is made on these
    full: np.ndarray  # float32 (stored as float16), the L2-normalised vectors: the shortlist is ranked on these
    weights: np.ndarray  # per-token weight the vectors were made with
    model: Model
    # (query words, systems, billable, date) -> nearest rows and cosines: a query asked again (the next
    # page, the same search from another user, the page and then its JSON) costs no encoding and no pass
    recent: OrderedDict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = field(default_factory=OrderedDict)
    # passes started ahead of fuse (prefetch), by the same key, until they finish into `recent`
    pending: dict[tuple[Any, ...], Future[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rows(self, code_ids: list[int]) -> np.ndarray:
        """The row of each code id, -1 for codes without a vector."""
        at = np.searchsorted(self.ids, code_ids)
        found = (at < len(self.ids)) & (self.ids[np.minimum(at, len(self.ids) - 1)] == code_ids)
        return np.where(found, at, -1)


def load(conn: sqlite3.Connection) -> Index | None:
    """The stored vectors, or None (words only) when semantic search is off, or the vectors are
    absent or unusable: a search index is still served, and the log says why."""
    if not wanted():
        return None
    try:
        row = conn.execute("SELECT model, dim, ids, vectors, weights FROM search_vectors").fetchone()
    except sqlite3.OperationalError:
        log.warning("this index has no semantic vectors (rebuild it with `medcodes build`): searching by words only")
        return None
    problem = _check(row)
    if problem:
        log.warning("semantic vectors unusable (%s): searching by words only", problem)
        return None
    name, dim, id_blob, vec_blob, weight_blob = row
    ids = np.frombuffer(id_blob, dtype="<i4").astype(np.int64)
    # widened once here (28 MB for 56k codes, not 14): numpy converts float16 slowly, and a shortlist's
    # 500 rows cost 0.2 ms a query to widen, more than reading them
    full = np.frombuffer(vec_blob, dtype="<f2").reshape(len(ids), dim).astype(np.float32)
    coarse = np.ascontiguousarray(full[:, :COARSE])
    weights = np.frombuffer(weight_blob, dtype="<f4")
    return Index(ids, coarse, full, weights, model())


def _check(row: Any) -> str:
    """Why a `search_vectors` row cannot be used, or ''."""
    if row is None:
        return "the table is empty"
    name, dim, id_blob, vec_blob, weight_blob = row
    if name != model_name():
        return f"made with {name!r}, not {model_name()!r}: rebuild the index"
    if not all(isinstance(b, bytes) for b in (id_blob, vec_blob, weight_blob)):
        return "not stored as bytes"
    n = len(id_blob) // 4
    if dim != DIM or len(id_blob) % 4 or len(vec_blob) != n * dim * 2:
        return f"{len(vec_blob)} bytes of vectors for {n} codes of {dim} dimensions"
    ids = np.frombuffer(id_blob, dtype="<i4")
    if n and not (ids[1:] > ids[:-1]).all():
        return "code ids out of order"
    if len(weight_blob) != 4 * model().table.shape[0]:
        return f"{len(weight_blob) // 4} token weights for a vocabulary of {model().table.shape[0]}"
    return ""


def nearest(index: Index, vec: np.ndarray, keep: np.ndarray | None = None,
            spans: list[tuple[int, int]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the NEAREST codes to `vec` among those `keep` allows (a mask over all rows; None: all)
    within the row ranges `spans` (None: all rows), and their cosines, best first.

    A shortlist of SHORTLIST rows is made on the first COARSE dimensions (Matryoshka: they are a
    vector of their own), then ranked on all of them: half the memory read per query of one pass
    over the full vectors, for the same results on the tuning sets. The shortlist's product is
    numpy's einsum, one thread, not a BLAS matrix-vector product: OpenBLAS runs those on all its
    threads, which on a busy machine is 10x slower than one thread (measured 120 ms against 9 ms,
    48k x 128, 2 loaded cores), and even in 2048-row chunks its thread hand-offs cost more CPU time
    (measured 0.3-0.5 ms of 4 per query on 56k rows) for the same shortlists and the same top 10.
    A search filtered to a few systems reads only their rows (each system's rows are one range)."""
    spans = [(0, len(index.ids))] if spans is None else spans
    size = sum(hi - lo for lo, hi in spans)
    if not size:
        # a search filtered to systems that have no vectors: nothing to compare
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    # the cosines negated as they are made (against the negated query: exact, IEEE products and sums
    # are symmetric in sign), so that the smallest are the nearest, with no negated copy to select on
    far = np.empty(size, dtype=np.float32)
    head = -np.ascontiguousarray(vec[:COARSE])
    at = 0
    for lo, hi in spans:
        np.einsum("ij,j->i", index.coarse[lo:hi], head, out=far[at:at + hi - lo])
        at += hi - lo
    rows = np.concatenate([np.arange(lo, hi) for lo, hi in spans]) if len(spans) != 1 or spans[0][0] else None
    if keep is not None:
        far[~(keep if rows is None else keep[rows])] = np.inf
    short = np.argpartition(far, min(SHORTLIST, size - 1))[:SHORTLIST]
    short = short[np.isfinite(far[short])]
    if rows is not None:
        short = rows[short]
    sims = index.full[short] @ vec
    best = np.argsort(-sims, kind="stable")[:NEAREST]
    return short[best], sims[best]


def system_spans(index: Index, system: np.ndarray) -> dict[int, tuple[int, int]] | None:
    """Each system's range of rows (`system`: the engine's system number of every code id), when each
    system's rows follow each other, as the builder writes them; None otherwise."""
    of_row = system[index.ids]
    out: dict[int, tuple[int, int]] = {}
    for value in np.unique(of_row).tolist():
        found = np.nonzero(of_row == value)[0]
        if found[-1] - found[0] + 1 != len(found):
            return None
        out[int(value)] = (int(found[0]), int(found[-1]) + 1)
    return out


def _nearest_for(index: Index, engine: Any, text: str, flt: Any) -> tuple[np.ndarray, np.ndarray]:
    vec = index.model.encode([text], index.weights)[0]
    by_system = engine.semantic_spans()
    if by_system is None:
        return nearest(index, vec, engine.mask(index.ids, flt.without_scope()))
    wanted = {engine.system_number(s) for s in flt.wanted} if flt.wanted else set(by_system)
    spans = _joined(sorted(span for number, span in by_system.items() if number in wanted and number >= 0))
    per_row = flt.billable is not None or flt.as_of is not None
    keep = engine.mask(index.ids, type(flt)(billable=flt.billable, as_of=flt.as_of)) if per_row else None
    return nearest(index, vec, keep, spans)


def _joined(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Row ranges with neighbours made one: every system is one pass over the matrix, not three."""
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        if out and lo == out[-1][1]:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def meant(groups: Iterable[Any], typed: Iterable[str]) -> str:
    """The text to embed: the query as the search read it. A lexicon term stands for its first
    meaning ("keytruda" -> pembrolizumab, "chf" -> congestive heart failure) and a misspelt word for
    its correction: a brand name or an abbreviation is a string of word pieces to this model, which
    it places near look-alike words ("keytruda" near "cauda equina"), while the meaning is in its
    vocabulary. Other words are embedded as typed."""
    out: list[str] = []
    for g in groups:
        if g.entry is not None and g.entry.means:
            out += g.entry.means[0]
        elif len(g.words) == 1 and len(g.alternatives) > 1 and g.alternatives[0] == g.words:
            out += g.alternatives[1]  # the best spelling correction (Engine._tolerate)
        else:
            out += g.words
    return " ".join(out) or " ".join(typed)


def _key(text: str, flt: Any) -> tuple[Any, ...]:
    return text, tuple(flt.wanted), flt.billable, flt.as_of.date if flt.as_of is not None else None


def _remember(index: Index, key: tuple[Any, ...], found: tuple[np.ndarray, np.ndarray]) -> None:
    with index.lock:
        index.recent[key] = found
        while len(index.recent) > RECENT:
            index.recent.popitem(last=False)


_workers: tuple[int, ThreadPoolExecutor] | None = None


def _pool() -> ThreadPoolExecutor:
    """The background threads of this process (made again in a forked child: threads do not survive a fork)."""
    global _workers
    with _lock:
        if _workers is None or _workers[0] != os.getpid():
            _workers = (os.getpid(), ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="medcodes-semantic"))
        return _workers[1]


def _idle_core() -> bool:
    """Whether a core is likely free for a background pass: the run queue (1-minute load average,
    which counts this search too) leaves one. On a busy machine the pass would only wait for the
    core this thread is using (measured: 0.3 ms slower at the median), so it is made inline then."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        return os.getloadavg()[0] < cores - 0.5
    except OSError:  # no load average to read
        return False


def prefetch(index: Index, engine: Any, text: str, flt: Any) -> None:
    """Start the nearest codes of `text` in a background thread when a core is free (fuse takes
    them, or they are remembered in `recent` for when it asks)."""
    if not _idle_core():
        return
    key = _key(text, flt)
    with index.lock:
        if key in index.recent or key in index.pending:
            return
        job = _pool().submit(_nearest_for, index, engine, text, flt)
        index.pending[key] = job

    def settle(done: Future[tuple[np.ndarray, np.ndarray]]) -> None:
        with index.lock:
            index.pending.pop(key, None)
        if not done.cancelled() and done.exception() is None:
            _remember(index, key, done.result())

    job.add_done_callback(settle)


def _found(index: Index, engine: Any, text: str, flt: Any) -> tuple[np.ndarray, np.ndarray]:
    """The nearest codes of `text`: remembered, or from the pass prefetch started (waited for if it
    is running; done here if it has not started, as when every background thread is busy), or made now."""
    key = _key(text, flt)
    with index.lock:
        found = index.recent.get(key)
        if found is not None:
            index.recent.move_to_end(key)
            return found
        job = index.pending.get(key)
    if job is not None and not job.cancel():
        found = job.result()  # running or done: waited for (its done-callback may not have run yet)
    else:
        found = _nearest_for(index, engine, text, flt)
    _remember(index, key, found)
    return found


def fuse(index: Index, engine: Any, text: str, flt: Any, ordered: list[int],
         scores: dict[int, float]) -> tuple[list[int], dict[int, float], set[int]]:
    """The lexical ranking kept as it is, followed by the nearest codes by meaning that the search's
    filter allows (systems, billable, existing on the as-of date), best first. Measured, putting
    very alike codes before partial word matches lost more than it found (see FILL)."""
    rows, sims = _found(index, engine, text, flt)
    lexical = set(ordered)
    extra = [(cid, s) for cid, s in zip(index.ids[rows].tolist(), sims.tolist(), strict=True)
             if s > 0 and cid not in lexical]
    fused = dict(scores)
    fused.update((cid, round(FILL * s, 4)) for cid, s in extra)
    return [*ordered, *(cid for cid, _ in extra)], fused, {cid for cid, _ in extra}
