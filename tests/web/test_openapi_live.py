"""The OpenAPI document against a real `medcodes serve`: schemathesis sends what the document allows
(and what it forbids) to every operation and checks the answers: a valid request is never refused, an
invalid one never accepted, no 5xx, every answer in the declared shape. A fixed seed and a few examples
per operation keep it to seconds; `st run URL/openapi.json` without them searches longer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis  # noqa: F401  (fails here, not in a subprocess, when the test extra is missing)

from .. import live

SCHEMATHESIS = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"


@pytest.mark.slow  # a live server and about 650 requests: half a minute to a minute
def test_the_server_accepts_exactly_what_its_openapi_document_says(index_path: Path, tmp_path: Path) -> None:
    env = {"MEDCODES_STORE": str(index_path.with_name("medcodes-store.sqlite")), "MEDCODES_SEMANTIC": "off"}
    with live.medcodes_serve(index_path, tmp_path / "serve.log", env=env) as base:
        got = subprocess.run(
            [sys.executable, "-c", SCHEMATHESIS, "run", f"{base}/openapi.json", "--checks", "all",
             "--phases", "examples,coverage,fuzzing", "--max-examples", "10", "--seed", "7",
             "--request-timeout", "20", "--no-color"],
            capture_output=True, text=True, timeout=400, cwd=tmp_path)
    assert got.returncode == 0, got.stdout[-8000:] + got.stderr[-2000:]
    assert "No issues found" in got.stdout
