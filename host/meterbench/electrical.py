"""Electrical setpoints: what a source outputs and what follows from it (power, PF).

Shared by plans, the runner, source drivers and the simulator, so it depends on none of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Direction = Literal["P+", "P-"]
DIRECTIONS: tuple[Direction, ...] = ("P+", "P-")


def pf_to_angle(pf: str | float) -> float:
    """Power factor as plans write it (1.0, "0.5L", "0.8C") -> phase angle in degrees,
    positive when the current lags (inductive), negative when it leads (capacitive)."""
    text = str(pf).strip().upper()
    sign = 1.0
    if text.endswith("L"):
        text = text[:-1]
    elif text.endswith("C"):
        sign, text = -1.0, text[:-1]
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"power factor out of range: {pf!r}")
    return sign * math.degrees(math.acos(value))


def wrap_angle(angle_deg: float) -> float:
    """An angle folded into (-180, 180], so angles that differ by whole turns compare equal."""
    folded = math.fmod(angle_deg, 360.0)
    if folded <= -180.0:
        folded += 360.0
    elif folded > 180.0:
        folded -= 360.0
    return folded


def angle_difference(a_deg: float, b_deg: float) -> float:
    """Smallest absolute difference between two angles, in degrees (0..180)."""
    return abs(wrap_angle(a_deg - b_deg))


def split_output_angle(output_deg: float) -> tuple[Direction, float]:
    """An output angle (current behind voltage) -> (direction, PF angle): reverse energy is a
    current turned by half a turn, so an angle beyond +-90 degrees is P- at angle - 180."""
    angle = wrap_angle(output_deg)
    if abs(angle) > 90.0 + 1e-9:
        return "P-", wrap_angle(angle - 180.0)
    return "P+", angle


@dataclass(frozen=True)
class PhaseSetpoint:
    """One measuring element: voltage (phase voltage, or line voltage for 3P3W), current and
    the angle by which the current lags the voltage."""

    voltage_v: float
    current_a: float
    angle_deg: float = 0.0


@dataclass(frozen=True)
class Setpoint:
    """What the source outputs. ``phases`` has 1 element (1P), 3 (3P4W) or 3 with B unused (3P3W,
    element voltages are line voltages Uab and Ucb)."""

    phases: tuple[PhaseSetpoint, ...]
    frequency_hz: float = 50.0
    wiring: str = "1p"
    output_on: bool = True
    direction: Direction = "P+"

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"energy direction must be P+ or P-, not {self.direction!r}")

    @classmethod
    def balanced(
        cls,
        wiring: str,
        voltage_v: float,
        current_a: float,
        pf: str | float = 1.0,
        frequency_hz: float = 50.0,
        element: str = "all",
        direction: Direction = "P+",
    ) -> Setpoint:
        """Equal voltages on every element; current on every element or on one (A, B, C).
        ``angle_deg`` stays the PF angle; ``direction`` says which way the energy flows."""
        angle = pf_to_angle(pf)
        count = 1 if wiring == "1p" else 3
        phases = []
        for name in "ABC"[:count]:
            loaded = element in ("all", name) and not (wiring == "3p3w" and name == "B")
            phases.append(PhaseSetpoint(voltage_v, current_a if loaded else 0.0, angle))
        return cls(tuple(phases), frequency_hz, wiring, direction=direction)

    @classmethod
    def from_output(
        cls,
        phases: tuple[PhaseSetpoint, ...],
        frequency_hz: float = 50.0,
        wiring: str = "1p",
        output_on: bool = True,
    ) -> Setpoint:
        """The setpoint behind angles as a source outputs them (reverse energy as the PF angle
        plus 180 degrees), judged by the loaded elements."""
        loaded = [p for p in phases if p.current_a > 0] or list(phases)
        direction, _ = split_output_angle(loaded[0].angle_deg)
        pf_phases = tuple(
            PhaseSetpoint(p.voltage_v, p.current_a, split_output_angle(p.angle_deg)[1])
            for p in phases
        )
        return cls(pf_phases, frequency_hz, wiring, output_on, direction)

    @property
    def reverse(self) -> bool:
        return self.direction == "P-"

    def output_angle(self, phase: PhaseSetpoint) -> float:
        """The angle the source really outputs for an element: the PF angle, turned by 180
        degrees for reverse energy."""
        return wrap_angle(phase.angle_deg + (180.0 if self.reverse else 0.0))

    @classmethod
    def off(cls) -> Setpoint:
        return cls((PhaseSetpoint(0.0, 0.0),), output_on=False)

    def _element_angles(self) -> list[tuple[PhaseSetpoint, float]]:
        if self.wiring == "3p3w":
            # Two-wattmeter connection: Uab leads Ua by 30 deg, Ucb lags Uc by 30 deg.
            a, _, c = self.phases
            return [(a, self.output_angle(a) + 30.0), (c, self.output_angle(c) - 30.0)]
        return [(p, self.output_angle(p)) for p in self.phases]

    @property
    def active_power_w(self) -> float:
        if not self.output_on:
            return 0.0
        return sum(
            p.voltage_v * p.current_a * math.cos(math.radians(angle))
            for p, angle in self._element_angles()
        )

    @property
    def reactive_power_var(self) -> float:
        if not self.output_on:
            return 0.0
        return sum(
            p.voltage_v * p.current_a * math.sin(math.radians(angle))
            for p, angle in self._element_angles()
        )

    @property
    def max_current_a(self) -> float:
        return max((p.current_a for p in self.phases), default=0.0) if self.output_on else 0.0

    @property
    def voltage_present(self) -> bool:
        return self.output_on and any(p.voltage_v > 0 for p in self.phases)

    @property
    def power_factor(self) -> float:
        """|P| / S: the power factor of the load, whichever way the energy flows."""
        s = math.hypot(self.active_power_w, self.reactive_power_var)
        return abs(self.active_power_w) / s if s else 1.0
