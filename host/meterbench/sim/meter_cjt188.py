"""A simulated CJ/T 188 water meter, independent of any transport.

It answers 901F (current metering data: cumulative volume, settlement-day volume, clock,
status) and the read-address request 810A to the wildcard, in the DI byte order the request
used (the field is inconsistent, reference 8.3), echoing SER. Other DIs get an abnormal reply.
Frames for other addresses or meter types get silence. Volume and valve change through plain
methods, for the physics engine of the bench simulator later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from meterbench.sim.answer import Answer
from meterbench.sim.faults import FaultPlan
from meterproto.cjt188 import messages as cmsg
from meterproto.cjt188.frame import (
    FN_READ_ADDRESS,
    FN_READ_DATA,
    TYPE_ANY,
    TYPE_COLD_WATER,
    WILDCARD_BYTE,
    Frame,
    address_from_text,
)
from meterproto.dlt645.frame import DecodeError

_WRAP = Decimal("1000000")


@dataclass(kw_only=True)
class Cjt188WaterMeter:
    """State of one water meter plus the rules it answers by."""

    protocol: ClassVar[str] = "cjt188"
    address: str = "00000000000001"  # 14 digits: manufacturer code (4) + meter number (10)
    meter_type: int = TYPE_COLD_WATER
    volume: Decimal = Decimal("0.00")  # in ``unit``
    unit: int = cmsg.UNIT_M3  # electronic meters in verification mode may report litres
    settlement_volume: Decimal = Decimal("0.00")
    valve_open: bool = True
    battery_low: bool = False
    status_map: cmsg.StatusMap = cmsg.STATUS_MAP_DEFAULT
    clock_source: Callable[[], dt.datetime] = dt.datetime.now
    clock_offset: dt.timedelta = dt.timedelta(0)
    has_clock: bool = True  # without one, the real-time field is sent as zeros
    baudrate: int = 2400
    response_delay: float = 0.05
    preamble: int = 2
    faults: FaultPlan = field(default_factory=FaultPlan)

    def __post_init__(self) -> None:
        self._wire_address = address_from_text(self.address)
        self.address = bytes(reversed(self._wire_address)).hex()
        self._last_reply: bytes | None = None

    # -- plain state changes -----------------------------------------------------------------
    @property
    def wire_address(self) -> bytes:
        return self._wire_address

    def add_volume(self, m3: Decimal | float | str) -> None:
        self.volume = (self.volume + Decimal(str(m3))) % _WRAP

    def set_volume(self, m3: Decimal | float | str) -> None:
        self.volume = Decimal(str(m3)).quantize(Decimal("0.01"))

    def settle(self) -> None:
        """Settlement day: the current volume becomes the settlement-day volume."""
        self.settlement_volume = self.volume

    def set_valve(self, open_: bool) -> None:
        self.valve_open = open_

    def now(self) -> dt.datetime:
        return (self.clock_source() + self.clock_offset).replace(microsecond=0)

    def status(self) -> bytes:
        valve = 0 if self.valve_open else 1
        m = self.status_map
        byte = valve << m.valve_shift | (1 << m.battery_bit if self.battery_low else 0)
        st = bytearray(2)
        st[m.byte_index] = byte
        return bytes(st)

    # -- the line's view ---------------------------------------------------------------------
    def accepts(self, request: Frame) -> bool:
        if request.is_response:
            return False
        if request.meter_type not in (TYPE_ANY, self.meter_type):
            return False
        return all(
            b in (WILDCARD_BYTE, own)
            for b, own in zip(request.address, self._wire_address, strict=True)
        )

    def respond(self, request: Frame) -> Answer | None:
        reply = self.handle(request)
        if reply is None:
            return None
        raw = reply.encode(preamble=self.preamble)
        fault = self.faults.next_fault()
        sent = request.raw if request.raw is not None else request.encode()
        pieces = self.faults.apply(fault, bytes(sent), raw, self._last_reply, self.preamble + 11)
        self._last_reply = raw
        if pieces is None:
            return None
        return Answer(self.response_delay, pieces, self.baudrate, self.address)

    def handle(self, request: Frame) -> Frame | None:
        if not self.accepts(request) or len(request.data) < 3:
            return None
        try:
            di, order = cmsg.decode_di(request.data[:2])
        except DecodeError:
            return None
        di_order = "high_first" if order == cmsg.HIGH_BYTE_FIRST else "low_first"
        ser = request.data[2]
        if request.function == FN_READ_ADDRESS and di == cmsg.DI_READ_ADDRESS:
            return cmsg.read_address_reply(self._wire_address, ser, self.meter_type, di_order)
        if request.function == FN_READ_DATA and di == cmsg.DI_CURRENT_DATA:
            content = cmsg.encode_meter_data(
                cmsg.MeterData(
                    volume=self.volume.quantize(Decimal("0.01")),
                    volume_unit=self.unit,
                    settlement_volume=self.settlement_volume.quantize(Decimal("0.01")),
                    settlement_unit=self.unit,
                    time=self.now() if self.has_clock else None,
                    status=self.status(),
                )
            )
            return cmsg.read_data_reply(
                self._wire_address, di, ser, content, self.meter_type, di_order
            )
        return cmsg.abnormal_reply(
            self._wire_address, request.function, ser, b"\x00\x00", self.meter_type
        )


__all__ = ["Cjt188WaterMeter"]
