"""The content_ tables in the shared store file, content packs, and `medcodes content ...`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from medcodes.cli import main
from medcodes.content.fakellm import FakeLLM
from medcodes.content.pack import read_pack
from medcodes.content.prompt import PROMPT_VERSION
from medcodes.content.store import MIGRATIONS, ContentStore
from medcodes.errors import BadRequest, MedcodesError, SourceError

ITEM = {"system": "icd10cm", "code": "E11.9", "prompt_version": PROMPT_VERSION, "section_set": "diagnosis",
        "sections": [{"key": "summary", "title": "Summary", "text": "A made-up summary."}], "model": "m",
        "created": "2026-01-02T03:04:05Z", "facts_hash": "x"}


def test_store_shares_the_file_and_migrates_once(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as other:  # another layer's tables in the same file
        other.execute("CREATE TABLE policies (id INTEGER PRIMARY KEY)")
    store = ContentStore(path)
    assert store.migrate() == []  # already applied by the constructor
    tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {t for t in tables if t != "policies"} == {"content_explainers", "content_reviews", "content_failures",
                                                     "content_migrations", "content_queue"}
    applied = [r[0] for r in store.conn.execute("SELECT name FROM content_migrations")]
    assert applied == [name for name, _ in MIGRATIONS]


def test_reading_never_creates_the_store(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "none.sqlite", create=False)
    assert store.get("icd10cm", "E11.9") is None and store.done(PROMPT_VERSION) == set()
    assert not (tmp_path / "none.sqlite").exists()


def test_review_choice_and_history(store_location: str) -> None:
    store = ContentStore(store_location)
    store.put(ITEM)
    store.put({**ITEM, "prompt_version": "explainer-0", "created": "2025-01-01T00:00:00Z"})
    assert store.get("icd10cm", "E11.9")["prompt_version"] == PROMPT_VERSION  # type: ignore[index]  # newest
    store.review("icd10cm", "E11.9", "approved", reviewer="ana", prompt_version="explainer-0")
    assert store.get("icd10cm", "E11.9")["prompt_version"] == "explainer-0"  # type: ignore[index]  # approved wins
    assert store.reviews("icd10cm", "E11.9")[0]["reviewer"] == "ana"
    with pytest.raises(BadRequest, match="review status 'great'"):
        store.review("icd10cm", "E11.9", "great")
    with pytest.raises(MedcodesError, match="no generated text stored"):
        store.review("icd10cm", "E10.9", "approved")


def _pack(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "pack.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def test_bad_packs_name_the_line(tmp_path: Path) -> None:
    head = {"format": "medcodes-content-pack", "version": 1}
    with pytest.raises(SourceError, match=r"pack.jsonl:1: not a content pack"):
        read_pack(_pack(tmp_path, {"hello": 1}))
    with pytest.raises(SourceError, match=r":1: content pack version 2"):
        read_pack(_pack(tmp_path, {**head, "version": 2}))
    with pytest.raises(SourceError, match=r":3: \$: missing 'sections'"):
        read_pack(_pack(tmp_path, head, ITEM, {k: v for k, v in ITEM.items() if k != "sections"}))
    with pytest.raises(SourceError, match=r":2: not JSON"):
        read_pack(_pack(tmp_path, head, "{oops"))
    with pytest.raises(SourceError, match=r"\$.system: 'nope' is not one of"):
        read_pack(_pack(tmp_path, head, {**ITEM, "system": "nope"}))
    (tmp_path / "latin1.jsonl").write_bytes(json.dumps(head).encode() + b"\n\xff\xfe\n")
    with pytest.raises(SourceError, match="not UTF-8"):
        read_pack(tmp_path / "latin1.jsonl")
    assert read_pack(_pack(tmp_path, head, {**ITEM, "code": "e119"}))[0]["code"] == "E11.9"


@pytest.fixture()
def env(index_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_location: str) -> Path:
    """The CLI's settings: the test index and a store on each backend (a file, then PostgreSQL)."""
    monkeypatch.setenv("MEDCODES_DB", str(index_path))
    monkeypatch.setenv("MEDCODES_STORE", store_location)
    return tmp_path


def test_cli_generate_review_export_import(env: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM() as llm:
        monkeypatch.setenv("MEDCODES_LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("MEDCODES_LLM_MODEL", "fake")
        assert main(["content", "generate", "--dry-run", "E11*"]) == 0
        assert capsys.readouterr().out.startswith("4 to generate, 0 already stored")
        assert main(["content", "generate", "--quiet", "-j", "2", "E11*", "M16.11"]) == 0
        out, err = capsys.readouterr()
        assert "generated 5, failed 0, skipped 0" in out and "5 to generate with fake at concurrency 2" in err
        assert main(["content", "generate", "--quiet", "E11*"]) == 0
        assert "generated 0, failed 0, skipped 4" in capsys.readouterr().out
    assert main(["content", "review", "E11.9", "--approve", "--reviewer", "ana", "--note", "checked"]) == 0
    out = capsys.readouterr().out
    assert "review status: approved by ana" in out and "\nSummary\n" in out
    pack = env / "out.jsonl"
    assert main(["content", "export", str(pack), "--status", "approved"]) == 0
    lines = pack.read_text().splitlines()
    assert json.loads(lines[0])["count"] == 1 and json.loads(lines[1])["review_status"] == "approved"
    other = env / "other.sqlite"
    assert main(["content", "import", str(pack), "--store", str(other)]) == 0
    assert "imported 1 new, replaced 0, kept 0" in capsys.readouterr().out
    assert main(["content", "import", str(pack), "--store", str(other)]) == 0
    assert "imported 0 new, replaced 0, kept 1" in capsys.readouterr().out
    assert ContentStore(other).get("icd10cm", "E11.9")["origin"] == "imported"  # type: ignore[index]


def test_cli_errors_are_clean(env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDCODES_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("MEDCODES_LLM_MODEL", raising=False)
    assert main(["content"]) == 1
    assert main(["content", "generate", "E11.9"]) == 1
    assert main(["content", "review", "E10.9"]) == 1
    assert main(["content", "generate", "X99.9"]) == 1
    err = capsys.readouterr().err
    assert "say what to do" in err and "no model configured" in err and "no generated text stored" in err
    assert "no code matches 'X99.9'" in err and "Traceback" not in err


def test_an_imported_approval_is_only_a_note(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A pack line saying "approved" is text anyone can write: imported, it is unreviewed until
    someone here approves it, and the code page says so."""
    from medcodes.content.pack import PACK_FORMAT

    line = {"system": "icd10cm", "code": "E11.9", "prompt_version": "p1", "model": "m",
            "created": "2026-01-01T00:00:00Z",
            "sections": [{"title": "Summary", "text": "Invented summary text."}],
            "review_status": "approved", "reviewed_by": "someone", "reviewed_at": "2026-01-02"}
    rejected = {**line, "code": "E11.8", "review_status": "rejected"}
    pack = env / "claims.jsonl"
    pack.write_text("\n".join(json.dumps(x) for x in ({"format": PACK_FORMAT, "version": 1}, line, rejected)) + "\n")
    store = env / "claims.sqlite"
    assert main(["content", "import", str(pack), "--store", str(store)]) == 0
    item = ContentStore(store).get("icd10cm", "E11.9")
    assert item is not None and item["review_status"] == "unreviewed" and item["reviewed_by"] is None
    assert item["review_note"] == "the content pack said approved by someone on 2026-01-02"
    assert ContentStore(store).get("icd10cm", "E11.8") is None  # a claimed rejection still hides it
    capsys.readouterr()
    assert main(["content", "review", "E11.9", "--store", str(store)]) == 0
    assert "review status: unreviewed" in capsys.readouterr().out
    page = _code_page(store, "/codes/icd10cm/E11.9")
    assert "Invented summary text." in page and "review status: unreviewed" in page and "approved" not in page
    assert main(["content", "review", "E11.9", "--approve", "--reviewer", "ana", "--store", str(store)]) == 0
    assert ContentStore(store).get("icd10cm", "E11.9")["review_status"] == "approved"  # type: ignore[index]


def _code_page(store: Path, path: str) -> str:
    import os
    import warnings

    from starlette.exceptions import StarletteDeprecationWarning

    from medcodes.web.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient
    with TestClient(create_app(os.environ["MEDCODES_DB"], store=store)) as client:
        r = client.get(path)
        assert r.status_code == 200
        return r.text


def test_cli_lists_failed_codes(env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM(per_code={"E10.9": ["invented"] * 3}) as llm:
        monkeypatch.setenv("MEDCODES_LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("MEDCODES_LLM_MODEL", "fake")
        assert main(["content", "generate", "--quiet", "E10.9"]) == 1  # a failed code: exit 1
    capsys.readouterr()
    assert main(["content", "review", "--failed"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("icd10cm E10.9") and "names code Z99.999" in out and err.startswith("1 code with failed text")
