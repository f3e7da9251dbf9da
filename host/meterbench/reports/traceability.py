"""What the run's snapshots say about the bench, its standard and the certificate scheme.

Snapshots are JSON copies of the inputs as they were used. The bench config snapshot is read
in the shape of `meterbench.config.bench.BenchConfig` dumped to JSON (``bench.id``,
``standard.certificate``, ``certificates.number_format`` ...); older or hand-made snapshots with
flat keys (``name``, ``standard.cert``) are read too. A missing field prints as empty, it never
stops a report: the record shows what was stored, nothing invented.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meterbench.results import RunRecord

DEFAULT_NUMBER_FORMAT = "{bench}-{year}-{kind}{seq:05d}"
DEFAULT_ISSUER = "meterbench verification laboratory"


@dataclass(frozen=True, slots=True)
class Standard:
    """The reference standard and its traceability (printed on every record and certificate)."""

    name: str = ""
    model: str = ""
    serial: str = ""
    accuracy_class: str = ""
    certificate: str = ""
    valid_until: str = ""
    constant: str = ""
    timebase: str = ""


@dataclass(frozen=True, slots=True)
class BenchFacts:
    bench_id: str
    bench_name: str
    location: str
    standard: Standard
    number_format: str
    issuer: str
    regulation_basis: str
    firmware: str


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(*candidates: Any) -> str:
    for value in candidates:
        if value is not None and value != "" and not isinstance(value, Mapping | list):
            return str(value)
    return ""


def _standard(bench: Mapping[str, Any]) -> Standard:
    std = _map(bench.get("standard"))
    constant, timebase = _reference(bench)
    return Standard(
        name=_text(std.get("name")),
        model=_text(std.get("model")),
        serial=_text(std.get("serial"), std.get("serial_no")),
        accuracy_class=_text(std.get("accuracy_class"), std.get("class")),
        certificate=_text(std.get("certificate"), std.get("cert"), std.get("certificate_no")),
        valid_until=_text(std.get("valid_until")),
        constant=constant,
        timebase=timebase,
    )


def _reference(bench: Mapping[str, Any]) -> tuple[str, str]:
    """(constant, time base) of the bench's reference as its kind words them; a snapshot of a
    kind this installation does not know keeps the standard's own constant."""
    from meterbench.kinds import KINDS

    kind = KINDS.get(_text(_map(bench.get("bench")).get("kind")) or "electricity")
    if kind is not None:
        return kind.reference_text(bench)
    std = _map(bench.get("standard"))
    return _text(std.get("constant_imp_per_kwh"), std.get("constant")), ""


def _basis(record: RunRecord) -> str:
    """The verification basis string: the profile's ``basis``/``title``, else the run's."""
    profile = _map(record.snapshots.get("regulation_profile"))
    head = _map(profile.get("profile")) or profile
    text = _text(head.get("basis"), head.get("title"))
    version = record.run.regulation_version
    if not text:
        text = record.run.regulation + (f" (v{version})" if version else "")
    return text


def firmware_line(fields: Mapping[str, Any]) -> str:
    """One controller's HELLO fields as one line. ``mpy`` (the .mpy ABI) is 0 only when the
    firmware runs on the host's CPython (a simulated controller): then the version field is
    CPython's, and the line says so instead of calling it a MicroPython version."""
    version = _text(fields.get("mp_version"))
    try:
        on_micropython = int(str(fields.get("mpy", "0")), 0) != 0
    except ValueError:
        on_micropython = True
    runtime = f"MicroPython {version}" if on_micropython else f"simulated on CPython {version}"
    protocol = _text(fields.get("protocol"))
    try:
        link = f", link {int(protocol, 0):#06x}" if protocol else ""
    except ValueError:
        link = f", link {protocol}"
    return (
        f"firmware {_text(fields.get('fw_version'))} ({_text(fields.get('fw_hash'))}) on "
        f"{_text(fields.get('board'))}, {runtime}{link}"
    )


def _firmware(record: RunRecord) -> str:
    """Controllers' firmware, one entry each: stored lines as they are, stored HELLO fields
    through ``firmware_line``."""
    versions = _map(record.snapshots.get("firmware_versions"))
    parts = []
    for key, value in sorted(versions.items()):
        text = firmware_line(value) if isinstance(value, Mapping) else _text(value) or value
        parts.append(f"{key} {text}")
    return ", ".join(parts)


def bench_facts(record: RunRecord) -> BenchFacts:
    bench = _map(record.snapshots.get("bench_config"))
    head = _map(bench.get("bench"))
    scheme = _map(bench.get("certificates"))
    return BenchFacts(
        bench_id=_text(head.get("id"), bench.get("id"), record.run.bench),
        bench_name=_text(head.get("name"), bench.get("name")),
        location=_text(head.get("location"), bench.get("location")),
        standard=_standard(bench),
        number_format=_text(scheme.get("number_format")) or DEFAULT_NUMBER_FORMAT,
        issuer=_text(scheme.get("issuer")) or DEFAULT_ISSUER,
        regulation_basis=_basis(record),
        firmware=_firmware(record),
    )


def nameplate(record: RunRecord, meter_type: str, stored: Mapping[str, Any]) -> dict[str, Any]:
    """The meter type's fields from the snapshot, overridden by the position's own nameplate."""
    types = _map(record.snapshots.get("meter_types"))
    merged: dict[str, Any] = dict(_map(types.get(meter_type)))
    merged.update(stored)
    return merged
