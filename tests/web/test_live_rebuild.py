"""`medcodes build --out` onto the file a `medcodes serve --workers 2` is serving, under load: every
answer is a good one, and once the build is done every worker answers from the new file."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from .. import live

# four builds under a two-worker server hammered by six clients: most of a minute of CPU; `make check` runs it
pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[1] / "data"
HCPCS = f"hcpcs={DATA / 'hcpcs' / 'HCPC2025_JAN_ANWEB_fixture.txt'}"
ICD10CM = f"icd10cm={DATA / 'icd10cm' / 'icd10cm_tabular_2026.xml'}"


def _build(out: Path, *sources: str) -> None:
    args = [a for s in sources for a in ("--source", s)]
    subprocess.run([sys.executable, "-m", "medcodes", "build", "--no-default", *args, "--out", str(out)],
                   check=True, capture_output=True, timeout=300)


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            r.read()
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code


def _hammer(base: str, stop: threading.Event, statuses: Counter[tuple[str, int]], n: int) -> None:
    i = n * 100_000
    while not stop.is_set():
        i += 1
        # never the same search twice: each is worked out, not remembered
        statuses[("search", _get(f"{base}/api/v1/search?q=neoplasm+lip&limit={i % 90 + 1}&offset={i % 7}"))] += 1
        statuses[("J1100", _get(f"{base}/api/v1/codes/hcpcs/J1100"))] += 1
        statuses[("page", _get(f"{base}/search?q=malignant+{i}"))] += 1


def test_rebuilding_under_a_two_worker_server(tmp_path: Path) -> None:
    index = tmp_path / "served.sqlite"
    _build(index, HCPCS)
    with live.medcodes_serve(index, tmp_path / "serve.log", "--workers", "2",
                             env={"MEDCODES_STORE": str(tmp_path / "store.sqlite")}) as base:
        assert _get(f"{base}/api/v1/codes/icd10cm/C00.0") == 404
        stop = threading.Event()
        statuses: Counter[tuple[str, int]] = Counter()
        threads = [threading.Thread(target=_hammer, args=(base, stop, statuses, n)) for n in range(6)]
        for t in threads:
            t.start()
        try:
            for sources in ((HCPCS, ICD10CM), (HCPCS,), (HCPCS, ICD10CM)):
                _build(index, *sources)
        finally:
            stop.set()
            for t in threads:
                t.join()
        bad = {k: v for k, v in statuses.items() if k[1] != 200}
        assert not bad, f"{bad} of {sum(statuses.values())} answers"
        # built with ICD-10-CM last: each of the many new connections, whichever worker takes it, sees it
        after = Counter(_get(f"{base}/api/v1/codes/icd10cm/C00.0") for _ in range(40))
        assert after == Counter({200: 40})
        assert Counter(_get(f"{base}/api/v1/search?q=neoplasm+lip&limit={k}") for k in range(1, 21)) == \
            Counter({200: 20})
