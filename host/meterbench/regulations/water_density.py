"""Water density from temperature, and the volume a weighing stands for (gravimetric method).

Why here: the gravimetric reference volume V = m/ρ(T) is as much part of the verification
arithmetic as the error formula, and is recomputed from the record's raw scale readings and
temperature. Density follows the Tanaka et al. (2001) formula for air-free pure water
(0-40 °C); a balance reading is a conventional mass against steel weights, so the mass of the
water is recovered with the air-buoyancy correction.
"""

from __future__ import annotations

from fractions import Fraction

from meterbench.regulations.numbers import Number, to_fraction

# Tanaka et al. 2001, air-free water at 101.325 kPa: ρ = a5·[1 − (t + a1)²(t + a2)/(a3(t + a4))]
_A1 = Fraction("-3.983035")  # °C
_A2 = Fraction("301.797")  # °C
_A3 = Fraction("522528.9")  # °C²
_A4 = Fraction("69.34881")  # °C
_A5 = Fraction("999.974950")  # kg/m³

AIR_DENSITY = Fraction("1.2")  # kg/m³, conventional
WEIGHTS_DENSITY = Fraction(8000)  # kg/m³, conventional density of balance weights
LITRES_PER_M3 = 1000


def water_density(temperature_c: Number) -> Fraction:
    """Density of pure water in kg/m³; 0 to 40 °C (ValueError outside)."""
    t = to_fraction(temperature_c)
    if not 0 <= t <= 40:
        raise ValueError(f"water density is defined here for 0..40 °C, got {float(t):g} °C")
    return _A5 * (1 - (t + _A1) ** 2 * (t + _A2) / (_A3 * (t + _A4)))


def buoyancy_factor(
    water_density_kg_m3: Number,
    air_density_kg_m3: Number = AIR_DENSITY,
    weights_density_kg_m3: Number = WEIGHTS_DENSITY,
) -> Fraction:
    """True mass / balance reading: m = W·(1 − ρa/ρs)/(1 − ρa/ρw)."""
    rho_w = to_fraction(water_density_kg_m3)
    rho_a = to_fraction(air_density_kg_m3)
    rho_s = to_fraction(weights_density_kg_m3)
    return (1 - rho_a / rho_s) / (1 - rho_a / rho_w)


def weighed_volume_l(
    before_kg: Number,
    after_kg: Number,
    temperature_c: Number,
    air_density_kg_m3: Number = AIR_DENSITY,
    weights_density_kg_m3: Number = WEIGHTS_DENSITY,
) -> Fraction:
    """Litres of water collected between two balance readings at a water temperature."""
    rho = water_density(temperature_c)
    reading = to_fraction(after_kg) - to_fraction(before_kg)
    mass = reading * buoyancy_factor(rho, air_density_kg_m3, weights_density_kg_m3)
    return mass / rho * LITRES_PER_M3


__all__ = ["buoyancy_factor", "water_density", "weighed_volume_l"]
