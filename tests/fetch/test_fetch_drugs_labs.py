"""`medcodes fetch` and `update` for LOINC, NDC and RxNorm, served by a local publisher."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.cli import main
from medcodes.index import Catalog

from .publisher import Publisher, make_zip

DATA = Path(__file__).resolve().parents[1] / "data"
RXNORM = "/rxnorm/RxNorm_full_prescribe_11022026.zip"
NDC = "/cder/ndctext.zip"
CROSSWALK = "/files/zip/october-2026-asp-ndc-hcpcs-crosswalk.zip"
LOINC = "/download/loinc-complete/"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, publisher: Publisher) -> Path:
    for name in ("CMS", "FDA", "NLM", "LOINC"):
        monkeypatch.setenv(f"MEDCODES_{name}_BASE_URL", publisher.url)
    monkeypatch.setenv("MEDCODES_FETCH_DIR", str(tmp_path / "downloads"))
    monkeypatch.setenv("MEDCODES_FETCH_TIMEOUT", "5")
    monkeypatch.setenv("MEDCODES_DB", str(tmp_path / "medcodes.sqlite"))
    return tmp_path


def test_rxnorm_and_ndc_fetch_then_update(env: Path, publisher: Publisher,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    publisher.serve(RXNORM, make_zip({"rrf/RXNCONSO.RRF": (DATA / "rxnorm" / "RXNCONSO.RRF").read_bytes()}))
    publisher.serve(NDC, make_zip({n: (DATA / "ndc" / n).read_bytes() for n in ("product.txt", "package.txt")}))
    publisher.serve(CROSSWALK, make_zip({"Oct 2026 ASP NDC-HCPCS Crosswalk 508.csv":
                                         (DATA / "ndc" / "asp-ndc-hcpcs-crosswalk.csv").read_bytes()}))
    assert main(["fetch", "rxnorm"]) == 0
    assert main(["fetch", "ndc"]) == 0
    out = capsys.readouterr().out
    assert "rxnorm/2026-11-02/RxNorm_full_prescribe_11022026.zip" in out and "ndc/2026-oct/ndctext.zip" in out
    assert main(["update", "rxnorm", "ndc", "--no-default"]) == 0
    catalog = Catalog(env / "medcodes.sqlite")
    try:
        assert catalog.releases()["rxnorm"] == ["RxNorm prescribable content 2026-11-02"]
        assert catalog.row("rxnorm", "900002")["title"] == "examplol 10 MG Oral Tablet"
        links = catalog.crosswalks("ndc", "00002-1111-25")
        assert [(x.system, x.code, x.attributes["bill_units_per_package"]) for x in links] == [
            ("hcpcs", "J1100", "500")]
    finally:
        catalog.conn.close()


def test_loinc_asks_for_the_users_download(env: Path, publisher: Publisher,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    publisher.serve(LOINC, b"<html><body>Please log in</body></html>")
    assert main(["fetch", "loinc"]) == 1
    cached = env / "downloads" / "loinc" / "2.81" / "Loinc_2.81.zip"
    err = capsys.readouterr().err
    assert "not a readable zip" in err and "loinc.org asks for a free account" in err and str(cached) in err
    cached.write_bytes(make_zip({"LoincTable/Loinc.csv": (DATA / "loinc" / "Loinc.csv").read_bytes()}))
    assert main(["fetch", "loinc"]) == 0
    assert capsys.readouterr().out.startswith(f"cached  {cached}")
    assert main(["update", "loinc", "--no-default"]) == 0
    catalog = Catalog(env / "medcodes.sqlite")
    try:
        assert catalog.releases()["loinc"] == ["LOINC 2.81"]
        assert catalog.row("loinc", "99001-2")["title"] == "Fictitium [Mass/volume] in Serum or Plasma"
    finally:
        catalog.conn.close()
