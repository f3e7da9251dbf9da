"""DL/T 645-2007 / -1997 meter client on top of a bus manager (asyncio only).

One client per meter; many clients share one Bus. The client builds requests with
``meterproto.dlt645.messages``, tells the bus how to recognise the reply (address, function,
echoed DI, follow-up SEQ) and turns the outcome into values or typed errors:
MeterTimeout, MeterAbnormalReply (with the named error bits) and MeterBadReply.

Passwords and operator codes go only into request frames; the bus masks them in its trace and
nothing here puts them in a message or a log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from meterbench.devices.electricity_meter import EnergyRegister, PulseOutput
from meterbench.devices.errors import (
    MeterAbnormalReply,
    MeterBadReply,
    MeterError,
    MeterTimeout,
    MeterUnsupported,
    MeterWriteUnknown,
)
from meterbench.transport.bus import Bus, Exchange
from meterbench.transport.dialects import DLT645
from meterbench.transport.errors import BadFrame, CorruptReply, ReplyTimeout
from meterproto.dlt645 import messages as msg
from meterproto.dlt645.di import DataItem, di_from_wire, format_di, lookup, parse_di
from meterproto.dlt645.editions import Edition, UnsupportedQuestion, edition
from meterproto.dlt645.frame import (
    BROADCAST_ADDRESS,
    WILDCARD_ADDRESS,
    WILDCARD_BYTE,
    DecodeError,
    EncodeError,
    Frame,
    address_is_valid,
    address_to_text,
)

Password = msg.Password
MultiFunctionOutput = msg.MultiFunctionOutput
RelayCommand = msg.RelayCommand

_PULSE_MODES = {
    PulseOutput.CLOCK_SECOND: msg.MultiFunctionOutput.CLOCK_SECOND_PULSE,
    PulseOutput.DEMAND_PERIOD: msg.MultiFunctionOutput.DEMAND_PERIOD,
    PulseOutput.TARIFF_SWITCH: msg.MultiFunctionOutput.TARIFF_SWITCH,
}

PREAMBLE = 4  # FEH wake-up bytes before every request (0-4 allowed; send 4)
_FRAME_OVERHEAD = PREAMBLE + 12
_LONGEST_REPLY = _FRAME_OVERHEAD + 200


@dataclass(frozen=True)
class Reading:
    """One identifier read from a meter: decoded value (None when the bytes do not decode,
    with ``problem`` saying why) and the raw plain bytes for the record."""

    di: int
    name: str
    value: Any
    unit: str
    raw: bytes
    version: int = 2007
    problem: str = ""

    @property
    def di_text(self) -> str:
        return format_di(self.di, self.version)

    def to_json(self) -> dict[str, Any]:
        return {
            "di": self.di_text,
            "name": self.name,
            "value": json_value(self.value),
            "unit": self.unit,
            "raw_hex": self.raw.hex(),
            **({"problem": self.problem} if self.problem else {}),
        }


def json_value(value: Any) -> Any:
    """A decoded value in JSON form: numbers stay numbers, dates become ISO text."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


def _filler_fields(value: Any, path: str = "") -> list[str]:
    """Where a decoded value holds None (filler the meter sent instead of digits): "" for the
    whole value, else the field names / list positions; the rest of the value stays usable."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [
            p for k, v in value.items() for p in _filler_fields(v, f"{path}.{k}" if path else k)
        ]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in _filler_fields(v, f"{path}[{i}]")]
    return []


def _address_bytes(address: str | bytes) -> bytes:
    try:
        return msg.to_address(address)
    except EncodeError as exc:
        raise ValueError(str(exc)) from None


def _address_matches(sent: bytes, got: bytes) -> bool:
    """Is ``got`` (a reply's address) an answer to a request sent to ``sent``?"""
    if sent == BROADCAST_ADDRESS:  # 1997: one meter on the bus answers reads to 99 x 6
        return True
    if WILDCARD_BYTE in sent and got == WILDCARD_ADDRESS:  # virtual meters echo AA x 6
        return True
    return all(s in (WILDCARD_BYTE, g) for s, g in zip(sent, got, strict=True))


class Dlt645Client:
    """A DL/T 645 meter at one address on a shared bus.

    It is an ``ElectricityMeter`` for both editions: the questions items ask (address, energy,
    clock, pulse output) are mapped to the identifiers of the meter's edition through
    ``meterproto.dlt645.editions``, and every reply is parsed as that edition.
    """

    def __init__(
        self,
        bus: Bus,
        address: str | bytes = WILDCARD_ADDRESS,
        *,
        version: int = 2007,
        password: msg.Password | None = None,
        operator: int | str = 0,
        max_follow_ups: int = 16,
        retries: int | None = None,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
        baudrates: Iterable[int] | None = None,
    ) -> None:
        if version not in (1997, 2007):
            raise ValueError(f"DL/T 645 edition must be 1997 or 2007, got {version}")
        self.bus = bus
        self._address = _address_bytes(address)
        self.version = version
        self.edition: Edition = edition(version)
        self.password = password
        self.operator = operator
        self.max_follow_ups = max_follow_ups
        self.retries = retries
        self.clock = clock
        # Rates the meter may use (its type's nameplate); None: any the protocol can express.
        self.baudrates = tuple(sorted(baudrates)) if baudrates is not None else None

    # -- address -----------------------------------------------------------------------------
    @property
    def address(self) -> str:
        return address_to_text(self._address)

    @address.setter
    def address(self, value: str | bytes) -> None:
        self._address = _address_bytes(value)

    def _learn(self, reply_address: bytes) -> None:
        """Adopt the reply's address when ours is a wildcard and the reply's is a real one."""
        if (
            WILDCARD_BYTE in self._address
            and WILDCARD_BYTE not in reply_address
            and reply_address != BROADCAST_ADDRESS
            and address_is_valid(reply_address)
        ):
            self._address = bytes(reply_address)

    # -- transactions ------------------------------------------------------------------------
    async def _exchange(
        self,
        request: Frame,
        check: Callable[[Frame], bool] | None = None,
        *,
        expect_reply: bool = True,
        reply_data: int = 200,
        what: str = "",
        switch_baudrate: int | None = None,
        retries: int | None = None,
        refusals: bool = True,
    ) -> Frame | None:
        """Send ``request``; return the matching reply (None for a broadcast).

        ``check`` sees each candidate reply of the right function from the right address and
        returns False for a stale one (wrong DI / SEQ) or raises BadFrame. ``refusals`` False
        ignores abnormal replies (a 13H is never refused by a 2007 meter: a refusal comes from
        a meter of the other edition sharing the line).
        """
        sent = request.address

        def match(frame: Frame) -> bool:
            if frame.function != request.function or not _address_matches(sent, frame.address):
                return False
            if frame.abnormal and not refusals:
                return False
            if frame.abnormal:
                if not frame.data:
                    raise BadFrame("abnormal reply without an error word")
                return True
            return check(frame) if check is not None else True

        label = what or f"{request.function:02X}H"
        label = f"{label} @ {address_to_text(sent)}"
        ex = Exchange(
            request=request.encode(preamble=PREAMBLE),
            dialect=DLT645,
            match=match if expect_reply else None,
            reply_len=_FRAME_OVERHEAD + min(reply_data, 255),
            label=label,
            retries=self.retries if retries is None else retries,
            switch_baudrate=switch_baudrate,
        )
        try:
            frame = await self.bus.transact(ex)
        except ReplyTimeout as exc:
            raise MeterTimeout(
                f"meter {self.address}: no reply to {label} after {exc.attempts} attempt(s)",
                self.address,
                exc.attempts,
            ) from None
        except CorruptReply as exc:
            raise MeterBadReply(f"meter {self.address}: {exc}", self.address) from None
        if frame is None:
            return None
        if frame.abnormal:
            self._raise_abnormal(frame, label)
        self._learn(frame.address)
        return frame

    def _raise_abnormal(self, frame: Frame, label: str) -> None:
        try:
            msg.parse_reply(frame, self.version)
        except msg.AbnormalReply as ab:
            names = ", ".join(ab.errors) or "no bit set"
            raise MeterAbnormalReply(
                f"meter {self.address} refused {label}: error word {ab.error_word:02X}H ({names})",
                self.address,
                function=ab.function,
                error_word=ab.error_word,
                errors=tuple(ab.errors),
                version=ab.version,
            ) from None
        except DecodeError as exc:
            raise MeterBadReply(f"meter {self.address}: {exc}", self.address) from None

    def _parsed(self, frame: Frame) -> msg.Message:
        try:
            return msg.parse_reply(frame, self.version)
        except DecodeError as exc:
            raise BadFrame(str(exc)) from None

    # -- reading -----------------------------------------------------------------------------
    def item(self, di: int | str) -> DataItem | None:
        return lookup(parse_di(di), self.version)

    async def read(self, di: int | str) -> Reading:
        """Read one identifier (block identifiers included) and decode it by the catalogue."""
        number = parse_di(di)
        raw, problem = await self._read_payload(number)
        item = lookup(number, self.version)
        if item is None:
            return Reading(
                number,
                "unknown identifier",
                None,
                "",
                raw,
                self.version,
                problem or "not in the catalogue; raw bytes only",
            )
        value: Any = None
        try:
            value = item.decode(raw)
        except DecodeError as exc:
            problem = problem or str(exc)
        else:
            missing = _filler_fields(value)
            if missing:
                where = "" if missing == [""] else f" in {', '.join(missing)}"
                problem = problem or f"not available{where} (the meter sent non-BCD filler)"
        return Reading(number, item.name, value, item.unit, raw, self.version, problem)

    async def read_many(self, dis: Iterable[int | str]) -> list[Reading]:
        return [await self.read(di) for di in dis]

    async def read_raw(self, di: int | str) -> bytes:
        """The plain value bytes of ``di`` (follow-up frames joined), undecoded."""
        raw, _ = await self._read_payload(parse_di(di))
        return raw

    def _check_di(self, di: int) -> None:
        if not 0 <= di < 1 << (8 * self.edition.di_size):
            raise ValueError(
                f"{di:08x} is not a DL/T 645-{self.version} identifier "
                f"({self.edition.di_size} bytes); this meter speaks the {self.version} edition"
            )

    async def _read_payload(self, di: int) -> tuple[bytes, str]:
        self._check_di(di)
        item = lookup(di, self.version)
        di_len = self.edition.di_size
        expected = di_len + (item.size if item is not None and item.size else 200)

        def same_di(frame: Frame) -> bool:
            if len(frame.data) < di_len:
                raise BadFrame(f"reply of {len(frame.data)} bytes has no room for its DI")
            if di_from_wire(frame.data[:di_len]) != di:
                return False  # a late reply to an earlier read
            self._parsed(frame)
            return True

        if self.version == 2007:
            request = msg.read(self._address, di)
        else:
            request = msg.read_1997(self._address, di)
        frame = await self._exchange(
            request, same_di, reply_data=expected, what=f"read {format_di(di, self.version)}"
        )
        assert frame is not None
        reply = self._parsed_or_bad(frame)
        payload = bytearray(reply.payload)
        more = reply.follow_up
        if more and self.version == 1997:
            return bytes(payload), "1997 follow-up frames are not supported; data incomplete"
        seq = 0
        while more:
            seq += 1
            if seq > self.max_follow_ups:
                raise MeterBadReply(
                    f"meter {self.address}: still announcing follow-up frames after "
                    f"{self.max_follow_ups} for {format_di(di)}; stopped",
                    self.address,
                )
            part = await self._follow_up(di, seq)
            payload += part.payload
            more = part.follow_up
        return bytes(payload), ""

    async def _follow_up(self, di: int, seq: int) -> msg.ReadReply:
        def same_part(frame: Frame) -> bool:
            if len(frame.data) < 5:
                raise BadFrame(f"12H reply of {len(frame.data)} bytes, at least 5 expected")
            if di_from_wire(frame.data[:4]) != di or frame.data[-1] != seq:
                return False
            self._parsed(frame)
            return True

        frame = await self._exchange(
            msg.read_follow_up(self._address, di, seq),
            same_part,
            what=f"read follow-up {seq} of {format_di(di)}",
        )
        assert frame is not None
        return self._parsed_or_bad(frame)

    def _parsed_or_bad(self, frame: Frame) -> msg.ReadReply:
        try:
            reply = msg.parse_reply(frame, self.version)
        except DecodeError as exc:  # pragma: no cover - the matcher already parsed it
            raise MeterBadReply(f"meter {self.address}: {exc}", self.address) from None
        if not isinstance(reply, msg.ReadReply):  # pragma: no cover - matched by function
            raise MeterBadReply(f"meter {self.address}: unexpected reply {reply}", self.address)
        return reply

    # -- the ElectricityMeter questions ------------------------------------------------------
    @property
    def protocol(self) -> str:
        return self.edition.protocol

    async def _value(self, di: int) -> Any:
        """The decoded value of ``di``; a value that is not there is a MeterBadReply."""
        reading = await self.read(di)
        if reading.value is None or reading.problem:
            raise MeterBadReply(
                f"meter {self.address}: {reading.di_text} ({reading.name}) unreadable: "
                f"{reading.problem or 'no value'}",
                self.address,
            )
        return reading.value

    async def read_energy(
        self, register: EnergyRegister = EnergyRegister.ACTIVE_IMPORT, tariff: int = 0
    ) -> Decimal:
        """Accumulated energy in kWh from the edition's register table."""
        try:
            di = self.edition.energy(register.value, tariff)
        except UnsupportedQuestion as exc:
            raise ValueError(str(exc)) from None
        value = await self._value(di)
        return value if isinstance(value, Decimal) else Decimal(str(value))

    async def read_clock(self) -> dt.datetime:
        """Date, then time (every meter has both identifiers; not all have a combined one).
        A date read just before midnight is read again if the time has wrapped past it."""
        date = await self._value(self.edition.date)
        time = await self._value(self.edition.time)
        if time.hour == 0 and time.minute == 0:
            date = await self._value(self.edition.date)
        return dt.datetime.combine(date, time)

    async def set_pulse_output(self, mode: PulseOutput) -> None:
        """1DH; the 1997 edition has no such command (its output is fixed by the meter)."""
        if self.version == 1997:
            raise MeterUnsupported(
                f"meter {self.address}: DL/T 645-1997 cannot switch the pulse output",
                self.address,
            )
        await self.set_multi_function_output(_PULSE_MODES[mode])

    async def read_address(self) -> str:
        """The meter's communication address.

        With a known address, read from the meter itself (2007: 04000401; 1997: C032, else
        C033), so a wrong meter list is caught. With a wildcard address, discover the only
        meter on the line (see ``discover_address``).
        """
        if WILDCARD_BYTE in self._address:
            return await self.discover_address()
        refused: MeterAbnormalReply | None = None
        for di in self.edition.address:
            try:
                return str(await self._value(di))
            except MeterAbnormalReply as exc:
                refused = refused or exc  # this edition keeps it elsewhere on some meters
        assert refused is not None
        raise refused

    async def discover_address(self) -> str:
        """The address of the only meter on the line (13H to AA x 6; 1997: C032 to 99 x 6).

        Replies whose address field is AA x 6 (some virtual meters) are accepted; the address
        is then taken from the reply's data, never from the AA field.
        """
        if self.version == 1997:
            return await self._read_address_1997()

        def check(frame: Frame) -> bool:
            reply = self._parsed(frame)
            assert isinstance(reply, msg.ReadAddressReply)
            if WILDCARD_BYTE not in frame.address and frame.address != frame.data:
                raise BadFrame(
                    f"address field {frame.address_text} differs from the address in the data "
                    f"{address_to_text(frame.data)}"
                )
            return True

        frame = await self._exchange(
            msg.read_address(), check, reply_data=6, what="read address", refusals=False
        )
        assert frame is not None
        self._address = bytes(frame.data)
        return self.address

    async def _read_address_1997(self) -> str:
        number = self.edition.address[0]

        def check(frame: Frame) -> bool:
            if di_from_wire(frame.data[:2]) != number:
                return False
            self._parsed(frame)
            return True

        frame = await self._exchange(
            msg.read_1997(BROADCAST_ADDRESS, number),
            check,
            reply_data=8,
            what=f"read meter number {format_di(number, 1997)}",
        )
        assert frame is not None
        if WILDCARD_BYTE not in frame.address and frame.address != BROADCAST_ADDRESS:
            self._address = bytes(frame.address)
        else:
            self._address = bytes(frame.data[2:8])
        return self.address

    # -- writing -----------------------------------------------------------------------------
    def _credentials(
        self, password: msg.Password | None, operator: int | str | None
    ) -> tuple[msg.Password, int | str]:
        password = password or self.password
        if password is None:
            raise ValueError("this command needs a password (level and 6 digits)")
        return password, self.operator if operator is None else operator

    async def write(
        self,
        di: int | str,
        value: Any,
        password: msg.Password | None = None,
        operator: int | str | None = None,
    ) -> None:
        """14H write ``value`` (encoded by the catalogue) to ``di``."""
        number = parse_di(di)
        item = lookup(number, self.version)
        if item is None:
            raise ValueError(
                f"{format_di(number, self.version)} is not in the catalogue; "
                "use write_raw with the plain value bytes"
            )
        try:
            payload = item.encode(value)
        except EncodeError as exc:
            raise ValueError(f"{item.name}: {exc}") from None
        await self.write_raw(number, payload, password, operator)

    async def write_raw(
        self,
        di: int | str,
        payload: bytes,
        password: msg.Password | None = None,
        operator: int | str | None = None,
    ) -> None:
        number = parse_di(di)
        self._check_di(number)
        password, operator = self._credentials(password, operator)
        if self.version == 2007:
            request = msg.write(self._address, number, payload, password, operator)
        else:
            request = msg.write_1997(self._address, number, payload, password)
        what = f"write {format_di(number, self.version)}"
        sent_at = self.clock()
        try:
            await self._exchange(request, self._acknowledged, reply_data=0, what=what)
        except MeterTimeout as exc:
            confirmed = await self._read_back(number, payload, sent_at)
            shows = {
                True: "a read-back shows the new value",
                False: "a read-back shows the old value",
                None: "it could not be read back",
            }[confirmed]
            raise MeterWriteUnknown(
                f"meter {self.address}: {what} got no reply after {exc.attempts} attempt(s); "
                f"outcome unknown ({shows})",
                self.address,
                exc.attempts,
                confirmed=confirmed,
            ) from None

    async def _read_back(self, di: int, payload: bytes, sent_at: dt.datetime) -> bool | None:
        """Does the meter now hold ``payload`` under ``di``? None when that cannot be told.
        A clock value has moved on since it was written: it counts as held when it is within
        the time that passed (plus the display second) of what was written."""
        try:
            raw, problem = await self._read_payload(di)
        except (MeterError, ValueError):
            return None
        if problem:
            return None
        if raw == payload:
            return True
        item = lookup(di, self.version)
        if item is None:
            return False
        try:
            held, wrote = item.decode(raw), item.decode(payload)
        except DecodeError:
            return None
        if isinstance(held, dt.time) and isinstance(wrote, dt.time):
            day = dt.date(2000, 1, 1)
            held, wrote = dt.datetime.combine(day, held), dt.datetime.combine(day, wrote)
        if isinstance(held, dt.datetime) and isinstance(wrote, dt.datetime):
            drift = (held - wrote).total_seconds() % 86400
            return drift <= (self.clock() - sent_at).total_seconds() + 2
        return False

    def _acknowledged(self, frame: Frame) -> bool:
        if frame.data:
            raise BadFrame(f"acknowledgement carries {len(frame.data)} data bytes, none expected")
        return True

    async def set_clock(
        self,
        when: dt.datetime | None = None,
        password: msg.Password | None = None,
        operator: int | str | None = None,
        *,
        combined: bool = False,
    ) -> None:
        """Set the meter clock with 14H: date 04000101 then time 04000102, or both at once with
        0400010C (``combined``, newer smart meters). ``when`` None takes the injected clock at
        the moment of each write, so the second write carries a fresh time."""
        if combined and self.version == 2007:
            await self.write(0x0400010C, when or self.clock(), password, operator)
            return
        await self.write(self.edition.date, (when or self.clock()).date(), password, operator)
        await self.write(self.edition.time, (when or self.clock()).time(), password, operator)

    async def broadcast_time(self, when: dt.datetime | None = None) -> None:
        """08H broadcast time sync to 99 x 6. No meter answers; nothing is awaited."""
        await self._exchange(
            msg.broadcast_time(when or self.clock()), expect_reply=False, what="broadcast time"
        )

    async def freeze(
        self, when: dt.datetime | dict[str, int] | None = None, *, broadcast: bool = False
    ) -> None:
        """16H freeze; ``when`` None is an instant freeze. Broadcast freezes get no reply."""
        request = msg.freeze(None if broadcast else self._address, when)
        await self._exchange(
            request, self._acknowledged, expect_reply=not broadcast, reply_data=0, what="freeze"
        )

    async def change_baud(self, rate: int) -> None:
        """17H: the meter answers at the old rate and switches; the bus switches after the
        97H reply. Every meter on the bus must then use the new rate.

        When the 97H reply is lost the meter may or may not have switched, and a retry at
        the old rate would strand a meter that did. So the 17H is sent once per round; after
        silence the meter is looked for at the new rate, then at the old one, then at any
        other rate it may use: found at the new rate, the change is done; found at the old
        rate, the 17H is sent again; found nowhere, MeterTimeout."""
        if self.version == 1997:
            raise MeterUnsupported(
                f"meter {self.address}: DL/T 645-1997 rate change (0CH) is not supported",
                self.address,
            )
        if self.baudrates is not None and rate not in self.baudrates:
            raise ValueError(
                f"meter {self.address} may use {', '.join(map(str, self.baudrates))} bit/s, "
                f"not {rate}"
            )
        request = msg.change_baud(self._address, rate)
        word = request.data[0]

        def echoed(frame: Frame) -> bool:
            if frame.data != bytes([word]):
                raise BadFrame(f"97H reply carries {frame.data.hex()}, expected {word:02x}")
            return True

        rounds = 1 + (self.bus.timing.retries if self.retries is None else self.retries)
        last: MeterTimeout | None = None
        for _ in range(rounds):
            old = self.bus.settings.baudrate
            try:
                await self._exchange(
                    request,
                    echoed,
                    reply_data=1,
                    what=f"change rate to {rate}",
                    switch_baudrate=rate,
                    retries=0,
                )
                return
            except MeterTimeout as exc:
                last = exc
            found = await self._find_rate([rate, old, *(self.baudrates or ())], old)
            if found == rate:
                self.bus.trace.event(f"97H reply lost; meter {self.address} answers at {rate}")
                return
            if found is None:
                break
        assert last is not None
        raise last

    async def _find_rate(self, rates: list[int], fallback: int) -> int | None:
        """The first of ``rates`` at which the meter answers a read of its address (the bus is
        left at that rate), or None (the bus back at ``fallback``)."""
        tried: list[int] = []
        for rate in rates:
            if rate in tried:
                continue
            tried.append(rate)
            await self.bus.set_baudrate(rate)
            try:
                await self._probe()
            except MeterTimeout:
                continue
            except MeterError:
                pass  # a refusal or a garbled frame is still an answer at this rate
            return rate
        await self.bus.set_baudrate(fallback)
        return None

    async def _probe(self) -> None:
        di = self.edition.address[0]
        request = (msg.read if self.version == 2007 else msg.read_1997)(self._address, di)
        await self._exchange(request, None, reply_data=16, what="probe rate", retries=1)

    async def set_multi_function_output(self, mode: msg.MultiFunctionOutput | int) -> None:
        """1DH: choose the multi-function terminal's signal (00H = clock second pulse)."""
        request = msg.multi_function_output(self._address, msg.MultiFunctionOutput(mode))

        def echoed(frame: Frame) -> bool:
            if frame.data != request.data:
                raise BadFrame(
                    f"9DH reply carries {frame.data.hex()}, expected {request.data.hex()}"
                )
            return True

        await self._exchange(request, echoed, reply_data=1, what="multi-function output")

    async def relay_control(
        self,
        command: msg.RelayCommand | int,
        password: msg.Password | None = None,
        operator: int | str | None = None,
        expiry: dt.datetime | None = None,
    ) -> None:
        """1CH remote control (trip, close allowed, alarm, power guarantee); plaintext form.
        ``expiry`` defaults to ten minutes from now on the injected clock."""
        password, operator = self._credentials(password, operator)
        expiry = expiry or self.clock() + dt.timedelta(minutes=10)
        request = msg.relay_control(
            self._address, password, operator, msg.RelayCommand(command), expiry
        )
        await self._exchange(request, self._acknowledged, reply_data=0, what="relay control")

    async def change_password(self, old: msg.Password, new: msg.Password) -> None:
        """18H: set the password of level ``new.level``."""
        request = msg.change_password(self._address, old, new)

        def echoed(frame: Frame) -> bool:
            if frame.data != new.to_plain():
                raise BadFrame("98H reply does not repeat the new password")
            return True

        await self._exchange(request, echoed, reply_data=4, what="change password")

    async def clear_demand(
        self, password: msg.Password | None = None, operator: int | str | None = None
    ) -> None:
        password, operator = self._credentials(password, operator)
        await self._exchange(
            msg.clear_demand(self._address, password, operator),
            self._acknowledged,
            reply_data=0,
            what="clear demand",
        )

    async def clear_meter(
        self, password: msg.Password | None = None, operator: int | str | None = None
    ) -> None:
        password, operator = self._credentials(password, operator)
        await self._exchange(
            msg.clear_meter(self._address, password, operator),
            self._acknowledged,
            reply_data=0,
            what="clear meter",
        )

    async def clear_events(
        self,
        event_di: int = 0xFFFFFFFF,
        password: msg.Password | None = None,
        operator: int | str | None = None,
    ) -> None:
        password, operator = self._credentials(password, operator)
        await self._exchange(
            msg.clear_events(self._address, password, operator, event_di),
            self._acknowledged,
            reply_data=0,
            what="clear events",
        )


def parse_password(text: str) -> msg.Password:
    """``LL:DDDDDD`` or ``LLDDDDDD`` (level, then 6 digits) -> Password. The message of the
    ValueError never repeats the digits."""
    clean = text.strip().replace(":", "").replace(" ", "")
    if len(clean) != 8 or not clean.isdigit():
        raise ValueError("a password is written LL:DDDDDD (2-digit level, 6 digits)")
    return msg.Password(int(clean[:2]), clean[2:])


__all__ = [
    "Dlt645Client",
    "MeterAbnormalReply",
    "MeterBadReply",
    "MeterError",
    "MeterTimeout",
    "MeterUnsupported",
    "MeterWriteUnknown",
    "MultiFunctionOutput",
    "Password",
    "Reading",
    "RelayCommand",
    "json_value",
    "parse_password",
]
