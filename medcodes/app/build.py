"""The product's index build: the index's own tables, then every post-build step the layers above
it register here (the search tables; embeddings when semantic search is on).

Everything that builds an index to serve or search (the CLI, `medcodes fetch`, the benchmarks, the
tests' fixtures) builds through these, so a step cannot be left out by accident; the index itself
imports none of those layers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ..edits import build as edits
from ..errors import DiskFull, no_room_message, out_of_room
from ..index import build as index_build
from ..index.build import BuildReport, PostBuildStep
from ..model import Record
from ..search import indexer, semantic

POST_BUILD_STEPS: tuple[PostBuildStep, ...] = (indexer.build_words, semantic.build)
# Steps that read only the index's own tables and write tables of their own: a build with a second core
# runs them in its worker process, beside POST_BUILD_STEPS (medcodes.index.worker), which take about as long.
SIDE_STEPS: tuple[PostBuildStep, ...] = (indexer.build_side, edits.build)


def build_index(sources: Sequence[tuple[str, Path]], out: Path,
                log: Callable[[str], None] = lambda _msg: None) -> BuildReport:
    """Parse every (importer name, path) and write the index with its search tables to `out`, atomically."""
    try:
        return index_build.build_index(list(sources), out, log, steps=POST_BUILD_STEPS, side_steps=SIDE_STEPS)
    except (OSError, sqlite3.Error) as e:
        if not out_of_room(e):
            raise
        kept = "the index there is unchanged" if out.exists() else "no index was written"
        raise DiskFull(no_room_message(f"the new index {out}", kept + " and the partial file was removed")) from None


def build_from_records(records: Iterable[Record], out: Path, name: str = "records") -> BuildReport:
    """The same build straight from records (tests, content packs, benchmarks)."""
    return index_build.build_from_records(records, out, name, steps=POST_BUILD_STEPS, side_steps=SIDE_STEPS)
