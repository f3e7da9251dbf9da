"""The simulated source + reference standard: the SCPI dialect of ``devices.source`` served
over a byte stream, with its output applied to the shared physics world.

Settling takes ``settle_s`` simulated seconds after every change; an unstable source (a fault on
demand) keeps wandering around its setpoint, and reports it, until the fault is cleared.
"""

from __future__ import annotations

import math
import random
import re
from collections import deque
from dataclasses import dataclass, replace

from meterbench.clock import Clock
from meterbench.electrical import PhaseSetpoint, Setpoint
from meterbench.sim.physics import ElectricityWorld


@dataclass
class SourceFaults:
    """Misbehaviour on demand: an output that wanders by ``unstable_pct`` while active."""

    unstable_pct: float = 0.0
    unstable_from_s: float = 0.0
    unstable_until_s: float = math.inf

    def active(self, t: float) -> bool:
        return self.unstable_pct > 0 and self.unstable_from_s <= t < self.unstable_until_s


class SimulatedSource:
    """Source state machine + SCPI interpreter. ``handle(line)`` returns the reply line, or
    None for commands that do not answer."""

    MAX_PHASES = 3

    def __init__(
        self,
        world: ElectricityWorld,
        clock: Clock,
        *,
        reference_constant: float,
        settle_s: float = 2.0,
        noise_pct: float = 0.005,
        seed: int = 1,
        identity: str = "meterbench,SIM-SOURCE-REF,0001,1.0",
        faults: SourceFaults | None = None,
    ) -> None:
        self.world = world
        self.clock = clock
        self.reference_constant = reference_constant
        self.settle_s = settle_s
        self.noise_pct = noise_pct
        self.identity = identity
        self.faults = faults or SourceFaults()
        self._rng = random.Random(seed)
        self._errors: deque[str] = deque(maxlen=16)
        self._wiring = "1p"
        self._frequency = 50.0
        self._staged = [[0.0, 0.0, 0.0] for _ in range(self.MAX_PHASES)]
        self._target = Setpoint.off()
        self._output = False
        self._changed_at = -math.inf
        self._wandering = False
        self.commands_seen = 0
        self._energy_start: float | None = None
        self._energy_kwh = 0.0
        # the whole-run accumulator: energy per direction since REF:ACC:STAR, never stopped
        self._accumulating_since: dict[bool, float] | None = None

    # -- state ------------------------------------------------------------------------------------
    @property
    def target(self) -> Setpoint:
        return replace(self._target, output_on=self._output)

    def _push(self) -> None:
        """Apply the present output to the world at the present time."""
        now = self.clock.now()
        self._changed_at = now
        self.world.apply(now, self.target if self._output else Setpoint.off())

    def _tick(self) -> None:
        """Let a wandering output move (called on every command, as time passes)."""
        now = self.clock.now()
        if not self._output:
            return
        if self.faults.active(now):
            factor = 1 + self._rng.uniform(-1, 1) * self.faults.unstable_pct / 100
            phases = tuple(
                replace(p, voltage_v=p.voltage_v * factor, current_a=p.current_a * factor)
                for p in self._target.phases
            )
            self.world.apply(now, replace(self._target, phases=phases))
            self._wandering = True
        elif self._wandering:
            self._wandering = False
            self._push()

    def stable(self) -> bool:
        now = self.clock.now()
        return (not self.faults.active(now)) and now - self._changed_at >= self.settle_s

    def _measured(self, value: float) -> float:
        if not self.stable():
            return value * (1 + 0.05 * self._rng.uniform(-1, 1))
        return value * (1 + self._rng.gauss(0, self.noise_pct) / 100)

    # -- SCPI -------------------------------------------------------------------------------------
    _PHASE_CMD = re.compile(r"^(SOUR:VOLT|SOUR:CURR|SOUR:PHAS):L([1-3])\s+(\S+)$")
    _MEAS_CMD = re.compile(r"^MEAS:(VOLT|CURR|PHAS):L([1-3])\?$")

    def handle(self, line: str) -> str | None:
        self.commands_seen += 1
        self._tick()
        text = line.strip().upper()
        if not text:
            return None
        try:
            return self._dispatch(text)
        except ValueError as exc:
            self._errors.append(f'-224,"{exc}"')
            return None

    def _dispatch(self, text: str) -> str | None:
        if text == "*IDN?":
            return self.identity
        if text == "*OPC?":
            return "1"
        if text == "*RST":
            self._output = False
            self._staged = [[0.0, 0.0, 0.0] for _ in range(self.MAX_PHASES)]
            self._target = Setpoint.off()
            self._push()
            return None
        if text == "SYST:ERR?":
            return self._errors.popleft() if self._errors else '0,"No error"'
        if text.startswith("SOUR:WIR "):
            wiring = text.split()[1].lower()
            if wiring not in ("1p", "3p4w", "3p3w"):
                raise ValueError(f"unknown wiring {wiring}")
            self._wiring = wiring
            return None
        if text.startswith("SOUR:FREQ "):
            frequency = float(text.split()[1])
            if not 45.0 <= frequency <= 65.0:
                raise ValueError(f"frequency {frequency} out of range")
            self._frequency = frequency
            return None
        match = self._PHASE_CMD.match(text)
        if match:
            kind, n, value = match.group(1), int(match.group(2)), float(match.group(3))
            index = {"SOUR:VOLT": 0, "SOUR:CURR": 1, "SOUR:PHAS": 2}[kind]
            if index < 2 and value < 0:
                raise ValueError(f"{kind} cannot be negative")
            self._staged[n - 1][index] = value
            return None
        if text == "SOUR:APPL":
            count = 1 if self._wiring == "1p" else 3
            phases = tuple(PhaseSetpoint(*self._staged[i]) for i in range(count))
            self._target = Setpoint.from_output(phases, self._frequency, self._wiring)
            self._push()
            return None
        if text in ("OUTP ON", "OUTP OFF"):
            self._output = text == "OUTP ON"
            self._push()
            return None
        if text == "OUTP?":
            return "1" if self._output else "0"
        if text == "STAT:STAB?":
            return "1" if self.stable() else "0"
        return self._query_measurement(text)

    def _query_measurement(self, text: str) -> str | None:
        target = self.target if self._output else Setpoint.off()
        match = self._MEAS_CMD.match(text)
        if match:
            kind, n = match.group(1), int(match.group(2))
            if n > len(target.phases):
                return "0"
            phase = target.phases[n - 1]
            angle = target.output_angle(phase)
            value = {"VOLT": phase.voltage_v, "CURR": phase.current_a, "PHAS": angle}[kind]
            return f"{self._measured(value):.6g}" if kind != "PHAS" else f"{value:.4g}"
        if text == "MEAS:POW?":
            return f"{self._measured(target.active_power_w):.6g}"
        if text == "MEAS:FREQ?":
            return f"{self._frequency:.4g}"
        if text == "REF:CONS?":
            return f"{self.reference_constant:.10g}"
        if text == "REF:ENER:STAR":
            self._energy_start = self.world.reference.energy_kwh(self.clock.now())
            self._energy_kwh = 0.0
            return None
        if text == "REF:ENER:STOP":
            if self._energy_start is not None:
                now = self.world.reference.energy_kwh(self.clock.now())
                self._energy_kwh = now - self._energy_start
                self._energy_start = None
            return None
        if text == "REF:ENER?":
            energy = self._energy_kwh
            if self._energy_start is not None:
                energy = self.world.reference.energy_kwh(self.clock.now()) - self._energy_start
            return f"{energy:.9f}"
        return self._accumulator(text)

    def _accumulator(self, text: str) -> str | None:
        """REF:ACC:STAR zeroes both directions; REF:ACC? POS|NEG reads one (kWh)."""
        now = self.clock.now()
        reference = self.world.reference
        if text == "REF:ACC:STAR":
            self._accumulating_since = {
                reverse: reference.direction_energy_kwh(now, reverse) for reverse in (False, True)
            }
            return None
        if text in ("REF:ACC? POS", "REF:ACC? NEG"):
            if self._accumulating_since is None:
                raise ValueError("accumulator not started")
            reverse = text.endswith("NEG")
            energy = reference.direction_energy_kwh(now, reverse)
            return f"{energy - self._accumulating_since[reverse]:.9f}"
        raise ValueError(f"undefined header {text}")


class LineStream:
    """Byte stream adapter: bytes in, reply bytes out, one SCPI command per line."""

    def __init__(self, source: SimulatedSource) -> None:
        self.source = source
        self._buffer = b""

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        out = []
        while b"\n" in self._buffer:
            line, _, self._buffer = self._buffer.partition(b"\n")
            reply = self.source.handle(line.decode("ascii", errors="replace"))
            if reply is not None:
                out.append(reply.encode("ascii") + b"\n")
        if len(self._buffer) > 4096:  # a runaway line without an end: drop it
            self._buffer = b""
        return b"".join(out)
