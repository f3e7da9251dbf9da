"""The wiring constant m and the nominal power of a load point.

m is not a rule-set number but a property of the wiring: the number of measuring elements
(1 single-phase, 3 three-phase four-wire) or sqrt(3) for three-phase three-wire, whose nameplate
Un is the line voltage. Every timing formula (starting, creep) divides by C·m·Un·I.
"""

from __future__ import annotations

from decimal import Decimal

from meterbench.regulations.numbers import CONTEXT, Number, sqrt, to_decimal
from meterbench.regulations.power_factor import PowerFactor

WIRINGS = ("1p", "3p4w", "3p3w")

ELEMENTS: dict[str, tuple[str, ...]] = {"1p": ("A",), "3p4w": ("A", "B", "C"), "3p3w": ("A", "C")}
"""Measuring elements a single-element load point can address (3P3W has no B element)."""


def wiring_constant(wiring: str) -> Decimal:
    """m for the timing formulas: 1 (1p), 3 (3p4w), sqrt(3) (3p3w)."""
    if wiring == "1p":
        return Decimal(1)
    if wiring == "3p4w":
        return Decimal(3)
    if wiring == "3p3w":
        return sqrt(3)
    raise ValueError(f"unknown wiring {wiring!r} (expected one of {', '.join(WIRINGS)})")


def point_power_w(
    wiring: str, voltage_v: Number, current_a: Number, pf: PowerFactor, element: str = "all"
) -> Decimal:
    """Nominal active power of a load point: m·U·I·PF for a balanced load, and that divided by
    the number of elements for one loaded element. It sizes pulses per reading and estimates
    times; the reference standard measures the real energy, so the approximation for a single
    3P3W element (whose share depends on the angle) only changes how long a reading lasts."""
    m = wiring_constant(wiring)
    if element != "all":
        m = CONTEXT.divide(m, Decimal(len(ELEMENTS[wiring])))
    return CONTEXT.multiply(
        CONTEXT.multiply(CONTEXT.multiply(m, to_decimal(voltage_v)), to_decimal(current_a)),
        pf.value,
    )
