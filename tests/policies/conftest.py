"""A small index of the codes the policy corpus cites (tests/data/policies/catalog.tsv), and a fresh store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medcodes import systems
from medcodes.app.build import build_from_records
from medcodes.index import Catalog
from medcodes.model import Code, Record, Release
from medcodes.policies.linking import CatalogChecker
from medcodes.policies.store import PolicyStore

DATA = Path(__file__).resolve().parents[1] / "data" / "policies"


def catalog_records(path: Path = DATA / "catalog.tsv") -> Iterator[Record]:
    """ICD-10-CM codes hang under their longest listed prefix, as in the tabular list."""
    rows = [line.rstrip("\n").split("\t") for line in path.read_text().splitlines() if not line.startswith("#")]
    present = {(s, systems.compact(c)) for s, c, _, _ in rows}
    for system in sorted({r[0] for r in rows}):
        yield Release(system, f"{systems.get(system).name} policy test sample")
    for system, code, billable, title in rows:
        compact, parent = systems.compact(code), None
        if system == "icd10cm":
            for n in range(len(compact) - 1, 2, -1):
                if (system, compact[:n]) in present:
                    parent = systems.normalize(system, compact[:n])
                    break
        kind = "category" if system == "icd10cm" and len(compact) == 3 else "code"
        yield Code(system, code, title, kind=kind, billable=billable == "1", parent=parent)


@pytest.fixture(scope="session")
def catalog_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("policies") / "index.sqlite"
    build_from_records(list(catalog_records()), out)
    return out


@pytest.fixture(scope="session")
def catalog(catalog_path: Path) -> Catalog:
    return Catalog(catalog_path)


@pytest.fixture(scope="session")
def checker(catalog: Catalog) -> CatalogChecker:
    return CatalogChecker(catalog)


@pytest.fixture()
def store(store_location: str) -> Iterator[PolicyStore]:
    """A policy store on each backend: a SQLite file, then a PostgreSQL database."""
    s = PolicyStore(store_location)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _local_servers_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sites these tests fetch from run on 127.0.0.1, which medcodes refuses unless told."""
    monkeypatch.setenv("MEDCODES_ALLOW_PRIVATE_URLS", "1")
