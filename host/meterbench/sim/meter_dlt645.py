"""A simulated DL/T 645 electricity meter, independent of any transport.

The model takes a decoded request frame and answers exactly as the protocol reference says a
real meter does: silent on frames for other addresses and on broadcasts, its real address on
wildcard requests, abnormal replies with the right error bits, follow-up frames for replies over
200 bytes, a response delay inside 20-500 ms (configurable, also outside for fault tests). Its
state (registers, clock, output mode, relay, passwords) changes only through plain methods, so
the bench simulator's physics can drive the same model later; the servers in ``servers.py``
put it on a TCP socket or a pty.

``respond`` adds what the line does to the bytes (preamble, delay, injected faults);
``handle`` is the pure protocol answer.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from meterbench.sim.answer import Answer
from meterbench.sim.faults import Fault, FaultPlan
from meterproto.dlt645 import messages as msg
from meterproto.dlt645.di import DataItem, di_from_wire, lookup
from meterproto.dlt645.frame import (
    ABNORMAL,
    BROADCAST_ADDRESS,
    DIR_RESPONSE,
    MAX_READ_REPLY_LEN,
    WILDCARD_ADDRESS,
    WILDCARD_BYTE,
    DecodeError,
    EncodeError,
    Frame,
    address_from_text,
)

F = msg.Function
F97 = msg.Function1997

# Error bits of the abnormal reply (reference 2.7)
ERR_OTHER = 0x01
ERR_NO_DATA = 0x02  # 1997: DI error
ERR_PASSWORD = 0x04
ERR_BAUD = 0x08

FORWARD_ACTIVE = 0x01
REVERSE_ACTIVE = 0x02
_ENERGY_QUANTITIES = (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A)
_ENERGY_WRAP = Decimal("1000000")  # registers roll over after 999999.99
_FIRST_PART = MAX_READ_REPLY_LEN - 4  # DI + data in the first frame
_NEXT_PART = MAX_READ_REPLY_LEN - 5  # DI + data + SEQ in a follow-up frame

_TEXTS = {
    0x04000404: "220V",
    0x04000405: "5A",
    0x04000406: "60A",
    0x04000407: "1.0",
    0x04000408: "2.0",
    0x0400040B: "SIM-DDS645",
    0x0400040C: "2025-01-01",
    0x0400040D: "DL/T645-2007",
    0x04800001: "sim 1.0",
    0x04800002: "sim hw 1",
    0x04800003: "meterbench",
}

_EVENT_COUNTERS = {
    0x03300000: "programming",
    0x03300100: "meter clear",
    0x03300200: "demand clear",
    0x03300300: "event clear",
    0x03300400: "time setting",
    0x03300D00: "cover opening",
    0x03300E00: "terminal cover opening",
    0x03110000: "power down",
}


def _d(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass
class FreezeRecord:
    time: dt.datetime
    energy: dict[int, list[Decimal]]


@dataclass(kw_only=True)
class Dlt645Meter:
    """State of one meter plus the rules it answers by.

    Energy registers are kept per quantity (DI2 code: 01 forward active, 02 reverse active,
    03-0A reactive and apparent) as ``[total, tariff 1, ..., tariff n]``. Combined active energy
    (DI2 00) is derived from forward and reverse through the combination word 04000601.
    """

    protocol: ClassVar[str] = "dlt645"
    address: str = "000000000001"
    version: int = 2007
    tariffs: int = 4
    current_tariff: int = 1
    voltage: list[Decimal] = field(default_factory=lambda: [Decimal("220.0")] * 3)
    current: list[Decimal] = field(default_factory=lambda: [Decimal("5.000")] * 3)
    power_factor: list[Decimal] = field(default_factory=lambda: [Decimal("1.000")] * 4)
    phase_angle: list[Decimal] = field(default_factory=lambda: [Decimal("0.0")] * 3)
    frequency: Decimal = Decimal("50.00")
    temperature: Decimal = Decimal("25.0")
    active_constant: int = 1200
    reactive_constant: int = 1200
    clock_source: Callable[[], dt.datetime] = dt.datetime.now
    clock_offset: dt.timedelta = dt.timedelta(0)
    passwords: dict[int, str] = field(
        default_factory=lambda: {0: "000000", 2: "000000", 4: "000000"}
    )
    write_level: int = 4  # weakest privilege that may write parameters (14H)
    admin_level: int = 2  # weakest privilege for clears and relay control
    programming_allowed: bool = False  # programming key pressed / factory mode
    require_programming_key: bool = False  # 14H writes need the key as well
    output_mode: int = msg.MultiFunctionOutput.CLOCK_SECOND_PULSE
    relay_open: bool = False
    alarm: bool = False
    power_guarantee: bool = False
    baudrate: int = 2400
    supported_rates: tuple[int, ...] = (1200, 2400, 4800, 9600)
    response_delay: float = 0.05
    response_delay_max: float | None = None  # set: each delay drawn from [delay, max], seeded
    error_delay: float | None = None  # set: abnormal replies come this late (a slow refusal)
    delay_seed: int = 645
    preamble: int = 4
    broadcast_time_limit: dt.timedelta | None = None
    block_terminator: bool = False  # 1997: end a 901F block with AAH
    endless_follow_up: bool = False  # misbehaviour: always announce one more frame
    faults: FaultPlan = field(default_factory=FaultPlan)
    energy: dict[int, list[Decimal]] = field(default_factory=dict)
    max_demand: list[tuple[Decimal, dt.datetime | None]] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)
    params: dict[int, Any] = field(default_factory=dict)
    freezes: list[FreezeRecord] = field(default_factory=list)
    freeze_pattern: dict[str, int] | None = None
    last_operator: int | None = None

    def __post_init__(self) -> None:
        if self.version not in (1997, 2007):
            raise ValueError(f"DL/T 645 edition must be 1997 or 2007, got {self.version}")
        if not 0 <= self.preamble <= 4:
            raise ValueError("a meter sends 0 to 4 FEH preamble bytes")
        if not 1 <= self.tariffs <= 63:
            raise ValueError("a meter has 1 to 63 tariffs")
        self._wire_address = address_from_text(self.address)
        self.address = self._text(self._wire_address)
        for quantity in _ENERGY_QUANTITIES:
            self.energy.setdefault(quantity, [Decimal("0.00")] * (self.tariffs + 1))
        if not self.max_demand:
            self.max_demand = [(Decimal("0.0000"), None)] * (self.tariffs + 1)
        for name in _EVENT_COUNTERS.values():
            self.events.setdefault(name, 0)
        self._pending: tuple[int, list[bytes]] | None = None
        self._last_reply: bytes | None = None
        self._delays = random.Random(self.delay_seed)
        self.params.setdefault(0x04000103, 15)
        self.params.setdefault(0x04000104, 1)
        self.params.setdefault(0x04000105, 80)
        self.params.setdefault(0x04000601, 0x05)

    @staticmethod
    def _text(wire: bytes) -> str:
        return bytes(reversed(wire)).hex()

    # -- plain state changes (the physics engine drives these) -------------------------------
    @property
    def wire_address(self) -> bytes:
        return self._wire_address

    def set_address(self, address: str) -> None:
        self._wire_address = address_from_text(address)
        self.address = self._text(self._wire_address)

    def set_energy(
        self, kwh: Decimal | float | str, tariff: int | None = None, quantity: int = FORWARD_ACTIVE
    ) -> None:
        """Set a register. Without a tariff: the total, all of it in the current tariff."""
        value = _d(kwh).quantize(Decimal("0.01"))
        registers = self.energy[quantity]
        if tariff is None:
            for i in range(1, len(registers)):
                registers[i] = Decimal("0.00")
            registers[0] = value
            registers[self.current_tariff] = value
        else:
            registers[tariff] = value

    def add_energy(
        self, kwh: Decimal | float | str, quantity: int = FORWARD_ACTIVE, tariff: int | None = None
    ) -> None:
        """Accumulate energy into the total and the tariff in effect."""
        delta = _d(kwh)
        registers = self.energy[quantity]
        t = self.current_tariff if tariff is None else tariff
        registers[0] = (registers[0] + delta) % _ENERGY_WRAP
        registers[t] = (registers[t] + delta) % _ENERGY_WRAP

    def energy_kwh(self, tariff: int = 0, quantity: int = FORWARD_ACTIVE) -> Decimal:
        return self.energy[quantity][tariff].quantize(Decimal("0.01"))

    def set_instantaneous(
        self,
        *,
        voltage: Any = None,
        current: Any = None,
        power_factor: Any = None,
        frequency: Any = None,
    ) -> None:
        """Set U, I, PF (per phase; a single value applies to all) and f."""
        if voltage is not None:
            self.voltage = [
                _d(v) for v in (voltage if isinstance(voltage, list) else [voltage] * 3)
            ]
        if current is not None:
            self.current = [
                _d(v) for v in (current if isinstance(current, list) else [current] * 3)
            ]
        if power_factor is not None:
            pfs = power_factor if isinstance(power_factor, list) else [power_factor] * 3
            phases = [_d(v) for v in pfs]
            self.power_factor = [min(phases, key=abs)] + phases
        if frequency is not None:
            self.frequency = _d(frequency)

    def active_power(self) -> list[Decimal]:
        """kW: total, A, B, C, from U x I x PF."""
        phases = [
            (u * i * pf / 1000).quantize(Decimal("0.0001"))
            for u, i, pf in zip(self.voltage, self.current, self.power_factor[1:], strict=True)
        ]
        return [sum(phases, Decimal("0.0000"))] + phases

    def apparent_power(self) -> list[Decimal]:
        phases = [
            (u * i / 1000).quantize(Decimal("0.0001"))
            for u, i in zip(self.voltage, self.current, strict=True)
        ]
        return [sum(phases, Decimal("0.0000"))] + phases

    def reactive_power(self) -> list[Decimal]:
        out = []
        for s, p in zip(self.apparent_power(), self.active_power(), strict=True):
            q = (max(s * s - p * p, Decimal(0))).sqrt()
            out.append(q.quantize(Decimal("0.0001")))
        return out

    def now(self) -> dt.datetime:
        return (self.clock_source() + self.clock_offset).replace(microsecond=0)

    def set_clock(self, when: dt.datetime) -> None:
        self.clock_offset = when - self.clock_source().replace(microsecond=0)

    def press_programming_key(self, allowed: bool = True) -> None:
        self.programming_allowed = allowed

    # -- the line's view ---------------------------------------------------------------------
    def accepts(self, request: Frame) -> bool:
        """Is this frame for this meter? Every other frame gets silence (a reply would collide
        with the addressed meter's)."""
        if request.is_response:
            return False
        if request.address == BROADCAST_ADDRESS:
            if self.version == 1997:
                return request.function in (F97.BROADCAST_TIME, F97.READ)
            return request.function in (F.BROADCAST_TIME, F.FREEZE)
        return all(
            b in (WILDCARD_BYTE, own)
            for b, own in zip(request.address, self._wire_address, strict=True)
        )

    def respond(self, request: Frame) -> Answer | None:
        """The bytes this meter puts on the line for ``request`` (None: silence)."""
        rate = self.baudrate
        reply = self.handle(request)
        if reply is None:
            return None
        raw = reply.encode(preamble=self.preamble)
        fault = self.faults.next_fault()
        sent = request.raw if request.raw is not None else request.encode()
        pieces = self.faults.apply(fault, bytes(sent), raw, self._last_reply, self.preamble + 10)
        self._last_reply = raw
        if pieces is None:
            return None
        return Answer(self._delay(reply), pieces, rate, self.address)

    def _delay(self, reply: Frame) -> float:
        """This reply's response delay: the configured one, a seeded draw from the configured
        range, or the error delay for a refusal."""
        if reply.abnormal and self.error_delay is not None:
            return self.error_delay
        if self.response_delay_max is None:
            return self.response_delay
        return self._delays.uniform(self.response_delay, self.response_delay_max)

    # -- protocol ----------------------------------------------------------------------------
    def handle(self, request: Frame) -> Frame | None:
        """The reply frame a real meter gives to ``request``, or None for silence."""
        if not self.accepts(request):
            return None
        if self.version == 1997:
            return self._handle_1997(request)
        broadcast = request.address == BROADCAST_ADDRESS
        try:
            message = msg.parse_request(request, 2007)
        except DecodeError:
            return None if broadcast else self._error(request.function, ERR_OTHER)
        if isinstance(message, msg.BroadcastTimeRequest):
            if broadcast:
                self._broadcast_time(message.when)
            return None  # never answered
        if isinstance(message, msg.FreezeRequest):
            self._freeze(message)
            return None if broadcast else msg.normal_reply(self._wire_address, F.FREEZE)
        handler = self._HANDLERS.get(request.function)
        if handler is None:
            if request.function == F.SECURITY:
                return Frame(self._wire_address, F.SECURITY | DIR_RESPONSE | ABNORMAL, b"\x01\x00")
            return self._error(request.function, ERR_OTHER)
        return handler(self, request, message)

    def _error(self, function: int, bits: int) -> Frame:
        return msg.abnormal_reply(self._wire_address, function, bits)

    def _authority(self, password: msg.Password) -> int | None:
        """The privilege level a password proves, or None."""
        stored = self.passwords.get(password.level)
        return password.level if stored is not None and stored == password.digits else None

    def _authorised(self, password: msg.Password, weakest: int) -> bool:
        level = self._authority(password)
        return level is not None and level <= weakest

    # 11H
    def _read(self, request: Frame, message: msg.ReadRequest) -> Frame:
        self._pending = None
        if message.records is not None:
            return self._error(F.READ, ERR_NO_DATA)  # no load records in this model
        payload = self._value(message.di)
        if payload is None:
            return self._error(F.READ, ERR_NO_DATA)
        if len(payload) <= _FIRST_PART and not self.endless_follow_up:
            return msg.read_reply(self._wire_address, message.di, payload)
        first, rest = payload[:_FIRST_PART], payload[_FIRST_PART:]
        parts = [rest[i : i + _NEXT_PART] for i in range(0, len(rest), _NEXT_PART)]
        self._pending = (message.di, parts)
        return msg.read_reply(self._wire_address, message.di, first, follow_up=True)

    # 12H
    def _read_follow_up(self, request: Frame, message: msg.ReadFollowUpRequest) -> Frame:
        if self.endless_follow_up and self._pending and self._pending[0] == message.di:
            return msg.read_follow_up_reply(self._wire_address, message.di, b"", message.seq, True)
        if (
            self._pending is None
            or self._pending[0] != message.di
            or not 1 <= message.seq <= len(self._pending[1])
        ):
            return self._error(F.READ_FOLLOW_UP, ERR_NO_DATA)
        parts = self._pending[1]
        more = message.seq < len(parts)
        return msg.read_follow_up_reply(
            self._wire_address, message.di, parts[message.seq - 1], message.seq, more
        )

    # 13H
    def _read_address(self, request: Frame, message: msg.Message) -> Frame:
        return msg.read_address_reply(self._wire_address)

    # 14H
    def _write(self, request: Frame, message: msg.WriteRequest) -> Frame:
        if not self._authorised(message.password, self.write_level) or (
            self.require_programming_key and not self.programming_allowed
        ):
            return self._error(F.WRITE, ERR_PASSWORD)
        item = lookup(message.di)
        if item is None or not item.writable:
            return self._error(F.WRITE, ERR_OTHER)
        bits = self._store(item, message.value)
        if bits:
            return self._error(F.WRITE, bits)
        self.events["programming"] += 1
        self.last_operator = message.operator
        return msg.normal_reply(self._wire_address, F.WRITE)

    def _store(self, item: DataItem, plain: bytes) -> int:
        """Apply a written value; returns error bits (0 = done)."""
        try:
            value = item.decode(plain)
        except DecodeError:
            return ERR_OTHER
        if value is None:
            return ERR_OTHER
        now = self.now()
        if item.di == 0x04000101:
            self.set_clock(dt.datetime.combine(value, now.time()))
            self.events["time setting"] += 1
        elif item.di == 0x04000102:
            self.set_clock(dt.datetime.combine(now.date(), value))
            self.events["time setting"] += 1
        elif item.di == 0x0400010C:
            self.set_clock(value)
            self.events["time setting"] += 1
        elif item.di == 0x04000401:
            self.set_address(value)
        elif item.di == 0x04000204:
            if not 1 <= int(value) <= 63:
                return ERR_OTHER
            self._resize_tariffs(int(value))
        elif item.di == 0x04000703:
            try:
                rate = msg.baud_from_word(int(value))
            except DecodeError:
                return ERR_BAUD
            if rate not in self.supported_rates:
                return ERR_BAUD
            self.baudrate = rate
        else:
            self.params[item.di] = value
        return 0

    def _resize_tariffs(self, count: int) -> None:
        for registers in self.energy.values():
            registers[:] = registers[: count + 1] + [Decimal("0.00")] * (count + 1 - len(registers))
        self.max_demand = self.max_demand[: count + 1] + [(Decimal("0.0000"), None)] * (
            count + 1 - len(self.max_demand)
        )
        self.tariffs = count
        self.current_tariff = min(self.current_tariff, count)

    # 15H
    def _write_address(self, request: Frame, message: msg.WriteAddressRequest) -> Frame | None:
        if request.address != WILDCARD_ADDRESS or not self.programming_allowed:
            return None  # a failed write-address gets no reply at all
        try:
            self.set_address(message.new_address)
        except EncodeError:
            return None
        return msg.normal_reply(self._wire_address, F.WRITE_ADDRESS)

    # 17H
    def _change_baud(self, request: Frame, message: msg.ChangeBaudRequest) -> Frame:
        try:
            rate = message.rate
        except DecodeError:
            return self._error(F.CHANGE_BAUD, ERR_BAUD)
        if rate not in self.supported_rates:
            return self._error(F.CHANGE_BAUD, ERR_BAUD)
        reply = msg.normal_reply(self._wire_address, F.CHANGE_BAUD, bytes([message.word]))
        self.baudrate = rate  # the reply still goes out at the old rate (see respond)
        return reply

    # 18H
    def _change_password(self, request: Frame, message: msg.ChangePasswordRequest) -> Frame:
        if message.new.level != message.level:
            return self._error(F.CHANGE_PASSWORD, ERR_OTHER)
        if not self._authorised(message.old, message.level):
            return self._error(F.CHANGE_PASSWORD, ERR_PASSWORD)
        self.passwords[message.level] = message.new.digits
        return msg.normal_reply(self._wire_address, F.CHANGE_PASSWORD, message.new.to_plain())

    # 19H, 1AH, 1BH, 1CH
    def _authorised_command(self, request: Frame, message: msg.AuthorisedRequest) -> Frame:
        fn = request.function
        if not self._authorised(message.password, self.admin_level):
            return self._error(fn, ERR_PASSWORD)
        if fn == F.RELAY_CONTROL:
            bits = self._relay(message)
            if bits:
                return self._error(fn, bits)
        elif fn == F.CLEAR_DEMAND:
            self.max_demand = [(Decimal("0.0000"), None)] * (self.tariffs + 1)
            self.events["demand clear"] += 1
        elif fn == F.CLEAR_METER:
            for quantity in self.energy:
                self.energy[quantity] = [Decimal("0.00")] * (self.tariffs + 1)
            self.max_demand = [(Decimal("0.0000"), None)] * (self.tariffs + 1)
            self.freezes.clear()
            kept = self.events["meter clear"]
            for name in self.events:
                self.events[name] = 0
            self.events["meter clear"] = kept + 1
        elif fn == F.CLEAR_EVENTS:
            self._clear_events(message.event_di or 0xFFFFFFFF)
        self.last_operator = message.operator
        return msg.normal_reply(self._wire_address, fn)

    def _clear_events(self, event_di: int) -> None:
        for di, name in _EVENT_COUNTERS.items():
            if name in ("meter clear", "event clear"):
                continue
            if event_di == 0xFFFFFFFF or (
                event_di & 0xFF == 0xFF and di & 0xFFFFFF00 == event_di & 0xFFFFFF00
            ):
                self.events[name] = 0
        self.events["event clear"] += 1

    def _relay(self, message: msg.AuthorisedRequest) -> int:
        if message.expiry is None or message.expiry < self.now():
            return ERR_OTHER  # expired (or unreadable) commands are refused
        command = message.command
        if command == msg.RelayCommand.TRIP:
            self.relay_open = True
        elif command == msg.RelayCommand.CLOSE_ALLOWED:
            self.relay_open = False
        elif command == msg.RelayCommand.ALARM:
            self.alarm = True
        elif command == msg.RelayCommand.ALARM_RELEASE:
            self.alarm = False
        elif command == msg.RelayCommand.POWER_GUARANTEE:
            self.power_guarantee = True
        elif command == msg.RelayCommand.POWER_GUARANTEE_RELEASE:
            self.power_guarantee = False
        else:
            return ERR_OTHER
        return 0

    # 1DH
    def _multi_function_output(
        self, request: Frame, message: msg.MultiFunctionOutputRequest
    ) -> Frame:
        if message.mode not in (0, 1, 2):
            return self._error(F.MULTI_FUNCTION_OUTPUT, ERR_OTHER)
        self.output_mode = message.mode
        return msg.normal_reply(self._wire_address, F.MULTI_FUNCTION_OUTPUT, bytes([message.mode]))

    _HANDLERS: ClassVar[dict[int, Callable[..., Frame | None]]] = {
        F.READ: _read,
        F.READ_FOLLOW_UP: _read_follow_up,
        F.READ_ADDRESS: _read_address,
        F.WRITE: _write,
        F.WRITE_ADDRESS: _write_address,
        F.CHANGE_BAUD: _change_baud,
        F.CHANGE_PASSWORD: _change_password,
        F.CLEAR_DEMAND: _authorised_command,
        F.CLEAR_METER: _authorised_command,
        F.CLEAR_EVENTS: _authorised_command,
        F.RELAY_CONTROL: _authorised_command,
        F.MULTI_FUNCTION_OUTPUT: _multi_function_output,
    }

    # 08H, 16H
    def _broadcast_time(self, when: dt.datetime | None) -> None:
        if when is None:
            return
        if (
            self.broadcast_time_limit is not None
            and abs(when - self.now()) > self.broadcast_time_limit
        ):
            return
        self.set_clock(when)

    def _freeze(self, message: msg.FreezeRequest) -> None:
        if message.instant:
            snapshot = {q: list(regs) for q, regs in self.energy.items()}
            self.freezes.insert(0, FreezeRecord(self.now(), snapshot))
            del self.freezes[3:]
        else:
            self.freeze_pattern = dict(message.pattern)

    # -- values ------------------------------------------------------------------------------
    def value(self, di: int) -> bytes | None:
        """Plain value bytes of ``di`` as this meter would send them, or None."""
        return self._value(di)

    def _value(self, di: int) -> bytes | None:
        item = lookup(di)
        if item is None:
            return None
        raw = self._raw_value(di)
        if raw is None:
            return None
        try:
            return item.encode(raw) if not isinstance(raw, bytes) else raw
        except EncodeError:
            return None

    def _raw_value(self, di: int) -> Any:
        cls = di >> 24
        if cls == 0x00:
            return self._energy_value(di)
        if cls == 0x01:
            return self._demand_value(di)
        if cls == 0x02:
            return self._instant_value(di)
        if cls == 0x03:
            name = _EVENT_COUNTERS.get(di)
            return None if name is None else self.events[name]
        if cls == 0x04:
            return self._parameter(di)
        if cls == 0x05:
            return self._freeze_value(di)
        return None

    def _registers(self, quantity: int) -> list[Decimal] | None:
        if quantity == 0x00:
            word = int(self.params.get(0x04000601, 0x05))
            fwd, rev = self.energy[FORWARD_ACTIVE], self.energy[REVERSE_ACTIVE]
            out = []
            for f, r in zip(fwd, rev, strict=True):
                total = Decimal("0.00")
                total += f if word & 0x01 else 0
                total -= f if word & 0x02 else 0
                total += r if word & 0x04 else 0
                total -= r if word & 0x08 else 0
                out.append(total)
            return out
        return self.energy.get(quantity)

    def _energy_value(self, di: int) -> Any:
        quantity, tariff, period = di >> 16 & 0xFF, di >> 8 & 0xFF, di & 0xFF
        registers = self._registers(quantity)
        if registers is None or period != 0:
            return None
        if tariff == 0xFF:
            return registers[: self.tariffs + 1]
        return registers[tariff] if tariff <= self.tariffs else None

    def _demand_value(self, di: int) -> Any:
        quantity, tariff, period = di >> 16 & 0xFF, di >> 8 & 0xFF, di & 0xFF
        if quantity != 0x01 or period != 0:
            return None
        stamp = self.now().replace(second=0)

        def item(entry: tuple[Decimal, dt.datetime | None]) -> dict[str, Any]:
            return {"demand": entry[0], "time": entry[1] or stamp}

        if tariff == 0xFF:
            return [item(e) for e in self.max_demand[: self.tariffs + 1]]
        return item(self.max_demand[tariff]) if tariff <= self.tariffs else None

    def _instant_value(self, di: int) -> Any:
        group, sub, last = di >> 16 & 0xFF, di >> 8 & 0xFF, di & 0xFF
        if group == 0x80 and sub == 0x00:
            return {
                0x01: Decimal("0.000"),
                0x02: self.frequency,
                0x03: self.active_power()[0],
                0x04: self.active_power()[0],
                0x07: self.temperature,
                0x08: Decimal("3.60"),
                0x09: Decimal("6.00"),
            }.get(last)
        if last != 0:
            return None
        per_phase = {0x01: self.voltage, 0x02: self.current, 0x07: self.phase_angle}
        with_total = {
            0x03: self.active_power,
            0x04: self.reactive_power,
            0x05: self.apparent_power,
        }
        if group in per_phase:
            values = per_phase[group]
            if sub == 0xFF:
                return list(values)
            return values[sub - 1] if 1 <= sub <= 3 else None
        if group in with_total or group == 0x06:
            values = self.power_factor if group == 0x06 else with_total[group]()
            if sub == 0xFF:
                return list(values)
            return values[sub] if sub <= 3 else None
        return None

    def _status_words(self) -> list[int]:
        word3 = (0x08 if self.programming_allowed else 0) | (0x10 if self.relay_open else 0)
        word3 |= 0x40 if self.relay_open else 0
        return [0, 0, word3, 0, 0, 0, 0]

    def _parameter(self, di: int) -> Any:
        now = self.now()
        fixed: dict[int, Any] = {
            0x04000101: now.date(),
            0x04000102: now.time(),
            0x0400010C: now,
            0x04000204: self.tariffs,
            0x04000401: self.address,
            0x04000402: self.address,
            0x04000409: self.active_constant,
            0x0400040A: self.reactive_constant,
            0x04000703: msg.BAUD_WORDS.get(self.baudrate, 0),
            0x040005FF: self._status_words(),
        }
        if di in fixed:
            return fixed[di]
        if 0x04000501 <= di <= 0x04000507:
            return self._status_words()[di - 0x04000501]
        if di in self.params:
            return self.params[di]
        return _TEXTS.get(di)

    def _freeze_value(self, di: int) -> Any:
        kind, what, n = di >> 16 & 0xFF, di >> 8 & 0xFF, di & 0xFF
        if kind != 0x01 or not 1 <= n <= len(self.freezes):
            return None
        record = self.freezes[n - 1]
        if what == 0x00:
            return record.time.replace(second=0)
        if what in (FORWARD_ACTIVE, REVERSE_ACTIVE):
            return record.energy[what][: self.tariffs + 1]
        return None

    # -- DL/T 645-1997 -----------------------------------------------------------------------
    def _handle_1997(self, request: Frame) -> Frame | None:
        fn = request.function
        data = request.data
        if fn == F97.BROADCAST_TIME:
            if request.address == BROADCAST_ADDRESS and len(data) == 6:
                try:
                    message = msg.parse_request(
                        Frame(request.address, F.BROADCAST_TIME, data), 2007
                    )
                except DecodeError:
                    return None
                assert isinstance(message, msg.BroadcastTimeRequest)
                self._broadcast_time(message.when)
            return None
        if fn == F97.READ:
            if len(data) != 2:
                return self._error(fn, ERR_OTHER)
            di = di_from_wire(data)
            payload = self._value_1997(di)
            if payload is None:
                return self._error(fn, ERR_NO_DATA)  # 1997 bit 1: DI error
            return msg.read_reply(self._wire_address, di, payload, version=1997)
        if fn == F97.WRITE:
            try:
                message = msg.parse_request(request, 1997)
            except DecodeError:
                return self._error(fn, ERR_OTHER)
            assert isinstance(message, msg.WriteRequest)
            if not self._authorised(message.password, self.write_level):
                return self._error(fn, ERR_PASSWORD)
            return self._write_1997(message)
        return self._error(fn, ERR_OTHER)

    def _write_1997(self, message: msg.WriteRequest) -> Frame:
        item = lookup(message.di, 1997)
        if item is None or not item.writable:
            return self._error(F97.WRITE, ERR_OTHER)
        try:
            value = item.decode(message.value)
        except DecodeError:
            return self._error(F97.WRITE, ERR_OTHER)
        if value is None:
            return self._error(F97.WRITE, ERR_OTHER)
        now = self.now()
        if message.di == 0xC010:
            self.set_clock(dt.datetime.combine(value, now.time()))
        elif message.di == 0xC011:
            self.set_clock(dt.datetime.combine(now.date(), value))
        elif message.di == 0xC032:
            self.set_address(value)
        return msg.normal_reply(self._wire_address, F97.WRITE)

    def _value_1997(self, di: int) -> bytes | None:
        item = lookup(di, 1997)
        if item is None:
            return None
        value = self._raw_value_1997(di)
        if value is None:
            return None
        try:
            payload = item.encode(value)
        except EncodeError:
            return None
        if di & 0x000F == 0xF and di >> 12 == 0x9 and self.block_terminator:
            payload += b"\xaa"
        return payload

    def _raw_value_1997(self, di: int) -> Any:
        now = self.now()
        if di >> 12 == 0x9:  # energy: DI1 bits 3-2 period, 1-0 type; DI0 direction, tariff
            period = di >> 10 & 0x3
            kind = di >> 8 & 0x3
            direction, tariff = di >> 4 & 0xF, di & 0xF
            quantity = {
                (0, 1): 0x01,
                (0, 2): 0x02,
                (1, 1): 0x03,
                (1, 2): 0x04,
                (1, 3): 0x05,
                (1, 4): 0x08,
                (1, 5): 0x06,
                (1, 6): 0x07,
            }.get((kind, direction))
            if quantity is None or period != 0:
                return None
            registers = self.energy[quantity]
            if tariff == 0xF:
                return (registers + [Decimal("0.00")] * 5)[:5]
            return registers[tariff] if tariff <= min(4, self.tariffs) else None
        if 0xB611 <= di <= 0xB613:
            return self.voltage[di - 0xB611].quantize(Decimal("1"))
        if 0xB621 <= di <= 0xB623:
            return self.current[di - 0xB621].quantize(Decimal("0.01"))
        if 0xB630 <= di <= 0xB633:
            return self.active_power()[di - 0xB630]
        if di == 0xB640:
            return self.reactive_power()[0].quantize(Decimal("0.01"))
        if 0xB650 <= di <= 0xB653:
            return self.power_factor[di - 0xB650]
        return {
            0xC010: now.date(),
            0xC011: now.time(),
            0xC020: 0,
            0xC030: self.active_constant,
            0xC031: self.reactive_constant,
            0xC032: self.address,
            0xC033: self.address,
            0xC034: self.address,
        }.get(di)


__all__ = ["Dlt645Meter", "Fault", "FaultPlan", "FreezeRecord"]
