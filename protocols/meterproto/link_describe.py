"""A controller-link frame as a flat dict of named fields, for ``meterbench decode`` and traces.

Host only, so it lives beside the MicroPython-safe ``link`` package rather than in it."""

from __future__ import annotations

from typing import Any

from meterproto.link.frame import Frame, LinkError
from meterproto.link.messages import is_event, is_reply, parse, spec_for


def _kind(msg_type: int) -> str:
    if is_event(msg_type):
        return "event"
    return "response" if is_reply(msg_type) else "request"


def describe(frame: Frame) -> dict[str, Any]:
    """Type, sequence and the decoded fields; a type outside the table keeps its raw payload."""
    out: dict[str, Any] = {
        "protocol": "link",
        "valid": True,
        "msg_type": frame.msg_type,
        "seq": frame.seq,
        "direction": _kind(frame.msg_type),
        "data_hex": frame.payload.hex(),
    }
    try:
        out["name"] = spec_for(frame.msg_type).name
        fields = parse(frame).fields
    except LinkError as exc:
        out["warning"] = str(exc)
        return out
    out["fields"] = {k: v.hex() if isinstance(v, bytes) else v for k, v in fields.items()}
    return out
