"""scripts/install-test-services installs what is missing, and only that, with apt-get."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "install-test-services"


def _run(tmp_path: Path, *, pg: bool, chromium: bool) -> tuple[int, list[str]]:
    """Run the script against a fake machine: stub apt-get and sudo log their arguments."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "calls"
    for name in ("apt-get", "sudo"):
        stub = stubs / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> {log}\n')
        stub.chmod(0o755)
    initdb = tmp_path / "pg" / "15" / "bin" / "initdb"
    browser = tmp_path / "chromium"
    if pg:
        initdb.parent.mkdir(parents=True)
        initdb.write_text("")
    if chromium:
        browser.write_text("#!/bin/sh\n")
        browser.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{stubs}:{os.environ['PATH']}",
        "PG_INITDB_GLOB": str(tmp_path / "pg" / "*" / "bin" / "initdb"),
        "CHROMIUM_PATH": str(browser),
    }
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True)
    calls = log.read_text().splitlines() if log.exists() else []
    return done.returncode, [c.removeprefix("sudo ") for c in calls]


@pytest.mark.parametrize(
    ("pg", "chromium", "wanted"),
    [
        (True, True, None),
        (False, True, "postgresql"),
        (True, False, "chromium"),
        (False, False, "postgresql chromium"),
    ],
)
def test_installs_only_what_is_missing(tmp_path, pg, chromium, wanted):
    code, calls = _run(tmp_path, pg=pg, chromium=chromium)
    assert code == 0
    if wanted is None:
        assert calls == []
    else:
        assert calls[0] == "apt-get update -q"
        assert calls[1] == f"apt-get install -y -q --no-install-recommends {wanted}"


def test_ci_runs_exactly_the_readme_test_command():
    root = SCRIPT.parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    ci = (root / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci.startswith("scripts/install-test-services && ")
    assert f"\n{ci}\n" in readme
