"""Source and reference standard: one small driver interface, one SCPI-style driver.

Benches drive an integrated power source + reference standard over serial or TCP. The runner
only needs what ``SourceDriver`` lists, so other instrument models can be added as drivers.
``ScpiSource`` speaks a line-based SCPI dialect (documented in ``SCPI_COMMANDS``); the simulated
bench serves the same dialect, so this driver runs in every simulated verification too.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from meterbench.electrical import PhaseSetpoint, Setpoint, angle_difference
from meterbench.transport.errors import TransportError
from meterbench.transport.port import AsyncPort
from meterbench.transport.settings import SerialSettings

SCPI_COMMANDS = """\
*IDN?                       identity: maker,model,serial,firmware
*RST                        output off, setpoints cleared
*OPC?                       1 once earlier commands are done
SYST:ERR?                   oldest error: <code>,"<text>" (0,"No error" when none)
SOUR:WIR 1P|3P4W|3P3W       wiring of the outputs
SOUR:FREQ <Hz>
SOUR:VOLT:L<n> <V>          staged voltage of element n (1..3)
SOUR:CURR:L<n> <A>          staged current of element n
SOUR:PHAS:L<n> <deg>        staged angle by which the current lags the voltage; reverse
                            energy (P-) is the PF angle + 180 (e.g. 180 for PF 1 reverse)
SOUR:APPL                   apply all staged values at once (the output ramps to them)
OUTP ON|OFF
OUTP?                       1 or 0
STAT:STAB?                  1 when the output is within tolerance of the setpoint
MEAS:VOLT:L<n>? / MEAS:CURR:L<n>? / MEAS:PHAS:L<n>?
MEAS:POW?                   total active power, W
MEAS:FREQ?
REF:CONS?                   reference standard constant on the range in use, imp/kWh
REF:ENER:STAR               start integrating active energy in the reference standard
REF:ENER:STOP               stop integrating (the value is kept)
REF:ENER?                   energy integrated since the last start, kWh
REF:ACC:STAR                zero and start the run accumulator: active energy kept apart by
                            direction, never stopped by REF:ENER:STAR/STOP
REF:ACC? POS|NEG            forward (P+) or reverse (P-) energy accumulated since REF:ACC:STAR, kWh
"""


class SourceError(Exception):
    """The source refused a command, never answered, or never became stable."""


@dataclass(frozen=True)
class Measured:
    """What the source and reference measure at its outputs."""

    voltages_v: tuple[float, ...]
    currents_a: tuple[float, ...]
    angles_deg: tuple[float, ...]
    active_power_w: float
    frequency_hz: float


class SourceDriver(Protocol):
    """What the runner needs from any source + reference standard."""

    async def identify(self) -> str: ...

    async def apply(self, setpoint: Setpoint) -> None: ...

    async def output_off(self) -> None: ...

    async def measure(self) -> Measured: ...

    async def wait_stable(self, timeout_s: float) -> Measured: ...

    async def is_stable(self) -> bool: ...

    async def reference_constant(self) -> float: ...

    async def start_energy(self) -> None: ...

    async def stop_energy(self) -> Decimal: ...

    async def start_accumulation(self) -> None: ...

    async def accumulated(self) -> Accumulated: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Accumulated:
    """Reference energy per direction since the accumulator was started, kWh."""

    forward_kwh: Decimal
    reverse_kwh: Decimal

    def of(self, direction: str) -> Decimal:
        return self.reverse_kwh if direction == "P-" else self.forward_kwh


def deviation(setpoint: Setpoint, measured: Measured) -> float:
    """Largest relative deviation of the measured voltages and currents from the setpoint,
    and of the angles in degrees / 100 (so 1 % and 1 degree weigh the same). Angles compare
    as output angles, so a reverse setpoint measured at PF angle + 180 is on target."""
    worst = 0.0
    for phase, u, i, angle in zip(
        setpoint.phases, measured.voltages_v, measured.currents_a, measured.angles_deg, strict=False
    ):
        for want, got in ((phase.voltage_v, u), (phase.current_a, i)):
            worst = max(worst, abs(got - want) / want if want else abs(got))
        if phase.current_a:
            worst = max(worst, angle_difference(angle, setpoint.output_angle(phase)) / 100)
    return worst


class ScpiSource:
    """SCPI-dialect driver over any endpoint URL (serial device, ``socket://``, pty path)."""

    def __init__(self, port: AsyncPort, timeout_s: float = 2.0, poll_s: float = 0.2) -> None:
        self._port = port
        self._timeout = timeout_s
        self._poll = poll_s
        self._buffer = b""
        self._lock = asyncio.Lock()
        self.last_setpoint: Setpoint | None = None
        # set when this driver started the run accumulator (new id each start): a driver opened
        # by a resumed run has none, so the energy since the run's start is not known to it
        self.accumulation_id: str | None = None

    @classmethod
    async def open(
        cls, url: str, settings: SerialSettings | None = None, **kwargs: float
    ) -> ScpiSource:
        port = await AsyncPort.open(url, settings or SerialSettings(9600, "N"))
        return cls(port, **kwargs)

    async def close(self) -> None:
        await self._port.close()

    # -- line protocol ------------------------------------------------------------------------
    async def _readline(self) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while b"\n" not in self._buffer:
            left = deadline - loop.time()
            if left <= 0:
                raise SourceError(
                    f"source at {self._port.url} did not answer within {self._timeout:g} s"
                )
            try:
                self._buffer += await self._port.read(left)
            except TransportError as exc:
                raise SourceError(f"source at {self._port.url}: {exc}") from exc
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("ascii", errors="replace").strip()

    async def _send(self, command: str) -> None:
        try:
            await self._port.write(command.encode("ascii") + b"\n")
        except TransportError as exc:
            raise SourceError(f"source at {self._port.url}: {exc}") from exc

    async def query(self, command: str) -> str:
        async with self._lock:
            self._buffer = b""
            self._port.reset_input()
            await self._send(command)
            return await self._readline()

    async def command(self, *commands: str) -> None:
        """Send commands, then check the error queue: a refused command raises SourceError."""
        async with self._lock:
            self._port.reset_input()
            self._buffer = b""
            for text in commands:
                await self._send(text)
            await self._send("SYST:ERR?")
            reply = await self._readline()
        code, _, text = reply.partition(",")
        if code.strip() not in ("0", "+0"):
            raise SourceError(f"source refused {'; '.join(commands)}: {reply}")

    async def _float(self, command: str) -> float:
        reply = await self.query(command)
        try:
            value = float(reply)
        except ValueError:
            raise SourceError(f"source answered {command} with {reply!r}, not a number") from None
        if not math.isfinite(value):
            raise SourceError(f"source answered {command} with {reply!r}")
        return value

    # -- SourceDriver ---------------------------------------------------------------------------
    async def identify(self) -> str:
        return await self.query("*IDN?")

    async def apply(self, setpoint: Setpoint) -> None:
        commands = [f"SOUR:WIR {setpoint.wiring.upper()}", f"SOUR:FREQ {setpoint.frequency_hz:g}"]
        for n, phase in enumerate(setpoint.phases, 1):
            commands += [
                f"SOUR:VOLT:L{n} {phase.voltage_v:.6g}",
                f"SOUR:CURR:L{n} {phase.current_a:.6g}",
                f"SOUR:PHAS:L{n} {setpoint.output_angle(phase):.6g}",
            ]
        commands += ["SOUR:APPL", "OUTP ON" if setpoint.output_on else "OUTP OFF"]
        await self.command(*commands)
        self.last_setpoint = setpoint

    async def output_off(self) -> None:
        await self.command("OUTP OFF")
        self.last_setpoint = Setpoint.off()

    async def measure(self) -> Measured:
        count = len(self.last_setpoint.phases) if self.last_setpoint else 1
        volts, amps, angles = [], [], []
        for n in range(1, count + 1):
            volts.append(await self._float(f"MEAS:VOLT:L{n}?"))
            amps.append(await self._float(f"MEAS:CURR:L{n}?"))
            angles.append(await self._float(f"MEAS:PHAS:L{n}?"))
        return Measured(
            tuple(volts),
            tuple(amps),
            tuple(angles),
            await self._float("MEAS:POW?"),
            await self._float("MEAS:FREQ?"),
        )

    async def wait_stable(self, timeout_s: float) -> Measured:
        """Poll until the source reports stable output; SourceError if it never does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            if await self.is_stable():
                return await self.measure()
            if loop.time() >= deadline:
                measured = await self.measure()
                raise SourceError(
                    f"source not stable after {timeout_s:g} s: measured U={measured.voltages_v} "
                    f"I={measured.currents_a}"
                )
            await asyncio.sleep(self._poll)

    async def is_stable(self) -> bool:
        """Is the output within tolerance of its setpoint right now?"""
        return (await self.query("STAT:STAB?")).strip() == "1"

    async def reference_constant(self) -> float:
        return await self._float("REF:CONS?")

    async def start_energy(self) -> None:
        """Start the reference standard's energy integration (the register test's W_ref)."""
        await self.command("REF:ENER:STAR")

    async def stop_energy(self) -> Decimal:
        """Stop the integration; the energy since the start, kWh, exactly as reported."""
        await self.command("REF:ENER:STOP")
        reply = await self.query("REF:ENER?")
        try:
            return Decimal(reply)
        except ArithmeticError:
            raise SourceError(f"source answered REF:ENER? with {reply!r}") from None

    async def start_accumulation(self) -> None:
        """Zero and start the whole-run accumulator (energy per direction)."""
        await self.command("REF:ACC:STAR")
        self.accumulation_id = uuid.uuid4().hex

    async def accumulated(self) -> Accumulated:
        """Energy per direction since ``start_accumulation``, exactly as reported."""
        if self.accumulation_id is None:
            raise SourceError("the run accumulator (REF:ACC) was not started through this driver")
        values = []
        for which in ("POS", "NEG"):
            reply = await self.query(f"REF:ACC? {which}")
            try:
                values.append(Decimal(reply))
            except ArithmeticError:
                raise SourceError(f"source answered REF:ACC? {which} with {reply!r}") from None
        return Accumulated(values[0], values[1])


def setpoint_from_measured(measured: Measured, wiring: str) -> Setpoint:
    """The setpoint a measurement corresponds to (for records of what was really applied);
    measured angles beyond +-90 degrees are reverse energy."""
    phases = tuple(
        PhaseSetpoint(u, i, a)
        for u, i, a in zip(
            measured.voltages_v, measured.currents_a, measured.angles_deg, strict=True
        )
    )
    return Setpoint.from_output(phases, measured.frequency_hz, wiring)
