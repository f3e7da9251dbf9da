"""The meter list of a run: which meter (type, serial, asset number, address) sits where.

Operators write it as CSV (``position,type,serial,asset,address,customer``; a header row is
required) or TOML (``[[meters]]`` tables with the same keys). Types are meter-type files named
relative to the list, or the names of shipped meter types (``config.locate``). Addresses have 12
digits (DL/T 645) or 14 (CJ/T 188 water meters). Errors name the file, the row and the field,
and are raised before anything is switched on.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from meterbench.config.errors import ConfigError
from meterbench.config.files import read_text, read_toml
from meterbench.config.locate import locate_meter_type
from meterbench.config.meter_types import MeterType, load_meter_type

COLUMNS = ("position", "type", "serial", "asset", "address", "customer")


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

    @property
    def type_id(self) -> str:
        return self.meter_type.id or self.type_path.stem


def _entry(raw: dict[str, str], where: str, path: Path, types: dict[Path, MeterType]) -> MeterEntry:
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
    type_path = locate_meter_type(type_name, path, f"{where}.type")
    if type_path not in types:
        types[type_path] = load_meter_type(type_path)
    serial = text("serial")
    if not serial:
        raise ConfigError(path, f"{where}.serial", "is missing (every meter needs its number)")
    address = text("address") or None
    digits = 14 if getattr(types[type_path], "protocol", "") == "cjt188" else 12
    if address is not None and (len(address) > digits or not address.isdigit()):
        raise ConfigError(
            path, f"{where}.address", f"must be up to {digits} decimal digits, got {address!r}"
        )
    return MeterEntry(
        int(position_text),
        type_name,
        type_path,
        types[type_path],
        serial,
        text("asset"),
        address.zfill(digits) if address else None,
        text("customer"),
    )


def load_meters(path: Path | str) -> list[MeterEntry]:
    """Read and check a meter list; raises ConfigError naming file, row and field."""
    path = Path(path)
    rows: list[tuple[str, dict[str, str]]]
    if path.suffix.lower() == ".toml":
        data = read_toml(path)
        items = data.get("meters")
        if not isinstance(items, list) or not items:
            raise ConfigError(path, "meters", "needs at least one [[meters]] table")
        rows = [(f"meters[{i}]", dict(item)) for i, item in enumerate(items)]
    else:
        lines = read_text(path, what="CSV").splitlines(keepends=True)
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
    types: dict[Path, MeterType] = {}
    entries = [_entry(raw, where, path, types) for where, raw in rows]
    seen: dict[int, str] = {}
    for entry, (where, _) in zip(entries, rows, strict=True):
        if entry.position in seen:
            raise ConfigError(
                path,
                f"{where}.position",
                f"position {entry.position} is already used by {seen[entry.position]}",
            )
        seen[entry.position] = where
    serials = [e.serial for e in entries]
    duplicates = sorted({s for s in serials if serials.count(s) > 1})
    if duplicates:
        raise ConfigError(path, "serial", f"serial numbers listed twice: {duplicates}")
    return sorted(entries, key=lambda e: e.position)
