"""A DL/T 645 frame as a flat dict of named fields (host only).

This is what ``meterbench decode --json`` prints and what traces attach to records: every field
a person needs to read a frame, values decoded through the catalogue. The DATA is shown as
it is: masking passwords is the job of traces and logs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from meterproto.dlt645 import di as di_catalogue
from meterproto.dlt645.frame import VERSION_1997, DecodeError, Frame
from meterproto.dlt645.messages import (
    AbnormalReply,
    AuthorisedRequest,
    BroadcastTimeRequest,
    ChangeBaudRequest,
    ChangePasswordRequest,
    FreezeRequest,
    MultiFunctionOutput,
    MultiFunctionOutputRequest,
    ReadAddressReply,
    ReadFollowUpRequest,
    ReadReply,
    ReadRequest,
    RelayCommand,
    ValueReply,
    WriteAddressRequest,
    WriteRequest,
    baud_from_word,
    parse_reply,
    parse_request,
)
from meterproto.dlt645.values import DateTimeField


def plain_value(value: Any) -> Any:
    """Decoded values -> JSON-ready ones: Decimal to int or float, dates to ISO text."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent  # 'n', 'N' or 'F' for NaN and infinities
        whole = isinstance(exponent, int) and exponent >= 0
        return int(value) if whole and value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def decode_item(di: int, payload: bytes, version: int = 2007) -> dict[str, Any]:
    """Name, value and unit of one identifier's payload; unknown DIs keep only raw data.

    A payload longer than the catalogue says (seen on real meters: 3 bytes for the 2-byte
    voltage) is decoded by the table and the mismatch reported, not rejected.
    """
    out: dict[str, Any] = {"di": di_catalogue.format_di(di, version), "raw_hex": payload.hex()}
    item = di_catalogue.lookup(di, version)
    if item is None:
        return out
    out["name"] = item.name
    out["unit"] = item.unit
    size = item.size
    data = payload
    if size is not None and len(payload) != size:
        if len(payload) > size and not (version == 1997 and len(payload) == size + 1):
            out["warning"] = f"payload has {len(payload)} bytes, the catalogue says {size}"
            data = payload[:size]
        elif len(payload) < size:
            out["warning"] = f"payload has {len(payload)} bytes, the catalogue says {size}"
            out["value"] = None
            return out
    try:
        value = item.decode(data)
    except DecodeError as exc:
        out["warning"] = str(exc)
        out["value"] = None
        return out
    if value is None or (isinstance(value, list) and None in value):
        out["warning"] = "not available (non-BCD filler in the value)"
    elif isinstance(item.codec, DateTimeField):
        mismatch = item.codec.weekday_mismatch(data)
        if mismatch:
            out["warning"] = mismatch
    out["value"] = plain_value(value)
    return out


def describe(frame: Frame, version: int | None = None) -> dict[str, Any]:
    """All fields of one frame; request and reply DATA decoded where the layout is known.
    ``version`` is the edition when the caller knows it; None guesses from the function code
    (a frame pasted by a person comes with nothing else)."""
    if version is None:
        version = 1997 if frame.version == VERSION_1997 else 2007
    out: dict[str, Any] = {
        "protocol": f"dlt645-{version}",
        "valid": True,
        "address": frame.address_text,
        "control": frame.control,
        "direction": frame.direction,
        "abnormal": frame.abnormal,
        "follow_up": frame.follow_up,
        "function": frame.function,
        "data_hex": frame.data.hex(),
    }
    try:
        if frame.is_response:
            _describe_reply(frame, version, out)
        else:
            _describe_request(frame, version, out)
    except DecodeError as exc:
        out["warning"] = str(exc)
    return out


def describe_2007(frame: Frame) -> dict[str, Any]:
    """``describe`` for a frame known to be DL/T 645-2007."""
    return describe(frame, 2007)


def describe_1997(frame: Frame) -> dict[str, Any]:
    """``describe`` for a frame known to be DL/T 645-1997."""
    return describe(frame, 1997)


def _merge_item(out: dict[str, Any], item: dict[str, Any], with_value: bool = True) -> None:
    out["di"] = item["di"]
    for key in ("name", "unit", "warning") + (("value",) if with_value else ()):
        if key in item:
            out[key] = item[key]


def _describe_reply(frame: Frame, version: int, out: dict[str, Any]) -> None:
    try:
        reply = parse_reply(frame, version)
    except AbnormalReply as exc:
        out["error_word"] = exc.error_word
        out["errors"] = exc.errors
        return
    if isinstance(reply, ReadReply):
        _merge_item(out, decode_item(reply.di, reply.payload, version))
        if reply.seq is not None:
            out["seq"] = reply.seq
    elif isinstance(reply, ReadAddressReply):
        out["name"] = "communication address"
        out["value"] = reply.meter_address
    elif isinstance(reply, ValueReply):
        _describe_value_reply(reply, out)


def _describe_value_reply(reply: ValueReply, out: dict[str, Any]) -> None:
    if reply.function == 0x17 and len(reply.data) == 1:
        out["name"] = "baud rate"
        out["value"] = baud_from_word(reply.data[0])
        out["unit"] = "bit/s"
    elif reply.function == 0x1D and len(reply.data) == 1:
        out["name"] = "multi-function output"
        out["value"] = _enum_name(MultiFunctionOutput, reply.data[0])
    elif reply.function == 0x18:
        out["name"] = "new password (masked)"


def _enum_name(enum: Any, number: int) -> str:
    try:
        return enum(number).name.lower()
    except ValueError:
        return f"unknown ({number:02X}H)"


def _describe_request(frame: Frame, version: int, out: dict[str, Any]) -> None:
    request = parse_request(frame, version)
    if isinstance(request, ReadRequest | ReadFollowUpRequest):
        _merge_item(out, decode_item(request.di, b"", version), with_value=False)
        out.pop("warning", None)
        if isinstance(request, ReadFollowUpRequest):
            out["seq"] = request.seq
    elif isinstance(request, WriteRequest):
        _merge_item(out, decode_item(request.di, request.value, version))
        out["password_level"] = request.password.level
        out["operator"] = request.operator
    elif isinstance(request, BroadcastTimeRequest):
        out["name"] = "broadcast time"
        out["value"] = plain_value(request.when)
    elif isinstance(request, WriteAddressRequest):
        out["name"] = "new communication address"
        out["value"] = request.new_address
    elif isinstance(request, FreezeRequest):
        out["name"] = "freeze"
        out["value"] = "instant" if request.instant else request.pattern
    elif isinstance(request, ChangeBaudRequest):
        out["name"] = "baud rate"
        out["value"] = request.rate
        out["unit"] = "bit/s"
    elif isinstance(request, ChangePasswordRequest):
        out["name"] = f"password of level {request.level}"
    elif isinstance(request, AuthorisedRequest):
        _describe_authorised(request, frame, out)
    elif isinstance(request, MultiFunctionOutputRequest):
        out["name"] = "multi-function output"
        out["value"] = _enum_name(MultiFunctionOutput, request.mode)


def _describe_authorised(request: AuthorisedRequest, frame: Frame, out: dict[str, Any]) -> None:
    out["password_level"] = request.password.level
    out["operator"] = request.operator
    if request.event_di is not None:
        out["name"] = "event clear"
        out["value"] = f"{request.event_di:08x}"
    elif request.command is not None:
        out["name"] = "remote control"
        out["value"] = _enum_name(RelayCommand, request.command)
        out["expiry"] = plain_value(request.expiry)
