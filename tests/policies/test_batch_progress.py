"""A batch ingest says what it stored as it goes: stopped half way (killed, interrupted), the lines
already printed name every document it stored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from medcodes.cli import main
from medcodes.policies.store import PolicyStore

from .corpus import CORPUS

DOCS = ("01-cpb-spinal-cord-stimulation.html", "10-plain-policy-cardiac-rehab.txt",
        "04-coverage-policy-sleep-apnea.html")


@pytest.mark.parametrize("as_json", [False, True])
def test_an_interrupted_batch_has_said_what_it_stored(tmp_path: Path, catalog_path: Path, as_json: bool,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in DOCS:
        shutil.copy(CORPUS / name, folder / name)
    real_put, calls = PolicyStore.put, []

    def put(self: PolicyStore, record: object) -> object:
        calls.append(record)
        if len(calls) == 3:
            raise KeyboardInterrupt  # as Ctrl-C (or a kill) in the middle of the third document
        return real_put(self, record)  # type: ignore[arg-type]

    monkeypatch.setattr(PolicyStore, "put", put)
    args = ["policies", "ingest", str(folder), "--db", str(catalog_path), "--store", str(tmp_path / "s.sqlite")]
    assert main(args + (["--json"] if as_json else [])) == 130
    out, err = capsys.readouterr()
    said = (err if as_json else out).splitlines()
    stored = [line for line in said if line.startswith("new ")]
    assert len(stored) == 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(out or "x")  # no half JSON array


@pytest.mark.parametrize("command", ["import-map", "import-mcd"])
def test_an_interrupted_import_has_said_what_it_stored(tmp_path: Path, catalog_path: Path, command: str,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The same for the imports of many policies at once: each is reported as soon as it is stored,
    not all together at the end (when a killed import has said nothing)."""
    from .test_maps import CSV_MAP
    from .test_mcd_bulk import export_zip

    if command == "import-map":
        source = tmp_path / "map.csv"
        source.write_text(CSV_MAP)
    else:
        source = export_zip(tmp_path / "export.zip")
    real_put, calls = PolicyStore.put, []

    def put(self: PolicyStore, record: object) -> object:
        calls.append(record)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_put(self, record)  # type: ignore[arg-type]

    monkeypatch.setattr(PolicyStore, "put", put)
    args = ["policies", command, str(source), "--db", str(catalog_path), "--store", str(tmp_path / "s.sqlite")]
    assert main(args) == 130
    stored = [line for line in capsys.readouterr().out.splitlines() if line.startswith("new ")]
    assert len(stored) == 2
