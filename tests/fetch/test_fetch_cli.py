"""`medcodes fetch` and `medcodes update` on the real release table, served by a local publisher."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.cli import main
from medcodes.index import Catalog

from .publisher import Publisher, hcpcs_zip

APR_2025 = "/files/zip/april-2025-alpha-numeric-hcpcs-file.zip"
OCT_2026 = "/files/zip/october-2026-alpha-numeric-hcpcs-file.zip"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, publisher: Publisher) -> Path:
    monkeypatch.setenv("MEDCODES_CMS_BASE_URL", publisher.url)
    monkeypatch.setenv("MEDCODES_CDC_BASE_URL", publisher.url)
    monkeypatch.setenv("MEDCODES_FETCH_DIR", str(tmp_path / "downloads"))
    monkeypatch.setenv("MEDCODES_FETCH_TIMEOUT", "5")
    monkeypatch.setenv("MEDCODES_DB", str(tmp_path / "medcodes.sqlite"))
    return tmp_path


def test_fetch_then_update(env: Path, publisher: Publisher, capsys: pytest.CaptureFixture[str]) -> None:
    publisher.serve(APR_2025, hcpcs_zip("HCPC2025_APR_ANWEB.txt"))
    publisher.serve(OCT_2026, hcpcs_zip("HCPC2026_OCT_ANWEB.txt", drop=("J1100",)))
    assert main(["fetch", "hcpcs", "--release", "2025-apr"]) == 0
    cached = env / "downloads" / "hcpcs" / "2025-apr" / "april-2025-alpha-numeric-hcpcs-file.zip"
    assert capsys.readouterr().out.startswith(f"fetched {cached}  (0.0 MB)")

    assert main(["fetch", "hcpcs", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert f"hcpcs     2025-apr  2025-04-01  cached  {publisher.url}{APR_2025}" in listed
    assert f"hcpcs     2026-oct  2026-10-01  -       {publisher.url}{OCT_2026}" in listed

    assert main(["update", "hcpcs", "--no-default"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("fetched 1 new file(s), 0.0 MB\nrebuilt ") and "hcpcs " in out
    catalog = Catalog(env / "medcodes.sqlite")
    assert len(catalog.releases()["hcpcs"]) == 2 and catalog.history("hcpcs", "J1100")[-1].change == "deleted"
    catalog.conn.close()

    assert main(["update", "hcpcs", "--no-default"]) == 0
    up_to_date = f"{env / 'medcodes.sqlite'} is up to date (2 source files)"
    assert capsys.readouterr().out == f"fetched 0 new file(s)\n{up_to_date}\n"


def test_errors_are_one_clear_line(env: Path, publisher: Publisher, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "hcpcs", "--release", "2025-jul"]) == 1
    url = f"{publisher.url}/files/zip/july-2025-alpha-numeric-hcpcs-file.zip"
    assert capsys.readouterr().err == f"medcodes: error: {url}: HTTP 404 Not Found\n"
    assert main(["fetch"]) == 1
    assert "name a system to fetch: icd10cm, icd10pcs, hcpcs" in capsys.readouterr().err
    assert main(["fetch", "nope", "--list"]) == 1
    assert "no releases to fetch for 'nope'" in capsys.readouterr().err
    assert main(["update", "hcpcs", "--no-default"]) == 1
    assert "the index was not rebuilt:" in capsys.readouterr().err
    assert not (env / "medcodes.sqlite").exists()


def test_progress_bars_follow_each_file(capsys: pytest.CaptureFixture[str]) -> None:
    from medcodes.fetch.commands import _Bars

    bars = _Bars()
    bars("hcpcs 2025-jan a.zip", 1000, 4000)  # resumed at 1000 bytes
    bars("hcpcs 2025-jan a.zip", 4000, 4000)
    assert bars.bar.n == 4000
    bars("icd10cm 2026 b.zip", 10, None)  # a server that does not say the size
    assert bars.label == "icd10cm 2026 b.zip" and bars.bar.n == 10
    bars.close()
    bars.close()
    assert "a.zip" in capsys.readouterr().err
