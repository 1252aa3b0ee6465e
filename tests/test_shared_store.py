"""Several servers, one store: two real `medcodes serve` processes, each with its own copy of the
index file, share one PostgreSQL store. What is written through either (or the CLI) shows on the
other's pages, and the on-demand queue writes each code once across both."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from medcodes.cli import main
from medcodes.content.fakellm import FakeLLM
from medcodes.storage import open_store
from tests.content.conftest import catalog, index_path  # noqa: F401
from tests.live import medcodes_serve, wait_for

pytestmark = pytest.mark.slow  # live multi-process servers

POLICY = """<html><head><title>Continuous glucose monitors</title></head><body>
<h1>Continuous glucose monitors (invented policy)</h1>
<p>Policy number: SHARED-77. Effective 01/01/2026.</p>
<h2>Covered diagnoses</h2>
<p>Continuous glucose monitors are considered medically necessary for members with diabetes mellitus
coded as E11.9 or E10.9 when the member checks blood glucose four or more times a day.</p>
</body></html>
"""
WRITTEN = "Explained by a language model"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=180) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read().decode()


def api(base: str, path: str) -> Any:
    return json.loads(get(f"{base}{path}")[1])



@contextmanager
def two_servers(index: Path, tmp: Path, store: str, workers: int = 1,
                **env: str) -> Iterator[tuple[str, str]]:
    """Servers A and B, each serving its own copy of the index, both on `store`."""
    with ExitStack() as stack:
        bases = []
        for name in ("a", "b"):
            own = tmp / name / "medcodes.sqlite"
            own.parent.mkdir()
            shutil.copyfile(index, own)
            bases.append(stack.enter_context(medcodes_serve(
                own, tmp / f"{name}.log", "--workers", str(workers), env={"MEDCODES_STORE": store, **env},
                start_s=180)))
        yield bases[0], bases[1]


def test_a_policy_ingested_through_one_server_shows_on_the_other(index_path: Path, tmp_path: Path,  # noqa: F811
                                                                 pg_url: str) -> None:
    doc = tmp_path / "cgm.html"
    doc.write_text(POLICY)
    with two_servers(index_path, tmp_path, pg_url, workers=2) as (a, b):
        assert "SHARED-77" not in get(f"{b}/codes/icd10cm/E11.9")[1]
        # the CLI of server A's machine: its own index file, the shared store
        assert main(["policies", "ingest", str(doc), "--id", "MP/SHARED-77", "--db", str(tmp_path / "a" /
                     "medcodes.sqlite"), "--store", pg_url]) == 0
        for base in (a, b):
            page = get(f"{base}/codes/icd10cm/E11.9")[1]
            assert 'href="/policies/MP/SHARED-77"' in page and "Continuous glucose monitors" in page
            cited = api(base, "/api/v1/codes/icd10cm/E10.9/policies")
            assert [p["policy_id"] for p in cited["policies"]] == ["MP/SHARED-77"]
            assert "Continuous glucose monitors" in get(f"{base}/policies?q=glucose+monitors")[1]
            assert api(base, "/api/v1/policies/MP/SHARED-77")["number"] == "SHARED-77"
        assert main(["policies", "remove", "MP/SHARED-77", "--store", pg_url]) == 0
        for base in (a, b):
            assert "SHARED-77" not in get(f"{base}/codes/icd10cm/E11.9")[1]
            assert get(f"{base}/policies/MP/SHARED-77")[0] == 404


def test_generated_text_and_its_review_show_on_both(index_path: Path, tmp_path: Path, pg_url: str,  # noqa: F811
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with two_servers(index_path, tmp_path, pg_url) as (a, b):
        assert WRITTEN not in get(f"{a}/codes/icd10cm/E11.9")[1]
        with FakeLLM() as llm:
            monkeypatch.setenv("MEDCODES_LLM_BASE_URL", llm.base_url)
            monkeypatch.setenv("MEDCODES_LLM_MODEL", "fake")
            assert main(["content", "generate", "--quiet", "E11.9", "--db", str(index_path), "--store", pg_url]) == 0
        for base in (a, b):
            assert WRITTEN in get(f"{base}/codes/icd10cm/E11.9")[1]
            assert api(base, "/api/v1/codes/icd10cm/E11.9")["explainer"]["generated"]["review_status"] == "unreviewed"
        assert main(["content", "review", "E11.9", "--approve", "--reviewer", "ana", "--db", str(index_path),
                     "--store", pg_url]) == 0
        for base in (a, b):
            assert api(base, "/api/v1/codes/icd10cm/E11.9")["explainer"]["generated"]["review_status"] == "approved"


CODES = ["E10.9", "E11.65", "E11.8", "E11.9", "E13.9", "M16.11", "M16.12", "O24.41"]


def test_the_on_demand_queue_writes_each_code_once_across_servers(index_path: Path, tmp_path: Path,  # noqa: F811
                                                                   pg_url: str) -> None:
    with (FakeLLM(default="slow", slow_seconds=0.5) as llm,
          two_servers(index_path, tmp_path, pg_url, workers=2, MEDCODES_LLM_BASE_URL=llm.base_url,
                      MEDCODES_LLM_MODEL="fake", MEDCODES_ONDEMAND_CONCURRENCY="3") as (a, b)):
        urls = [f"{base}/codes/icd10cm/{code}" for code in CODES for base in (a, b)] * 3
        with ThreadPoolExecutor(12) as pool:  # every code asked of every worker of both servers at once
            assert {status for status, _ in pool.map(get, urls)} == {200}
        db = open_store(pg_url)
        wait_for(lambda: db.execute("SELECT COUNT(*) FROM content_explainers").fetchone()[0] == len(CODES)
                 and db.execute("SELECT COUNT(*) FROM content_queue").fetchone()[0] == 0)
        stored = {r["code"]: r["attempts"] for r in db.execute("SELECT code, attempts FROM content_explainers")}
        assert sorted(stored) == CODES
        assert db.execute("SELECT COUNT(*) FROM content_failures").fetchone()[0] == 0
        for code, attempts in stored.items():  # generated once, by one worker of one server
            asked = sum(f"Code: {code}\n" in "\n".join(str(m.get("content")) for m in r["messages"]) + "\n"
                        for r in llm.requests)
            assert asked == attempts, code
        for base in (a, b):
            assert WRITTEN in get(f"{base}/codes/icd10cm/E13.9")[1]
