"""DL/T 698.45 meter client on top of a bus manager (asyncio only).

One client per meter; many share one Bus. Requests are built with ``meterproto.dlt698``; every
reply is matched by the meter's address, the response tag and the PIID the request carried, so
a late reply to an earlier request is not taken for the current one. Link-layer fragments go
out and come back one bus transaction each (the other side acknowledges every fragment but the
last). Frames the meter starts itself (LINK login/heartbeat, REPORT notifications) may turn up
while the client waits for a reply: they are answered right after the transaction and the
reports are kept in ``reports``.

With a security provider, reads can go out as SECURITY-Request plaintext+RN (the reply's MAC is
checked by the provider) and writes/actions as plaintext+SID_MAC (the provider signs them).
Failures are typed: MeterTimeout, MeterBadReply, MeterDarError (the DAR named) and
MeterAbnormalReply (CONNECT refused, ERROR-Response).

All bus traffic goes through ``_transact``: the one place that knows the bus manager's API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn

from meterbench.devices.dlt645_client import json_value
from meterbench.devices.electricity_meter import EnergyRegister, PulseOutput
from meterbench.devices.errors import (
    MeterAbnormalReply,
    MeterBadReply,
    MeterDarError,
    MeterTimeout,
)
from meterbench.transport.bus import Bus, Exchange
from meterbench.transport.dialects import DLT698
from meterbench.transport.errors import BadFrame, CorruptReply, ReplyTimeout
from meterproto.compat import to_hex
from meterproto.dlt645.frame import DecodeError, EncodeError
from meterproto.dlt698 import apdu as ap
from meterproto.dlt698 import catalogue as cat
from meterproto.dlt698 import fragment as fr
from meterproto.dlt698 import security as sec
from meterproto.dlt698 import services as sv
from meterproto.dlt698.apdu import Data
from meterproto.dlt698.frame import (
    ADDR_BROADCAST,
    ADDR_SINGLE,
    ADDR_WILDCARD,
    FN_LINK,
    FN_USER_DATA,
    PRM_CLIENT,
    Frame,
    address_from_text,
)

PREAMBLE = 4
WILDCARD = "aaaaaaaaaaaa"
_OVERHEAD = PREAMBLE + 12 + 16  # 68 L C AF CA HCS FCS 16 + a 16-byte address at most
_PULSE_MODES = {
    PulseOutput.CLOCK_SECOND: 0,
    PulseOutput.DEMAND_PERIOD: 1,
    PulseOutput.TARIFF_SWITCH: 2,
}
_REQUEST = PRM_CLIENT | FN_USER_DATA  # 43H
_CLIENT_LINK_ANSWER = FN_LINK  # 01H: the client answering a server-started LINK-Request
_CLIENT_REPORT_ANSWER = FN_USER_DATA  # 03H: the client answering a REPORT-Notification


@dataclass(frozen=True)
class Reading:
    """One OAD read: the engineering value (scaled by the catalogue), its unit and the Data."""

    oad: str
    name: str
    value: Any
    unit: str
    data: Data

    def to_json(self) -> dict[str, Any]:
        return {
            "oad": self.oad,
            "name": self.name,
            "value": json_value(self.value),
            "unit": self.unit,
            "data_type": self.data.type_name,
            "raw_hex": to_hex(ap.encode_data(self.data)),
        }


@dataclass
class _Pending:
    """Server-started frames seen during a transaction, answered right after it."""

    answers: list[Frame] = field(default_factory=list)
    seen: set[bytes] = field(default_factory=set)


def _wire_address(address: str | bytes) -> tuple[bytes, int]:
    if isinstance(address, bytes):
        wire = bytes(address)
    else:
        try:
            wire = address_from_text(address)
        except EncodeError as exc:
            raise ValueError(f"bad meter address {address!r}: {exc}") from None
    wildcard = any(b >> 4 == 0xA or b & 0x0F == 0xA for b in wire)
    return wire, ADDR_WILDCARD if wildcard else ADDR_SINGLE


class Dlt698Client:
    """A DL/T 698.45 meter at one address on a shared bus."""

    def __init__(
        self,
        bus: Bus,
        address: str | bytes = WILDCARD,
        *,
        ca: int = 0x00,
        security: sec.ClientSecurity | None = None,
        secure_reads: bool = False,
        password: str | None = None,
        parameters: sv.ConnectParameters | None = None,
        auto_connect: bool = True,
        retries: int | None = None,
        max_fragments: int = 256,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self.bus = bus
        self._sa, self._address_type = _wire_address(address)
        self.ca = ca
        self.security = security
        self.secure_reads = secure_reads and security is not None
        self.password = password
        self.parameters = parameters or sv.ConnectParameters(send_frame=512, receive_frame=512)
        self.auto_connect = auto_connect
        self.retries = retries
        self.max_fragments = max_fragments
        self.clock = clock
        self.connected: sv.ConnectResponse | None = None
        self.reports: list[sv.ReportNotification] = []
        self.link_requests: list[ap.LinkRequest] = []
        self._send_size = self._user_data(self.parameters.send_frame)
        self._piid = 0
        self._pending = _Pending()

    # -- identity ------------------------------------------------------------------------------
    @property
    def protocol(self) -> str:
        return "dlt698"

    @property
    def address(self) -> str:
        return bytes(reversed(self._sa)).hex()

    def _learn(self, frame: Frame) -> None:
        if self._address_type == ADDR_WILDCARD and len(frame.address) == len(self._sa):
            self._sa, self._address_type = bytes(frame.address), ADDR_SINGLE

    def _from_our_meter(self, frame: Frame) -> bool:
        if len(frame.address) != len(self._sa):
            return False
        if self._address_type == ADDR_SINGLE:
            return frame.address == self._sa
        return all(
            s >> 4 in (0xA, g >> 4) and s & 0x0F in (0xA, g & 0x0F)
            for s, g in zip(self._sa, frame.address, strict=True)
        )

    def _user_data(self, frame_size: int) -> int:
        """APDU bytes per request frame of ``frame_size`` (CONNECT sizes count whole frames)."""
        return max(fr.HEADER + 1, fr.user_data_size(frame_size, len(self._sa)))

    def _next_piid(self) -> int:
        self._piid = (self._piid + 1) & 0x3F
        return self._piid

    # -- the bus -------------------------------------------------------------------------------
    async def _transact(
        self, request: Frame, accept: Callable[[Frame], bool] | None, label: str
    ) -> Frame | None:
        """One bus transaction; ``accept`` sees the reply frames from our meter (PRM = 1)."""

        def match(frame: Frame) -> bool:
            if not self._from_our_meter(frame):
                return False
            if not frame.prm:
                self._server_started(frame)
                return False
            return accept is not None and accept(frame)

        ex = Exchange(
            request=request.encode(preamble=PREAMBLE),
            dialect=DLT698,
            match=None if accept is None else match,
            reply_len=_OVERHEAD + self.parameters.receive_frame,
            label=f"{label} @ {self.address}",
            retries=self.retries,
        )
        try:
            return await self.bus.transact(ex)
        except ReplyTimeout as exc:
            raise MeterTimeout(
                f"meter {self.address}: no reply to {label} after {exc.attempts} attempt(s)",
                self.address,
                exc.attempts,
            ) from None
        except CorruptReply as exc:
            raise MeterBadReply(f"meter {self.address}: {exc}", self.address) from None
        finally:
            if accept is not None:
                await self._answer_server()

    def _server_started(self, frame: Frame) -> None:
        raw = bytes(frame.raw or b"")
        if raw in self._pending.seen:
            return
        self._pending.seen.add(raw)
        try:
            message = ap.parse_apdu(frame.apdu)
        except DecodeError:
            return
        if isinstance(message, ap.LinkRequest):
            self.link_requests.append(message)
            now = self.clock()
            answer = sv.link_response(message.piid_acd & 0x3F, 0x80, message.time, now, now)
            self._pending.answers.append(Frame(self._sa, _CLIENT_LINK_ANSWER, answer, self.ca))
        elif isinstance(message, sv.ReportNotification):
            self.reports.append(message)
            ack = sv.ReportResponse(
                message.piid_acd & 0x3F, 2 if message.records else 1, message.oads
            )
            apdu = sv.encode_apdu(ack)
            self._pending.answers.append(Frame(self._sa, _CLIENT_REPORT_ANSWER, apdu, self.ca))

    async def _answer_server(self) -> None:
        answers, self._pending.answers = self._pending.answers, []
        for frame in answers:
            await self._transact(frame, None, "answer to the meter")
        if len(self._pending.seen) > 64:
            self._pending.seen.clear()

    # -- APDU exchange with fragmentation ----------------------------------------------------
    async def _exchange(self, apdu: bytes, is_reply: Callable[[Any], bool], label: str) -> Any:
        """Send ``apdu`` (fragmented if it is too long), return the parsed reply APDU."""
        template = Frame(self._sa, _REQUEST, b"", self.ca, self._address_type)

        def whole_reply(frame: Frame) -> bool:
            if frame.fragment:
                try:
                    return fr.parse_fragment(frame.apdu).kind == fr.FIRST
                except DecodeError as exc:
                    raise BadFrame(str(exc)) from None
            return self._is_reply(frame.apdu, is_reply)

        if self.connected is None or len(apdu) <= self._send_size:
            # only a connection negotiates frame sizes: nothing is fragmented outside one
            reply = await self._transact(Frame(*_fields(template, apdu)), whole_reply, label)
        else:
            try:
                parts = fr.split(apdu, self._send_size)
            except EncodeError as exc:
                raise ValueError(str(exc)) from None
            for part in parts[:-1]:
                await self._transact(
                    fr.fragment_frame(template, part), _acknowledges(part.number), label
                )
            reply = await self._transact(fr.fragment_frame(template, parts[-1]), whole_reply, label)
        assert reply is not None
        self._learn(reply)
        raw = reply.apdu if not reply.fragment else await self._reassemble(reply, template, label)
        parsed = self._parse(raw)
        if reply.fragment and not is_reply(_unwrapped(parsed)):
            raise MeterBadReply(f"meter {self.address}: reassembled reply does not answer {label}")
        return parsed

    async def _reassemble(self, first: Frame, template: Frame, label: str) -> bytes:
        reassembler = fr.Reassembler()
        piece = fr.parse_fragment(first.apdu)
        whole = reassembler.accept(piece)
        count = 1
        while whole is None:
            if count >= self.max_fragments:
                raise MeterBadReply(
                    f"meter {self.address}: more than {self.max_fragments} fragments for {label}"
                )
            ack = fr.fragment_frame(template, fr.acknowledgement(piece.number))
            frame = await self._transact(ack, _numbered(piece.number + 1), label)
            assert frame is not None
            piece = fr.parse_fragment(frame.apdu)
            try:
                whole = reassembler.accept(piece)
            except DecodeError as exc:
                raise MeterBadReply(f"meter {self.address}: {exc}") from None
            count += 1
        return whole

    def _is_reply(self, raw: bytes, is_reply: Callable[[Any], bool]) -> bool:
        try:
            parsed = ap.parse_apdu(raw)
        except DecodeError as exc:
            raise BadFrame(str(exc)) from None
        return is_reply(_unwrapped(parsed))

    def _parse(self, raw: bytes) -> Any:
        try:
            return ap.parse_apdu(raw)
        except DecodeError as exc:
            raise MeterBadReply(f"meter {self.address}: {exc}") from None

    async def _service(self, message: Any, label: str, *, write: bool = False) -> Any:
        """Send one service request (secured when configured) and return its response."""
        if (
            self.auto_connect
            and self.connected is None
            and not isinstance(message, sv.ConnectRequest)
        ):
            await self.connect()
        try:
            inner = sv.encode_apdu(message)
        except EncodeError as exc:
            raise ValueError(f"{label}: {exc}") from None
        piid = message.piid
        expected = _RESPONSE_TYPE[type(message)]

        def is_reply(parsed: Any) -> bool:
            if isinstance(parsed, sec.SecurityResponse):
                return True  # an error envelope carries no PIID
            if isinstance(parsed, sv.ErrorResponse | expected) or (
                isinstance(parsed, sv.GetResponseNext) and message.name.startswith("GET")
            ):
                return bool(parsed.piid_acd & 0x3F == piid)
            return False

        apdu, rn = inner, b""
        if self.security is not None and write:
            sid, mac = self.security.sign_request(self._sa, inner)
            request = sec.SecurityRequest(
                sec.PLAINTEXT, inner, sec.VERIFY_SID_MAC, mac=mac, sid=sid
            )
            apdu = sec.encode_security_request(request)
        elif self.secure_reads and self.security is not None and not _association(message):
            rn = self.security.random()
            apdu = sec.encode_security_request(
                sec.SecurityRequest(sec.PLAINTEXT, inner, sec.VERIFY_RN, rn=rn)
            )
        reply = await self._exchange(apdu, is_reply, label)
        if isinstance(reply, sec.SecurityResponse):
            reply = self._open_secured(reply, rn, label)
            if not is_reply(reply):
                raise MeterBadReply(f"meter {self.address}: secured reply does not answer {label}")
        if isinstance(reply, sv.ErrorResponse):
            raise MeterAbnormalReply(
                f"meter {self.address} could not serve {label}: error type {reply.error}",
                self.address,
                error_word=reply.error,
                version=698,
            )
        if isinstance(reply, sv.GetResponseNext) and not isinstance(message, sv.GetRequestNext):
            return await self._blocks(message, reply, label)
        return reply

    async def _blocks(self, message: Any, first: sv.GetResponseNext, label: str) -> Any:
        """A GET answered in application blocks (GET-Response-Next): fetch the rest with
        GET-Request-Next and return the response the request would have had in one piece."""
        results, records = list(first.results), list(first.records)
        block, count = first, 1
        while block.dar is None and not block.last:
            if count >= self.max_fragments:
                raise MeterBadReply(f"meter {self.address}: more than {count} blocks for {label}")
            request = sv.GetRequestNext(self._next_piid(), block.block)
            block = await self._service(request, f"{label} (block {block.block + 1})")
            results += block.results
            records += block.records
            count += 1
        if block.dar is not None:
            self._raise_dar(block.dar, label)
        piid = first.piid_acd
        if isinstance(message, ap.GetRequestNormal) and len(results) == 1:
            return ap.GetResponseNormal(piid, results[0].oad, results[0].data, results[0].dar)
        if isinstance(message, sv.GetRequestNormalList):
            return sv.GetResponseNormalList(piid, tuple(results))
        if isinstance(message, sv.GetRequestRecord) and len(records) == 1:
            return sv.GetResponseRecord(piid, records[0])
        raise MeterBadReply(f"meter {self.address}: blocks for {label} do not answer it")

    def _open_secured(self, reply: sec.SecurityResponse, rn: bytes, label: str) -> Any:
        if reply.mode == sec.ERROR_DAR:
            self._raise_dar(reply.dar or 255, label)
        if reply.mode != sec.PLAINTEXT:
            raise MeterBadReply(f"meter {self.address}: ciphertext reply needs a security module")
        if rn:
            assert self.security is not None
            if reply.mac is None or not self.security.verify_response(
                self._sa, rn, reply.data, reply.mac
            ):
                raise MeterBadReply(f"meter {self.address}: reply MAC for {label} does not verify")
        return self._parse(reply.data)

    def _raise_dar(self, dar: int, label: str) -> NoReturn:
        name = sv.dar_name(dar)
        raise MeterDarError(
            f"meter {self.address} refused {label}: DAR {dar} ({name})",
            self.address,
            dar=dar,
            name=name,
        )

    # -- application association ---------------------------------------------------------------
    async def connect(self) -> sv.ConnectResponse:
        """CONNECT (password mechanism when a password is set); learns the frame sizes."""
        request = sv.ConnectRequest(
            self._next_piid(),
            self.parameters,
            mechanism=1 if self.password is not None else 0,
            password=self.password or "",
        )
        response = await self._service(request, "CONNECT")
        if not isinstance(response, sv.ConnectResponse):
            raise MeterBadReply(f"meter {self.address}: CONNECT answered by {response.name}")
        if response.result != 0:
            raise MeterAbnormalReply(
                f"meter {self.address} refused the connection: result {response.result}",
                self.address,
                error_word=response.result,
                version=698,
            )
        self.connected = response
        agreed = min(self.parameters.send_frame, response.parameters.receive_frame)
        self._send_size = self._user_data(agreed)
        return response

    async def release(self) -> None:
        """RELEASE the application connection."""
        if self.connected is None:
            return
        await self._service(sv.ReleaseRequest(self._next_piid()), "RELEASE")
        self.connected = None

    # -- GET / SET / ACTION ----------------------------------------------------------------------
    async def get(self, oad: str) -> Data:
        """One attribute (GET-Request-Normal); MeterDarError when the meter refuses it."""
        oad = _oad(oad)
        reply = await self._service(ap.GetRequestNormal(self._next_piid(), oad), f"GET {oad}")
        if reply.oad != oad:
            raise MeterBadReply(f"meter {self.address}: GET {oad} answered for {reply.oad}")
        if reply.data is None:
            self._raise_dar(reply.dar if reply.dar is not None else 255, f"GET {oad}")
        return reply.data

    async def get_many(self, oads: Iterable[str]) -> list[sv.ResultNormal]:
        """Several attributes in one GET-Request-NormalList; each result has Data or a DAR."""
        wanted = tuple(_oad(o) for o in oads)
        request = sv.GetRequestNormalList(self._next_piid(), wanted)
        reply = await self._service(request, f"GET list of {len(wanted)}")
        if tuple(r.oad for r in reply.results) != wanted:
            raise MeterBadReply(f"meter {self.address}: GET list answered other OADs")
        return list(reply.results)

    async def get_record(
        self, oad: str, rsd: sv.Rsd, columns: Iterable[sv.Csd]
    ) -> tuple[tuple[Data, ...], ...]:
        """Records (GET-Request-Record): rows of the requested columns."""
        oad = _oad(oad)
        request = sv.GetRequestRecord(self._next_piid(), oad, rsd, tuple(columns))
        reply = await self._service(request, f"GET record {oad}")
        if reply.result.rows is None:
            self._raise_dar(reply.result.dar or 255, f"GET record {oad}")
        return reply.result.rows

    async def set(self, oad: str, data: Data) -> None:
        """SET-Request-Normal; secured with SID_MAC when a security provider is configured."""
        oad = _oad(oad)
        reply = await self._service(
            sv.SetRequestNormal(self._next_piid(), oad, data), f"SET {oad}", write=True
        )
        if reply.dar:
            self._raise_dar(reply.dar, f"SET {oad}")

    async def set_many(self, items: Iterable[tuple[str, Data]]) -> list[tuple[str, int]]:
        """SET-Request-NormalList: (OAD, DAR) for every item, in order."""
        pairs = tuple((_oad(o), d) for o, d in items)
        request = sv.SetRequestNormalList(self._next_piid(), pairs)
        reply = await self._service(request, f"SET list of {len(pairs)}", write=True)
        return list(reply.results)

    async def action(self, omd: str, parameter: Data | None = None) -> Data | None:
        """ACTION-Request-Normal; returns the method's return data (None when it has none)."""
        omd = _oad(omd)
        request = ap.ActionRequestNormal(self._next_piid(), omd, parameter or Data(0, None))
        reply = await self._service(request, f"ACTION {omd}", write=True)
        if reply.dar:
            self._raise_dar(reply.dar, f"ACTION {omd}")
        return reply.data

    async def read(self, oad: str) -> Reading:
        """GET with the catalogue applied: name, scaled value and unit."""
        data = await self.get(oad)
        value, unit = cat.engineering(oad, data)
        return Reading(_oad(oad), cat.name(oad), value, unit, data)

    # -- ElectricityMeter ------------------------------------------------------------------------
    async def read_address(self) -> str:
        data = await self.get(cat.ADDRESS)
        if data.tag != 0x09 or not isinstance(data.value, bytes):
            raise MeterBadReply(f"meter {self.address}: address is not an octet-string")
        return data.value.hex()

    async def read_energy(
        self, register: EnergyRegister = EnergyRegister.ACTIVE_IMPORT, tariff: int = 0
    ) -> Decimal:
        oad = cat.energy_oad(cat.ENERGY_OI[register.value], tariff)
        data = await self.get(oad)
        try:
            return cat.integer(oad, data)
        except DecodeError as exc:
            raise MeterBadReply(f"meter {self.address}: {exc}") from None

    async def read_clock(self) -> dt.datetime:
        data = await self.get(cat.CLOCK)
        if data.tag != 0x1C or not isinstance(data.value, dt.datetime):
            raise MeterBadReply(f"meter {self.address}: clock is not a valid date_time_s")
        return data.value

    async def set_clock(self, when: dt.datetime | None = None) -> None:
        stamp = (when or self.clock()).replace(microsecond=0, tzinfo=None)
        await self.set(cat.CLOCK, Data(0x1C, stamp))

    async def broadcast_time(self, when: dt.datetime | None = None) -> None:
        """ACTION 4000 method 127 to the broadcast address: every meter on the line sets its
        clock and none answers (so nothing confirms it: read the clocks afterwards)."""
        stamp = (when or self.clock()).replace(microsecond=0, tzinfo=None)
        request = ap.ActionRequestNormal(self._next_piid(), cat.BROADCAST_TIME, Data(0x1C, stamp))
        frame = Frame(
            b"\xaa" * len(self._sa), _REQUEST, sv.encode_apdu(request), self.ca, ADDR_BROADCAST
        )
        await self._transact(frame, None, "broadcast time")

    async def set_pulse_output(self, mode: PulseOutput) -> None:
        await self.set(cat.OUTPUT_MODE, Data(0x16, _PULSE_MODES[mode]))


def _association(message: Any) -> bool:
    """CONNECT and RELEASE carry their own security mechanism and are never wrapped."""
    return isinstance(message, sv.ConnectRequest | sv.ReleaseRequest)


def _fields(template: Frame, apdu: bytes) -> tuple[Any, ...]:
    return (template.address, template.control, apdu, template.ca, template.address_type)


def _acknowledges(number: int) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        if not frame.fragment:
            return False
        try:
            piece = fr.parse_fragment(frame.apdu)
        except DecodeError as exc:
            raise BadFrame(str(exc)) from None
        return piece.kind == fr.ACK and piece.number == number

    return check


def _numbered(number: int) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        if not frame.fragment:
            return False
        try:
            piece = fr.parse_fragment(frame.apdu)
        except DecodeError as exc:
            raise BadFrame(str(exc)) from None
        return piece.kind in (fr.MIDDLE, fr.LAST) and piece.number == number & fr.MAX_NUMBER

    return check


def _unwrapped(parsed: Any) -> Any:
    """The inner APDU of a plaintext SECURITY-Response (the envelope itself otherwise)."""
    if isinstance(parsed, sec.SecurityResponse) and parsed.mode == sec.PLAINTEXT:
        try:
            return ap.parse_apdu(parsed.data)
        except DecodeError as exc:
            raise BadFrame(str(exc)) from None
    return parsed


_RESPONSE_TYPE: dict[type, type] = {
    ap.GetRequestNormal: ap.GetResponseNormal,
    ap.ActionRequestNormal: ap.ActionResponseNormal,
    sv.ConnectRequest: sv.ConnectResponse,
    sv.ReleaseRequest: sv.ReleaseResponse,
    sv.GetRequestNormalList: sv.GetResponseNormalList,
    sv.GetRequestNext: sv.GetResponseNext,
    sv.GetRequestRecord: sv.GetResponseRecord,
    sv.SetRequestNormal: sv.SetResponseNormal,
    sv.SetRequestNormalList: sv.SetResponseNormalList,
    sv.ActionRequestList: sv.ActionResponseList,
}


def _oad(text: str) -> str:
    oi, attribute, index = cat.split_oad(text)
    return f"{oi:04x}{attribute:02x}{index:02x}"


__all__ = ["WILDCARD", "Dlt698Client", "Reading"]
