"""Platinum resistance thermometers (IEC 60751): resistance from temperature and back.

Why: in the sub-assembly method the calculator is fed simulated Pt100/Pt500/Pt1000 sensors, so
the bench must turn a chosen supply and return temperature into two resistances, and a
simulated sensor must answer with the resistance a real one would have. The Callendar-Van Dusen
equation with the IEC 60751 coefficients is the definition of the industrial scale:
R(t) = R0·(1 + A·t + B·t²) for 0..850 °C, plus C·(t − 100)·t³ inside the bracket below 0 °C.
"""

from __future__ import annotations

import math

A = 3.9083e-3  # 1/°C
B = -5.775e-7  # 1/°C²
C = -4.183e-12  # 1/°C⁴, below 0 °C only

NOMINAL_OHM = {"Pt100": 100.0, "Pt500": 500.0, "Pt1000": 1000.0}
T_LOW_C = -200.0
T_HIGH_C = 850.0


def r0_ohm(sensor: str) -> float:
    """R0 of a sensor type; ValueError names the known ones."""
    try:
        return NOMINAL_OHM[sensor]
    except KeyError:
        known = ", ".join(NOMINAL_OHM)
        raise ValueError(f"unknown platinum sensor {sensor!r} (known: {known})") from None


def resistance_ohm(temperature_c: float, r0: float = 100.0) -> float:
    """R(t) in Ω for a platinum sensor with R(0 °C) = r0."""
    t = float(temperature_c)
    if not T_LOW_C <= t <= T_HIGH_C:
        raise ValueError(f"IEC 60751 covers -200..850 °C, got {t:g} °C")
    bracket = 1 + A * t + B * t * t
    if t < 0:
        bracket += C * (t - 100) * t**3
    return r0 * bracket


def temperature_c(resistance: float, r0: float = 100.0) -> float:
    """t in °C for a resistance: the quadratic's root at or above 0 °C, Newton's method below
    (the C term makes that branch a quartic)."""
    ratio = float(resistance) / r0
    if ratio >= 1:
        t = (-A + math.sqrt(A * A - 4 * B * (1 - ratio))) / (2 * B)
        if t > T_HIGH_C:
            raise ValueError(f"{resistance:g} Ω is above the 850 °C end of IEC 60751")
        return t
    t = (ratio - 1) / A
    for _ in range(50):
        f = 1 + A * t + B * t * t + C * (t - 100) * t**3 - ratio
        df = A + 2 * B * t + C * (4 * t**3 - 300 * t * t)
        step = f / df
        t -= step
        if abs(step) < 1e-12:
            break
    if t < T_LOW_C:
        raise ValueError(f"{resistance:g} Ω is below the -200 °C end of IEC 60751")
    return t


__all__ = ["A", "B", "C", "NOMINAL_OHM", "r0_ohm", "resistance_ohm", "temperature_c"]
