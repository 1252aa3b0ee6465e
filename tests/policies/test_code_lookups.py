"""Reading policies by code: co-cited codes in two queries, and `medcodes policies codes` for a code that is
ICD-9-CM in the index but CPT in the policies ("63650": ICD-9-CM 636.50 or CPT 63650)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medcodes.app.build import build_from_records
from medcodes.cli import main
from medcodes.model import Code, Release
from medcodes.policies import co_cited_codes
from medcodes.policies.records import Link, PolicyRecord, RangeLink
from medcodes.policies.store import PolicyStore, text_hash


def _policy(pid: str, links: list[tuple[str, str]], ranges: tuple[RangeLink, ...] = ()) -> PolicyRecord:
    return PolicyRecord(payer="Made-up plan", title=f"Made-up policy {pid}", kind="document",
                        content_hash=text_hash(pid), policy_id=pid, ranges=ranges,
                        links=tuple(Link(s, c, "covered", f"{c} is covered", c, s != "cpt") for s, c in links))


def test_co_cited_codes(store: PolicyStore) -> None:
    store.put(_policy("a", [("cpt", "63650"), ("cpt", "63685"), ("icd10cm", "G89.4")]))
    store.put(_policy("b", [("cpt", "63650"), ("cpt", "63685")]))
    store.put(_policy("c", [("cpt", "99999")], (RangeLink("cpt", "63650", "63688", "coding", "63650-63688", "x"),)))
    store.put(_policy("broad", [("cpt", "63650")] + [("icd10cm", f"Z{n:02d}.0") for n in range(100)]
                      + [("icd10cm", f"Y{n:02d}.0") for n in range(101)]))
    got = {(x["system"], x["code"]): x["count"] for x in co_cited_codes(store.path, "cpt", "63650")}
    # c cites 63650 only through its range; broad cites 201 codes and says nothing about any pair
    assert got == {("cpt", "63685"): 2, ("icd10cm", "G89.4"): 1, ("cpt", "99999"): 1}
    assert co_cited_codes(store.path, "cpt", "11111") == []
    if isinstance(store.path, Path):  # a store file not made yet reads as empty
        assert co_cited_codes(store.path.with_name("absent.sqlite"), "cpt", "63650") == []


@pytest.fixture()
def lookalike(tmp_path: Path) -> list[str]:
    index = tmp_path / "index.sqlite"
    build_from_records([Release("icd9cm", "ICD-9-CM test"), Code("icd9cm", "636.50", "Invented ICD-9-CM code")], index)
    store = PolicyStore(tmp_path / "store.sqlite")
    store.put(_policy("scs", [("cpt", "63650")]))
    store.close()
    return ["--db", str(index), "--store", str(tmp_path / "store.sqlite")]


def test_policies_codes_finds_the_system_with_policies(lookalike: list[str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies", "codes", "63650", *lookalike]) == 0
    out = capsys.readouterr().out
    assert "Medical policies and guidelines for 63650 (CPT): 1" in out and "636.50" not in out
    assert main(["policies", "codes", "63650", *lookalike, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["system"], row["code"], row["policy_id"]) == ("cpt", "63650", "scs")
    assert main(["policies", "codes", "63650", "--system", "icd9cm", *lookalike]) == 0
    assert "for 636.50 (ICD-9-CM): 0" in capsys.readouterr().out
    assert main(["policies", "codes", "636.51", *lookalike]) == 0  # no system has policies: the first guess, 0
    assert ": 0" in capsys.readouterr().out
