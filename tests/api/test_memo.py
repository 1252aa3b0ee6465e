"""Search, search page and suggestion answers remembered per index file: the same request, the same answer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from medcodes.app import codes, memo
from medcodes.app.memo import Memo
from medcodes.content.queue import enqueue
from medcodes.content.store import ContentStore
from medcodes.index import Catalog
from medcodes.policies.store import PolicyStore

from ..web import fixture_store

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def test_a_repeated_search_is_answered_from_memory(client: TestClient) -> None:
    memo.SEARCHES.clear()
    before = memo.SEARCHES.hits
    first = client.get("/api/v1/search", params={"q": "type 2 diabetes", "limit": "5"})
    again = client.get("/api/v1/search", params={"q": "type 2 diabetes", "limit": "5"})
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert first.headers["content-type"] == "application/json" and first.json()["results"]
    assert memo.SEARCHES.hits == before + 1
    other = client.get("/api/v1/search", params={"q": "type 2 diabetes", "limit": "3"})
    assert len(other.json()["results"]) == 3 and memo.SEARCHES.hits == before + 1  # another key


def test_the_search_page_remembers_its_results(client: TestClient) -> None:
    memo.RESULTS.clear()
    before = memo.RESULTS.hits
    first = client.get("/search", params={"q": "type 2 diabetes"})
    again = client.get("/search", params={"q": "type 2 diabetes"})
    assert first.status_code == again.status_code == 200 and first.text == again.text
    assert "E11" in first.text and memo.RESULTS.hits == before + 1
    filtered = client.get("/search", params={"q": "type 2 diabetes", "billable": "true"})
    assert filtered.status_code == 200 and memo.RESULTS.hits == before + 1  # another key
    assert client.get("/search", params={"q": "type 2 diabetes", "page": "2"}).status_code == 200
    assert memo.RESULTS.hits == before + 1


def test_suggestions_are_remembered_too(client: TestClient) -> None:
    memo.SUGGESTIONS.clear()
    a = client.get("/api/v1/suggest", params={"q": "diab"})
    b = client.get("/api/v1/suggest", params={"q": "diab"})
    assert a.content == b.content and memo.SUGGESTIONS.hits >= 1 and a.json()["results"]


def test_a_rebuilt_index_file_is_a_new_key(tmp_path: Path) -> None:
    index = tmp_path / "index.sqlite"
    index.write_bytes(b"one")
    m = Memo(8)
    assert m.get(index, "q", lambda: b"old") == b"old"
    assert m.get(index, "q", lambda: b"not asked") == b"old"
    new = tmp_path / "index.sqlite.tmp"
    new.write_bytes(b"two!")
    os.replace(new, index)  # what a build does: a new file renamed into place
    assert m.get(index, "q", lambda: b"new") == b"new"


def test_the_memo_keeps_only_the_newest(tmp_path: Path) -> None:
    index = tmp_path / "index.sqlite"
    shutil.copyfile(__file__, index)
    m = Memo(2)
    for q in ("a", "b", "c"):
        m.get(index, q, lambda q=q: q.encode())
    assert m.get(index, "a", lambda: b"made again") == b"made again"
    assert m.get(index, "c", lambda: b"not asked") == b"c"



def test_similar_codes_stay_remembered_through_queue_writes_and_change_with_the_policies(
        index_path: Path, tmp_path: Path) -> None:
    """Similar codes read the policy tables of the store; the content queue writes to the same file
    on every page view of a code without text, and must not make them be found again."""
    store = tmp_path / "store.sqlite"
    policies = PolicyStore(store)
    policies.put(fixture_store.CGM)
    catalog = Catalog(index_path, store=store)
    codes._SIMILAR.clear()
    first = codes.similar(catalog, "icd10cm", "E11.65")
    assert ("cpt", "63685") not in {(s.system, s.code) for s in first}
    content = ContentStore(store)
    assert enqueue(content, "icd10cm", "E11.9", 10)[0]  # a queue write: the file and its WAL change
    content.close()
    assert codes.remembered_similar(catalog, "icd10cm", "E11.65") == first

    policies.put(fixture_store.SCS)  # a policy citing E11.65 with CPT 63685
    assert codes.remembered_similar(catalog, "icd10cm", "E11.65") is None
    cited = codes.similar(catalog, "icd10cm", "E11.65")
    assert ("cpt", "63685") in {(s.system, s.code) for s in cited}
    assert policies.delete("example-scs")
    policies.close()
    assert codes.remembered_similar(catalog, "icd10cm", "E11.65") is None
    assert codes.similar(catalog, "icd10cm", "E11.65") == first
