"""Physical sanity of numbers typed on the command line, checked before anything starts.

Each check returns None for a usable value or one line saying what is wrong, so every command
reports it its own way (one line, exit 2) before it opens a database, a port or a bench.
"""

from __future__ import annotations

import math
from decimal import Decimal

# Ambient conditions a verification laboratory (or an instrument rated for the field) can
# report: outside them the number is a typo or a unit mix-up (°F, ‰), not a room.
TEMPERATURE_C = (Decimal(-40), Decimal(85))
HUMIDITY_PCT = (Decimal(0), Decimal(100))


def time_scale_problem(value: float | None, option: str = "--time-scale") -> str | None:
    """Simulated seconds per wall second: a positive, finite number."""
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        return f"{option} must be simulated seconds per wall second, more than 0, got {value}"
    return None


def _in_range(
    value: Decimal | None, bounds: tuple[Decimal, Decimal], option: str, unit: str
) -> str | None:
    if value is None:
        return None
    low, high = bounds
    if not value.is_finite() or not low <= value <= high:
        return f"{option} must be between {low} and {high} {unit}, got {value}"
    return None


def temperature_problem(value: Decimal | None, option: str = "--temperature") -> str | None:
    return _in_range(value, TEMPERATURE_C, option, "°C")


def humidity_problem(value: Decimal | None, option: str = "--humidity") -> str | None:
    return _in_range(value, HUMIDITY_PCT, option, "%RH")


def positive_problem(value: float | Decimal | None, option: str, unit: str) -> str | None:
    """A test current or voltage: more than zero (a source cannot give a negative amplitude;
    the direction of energy is the power factor's sign)."""
    if value is None:
        return None
    number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if not number.is_finite() or number <= 0:
        return f"{option} must be more than 0 {unit}, got {value}"
    return None


def not_negative_problem(value: Decimal | None, option: str, unit: str) -> str | None:
    """An amplitude a simulated meter displays: zero or more."""
    if value is None:
        return None
    if not value.is_finite() or value < 0:
        return f"{option} must be 0 {unit} or more, got {value}"
    return None
