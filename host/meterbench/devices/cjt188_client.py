"""CJ/T 188 water-meter client on top of a bus manager (asyncio only).

Reads the cumulative volume (901F) and the address (810A to the wildcard). The DI goes out in
the byte order configured for the meter type and replies are accepted in either order, because
the field is inconsistent (reference 8.3); SER is counted per request and must come back, so a
late reply to an earlier request is never taken for the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from meterbench.devices.errors import MeterAbnormalReply, MeterBadReply, MeterTimeout
from meterbench.transport.bus import Bus, Exchange
from meterbench.transport.dialects import CJT188
from meterbench.transport.errors import BadFrame, CorruptReply, ReplyTimeout
from meterproto.cjt188 import messages as cmsg
from meterproto.cjt188.frame import (
    TYPE_ANY,
    TYPE_COLD_WATER,
    WILDCARD_BYTE,
    Frame,
    address_from_text,
    address_to_text,
)
from meterproto.cjt188.heat import HEAT_DATA_LEN, HeatMeterData
from meterproto.dlt645.frame import DecodeError, EncodeError

PREAMBLE = 4
_OVERHEAD = PREAMBLE + 13


@dataclass(frozen=True)
class VolumeReading:
    """A 901F reading: exact volumes, the meter's clock and status as sent."""

    address: str
    volume: Decimal
    unit: str
    settlement_volume: Decimal | None
    time: datetime | None  # None: the meter has no clock or sent an impossible date
    valve: str
    battery_low: bool
    status_raw: bytes
    warnings: tuple[str, ...] = ()  # fields that did not decode; the volume always did


class Cjt188Client:
    """A CJ/T 188 water (or gas) meter at one address on a bus."""

    def __init__(
        self,
        bus: Bus,
        address: str | bytes = "aa" * 7,
        *,
        meter_type: int = TYPE_COLD_WATER,
        di_order: cmsg.DiOrder = "low_first",
        status_map: cmsg.StatusMap = cmsg.STATUS_MAP_DEFAULT,
        retries: int | None = None,
    ) -> None:
        try:
            self._address = address if isinstance(address, bytes) else address_from_text(address)
        except EncodeError as exc:
            raise ValueError(str(exc)) from None
        if len(self._address) != 7:
            raise ValueError(f"a CJ/T 188 address is 7 bytes, got {len(self._address)}")
        self.bus = bus
        self.meter_type = meter_type
        self.di_order: cmsg.DiOrder = di_order
        self.status_map = status_map
        self.retries = retries
        self._ser = 0

    @property
    def noun(self) -> str:
        """What the messages call the meter, by its CJ/T 188 type (2xH heat, 3xH gas)."""
        if cmsg.is_heat_meter(self.meter_type):
            return "heat meter"
        return "gas meter" if cmsg.is_gas_meter(self.meter_type) else "water meter"

    @property
    def address(self) -> str:
        return address_to_text(self._address)

    def _next_ser(self) -> int:
        self._ser = (self._ser + 1) & 0xFF
        return self._ser

    async def _exchange(
        self, request: Frame, di: int, ser: int, what: str, reply_data: int
    ) -> cmsg.Reply:
        sent = request.address

        def match(frame: Frame) -> bool:
            if frame.function != request.function:
                return False
            if request.meter_type != TYPE_ANY and frame.meter_type != request.meter_type:
                return False
            if not all(s in (WILDCARD_BYTE, g) for s, g in zip(sent, frame.address, strict=True)):
                return False
            data = frame.data
            either_order = (data[0] | data[1] << 8, data[0] << 8 | data[1]) if len(data) > 1 else ()
            if not frame.abnormal and di not in either_order:
                return False  # a late reply to another request (or too short to be one)
            try:
                reply = cmsg.parse_reply(frame, di)
            except DecodeError as exc:
                raise BadFrame(str(exc)) from None
            return reply.ser == ser

        label = f"{what} @ {address_to_text(sent)}"
        ex = Exchange(
            request=request.encode(preamble=PREAMBLE),
            dialect=CJT188,
            match=match,
            reply_len=_OVERHEAD + reply_data,
            label=label,
            retries=self.retries,
        )
        try:
            frame = await self.bus.transact(ex)
        except ReplyTimeout as exc:
            raise MeterTimeout(
                f"{self.noun} {self.address}: no reply to {label} after {exc.attempts} attempt(s)",
                self.address,
                exc.attempts,
            ) from None
        except CorruptReply as exc:
            raise MeterBadReply(f"{self.noun} {self.address}: {exc}", self.address) from None
        reply = cmsg.parse_reply(frame, di)
        if isinstance(reply, cmsg.AbnormalReply):
            raise MeterAbnormalReply(
                f"{self.noun} {self.address} refused {label}: status {reply.status.hex()}",
                self.address,
                function=reply.function,
                error_word=int.from_bytes(reply.status, "little"),
            )
        if WILDCARD_BYTE in self._address and WILDCARD_BYTE not in frame.address:
            self._address = bytes(frame.address)
        return reply

    async def read_data(self, di: int = cmsg.DI_CURRENT_DATA) -> cmsg.Reply:
        ser = self._next_ser()
        request = cmsg.read_data_request(self._address, di, ser, self.meter_type, self.di_order)
        return await self._exchange(request, di, ser, f"read {di:04X}", 22)

    async def read_volume(self) -> VolumeReading:
        """Cumulative volume (901F) with the settlement-day volume, clock and status."""
        reply = await self.read_data(cmsg.DI_CURRENT_DATA)
        data = reply.meter_data
        if data is None:
            raise MeterBadReply(
                f"{self.noun} {self.address}: 901F reply without metering data", self.address
            )
        status = data.decoded_status(self.status_map)
        return VolumeReading(
            self.address,
            data.volume,
            data.unit,
            data.settlement_volume,
            data.time,
            status.valve,
            status.battery_low,
            data.status,
            data.warnings,
        )

    async def read_heat(self) -> HeatMeterData:
        """A heat meter's 901F data (type 20H/21H): cumulative heat, power, flow, volume,
        supply and return temperature, working hours, real time and status, every field as
        sent (fields that did not decode are None and named in ``warnings``)."""
        di = cmsg.DI_CURRENT_DATA
        ser = self._next_ser()
        request = cmsg.read_data_request(self._address, di, ser, self.meter_type, self.di_order)
        reply = await self._exchange(request, di, ser, "read heat 901F", 3 + HEAT_DATA_LEN)
        if reply.heat_data is None:
            raise MeterBadReply(
                f"heat meter {self.address}: 901F reply without heat data "
                f"({len(reply.content)} bytes, {HEAT_DATA_LEN} needed)",
                self.address,
            )
        return reply.heat_data

    async def read_address(self) -> str:
        """The address of the only meter on the line (03H, DI 810A, to AA x 7)."""
        ser = self._next_ser()
        request = cmsg.read_address_request(ser, self.di_order)
        saved, self._address = self._address, b"\xaa" * 7
        try:
            await self._exchange(request, cmsg.DI_READ_ADDRESS, ser, "read address", 3)
        except BaseException:
            self._address = saved
            raise
        return self.address


__all__ = ["Cjt188Client", "VolumeReading"]
