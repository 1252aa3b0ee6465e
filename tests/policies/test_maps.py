"""Policy-to-code maps as data (CSV, JSON), and the real BCBS MN / FEP maps with their ICD-10 ranges expanded."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from medcodes.cli import main
from medcodes.errors import SourceError
from medcodes.model import Code
from medcodes.policies import policies_for_code
from medcodes.policies.linking import CatalogChecker, MemoryChecker
from medcodes.policies.maps import MapReport, map_records, read_rows
from medcodes.policies.store import PolicyStore

CSV_MAP = """Payer,Policy ID,Title,URL,Code,Section
Acme Health,MP-1,Knee Braces,https://acme.example/mp-1,L1832,covered
Acme Health,MP-1,Knee Braces,https://acme.example/mp-1,"M25.511 - M25.519, M54.50",covered
Acme Health,MP-2,Sleep Apnea,,G47.33,not covered
Acme Health,MP-2,Sleep Apnea,,64582-64584,investigational
Acme Health,MP-3,Nothing,,Varies,
"""


def test_csv_map_rows_become_policies(tmp_path: Path, checker: CatalogChecker, store: PolicyStore) -> None:
    path = tmp_path / "map.csv"
    path.write_text(CSV_MAP)
    report = MapReport()
    records = list(map_records(read_rows(path), checker, report))
    assert [r.policy_id for r in records] == ["acme-health-mp-1", "acme-health-mp-2", "acme-health-mp-3"]
    knee = records[0]
    assert knee.url == "https://acme.example/mp-1" and knee.kind == "map"
    assert {x.code for x in knee.links} >= {"M25.511", "M25.512", "M25.519", "M54.50"}
    assert report.unknown == ["Acme Health MP-1: L1832", "Acme Health MP-3: Varies"]  # L1832 not in the test catalog
    assert {(x.first, x.last, x.section) for x in records[1].ranges} == {("64582", "64584", "investigational")}
    for r in records:
        store.put(r)
    (p,) = policies_for_code(store.path, "icd10cm", "G47.33")
    assert (p["section"], p["title"]) == ("not_covered", "Sleep Apnea")


def test_reimporting_a_changed_map_versions_only_what_changed(tmp_path: Path, catalog_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path, store = tmp_path / "map.csv", tmp_path / "store.sqlite"
    path.write_text(CSV_MAP)
    args = ["policies", "import-map", str(path), "--db", str(catalog_path), "--store", str(store), "--json"]
    assert main(args) == 0
    assert [r["status"] for r in json.loads(capsys.readouterr().out)] == ["new", "new", "new"]
    path.write_text(CSV_MAP.replace("G47.33,not covered", "G47.33,covered"))
    assert main(args) == 0
    assert [(r["status"], r["version"]) for r in json.loads(capsys.readouterr().out)] == [
        ("unchanged", 1), ("updated", 2), ("unchanged", 1)]


def test_json_maps_both_shapes(tmp_path: Path, checker: CatalogChecker) -> None:
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"payer": "P", "policy_id": "7.01", "title": "T", "codes": "E0720, A4595"}]))
    by_code = tmp_path / "by_code.json"
    by_code.write_text(json.dumps({"E0720": [{"Policy #": "7.01", "Full Policy": "T"}]}))
    a = list(map_records(read_rows(rows), checker))
    b = list(map_records(read_rows(by_code, payer="P"), checker))
    assert {x.code for x in a[0].links} == {"E0720", "A4595"} and {x.code for x in b[0].links} == {"E0720"}
    assert a[0].policy_id == b[0].policy_id == "p-7.01"


def test_bad_maps_are_clean_errors(tmp_path: Path) -> None:
    no_payer = tmp_path / "m.csv"
    no_payer.write_text("Policy,Code\nMP-1,E11.9\n")
    with pytest.raises(SourceError, match="no payer"):
        list(read_rows(no_payer))
    no_code = tmp_path / "n.csv"
    no_code.write_text("Policy,Title\nMP-1,x\n")
    with pytest.raises(SourceError, match="no code column"):
        list(read_rows(no_code, payer="P"))
    broken = tmp_path / "b.json"
    broken.write_text("[{")
    with pytest.raises(SourceError, match="not JSON"):
        list(read_rows(broken, payer="P"))


# -- real data ----------------------------------------------------------------------------
def real_checker(shared: Path) -> MemoryChecker:
    """ICD-10-CM (FY2025 order file, with headers, in tabular order) and HCPCS (Jan 2025) from official files."""
    from medcodes.sources import hcpcs

    zpath = shared / "cms_icd10cm_fy2025_code_descriptions" / "2025-code-descriptions-tabular-order.zip"
    with zipfile.ZipFile(zpath) as z:
        text = io.TextIOWrapper(z.open("icd10cm_order_2025.txt"), encoding="latin-1")
        icd = [line[6:13].strip() for line in text]
    hz = shared / "cms_hcpcs_2025_jan" / "january-2025-alpha-numeric-hcpcs-file.zip"
    codes = [r.code for r in hcpcs.read(hz) if isinstance(r, Code) and r.system == "hcpcs"]
    return MemoryChecker({"icd10cm": icd, "hcpcs": codes})


@pytest.fixture(scope="module")
def real(request: pytest.FixtureRequest) -> tuple[Path, MemoryChecker]:
    shared = request.getfixturevalue("shared_data")
    return shared / "payer_policies_bcbsmn_fep_2021", real_checker(shared)


@pytest.mark.realdata
def test_bcbsmn_code_to_policy_map(real: tuple[Path, MemoryChecker]) -> None:
    folder, checker = real
    report = MapReport()
    records = list(map_records(read_rows(folder / "bcbsmn_code_to_policy.json", payer="BCBS Minnesota"), checker,
                               report))
    assert report.rows == 2176 and report.policies == 326 == len(records)
    assert (report.links, report.ranges) == (2132, 3)  # 80150-80299 and two more CPT ranges stay ranges
    vns = next(r for r in records if r.number == "IV-131")
    assert vns.title == "Vagus Nerve Stimulation" and any(x.code == "K1020" for x in vns.links)
    # Not linked: 21 dental (CDT) codes, which are not HCPCS Level II; "N/A", "Varies"...; J1347, deleted by 2025
    assert len(report.unknown) == 37 and sum(": D" in u for u in report.unknown) == 21
    assert "BCBS Minnesota II-243: J1347" in report.unknown


@pytest.mark.realdata
def test_fep_policies_with_icd10_ranges_expanded(real: tuple[Path, MemoryChecker]) -> None:
    folder, checker = real
    report = MapReport()
    records = list(map_records(read_rows(folder / "fep_policies_full_with_icd10.json", payer="FEP"), checker,
                               report))
    assert report.rows == 1258 and len(records) == 757  # two policy numbers appear twice
    tens = next(r for r in records if r.number == "1.01.09")
    icd = {x.code for x in tens.links if x.system == "icd10cm"}
    assert {"M25.50", "M25.511", "M25.579", "M54.10", "M54.18", "G89.4", "R52"} <= icd
    assert "M25.58" not in icd  # the range ends at M25.579
    fracture = next(r for r in records if r.number == "1.01.05")
    s42 = sorted(x.code for x in fracture.links if x.code.startswith("S42"))
    assert s42 and all(c.endswith("A") and len(c.replace(".", "")) == 7 for c in s42)  # initial encounters only
    assert "FEP 1.01.05: M80.M84" in report.unknown
