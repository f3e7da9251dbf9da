"""Decode one frame of any supported protocol into a flat dict (host only).

Used by ``meterbench decode`` and by trace views. ``protocol="auto"`` tries each codec in turn;
a frame is accepted only by a codec whose structure and checksum both hold, so the order
matters only for the error message of a frame that no codec accepts.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

from meterproto.compat import from_hex
from meterproto.dlt645.frame import DecodeError
from meterproto.link.frame import LinkError

# What each codec raises for bytes that are not one of its frames.
_DECODE_ERRORS = (DecodeError, LinkError)

# protocol name -> (module holding decode_frame, module holding the describer, its name)
_CODECS: dict[str, tuple[str, str, str]] = {
    "dlt645": ("meterproto.dlt645.frame", "meterproto.dlt645.describe", "describe"),
    "cjt188": ("meterproto.cjt188.frame", "meterproto.cjt188.messages", "describe"),
    "dlt698": ("meterproto.dlt698.frame", "meterproto.dlt698.apdu", "describe"),
    "link": ("meterproto.link.frame", "meterproto.link_describe", "describe"),
    # The DL/T 645 edition when the person knows it: the function code alone cannot always
    # tell (03H is a 1997 re-read and the 2007 security command).
    "dlt645-2007": ("meterproto.dlt645.frame", "meterproto.dlt645.describe", "describe_2007"),
    "dlt645-1997": ("meterproto.dlt645.frame", "meterproto.dlt645.describe", "describe_1997"),
}
_AUTO = ("dlt645", "cjt188", "dlt698", "link")  # what "auto" tries, in this order

PROTOCOLS = ("auto", *_CODECS)


def _codec(name: str) -> tuple[Callable[[bytes], Any], Callable[[Any], dict[str, Any]]]:
    frame_module, describe_module, describe_name = _CODECS[name]
    decode = importlib.import_module(frame_module).decode_frame
    describe = getattr(importlib.import_module(describe_module), describe_name)
    return decode, describe


def available_protocols() -> list[str]:
    """Codecs that "auto" tries and that import here (all in a complete installation)."""
    names = []
    for name in _AUTO:
        try:
            _codec(name)
        except (ImportError, AttributeError):
            continue
        names.append(name)
    return names


def decode_bytes(data: bytes, protocol: str = "auto") -> dict[str, Any]:
    """Decode one frame; never raises for bad bytes: ``valid`` False plus ``error`` instead."""
    if protocol != "auto" and protocol not in _CODECS:
        raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    names = available_protocols() if protocol == "auto" else [protocol]
    errors: dict[str, str] = {}
    for name in names:
        decode, describe = _codec(name)
        try:
            frame = decode(data)
        except _DECODE_ERRORS as exc:
            errors[name] = str(exc)
            continue
        return describe(frame)
    return {
        "protocol": protocol if protocol != "auto" else _likely_protocol(data, errors),
        "valid": False,
        "raw_hex": data.hex(),
        "error": _error_text(data, errors, protocol),
    }


def decode_hex(text: str, protocol: str = "auto") -> dict[str, Any]:
    """Like decode_bytes, from hex text (spaces allowed); bad hex is an invalid frame too."""
    try:
        data = from_hex(text)
    except ValueError as exc:
        return {
            "protocol": protocol,
            "valid": False,
            "raw_hex": text.strip(),
            "error": f"not hex: {exc}",
        }
    return decode_bytes(data, protocol)


def json_safe(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with every NaN or infinity replaced by None and a warning naming the field,
    so the JSON output stays JSON (which has no such numbers) and nothing is silently lost."""
    warnings: list[str] = []

    def clean(value: Any, path: str) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            warnings.append(f"{path}: {value} is not a JSON number; given as null")
            return None
        if isinstance(value, dict):
            return {k: clean(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    out = clean(result, "")
    if warnings:
        out["warnings"] = [*out.get("warnings", []), *warnings]
    return out


def _likely_protocol(data: bytes, errors: dict[str, str]) -> str:
    """The codec a broken frame most resembles, to pick the error worth showing."""
    body = data.lstrip(b"\xfe")
    if len(body) > 7 and body[0] == 0x68 and body[7] == 0x68:
        return "dlt645"
    for name, message in errors.items():
        if "checksum" in message or "CRC" in message or "truncated" in message:
            return name
    return "unknown"


def _error_text(data: bytes, errors: dict[str, str], protocol: str) -> str:
    if protocol != "auto":
        return errors[protocol]
    likely = _likely_protocol(data, errors)
    if likely in errors:
        return errors[likely]
    return (
        "not a frame of any known protocol ("
        + "; ".join(f"{name}: {message}" for name, message in errors.items())
        + ")"
    )
