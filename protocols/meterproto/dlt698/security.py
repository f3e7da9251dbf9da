"""DL/T 698.45 SECURITY-Request/-Response envelopes and the security provider interface.

Host-only. The envelope carries an inner APDU in plaintext (or ciphertext) plus verification
information: a random number (RN) the server's MAC must cover, RN+MAC, a security identifier
(SID) or SID+MAC. The MACs themselves come from a *security provider*: on a real meter that is
the ESAM and on the bench a lab's security module (through its vendor's interface). This module
ships only the interface and :class:`SimulatedSecurity`, a keyed HMAC that simulated meters and
their clients share; it is not the ESAM algorithm and cannot talk to a real meter.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass
from typing import Any, Protocol

from meterproto.dlt645.frame import DecodeError, EncodeError
from meterproto.dlt698 import apdu as ap

SECURITY_REQUEST = 0x10
SECURITY_RESPONSE = 0x90

PLAINTEXT = 0
CIPHERTEXT = 1
ERROR_DAR = 2  # responses only

# verification information of a request
VERIFY_SID_MAC = 0
VERIFY_RN = 1
VERIFY_RN_MAC = 2
VERIFY_SID = 3


@dataclass(frozen=True)
class Sid:
    """Security identifier: a 4-byte tag and additional data, issued by the security module."""

    tag: int
    extra: bytes = b""


@dataclass(frozen=True)
class SecurityRequest:
    """``10`` + application data (plaintext/ciphertext octets) + verification information."""

    mode: int  # PLAINTEXT or CIPHERTEXT
    data: bytes
    verify: int  # VERIFY_*
    rn: bytes = b""
    mac: bytes = b""
    sid: Sid | None = None
    name: str = "SECURITY-Request"

    @property
    def inner(self) -> Any:
        """The plaintext APDU, parsed (DecodeError for ciphertext: only a module can open it)."""
        if self.mode != PLAINTEXT:
            raise DecodeError("ciphertext application data needs a security module")
        return ap.parse_apdu(self.data)


@dataclass(frozen=True)
class SecurityResponse:
    """``90`` + application data (plaintext/ciphertext octets, or a DAR) + optional MAC."""

    mode: int  # PLAINTEXT, CIPHERTEXT or ERROR_DAR
    data: bytes = b""
    dar: int | None = None
    mac: bytes | None = None
    name: str = "SECURITY-Response"

    @property
    def inner(self) -> Any:
        if self.mode != PLAINTEXT:
            raise DecodeError("no plaintext application data in this SECURITY-Response")
        return ap.parse_apdu(self.data)


def _octets(raw: bytes) -> bytes:
    return ap._encode_length(len(raw)) + bytes(raw)


def _sid(sid: Sid | None) -> bytes:
    if sid is None:
        raise EncodeError("SID verification needs a SID")
    if not 0 <= sid.tag <= 0xFFFFFFFF:
        raise EncodeError(f"SID tag out of range: {sid.tag!r}")
    return sid.tag.to_bytes(4, "big") + _octets(sid.extra)


def encode_security_request(a: SecurityRequest) -> bytes:
    if a.mode not in (PLAINTEXT, CIPHERTEXT):
        raise EncodeError(f"request application data is plaintext (0) or ciphertext (1): {a.mode}")
    if a.verify not in (VERIFY_SID_MAC, VERIFY_RN, VERIFY_RN_MAC, VERIFY_SID):
        raise EncodeError(f"verification information must be 0..3: {a.verify}")
    out = bytes((SECURITY_REQUEST, a.mode)) + _octets(a.data) + bytes((a.verify,))
    if a.verify == VERIFY_SID_MAC:
        return out + _sid(a.sid) + _octets(a.mac)
    if a.verify == VERIFY_RN:
        return out + _octets(a.rn)
    if a.verify == VERIFY_RN_MAC:
        return out + _octets(a.rn) + _octets(a.mac)
    if a.verify == VERIFY_SID:
        return out + _sid(a.sid)
    raise EncodeError(f"verification information must be 0..3: {a.verify}")


def encode_security_response(a: SecurityResponse) -> bytes:
    if a.mode not in (PLAINTEXT, CIPHERTEXT, ERROR_DAR):
        raise EncodeError(f"response application data choice must be 0..2: {a.mode}")
    out = bytes((SECURITY_RESPONSE, a.mode))
    if a.mode in (PLAINTEXT, CIPHERTEXT):
        out += _octets(a.data)
    elif a.mode == ERROR_DAR:
        if a.dar is None or not 0 <= a.dar <= 255:
            raise EncodeError("an error SECURITY-Response carries a DAR 0..255")
        out += bytes((a.dar,))
    else:
        raise EncodeError(f"response application data choice must be 0..2: {a.mode}")
    if a.mac is None:
        return out + b"\x00"
    return out + b"\x01\x00" + _octets(a.mac)


def _read_sid(r: ap._Reader) -> Sid:
    tag = r.uint(4, "SID")
    return Sid(tag, r.take(r.length("SID"), "SID"))


def parse_security(apdu: bytes) -> SecurityRequest | SecurityResponse:
    """Parse a SECURITY-Request (10H) or -Response (90H); DecodeError for anything else."""
    r = ap._Reader(apdu)
    tag = r.byte("APDU tag")
    mode = r.byte("application data choice")
    if tag == SECURITY_REQUEST:
        if mode not in (PLAINTEXT, CIPHERTEXT):
            raise DecodeError(f"request application data choice must be 0 or 1, got {mode}")
        data = r.take(r.length("application data"), "application data")
        verify = r.byte("verification information")
        rn = mac = b""
        sid = None
        if verify == VERIFY_SID_MAC:
            sid = _read_sid(r)
            mac = r.take(r.length("MAC"), "MAC")
        elif verify == VERIFY_RN:
            rn = r.take(r.length("RN"), "RN")
        elif verify == VERIFY_RN_MAC:
            rn = r.take(r.length("RN"), "RN")
            mac = r.take(r.length("MAC"), "MAC")
        elif verify == VERIFY_SID:
            sid = _read_sid(r)
        else:
            raise DecodeError(f"verification information choice must be 0..3, got {verify}")
        result: SecurityRequest | SecurityResponse = SecurityRequest(
            mode, data, verify, rn, mac, sid
        )
    elif tag == SECURITY_RESPONSE:
        data, dar = b"", None
        if mode in (PLAINTEXT, CIPHERTEXT):
            data = r.take(r.length("application data"), "application data")
        elif mode == ERROR_DAR:
            dar = r.byte("DAR")
        else:
            raise DecodeError(f"response application data choice must be 0..2, got {mode}")
        mac = None
        if r.optional_flag("verification information"):
            choice = r.byte("verification information")
            if choice != 0:
                raise DecodeError(f"response verification choice must be 0 (MAC), got {choice}")
            mac = r.take(r.length("MAC"), "MAC")
        result = SecurityResponse(mode, data, dar, mac)
    else:
        raise DecodeError(f"APDU {tag:02X}H is not a SECURITY APDU")
    ap._check_end(r, result.name)
    return result


# -- security providers --------------------------------------------------------------------------


class ClientSecurity(Protocol):
    """What a client asks of its security module (ESAM, lab security server)."""

    def random(self) -> bytes:
        """A fresh random number (RN) for a plaintext+RN request."""
        ...

    def verify_response(self, address: bytes, rn: bytes, apdu: bytes, mac: bytes) -> bool:
        """Does ``mac`` prove the meter at ``address`` sent ``apdu`` in reply to ``rn``?"""
        ...

    def sign_request(self, address: bytes, apdu: bytes) -> tuple[Sid, bytes]:
        """SID and MAC for a plaintext+SID_MAC request (writes and actions)."""
        ...


class MeterSecurity(Protocol):
    """What a meter asks of its ESAM."""

    def response_mac(self, address: bytes, rn: bytes, apdu: bytes) -> bytes: ...

    def verify_request(self, address: bytes, sid: Sid, apdu: bytes, mac: bytes) -> bool: ...


class SimulatedSecurity:
    """A keyed HMAC-SHA256 (first 4 bytes) for simulated meters and their clients.

    Both sides of a simulation hold the same ``key``; random numbers come from a seeded
    generator so runs repeat. Real meters reject it: they need an ESAM and a security module.
    """

    def __init__(self, key: bytes, seed: int = 0, rn_size: int = 16) -> None:
        if not key:
            raise ValueError("a simulated security key must not be empty")
        self._key = bytes(key)
        self._random = random.Random(seed)
        self.rn_size = rn_size
        self._counter = 0

    def _mac(self, *parts: bytes) -> bytes:
        msg = b"".join(_octets(p) for p in parts)
        return hmac.new(self._key, msg, hashlib.sha256).digest()[:4]

    def random(self) -> bytes:
        return bytes(self._random.getrandbits(8) for _ in range(self.rn_size))

    def response_mac(self, address: bytes, rn: bytes, apdu: bytes) -> bytes:
        return self._mac(b"R", address, rn, apdu)

    def verify_response(self, address: bytes, rn: bytes, apdu: bytes, mac: bytes) -> bool:
        return hmac.compare_digest(self.response_mac(address, rn, apdu), bytes(mac))

    def sign_request(self, address: bytes, apdu: bytes) -> tuple[Sid, bytes]:
        self._counter += 1
        sid = Sid(0x81000000 | (self._counter & 0xFFFF), self._counter.to_bytes(4, "big"))
        return sid, self._mac(b"Q", address, sid.tag.to_bytes(4, "big"), sid.extra, apdu)

    def verify_request(self, address: bytes, sid: Sid, apdu: bytes, mac: bytes) -> bool:
        expected = self._mac(b"Q", address, sid.tag.to_bytes(4, "big"), sid.extra, apdu)
        return hmac.compare_digest(expected, bytes(mac))


__all__ = [
    "ClientSecurity",
    "MeterSecurity",
    "SecurityRequest",
    "SecurityResponse",
    "Sid",
    "SimulatedSecurity",
    "encode_security_request",
    "encode_security_response",
    "parse_security",
]
