"""One exit-code table: ``meterbench --help`` and the README say the same."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from meterbench.cli import app
from meterbench.exit_codes import EXIT_CODES

README = Path(__file__).resolve().parents[2] / "README.md"


def test_help_and_readme_list_every_exit_code() -> None:
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    text = README.read_text(encoding="utf-8")
    for code, meaning in EXIT_CODES:
        assert f"{code}: {meaning}" in " ".join(shown.split()), code
        assert f"| {code} | {meaning} |" in text, code
