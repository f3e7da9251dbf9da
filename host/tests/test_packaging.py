"""meterbench as a user installs it: the wheel, in a fresh venv outside the checkout, run from
a directory that is not the repository.

The wheel is built from a clean copy of the sources, installed with its declared dependencies
only (no system site-packages, no source tree on the path), and the commands a new user types
must work with the names of the shipped files: list, plan show, sim serve, run, demo (whose
Chinese PDFs must contain only characters the shipped font has) and firmware build, which
first names its missing extra in one line and works once the extra is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
COPY_IGNORE = shutil.ignore_patterns(
    ".venv", "node_modules", "typings", "build", "dist", "*.egg-info", "__pycache__", ".git"
)
TIMEOUT_S = 600  # a safety net for a hung install, not a measured time

pytestmark = pytest.mark.packaging


def test_every_package_directory_is_in_the_wheel() -> None:
    """The package list is written out (data directories are mapped into it), so a new
    sub-package must be added there; this says which."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(base).parts)
        for base in (ROOT / "host", ROOT / "protocols")
        for init in base.glob("meter*/**/__init__.py")
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def _run(
    args: list[str | Path], cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(venv, wheel, env): the wheel installed into a fresh venv, with the environment to run
    its commands (no PYTHONPATH, nothing of the checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=COPY_IGNORE, symlinks=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    pip = [sys.executable, "-m", "pip"]
    wheels = base / "wheels"
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, source]
    _run(build, base, env)
    (wheel,) = wheels.glob("meterbench-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], base, env)
    _run([*pip, "--python", venv / "bin" / "python", "install", "-q", wheel], base, env)
    env["METERBENCH_DB"] = str(base / "results.db")
    return venv, wheel, env


def test_installed_commands_work_from_any_directory(
    installed: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, wheel, env = installed
    command = venv / "bin" / "meterbench"
    python = venv / "bin" / "python"
    where = _run([python, "-c", "import meterbench; print(meterbench.__file__)"], tmp_path, env)
    assert not Path(where.stdout.strip()).is_relative_to(ROOT)

    listed = _run([command, "list", "benches", "--json"], tmp_path, env)
    assert {"sim-1p-24", "sim-water-10"} <= {b["name"] for b in json.loads(listed.stdout)}

    shown = _run(
        [command, "plan", "show", "jjg596-2012-initial", "--meter-type", "1p-class2-5-60a"],
        tmp_path,
        env,
    )
    assert "jjg596-2012-initial" in shown.stdout

    unknown = _run(
        [command, "run", "--bench", "no-such-bench", "--plan", "x", "--meters", "y"],
        tmp_path,
        env,
        check=False,
    )
    assert unknown.returncode == 2 and len(unknown.stderr.splitlines()) == 1
    assert "sim-1p-24" in unknown.stderr  # the shipped benches are listed

    served = _run(
        [command, "sim", "serve", "--bench", "sim-1p-24", "--json", "--seconds", "0"], tmp_path, env
    )
    endpoints = json.loads(served.stdout.splitlines()[0])["endpoints"]
    assert "controller C1" in endpoints and "source" in endpoints

    _electricity_run(command, tmp_path, env)
    _lab_server(python, tmp_path, env)
    _demo(command, tmp_path, env)
    _firmware(command, python, wheel, tmp_path, env)


def _lab_server(python: Path, cwd: Path, env: dict[str, str]) -> None:
    """The lab server imports with its dependencies and finds its templates and script."""
    code = (
        "from importlib.resources import files\n"
        "from pathlib import Path\n"
        "from meterbench.web.app import create_app\n"
        "web = files('meterbench.web')\n"
        "assert (web / 'templates' / 'run.html').is_file()\n"
        "assert 'EventSource' in (web / 'static' / 'live.js').read_text()\n"
        "create_app(Path('lab.db'))\n"
    )
    _run([python, "-c", code], cwd, env)


def _electricity_run(command: Path, cwd: Path, env: dict[str, str]) -> None:
    """``run`` on a shipped bench with the user's own short plan and meter list, whose meter
    types are shipped names."""
    plan = cwd / "comm.toml"
    plan.write_text(
        '[plan]\nid = "comm"\ntitle = "communication"\nregulation = "jjg596-2012"\n'
        'verification = "initial"\nkind = "electricity"\n\n'
        '[[items]]\ntype = "communication"\nchecks = ["read_address", "read_energy"]\n'
    )
    meters = cwd / "two.csv"
    meters.write_text(
        "position,type,serial,asset,address\n"
        "1,1p-class2-5-60a,SIM1P0001,A1,230715000001\n"
        "17,1p-class1-5-60a,SIM1P0017,A17,230715000017\n"
    )
    args = ["run", "--bench", "sim-1p-24", "--plan", plan, "--meters", meters, "--plain"]
    result = _run([command, *args], cwd, env)
    assert "completed" in result.stdout


def _demo(command: Path, cwd: Path, env: dict[str, str]) -> None:
    """The demo with shipped names on the water bench (the shortest shipped plan): a run, then
    records, certificates and the batch report with its plots, in Chinese."""
    out = cwd / "demo"
    args = ["demo", "--bench", "sim-water-10", "--plan", "jjg162-2019-water"]
    args += ["--meters", "sim-water-10", "--out", out, "--plain"]
    _run([command, *args], cwd, env)
    pdfs = sorted(out.rglob("*-zh.pdf"))
    assert any(p.name.startswith("batch-report") for p in pdfs), pdfs
    _all_glyphs_in_font(pdfs)


def _all_glyphs_in_font(pdfs: list[Path]) -> None:
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    from meterbench.reports.fonts import SANS_FACE, font_file

    text = "".join(page.extract_text() for pdf in pdfs for page in PdfReader(pdf).pages)
    chinese = {c for c in text if ord(c) > 0x2E80}
    assert len(chinese) > 50, "the documents should be in Chinese"
    with TTFont(font_file(), fontNumber=SANS_FACE, lazy=True) as font:
        cmap = font.getBestCmap()
    assert cmap is not None, "the font has no Unicode character map"
    assert sorted(c for c in set(text) - set("\n\r\t ") if ord(c) not in cmap) == []


def _firmware(command: Path, python: Path, wheel: Path, cwd: Path, env: dict[str, str]) -> None:
    for args in (["build"], ["flash", "--port", "/dev/null"]):
        missing = _run([command, "firmware", *args, "--out", cwd / "fw"], cwd, env, check=False)
        assert missing.returncode == 2, missing.stdout + missing.stderr
        (line,) = missing.stderr.splitlines()
        assert "meterbench[firmware]" in line
    extra = f"meterbench[firmware] @ {wheel.as_uri()}"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", extra], cwd, env)
    _run([command, "firmware", "build", "--out", cwd / "fw"], cwd, env)
    manifest = json.loads((cwd / "fw" / "manifest.json").read_text())
    assert "lib/bench/app.mpy" in manifest["files"] and "main.py" in manifest["files"]
