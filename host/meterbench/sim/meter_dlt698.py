"""A simulated DL/T 698.45 electricity meter on the same meter model as the DL/T 645 one.

The state (energy registers per quantity and tariff, instantaneous values, clock, pulse output
mode, event counters) and the plain methods the physics drives are those of
:class:`~meterbench.sim.meter_dlt645.Dlt645Meter`; this class only speaks 698.45 about them:
CONNECT/RELEASE, GET (normal, list, record), SET, ACTION, SECURITY-Request in plaintext with RN
or SID_MAC (MACs from a :class:`~meterproto.dlt698.security.MeterSecurity`), link-layer
fragmentation both ways, and, when asked to, server-started LINK heartbeats and REPORT
notifications sent just before a reply. It is silent on frames for other addresses, answers a
wildcard with its real address, and uses the meter's response delay and fault plan.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from meterbench.sim.answer import Answer
from meterbench.sim.meter_dlt645 import Dlt645Meter
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
    DIR_SERVER,
    FN_LINK,
    FN_USER_DATA,
    PRM_CLIENT,
    Frame,
)

# DAR codes the model uses
DAR_DENIED = 3
DAR_UNDEFINED = 4
DAR_NOT_FOUND = 6
DAR_TYPE = 7
DAR_RANGE = 8
DAR_AUTH = 15
DAR_SECURITY = 23
DAR_ESAM = 22

_EVENTS = {
    0x3011: "power down",
    0x3013: "meter clear",
    0x3016: "time setting",
    0x301B: "cover opening",
}
_TEXTS = {0x4104: "220V", 0x4105: "5A", 0x4106: "60A", 0x4107: "1.0"}
_REPLY_CONTROL = DIR_SERVER | PRM_CLIENT | FN_USER_DATA  # C3H
_SERVER_LINK = DIR_SERVER | FN_LINK  # 81H: server-started link management
_SERVER_REPORT = DIR_SERVER | FN_USER_DATA  # 83H: server-started report
_HEADER = 4 + 1 + 2 + 1 + 1 + 6 + 1 + 2  # preamble .. HCS of a 6-byte address


def _u(tag: int, value: int) -> Data:
    return Data(tag, value)


@dataclass(kw_only=True)
class Dlt698Meter(Dlt645Meter):
    """A 698.45 meter. ``security`` None accepts plaintext SET/ACTION on a connection; with a
    security module it demands SECURITY-Request with a valid SID_MAC for them."""

    protocol: ClassVar[str] = "dlt698"
    security: sec.MeterSecurity | None = None
    connect_password: str | None = None  # CONNECT mechanism 1 password, None: any
    max_frame: int = 512  # bytes of one link frame (68H..16H) this meter sends or takes
    heartbeat_every: int | None = None  # send a LINK heartbeat before every n-th reply
    baudrate: int = 9600
    preamble: int = 4
    pending_reports: list[sv.ResultNormal] = field(default_factory=list)
    acknowledged_reports: list[tuple[str, ...]] = field(default_factory=list)
    link_responses: list[ap.LinkResponse] = field(default_factory=list)
    time_settings: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    connected: bool = False
    exchanges: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        self._client_frame = self.max_frame
        self._reassembly = fr.Reassembler()
        self._outgoing: tuple[Frame, list[fr.Fragment]] | None = None
        self._ca = 0

    # -- the line's view ---------------------------------------------------------------------
    def accepts(self, request: Any) -> bool:  # type: ignore[override]
        if not isinstance(request, Frame) or request.dir:
            return False
        if request.address_type == ADDR_BROADCAST:
            return True
        if len(request.address) != len(self.wire_address):
            return False
        if request.address_type == ADDR_WILDCARD:
            return all(
                (b >> 4 in (0xA, own >> 4)) and (b & 0x0F in (0xA, own & 0x0F))
                for b, own in zip(request.address, self.wire_address, strict=True)
            )
        return request.address_type == ADDR_SINGLE and request.address == self.wire_address

    def respond(self, request: Any) -> Answer | None:  # type: ignore[override]
        frames = self.handle(request)
        if not frames:
            return None
        raw = b"".join(f.encode(preamble=self.preamble) for f in frames)
        fault = self.faults.next_fault()
        sent = request.raw if request.raw is not None else request.encode()
        pieces = self.faults.apply(fault, bytes(sent), raw, self._last_reply, _HEADER)
        self._last_reply = raw
        if pieces is None:
            return None
        return Answer(self.response_delay, pieces, self.baudrate, self.address)

    # -- protocol ----------------------------------------------------------------------------
    def handle(self, request: Any) -> list[Frame]:  # type: ignore[override]
        """The frames a real meter puts on the line for ``request`` (empty: silence)."""
        if not self.accepts(request):
            return []
        broadcast = request.address_type == ADDR_BROADCAST
        self._ca = request.ca  # replies go back to the client address that asked
        if not request.prm:  # the client answering something this meter started
            self._client_answer(request)
            return []
        if request.function != FN_USER_DATA:
            return []
        if request.fragment:
            reply = self._fragment_in(request)
            return [] if broadcast or reply is None else self._prefixed([reply])
        self._reassembly.reset()
        self._outgoing = None
        reply_apdu = self._service(request.apdu)
        if reply_apdu is None or broadcast:
            return []
        return self._prefixed(self._reply_frames(reply_apdu))

    def _frame(self, control: int, apdu: bytes) -> Frame:
        return Frame(self.wire_address, control, apdu, self._ca)

    def _reply_frames(self, reply: bytes) -> list[Frame]:
        """The reply in one frame, or its first fragment. Only a connection negotiates the
        frame sizes, so nothing is fragmented outside one (the CONNECT-Response included)."""
        size = fr.user_data_size(min(self.max_frame, self._client_frame), len(self.wire_address))
        if len(reply) <= size or not self.connected or reply[0] == sv.CONNECT_RESPONSE:
            return [self._frame(_REPLY_CONTROL, reply)]
        parts = fr.split(reply, size)
        template = self._frame(_REPLY_CONTROL, b"")
        self._outgoing = (template, parts)
        return [fr.fragment_frame(template, parts[0])]

    def _prefixed(self, frames: list[Frame]) -> list[Frame]:
        """Server-started frames that go out just before the reply (heartbeat, reports)."""
        self.exchanges += 1
        extra: list[Frame] = []
        if self.heartbeat_every and self.exchanges % self.heartbeat_every == 0:
            apdu = sv.link_request(1, 60, self.now(), piid_acd=self.exchanges & 0x3F)
            extra.append(self._frame(_SERVER_LINK, apdu))
        if self.pending_reports:
            report = sv.ReportNotification(self.exchanges & 0x3F, tuple(self.pending_reports))
            extra.append(self._frame(_SERVER_REPORT, sv.encode_apdu(report)))
        return extra + frames

    def _client_answer(self, request: Frame) -> None:
        try:
            answer = ap.parse_apdu(request.apdu)
        except DecodeError:
            return
        if isinstance(answer, ap.LinkResponse):
            self.link_responses.append(answer)
        elif isinstance(answer, sv.ReportResponse):
            self.acknowledged_reports.append(answer.oads)
            self.pending_reports = [r for r in self.pending_reports if r.oad not in answer.oads]

    def _fragment_in(self, request: Frame) -> Frame | None:
        try:
            piece = fr.parse_fragment(request.apdu)
        except DecodeError:
            return None
        if piece.kind == fr.ACK:  # the client took fragment n of our reply: send n + 1
            if self._outgoing is None:
                return None
            template, parts = self._outgoing
            following = piece.number + 1
            if following >= len(parts):
                return None
            if following == len(parts) - 1:
                self._outgoing = None
            return fr.fragment_frame(template, parts[following])
        try:
            whole = self._reassembly.accept(piece)
        except DecodeError:
            return None
        if whole is None:
            ack = fr.fragment_frame(
                self._frame(_REPLY_CONTROL, b""), fr.acknowledgement(piece.number)
            )
            return ack
        reply = self._service(whole)
        if reply is None:
            return None
        return self._reply_frames(reply)[0]

    # -- services ----------------------------------------------------------------------------
    def _service(self, raw: bytes, secured: bool = False) -> bytes | None:
        try:
            message = ap.parse_apdu(raw)
        except DecodeError:
            return sv.encode_apdu(sv.ErrorResponse(0, 1)) if raw else None
        try:
            return self._dispatch(message, raw, secured)
        except EncodeError:  # a value the model cannot put on the wire
            return sv.encode_apdu(sv.ErrorResponse(getattr(message, "piid", 0), 255))

    def _dispatch(self, m: Any, raw: bytes, secured: bool) -> bytes | None:
        if isinstance(m, sec.SecurityRequest):
            return self._secured(m)
        if isinstance(m, sv.ConnectRequest):
            return self._connect(m)
        if isinstance(m, sv.ReleaseRequest):
            self.connected = False
            return sv.encode_apdu(sv.ReleaseResponse(m.piid, 0))
        if isinstance(m, ap.GetRequestNormal):
            return self._get_normal(m)
        if isinstance(m, sv.GetRequestNormalList):
            results = tuple(self._get(o) for o in m.oads)
            return sv.encode_apdu(sv.GetResponseNormalList(m.piid, results))
        if isinstance(m, sv.GetRequestRecord):
            return sv.encode_apdu(sv.GetResponseRecord(m.piid, self._record(m)))
        writable = secured or self.security is None
        if isinstance(m, sv.SetRequestNormal):
            dar = self._set(m.oad, m.data) if writable else DAR_SECURITY
            return sv.encode_apdu(sv.SetResponseNormal(m.piid, m.oad, dar))
        if isinstance(m, sv.SetRequestNormalList):
            results = tuple((o, self._set(o, d) if writable else DAR_SECURITY) for o, d in m.items)
            return sv.encode_apdu(sv.SetResponseNormalList(m.piid, results))
        if isinstance(m, ap.ActionRequestNormal):
            dar = self._action(m.omd, m.parameter) if writable else DAR_SECURITY
            return sv.encode_apdu(ap.ActionResponseNormal(m.piid, m.omd, dar, None))
        if isinstance(m, sv.ActionRequestList):
            results = tuple(
                sv.ActionResult(o, self._action(o, d) if writable else DAR_SECURITY)
                for o, d in m.items
            )
            return sv.encode_apdu(sv.ActionResponseList(m.piid, results))
        if isinstance(m, ap.LinkResponse | sv.ReportResponse):
            return None
        piid = getattr(m, "piid", 0)
        return sv.encode_apdu(sv.ErrorResponse(piid if isinstance(piid, int) else 0, 2))

    def _get_normal(self, m: ap.GetRequestNormal) -> bytes:
        result = self._get(m.oad)
        return sv.encode_apdu(ap.GetResponseNormal(m.piid, m.oad, result.data, result.dar))

    def _secured(self, m: sec.SecurityRequest) -> bytes:
        if m.mode != sec.PLAINTEXT or self.security is None:
            return sec.encode_security_response(sec.SecurityResponse(sec.ERROR_DAR, dar=DAR_ESAM))
        verified = False
        if m.verify == sec.VERIFY_SID_MAC and m.sid is not None:
            if not self.security.verify_request(self.wire_address, m.sid, m.data, m.mac):
                return sec.encode_security_response(
                    sec.SecurityResponse(sec.ERROR_DAR, dar=DAR_SECURITY)
                )
            verified = True
        inner = self._service(m.data, secured=verified) or b""
        mac = None
        if m.verify in (sec.VERIFY_RN, sec.VERIFY_RN_MAC):
            mac = self.security.response_mac(self.wire_address, m.rn, inner)
        return sec.encode_security_response(sec.SecurityResponse(sec.PLAINTEXT, inner, mac=mac))

    def _connect(self, m: sv.ConnectRequest) -> bytes:
        p = m.parameters
        ok = self.connect_password is None or (
            m.mechanism == 1 and m.password == self.connect_password
        )
        self.connected = ok
        if ok:
            self._client_frame = max(32, p.receive_frame)
        own = sv.ConnectParameters(
            version=p.version,
            protocol_conformance=p.protocol_conformance,
            function_conformance=p.function_conformance,
            send_frame=min(self.max_frame, p.receive_frame),
            receive_frame=self.max_frame,
            window=1,
            max_apdu=min(4096, p.max_apdu),
            timeout=p.timeout,
        )
        factory = sv.FactoryVersion("MBSM", "0100", "250101", "0100", "250101", "meterbch")
        return sv.encode_apdu(sv.ConnectResponse(m.piid, factory, own, 0 if ok else 1))

    # -- GET -----------------------------------------------------------------------------------
    def _get(self, oad: str) -> sv.ResultNormal:
        oi, attribute, index = cat.split_oad(oad)
        value = self._attribute(oi, attribute)
        if isinstance(value, int):
            return sv.ResultNormal(oad, dar=value)
        if index:
            if value.tag not in (0x01, 0x02) or index > len(value.value):
                return sv.ResultNormal(oad, dar=DAR_RANGE)
            value = value.value[index - 1]
        return sv.ResultNormal(oad, data=value)

    def _attribute(self, oi: int, attribute: int) -> Data | int:
        """The whole attribute as Data, or a DAR."""
        if oi <= 0x00A0 and oi & 0x0F == 0 and attribute in (2, 4):
            quantity = oi >> 4
            registers = self._registers(quantity)
            if registers is None:
                return DAR_UNDEFINED
            entry = cat.CATALOGUE[(oi, attribute)]
            assert entry.element is not None
            return Data(
                0x01,
                tuple(
                    _u(entry.element, cat.unscale(r, entry.scaler))
                    for r in registers[: self.tariffs + 1]
                ),
            )
        builder = self._BUILDERS.get((oi, attribute))
        if builder is not None:
            return builder(self)
        if oi in _EVENTS and attribute == 4:
            return _u(0x12, min(self.events[_EVENTS[oi]], 0xFFFF))
        if oi in _TEXTS and attribute == 2:
            return Data(0x0A, _TEXTS[oi])
        return DAR_UNDEFINED

    def _scaled(self, oi: int, values: list[Decimal]) -> Data:
        entry = cat.CATALOGUE[(oi, 2)]
        assert entry.element is not None
        return Data(0x01, tuple(_u(entry.element, cat.unscale(v, entry.scaler)) for v in values))

    def _address_data(self) -> Data:
        return Data(0x09, bytes(reversed(self.wire_address)))

    def _demand(self) -> Data:
        stamp = self.now().replace(second=0)
        return Data(
            0x01,
            tuple(
                Data(0x02, (_u(0x06, cat.unscale(d, -4)), Data(0x1C, when or stamp)))
                for d, when in self.max_demand[: self.tariffs + 1]
            ),
        )

    _BUILDERS: ClassVar[dict[tuple[int, int], Callable[[Dlt698Meter], Data]]] = {
        (0x2000, 2): lambda m: m._scaled(0x2000, [v.quantize(Decimal("0.1")) for v in m.voltage]),
        (0x2001, 2): lambda m: m._scaled(0x2001, [i.quantize(Decimal("0.001")) for i in m.current]),
        (0x2004, 2): lambda m: m._scaled(
            0x2004, [(p * 1000).quantize(Decimal("0.1")) for p in m.active_power()]
        ),
        (0x2005, 2): lambda m: m._scaled(
            0x2005, [(p * 1000).quantize(Decimal("0.1")) for p in m.reactive_power()]
        ),
        (0x2006, 2): lambda m: m._scaled(
            0x2006, [(p * 1000).quantize(Decimal("0.1")) for p in m.apparent_power()]
        ),
        (0x200A, 2): lambda m: m._scaled(
            0x200A, [v.quantize(Decimal("0.001")) for v in m.power_factor]
        ),
        (0x200F, 2): lambda m: _u(0x12, cat.unscale(m.frequency.quantize(Decimal("0.01")), -2)),
        (0x2014, 2): lambda m: Data(
            0x01, tuple(Data(0x04, (16, w.to_bytes(2, "big"))) for w in m._status_words())
        ),
        (0x4000, 2): lambda m: Data(0x1C, m.now()),
        (0x4001, 2): lambda m: m._address_data(),
        (0x4002, 2): lambda m: m._address_data(),
        (0x400C, 2): lambda m: Data(
            0x02, (_u(0x11, 1), _u(0x11, 1), _u(0x11, 8), _u(0x11, m.tariffs), _u(0x11, 0))
        ),
        (0x4109, 2): lambda m: _u(0x06, m.active_constant),
        (0x410A, 2): lambda m: _u(0x06, m.reactive_constant),
        (0x1010, 2): lambda m: m._demand(),
        (0xF207, 2): lambda m: Data(0x01, (_u(0x16, int(m.output_mode)),)),
    }

    # -- GET-Record: the time-setting event log ------------------------------------------------
    def _record(self, m: sv.GetRequestRecord) -> sv.ResultRecord:
        oi, attribute, _index = cat.split_oad(m.oad)
        if oi != 0x3016 or attribute != 2:
            return sv.ResultRecord(m.oad, m.columns, dar=DAR_UNDEFINED)
        rows = [
            (number + 1, before, after) for number, (before, after) in enumerate(self.time_settings)
        ]
        rows.reverse()  # newest first
        if m.rsd.selector == 9:
            n = m.rsd.last or 0
            rows = rows[n - 1 : n] if 1 <= n <= len(rows) else []
        elif m.rsd.selector != 0:
            return sv.ResultRecord(m.oad, m.columns, dar=DAR_RANGE)
        fields = {
            "20220200": lambda r: _u(0x06, r[0]),
            "201e0200": lambda r: Data(0x1C, r[2]),
            "20200200": lambda r: Data(0x1C, r[2]),
            "40002200": lambda r: Data(0x1C, r[1]),  # time before the setting
        }
        out = []
        for row in rows:
            out.append(
                tuple(
                    fields[c.oad](row) if c.columns is None and c.oad in fields else Data(0, None)
                    for c in m.columns
                )
            )
        return sv.ResultRecord(m.oad, m.columns, tuple(out))

    # -- SET and ACTION -----------------------------------------------------------------------
    def _set(self, oad: str, data: Data) -> int:
        oi, attribute, index = cat.split_oad(oad)
        entry = cat.CATALOGUE.get((oi, attribute))
        if entry is None:
            return DAR_UNDEFINED
        if not entry.writable:
            return DAR_DENIED
        if (oi, attribute) == (0x4000, 2):
            return self._set_time(data)
        if (oi, attribute) == (0xF207, 2) and index == 1:
            if data.tag != 0x16:
                return DAR_TYPE
            if data.value not in (0, 1, 2):
                return DAR_RANGE
            self.output_mode = data.value
            return 0
        if (oi, attribute) == (0x4001, 2):
            if data.tag != 0x09 or len(data.value) != 6:
                return DAR_TYPE
            self.set_address(bytes(data.value).hex())
            return 0
        return DAR_DENIED

    def _set_time(self, data: Data) -> int:
        if data.tag != 0x1C:
            return DAR_TYPE
        if not isinstance(data.value, dt.datetime):
            return DAR_RANGE
        before = self.now()
        self.set_clock(data.value)
        self.events["time setting"] += 1
        self.time_settings.append((before, data.value))
        return 0

    def _action(self, omd: str, parameter: Data) -> int:
        if omd.lower() == cat.BROADCAST_TIME:
            return self._set_time(parameter)
        oi = int(omd[:4], 16)
        return DAR_UNDEFINED if oi not in (0x4000, 0xF207) else DAR_DENIED


@functools.cache
def physical(base: type) -> type:
    """The 698.45 meter on a physics-driven model: ``base`` is the bench's physical 645 meter
    class (its ``respond`` syncs the registers with the physics, then asks this class)."""
    return type("PhysicalDlt698Meter", (base, Dlt698Meter), {})


__all__ = ["Dlt698Meter", "physical"]
