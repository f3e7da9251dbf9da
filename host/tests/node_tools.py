"""The repository's pinned pyright (``npm ci``), or ``npx pyright@<pinned>``; skips the test
only when node is not installed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pyright_command() -> list[str]:
    local = ROOT / "node_modules" / ".bin" / "pyright"
    if local.exists() and shutil.which("node"):
        return [str(local)]
    if shutil.which("npx") is None or shutil.which("node") is None:
        pytest.skip("node/npx not installed: pyright cannot run")
    version = json.loads((ROOT / "package.json").read_text())["devDependencies"]["pyright"]
    return ["npx", "--yes", f"pyright@{version}"]
