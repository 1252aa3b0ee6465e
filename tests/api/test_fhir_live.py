"""FHIR over a real `medcodes serve`: large Parameters bodies (CodeSystems supplied as tx-resource)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import medcodes_serve


@pytest.fixture(scope="module")
def base(index_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with medcodes_serve(index_path, tmp_path_factory.mktemp("serve") / "serve.log") as url:
        yield f"{url}/fhir"


def test_a_large_body_is_not_taken_for_large_headers(base: str) -> None:
    """A 200 KB POST arrives with its headers in the same read; only the headers count against their cap."""
    concepts = [{"code": f"c{i}", "display": f"Concept number {i} " + "x" * 40} for i in range(2500)]
    cs = {"resourceType": "CodeSystem", "url": "http://example.org/big", "version": "1", "status": "active",
          "content": "complete", "concept": concepts}
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": "http://example.org/big?fhir_vs"}, {"name": "count", "valueInteger": 5},
        {"name": "tx-resource", "resource": cs}]}
    data = json.dumps(body).encode()
    assert len(data) > 150_000
    req = urllib.request.Request(f"{base}/ValueSet/$expand", data=data, method="POST",
                                 headers={"Content-Type": "application/fhir+json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        vs = json.loads(r.read())
    assert vs["expansion"]["total"] == 2500 and len(vs["expansion"]["contains"]) == 5


def test_headers_over_the_cap_are_still_refused(base: str) -> None:
    req = urllib.request.Request(f"{base}/metadata", headers={"X-Big": "y" * (70 * 1024)})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    e.value.close()
    assert e.value.code == 431
