"""The README documents every setting and every command (STYLE.md principle 6)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from medcodes import settings
from medcodes.cli import COMMANDS, main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    missing = [s.name for s in settings.SETTINGS if f"`{s.name}`" not in README]
    assert missing == []


def test_every_command_is_in_the_readme() -> None:
    missing = [name for name, *_ in COMMANDS if f"medcodes {name}" not in README]
    assert missing == []


def test_readme_opens_with_the_two_commands() -> None:
    head = README[:1200]
    assert "make run" in head and "make check" in head


def test_help_lists_settings(capsys) -> None:  # type: ignore[no-untyped-def]
    try:
        main(["--help"])
    except SystemExit:
        pass
    out = capsys.readouterr().out
    assert all(s.name in out for s in settings.SETTINGS)


def test_the_layout_names_every_part_of_the_package() -> None:
    package = Path(__file__).resolve().parents[1] / "medcodes"
    layout = README[README.index("## Layout"):]
    parts = [f"medcodes/{p.name}/" for p in package.iterdir() if (p / "__init__.py").is_file()]
    parts += [f"medcodes/{p.name}" for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")]
    assert [p for p in parts if p not in layout] == []


def test_the_cli_reference_says_what_the_commands_do() -> None:
    """docs/CLI.md is generated from every command's --help (docs/cli_reference.py): an option added
    or changed without regenerating it fails here."""
    page = (REPO / "docs" / "CLI.md").read_text(encoding="utf-8")
    made_with = re.search(r"\(Python (\d+)\.(\d+)\)", page)
    assert made_with, "docs/CLI.md names the Python that generated it"
    if tuple(map(int, made_with.groups())) != sys.version_info[:2]:
        pytest.skip("argparse words its help differently in another Python version")
    proc = subprocess.run([sys.executable, str(REPO / "docs" / "cli_reference.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "## medcodes search" in page and "--as-of DATE" in page
