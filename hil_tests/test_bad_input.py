"""Bad input: a malformed bench file, plan, meter list or meter type stops ``meterbench run``
before anything is switched on, with one line naming the file and the field.

Each case copies the fault-free bench, the fault plan and the meter list into a fresh folder,
breaks one thing, and runs the command. It must exit with status 2, print exactly one line on
stderr, create no run record, and start nothing: the simulated bench creates its devices under
the temporary directory, which stays empty.

Every command that reads a configuration file (run, resume, demo, plan show, selftest, sim
serve, firmware flash) is also given each of its files as a directory, as bytes that are not
UTF-8 and with a syntax error, and must answer alike: one line naming the file, exit status 2,
nothing stored and nothing started.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hil_support import BENCHES, METERS, PLAN, meterbench, run_ids

from meterbench.config.bench import load_bench
from meterbench.results import ResultsStore, Run, new_run_id

TYPE = BENCHES / "meter_types" / "1p-class2-5-60a.toml"


@dataclass(frozen=True)
class Case:
    name: str
    file: str  # the file that is broken (and must be named)
    edit: Callable[[str], str]
    field: str  # what the message must name besides the file


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def _append(extra: str) -> Callable[[str], str]:
    return lambda text: text + extra


CASES = [
    Case(
        "bench: a number that is not one",
        "bench.toml",
        _replace("constant_imp_per_kwh = 2.0e6", 'constant_imp_per_kwh = "lots"'),
        "standard.constant_imp_per_kwh",
    ),
    Case(
        "bench: an unknown field",
        "bench.toml",
        _replace('bus = "M1"', 'bus = "M1"\nspeed = 3'),
        "position_groups[0].speed",
    ),
    Case(
        "bench: a controller that is not there",
        "bench.toml",
        _replace('controller = "C2"', 'controller = "C9"'),
        "'C9'",
    ),
    Case("bench: not TOML", "bench.toml", _replace("[standard]", "[standard"), "line 12"),
    Case(
        "bench: a simulated fault on a bus that is not there",
        "bench.toml",
        _append('\n[[sim.faults]]\nkind = "bus_noise"\nbus = "M7"\n'),
        "sim.faults[0].bus",
    ),
    Case(
        "bench: a simulated meter type that is not there",
        "bench.toml",
        _replace('type = "1p-class2-5-60a"', 'type = "no-such-type"'),
        "sim.meter_defaults.type",
    ),
    Case(
        "plan: an unknown item",
        "plan.toml",
        _replace('type = "basic_error"', 'type = "basic_errors"'),
        "items[1].type",
    ),
    Case(
        "plan: an unknown current",
        "plan.toml",
        _replace('current = "0.1Ib"', 'current = "0.1Ibb"'),
        "items[1].points[1].current",
    ),
    Case(
        "meters: a position the bench does not have",
        "meters.csv",
        _replace("\n4,", "\n9,"),
        "field 'position'",
    ),
    Case(
        "meters: an address with letters",
        "meters.csv",
        _replace("200000000003", "2000000000AB"),
        "row 4.address",
    ),
    Case(
        "meters: a meter without its serial number",
        "meters.csv",
        _replace(",H0002,", ",,"),
        "row 3.serial",
    ),
    Case(
        "meter type: a negative constant",
        "bad-type.toml",
        _replace("constant_imp_per_kwh = 1200", "constant_imp_per_kwh = -1200"),
        "constant_imp_per_kwh",
    ),
    Case(
        "meter type: an unknown field",
        "bad-type.toml",
        _replace("un_v = 220", "un_v = 220\nwiring_diagram = 7"),
        "wiring_diagram",
    ),
]


def _workspace(folder: Path, case: Case) -> dict[str, Path]:
    files = {
        "bench.toml": BENCHES / "hil-1p-4.toml",
        "plan.toml": PLAN,
        "meters.csv": METERS,
        "bad-type.toml": TYPE,
    }
    paths = {name: folder / name for name in files}
    for name, source in files.items():
        shutil.copy(source, paths[name])
    (folder / "meter_types").symlink_to(BENCHES / "meter_types")
    if case.file == "bad-type.toml":  # the third meter is of the broken type
        meters = paths["meters.csv"]
        meters.write_text(meters.read_text().replace("\n3,1p-class2-5-60a,", "\n3,bad-type.toml,"))
    broken = paths[case.file]
    broken.write_text(case.edit(broken.read_text()))
    return paths


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_with_one_line_before_anything_starts(
    tmp_path: Path, case: Case
) -> None:
    paths = _workspace(tmp_path, case)
    db = tmp_path / "results.db"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = meterbench(
        "run",
        "--bench",
        paths["bench.toml"],
        "--plan",
        paths["plan.toml"],
        "--meters",
        paths["meters.csv"],
        "--db",
        db,
        env={"TMPDIR": str(scratch)},
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"meterbench: {paths[case.file]}: "), line
    assert case.field in line, line
    assert run_ids(db) == []
    assert [p for p in scratch.rglob("*") if not p.is_dir()] == []  # no device was created


# -- every command x {directory, not UTF-8, syntax error} ------------------------------------------


def _as_directory(path: Path) -> str:
    path.unlink()
    path.mkdir()
    (path / "inside.toml").write_text("# a file inside, so the folder is not empty\n")
    return "is a directory"


def _not_utf8(path: Path) -> str:
    # 0xFF starts no character in UTF-8, GBK or GB 18030, and FF FF is no byte-order mark.
    path.write_bytes(b"# \xff\xff\n" + path.read_bytes())
    return "not UTF-8"


def _syntax_error(path: Path) -> str:
    if path.suffix == ".csv":  # a quote that is never closed
        path.write_text(path.read_text().replace("\n2,", '\n2,"', 1))
        return "invalid CSV"
    path.write_text("[unclosed\n" + path.read_text())
    return "invalid TOML"


BREAK: dict[str, Callable[[Path], str]] = {
    "directory": _as_directory,
    "not UTF-8": _not_utf8,
    "syntax error": _syntax_error,
}

# command -> the files it reads (keys of _workspace's files)
COMMANDS: dict[str, tuple[str, ...]] = {
    "run": ("bench.toml", "plan.toml", "meters.csv"),
    # resume reads no file: bench, plan and meters come from the run's record
    "demo": ("bench.toml", "plan.toml", "meters.csv"),
    "plan show": ("plan.toml", "bad-type.toml"),
    "selftest": ("bench.toml", "meters.csv"),
    "sim serve": ("bench.toml",),
    "firmware flash": ("bench.toml",),
}
MATRIX = [
    (command, file, breakage)
    for command, files in COMMANDS.items()
    for file in files
    for breakage in BREAK
]


def _args(command: str, paths: dict[str, Path], db: Path, out: Path) -> list[str | Path]:
    files = ["--bench", paths["bench.toml"], "--plan", paths["plan.toml"]]
    files += ["--meters", paths["meters.csv"]]
    if command == "run":
        return ["run", *files, "--db", db]
    if command == "demo":
        return ["demo", *files, "--db", db, "--out", out]
    if command == "plan show":
        return ["plan", "show", paths["plan.toml"], "--meter-type", paths["bad-type.toml"]]
    if command == "selftest":
        return ["selftest", "--bench", paths["bench.toml"], "--meters", paths["meters.csv"]]
    if command == "sim serve":
        return ["sim", "serve", "--bench", paths["bench.toml"], "--seconds", "0"]
    if command == "firmware flash":
        return ["firmware", "flash", "--bench", paths["bench.toml"], "--out", out]
    assert command == "resume"
    return ["resume", _interrupted_run(paths, db), "--db", db]


def _interrupted_run(paths: dict[str, Path], db: Path) -> str:
    """A run record as a crash leaves it (running, nothing measured) over the workspace files."""
    started = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    bench = load_bench(paths["bench.toml"])
    run = Run(
        run_id=new_run_id(started, bench.bench.id),
        started_at=started,
        bench=bench.bench.id,
        plan="hil-faults",
        regulation="jjg596-2012",
        software_version="test",
        extra={
            "bench_file": str(paths["bench.toml"]),
            "plan_file": str(paths["plan.toml"]),
            "meters_file": str(paths["meters.csv"]),
            "simulated": True,
        },
    )
    with ResultsStore.open(db) as store:
        store.create_run(
            run, snapshots={"bench_config": bench.model_dump(mode="json", by_alias=True)}
        )
    return run.run_id


@pytest.mark.parametrize(
    ("command", "file", "breakage"), MATRIX, ids=[" / ".join(m) for m in MATRIX]
)
def test_every_command_refuses_an_unreadable_file_with_one_line(
    tmp_path: Path, command: str, file: str, breakage: str
) -> None:
    paths = _workspace(tmp_path, CASES[0])
    shutil.copy(BENCHES / "hil-1p-4.toml", paths["bench.toml"])  # undo the case's edit
    db, out, scratch = tmp_path / "results.db", tmp_path / "out", tmp_path / "tmp"
    scratch.mkdir()
    args = _args(command, paths, db, out)
    before = _stored(db)
    problem = BREAK[breakage](paths[file])
    result = meterbench(*args, env={"TMPDIR": str(scratch)})
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"meterbench: {paths[file]}: "), line
    assert problem in line, line
    assert _stored(db) == before  # nothing stored, nothing lost
    assert [p for p in scratch.rglob("*") if not p.is_dir()] == []  # no device was created


def _stored(db: Path) -> list[tuple[str, int]]:
    """Every run in the database and the number of its chained rows."""
    if not db.exists():
        return []
    with ResultsStore.open(db, create=False) as store:
        return [(r, len(store.chain_rows(r))) for r in run_ids(db)]
