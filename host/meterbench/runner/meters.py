"""The meter list of a run: which meter (type, serial, asset number, address) sits where.

Operators write it as CSV (``position,type,serial,asset,address,customer,lot``; a header row
is required) or TOML (``[[meters]]`` tables with the same keys). ``lot`` is optional: a meter
without one belongs to the run's own lot. Types are meter-type files named relative to the
list, or the names of shipped meter types (``config.locate``). Addresses are 12 BCD digits
(DL/T 645) or 14 (CJ/T 188 water meters). Errors name the file, the row and the field, and are
raised before anything is switched on.

A CSV comes as Excel saves it: UTF-8 with or without a byte-order mark, or the Chinese ANSI
code page (GBK, read as its superset GB18030). UTF-8 is tried first because GB18030 would
also accept many UTF-8 byte sequences as different characters. Checking is linear in the rows,
so a list of tens of thousands of meters is checked in well under a second.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meterbench.config.errors import ConfigError
from meterbench.config.files import read_bytes, read_toml
from meterbench.config.locate import locate_meter_type
from meterbench.config.meter_types import MeterType, load_meter_type

COLUMNS = ("position", "type", "serial", "asset", "address", "customer", "lot")


@dataclass(frozen=True)
class MeterEntry:
    position: int
    type_name: str
    type_path: Path
    meter_type: MeterType
    serial: str
    asset: str = ""
    address: str | None = None
    customer: str = ""
    lot: str = ""
    row: str = field(default="", compare=False)  # where in the list ("row 3", "meters[2]")

    @property
    def type_id(self) -> str:
        return self.meter_type.id or self.type_path.stem


_ADDRESS = {12: re.compile(r"[0-9]{12}"), 14: re.compile(r"[0-9]{14}")}
ENCODINGS = ("utf-8-sig", "gb18030")


def decode_list(path: Path, data: bytes) -> str:
    """The text of a meter list: UTF-8 (a byte-order mark is dropped), else GB18030/GBK."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ConfigError(path, None, "not UTF-8 text, nor GBK/GB18030 (save it as CSV UTF-8 or CSV)")


class _TypeFinder:
    """Meter types by the name a list gives, each looked up and loaded once per list."""

    def __init__(self, list_path: Path) -> None:
        self._list_path = list_path
        self._by_name: dict[str, Path] = {}
        self.types: dict[Path, MeterType] = {}

    def find(self, name: str, where: str) -> Path:
        if name not in self._by_name:
            self._by_name[name] = locate_meter_type(name, self._list_path, f"{where}.type")
        return self._by_name[name]

    def load(self, path: Path) -> MeterType:
        if path not in self.types:
            self.types[path] = load_meter_type(path)
        return self.types[path]


def _entry(raw: dict[str, Any], where: str, path: Path, finder: _TypeFinder) -> MeterEntry:
    def text(key: str) -> str:
        value = raw.get(key)
        return "" if value is None else str(value).strip()

    position_text = text("position")
    if not position_text.isdigit() or int(position_text) < 1:
        raise ConfigError(
            path, f"{where}.position", f"must be a positive whole number, got {position_text!r}"
        )
    type_name = text("type")
    if not type_name:
        raise ConfigError(path, f"{where}.type", "is missing")
    type_path = finder.find(type_name, where)
    meter_type = finder.load(type_path)
    serial = text("serial")
    if not serial:
        raise ConfigError(path, f"{where}.serial", "is missing (every meter needs its number)")
    address = text("address") or None
    digits = 14 if getattr(meter_type, "protocol", "") == "cjt188" else 12
    if address is not None and not _ADDRESS[digits].fullmatch(address):
        raise ConfigError(
            path,
            f"{where}.address",
            f"must be {digits} BCD digits 0-9 as on the nameplate, got {address!r}",
        )
    return MeterEntry(
        int(position_text),
        type_name,
        type_path,
        meter_type,
        serial,
        text("asset"),
        address,
        text("customer"),
        text("lot"),
        where,
    )


def load_meters(path: Path | str) -> list[MeterEntry]:
    """Read and check a meter list; raises ConfigError naming file, row and field."""
    path = Path(path)
    rows: list[tuple[str, dict[str, Any]]]
    if path.suffix.lower() == ".toml":
        data = read_toml(path)
        items = data.get("meters")
        if not isinstance(items, list) or not items:
            raise ConfigError(path, "meters", "needs at least one [[meters]] table")
        rows = [(f"meters[{i}]", dict(item)) for i, item in enumerate(items)]
    else:
        rows = _csv_rows(path)
    finder = _TypeFinder(path)
    entries = [_entry(raw, where, path, finder) for where, raw in rows]
    seen: dict[int, str] = {}
    for entry in entries:
        if entry.position in seen:
            raise ConfigError(
                path,
                f"{entry.row}.position",
                f"position {entry.position} is already used by {seen[entry.position]}",
            )
        seen[entry.position] = entry.row
    counts = Counter(e.serial for e in entries)
    duplicates = sorted(s for s, n in counts.items() if n > 1)
    if duplicates:
        raise ConfigError(path, "serial", f"serial numbers listed twice: {duplicates}")
    return sorted(entries, key=lambda e: e.position)


def _csv_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    text = decode_list(path, read_bytes(path))
    lines = io.StringIO(text, newline="")
    reader = csv.DictReader((line for line in lines if not line.startswith("#")), strict=True)
    try:
        fieldnames = reader.fieldnames
        if fieldnames is None or "position" not in fieldnames:
            raise ConfigError(
                path, None, "the first row must name the columns: " + ",".join(COLUMNS)
            )
        unknown = set(fieldnames) - set(COLUMNS)
        if unknown:
            raise ConfigError(
                path, None, f"unknown columns {sorted(unknown)}; known: {','.join(COLUMNS)}"
            )
        rows = [(f"row {n}", row) for n, row in enumerate(reader, start=2)]
    except csv.Error as exc:
        raise ConfigError(path, f"row {reader.line_num}", f"invalid CSV: {exc}") from None
    if not rows:
        raise ConfigError(path, None, "lists no meters")
    return rows


def check_meters_against_bench(bench: Any, meters: list[MeterEntry], path: Path | str) -> None:
    """ConfigError (file, row, field) for two meters with one address on one bus: a request
    to that address would be answered by both, and their frames collide on the wire."""
    bus_of = {p.number: p.bus for p in bench.positions}
    owner: dict[tuple[str, str], MeterEntry] = {}
    for entry in meters:
        bus = bus_of.get(entry.position)
        if bus is None or entry.address is None:
            continue
        first = owner.setdefault((bus, entry.address), entry)
        if first is not entry:
            raise ConfigError(
                path,
                f"{entry.row}.address",
                f"address {entry.address} is already used on bus {bus} by position "
                f"{first.position} ({first.row}); each meter on a bus needs its own address",
            )
