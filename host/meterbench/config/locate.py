"""Finding a configuration file from what an operator typed: a path, or the name of a shipped one.

A path that exists always wins (it may still be a directory or a bad file: reading it says so).
Otherwise a bare name (``sim-1p-24``, ``jjg596-2012-initial``, ``1p-class2-5-60a``) is looked up
among the files shipped with meterbench (``meterbench list ...`` shows them), and an unknown
name fails with one line listing what is shipped. Meter types named inside a meter list or a
bench's ``[sim]`` section are found next to that file first, then among the shipped ones.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meterbench.config.errors import ConfigError
from meterbench.config.files import read_toml
from meterbench.shipped import bench_configs_dir


@dataclass(frozen=True)
class Kind:
    """One kind of shipped configuration file: where it lives and what it is called."""

    name: str  # as on the command line: benches, plans, meter-types, meter-lists
    label: str  # in messages: "bench", "plan", ...
    folder: str  # below bench_configs/
    suffixes: tuple[str, ...]

    @property
    def directory(self) -> Path:
        return bench_configs_dir() / self.folder


BENCHES = Kind("benches", "bench", "", (".toml",))
PLANS = Kind("plans", "plan", "plans", (".toml",))
METER_TYPES = Kind("meter-types", "meter type", "meter_types", (".toml",))
METER_LISTS = Kind("meter-lists", "meter list", "meters", (".csv", ".toml"))
KINDS = {kind.name: kind for kind in (BENCHES, PLANS, METER_TYPES, METER_LISTS)}


def shipped(kind: Kind) -> dict[str, Path]:
    """Every shipped file of ``kind``, by name (the file name without its suffix)."""
    if not kind.directory.is_dir():
        return {}
    return {
        path.stem: path
        for path in sorted(kind.directory.iterdir())
        if path.is_file() and path.suffix in kind.suffixes
    }


def locate(given: str | os.PathLike[str], kind: Kind) -> Path:
    """The file meant by ``given``: the path itself when it exists, else the shipped file of
    that name; an unknown bare name is a ConfigError listing the shipped ones."""
    path = Path(given)
    if path.exists() or len(path.parts) != 1:
        return path  # reading it reports a missing file, a directory or bad content
    found = _shipped_file(os.fspath(given), kind)
    if found is not None:
        return found
    raise ConfigError(given, None, f"no such file, and {_no_such(kind)}")


def locate_meter_type(name: str, near: Path, field: str) -> Path:
    """A meter type named in the file ``near`` (a meter list or a bench file): relative to that
    file (also in a ``meter_types/`` folder beside it or one level up), else a shipped type."""
    for root in (near.parent, near.parent.parent):
        for candidate in (
            root / name,
            root / "meter_types" / name,
            root / "meter_types" / f"{name}.toml",
        ):
            if candidate.is_file():
                return candidate
    found = _shipped_file(name, METER_TYPES) if len(Path(name).parts) == 1 else None
    if found is None:
        raise ConfigError(
            near,
            field,
            f"meter type {name!r} is not next to the file, and {_no_such(METER_TYPES)}",
        )
    return found


def _shipped_file(name: str, kind: Kind) -> Path | None:
    files = shipped(kind)
    stem = Path(name).stem if Path(name).suffix in kind.suffixes else name
    return files.get(stem)


def _no_such(kind: Kind) -> str:
    names = ", ".join(shipped(kind)) or "none"
    return f"no shipped {kind.label} has that name (shipped: {names})"


def describe(path: Path, kind: Kind) -> str:
    """A one-line description of a shipped file for ``meterbench list``."""
    if path.suffix == ".csv":
        return _describe_meter_list(path)
    data = read_toml(path)
    if kind is BENCHES:
        bench = _table(data, "bench")
        return str(bench.get("name") or bench.get("id") or "")
    if kind is PLANS:
        return str(_table(data, "plan").get("title") or "")
    if kind is METER_LISTS:
        meters = data.get("meters")
        return f"{len(meters) if isinstance(meters, list) else 0} meters"
    return _describe_meter_type(data)


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _describe_meter_type(data: dict[str, Any]) -> str:
    parts = [str(data.get("name") or data.get("model") or "")]
    if data.get("class"):
        parts.append(f"class {data['class']}")
    if data.get("rating"):
        parts.append(str(data["rating"]))
    if data.get("q3_m3h"):
        parts.append(f"Q3 {data['q3_m3h']} m³/h")
    return ", ".join(p for p in parts if p)


def _describe_meter_list(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    rows = list(csv.DictReader(io.StringIO("".join(x for x in lines if not x.startswith("#")))))
    types = sorted({row.get("type") or "" for row in rows} - {""})
    return f"{len(rows)} meters: {', '.join(types)}"
