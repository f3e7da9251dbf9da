"""Specific enthalpy and density of liquid water from IAPWS-IF97 region 1.

Why: the reference heat of a heat-meter test is Q = V·ρ·(h_supply − h_return), with ρ taken
where the volume is measured; EN 1434 and JJG 225 take h and ρ from the IAPWS-IF97 industrial
formulation (their tables are printed from it). Region 1 covers liquid water from 273.15 K to
623.15 K, from saturation pressure to 100 MPa, which spans every heat or cooling meter.

The dimensionless Gibbs free energy is γ(π, τ) = Σ nᵢ (7.1 − π)^Iᵢ (τ − 1.222)^Jᵢ with
π = p/16.53 MPa and τ = 1386 K/T; h = R·T·τ·γ_τ and v = R·T·π·γ_π/p. Floats are fine here:
the formulation itself is a fit good to about 1e-6 relative, far below any meter's MPE.
"""

from __future__ import annotations

R_KJ_PER_KG_K = 0.461526
P_STAR_MPA = 16.53
T_STAR_K = 1386.0
KELVIN = 273.15

# (I, J, n) of IAPWS-IF97 Table 2 (region 1).
_COEFFICIENTS: tuple[tuple[int, int, float], ...] = (
    (0, -2, 0.14632971213167),
    (0, -1, -0.84548187169114),
    (0, 0, -0.37563603672040e1),
    (0, 1, 0.33855169168385e1),
    (0, 2, -0.95791963387872),
    (0, 3, 0.15772038513228),
    (0, 4, -0.16616417199501e-1),
    (0, 5, 0.81214629983568e-3),
    (1, -9, 0.28319080123804e-3),
    (1, -7, -0.60706301565874e-3),
    (1, -1, -0.18990068218419e-1),
    (1, 0, -0.32529748770505e-1),
    (1, 1, -0.21841717175414e-1),
    (1, 3, -0.52838357969930e-4),
    (2, -3, -0.47184321073267e-3),
    (2, 0, -0.30001780793026e-3),
    (2, 1, 0.47661393906987e-4),
    (2, 3, -0.44141845330846e-5),
    (2, 17, -0.72694996297594e-15),
    (3, -4, -0.31679644845054e-4),
    (3, 0, -0.28270797985312e-5),
    (3, 6, -0.85205128120103e-9),
    (4, -5, -0.22425281908000e-5),
    (4, -2, -0.65171222895601e-6),
    (4, 10, -0.14341729937924e-12),
    (5, -8, -0.40516996860117e-6),
    (8, -11, -0.12734301741641e-8),
    (8, -6, -0.17424871230634e-9),
    (21, -29, -0.68762131295531e-18),
    (23, -31, 0.14478307828521e-19),
    (29, -38, 0.26335781662795e-22),
    (30, -39, -0.11947622640071e-22),
    (31, -40, 0.18228094581404e-23),
    (32, -41, -0.93537087292458e-25),
)

T_MIN_K = 273.15
T_MAX_K = 623.15
P_MAX_MPA = 100.0


def _check(pressure_mpa: float, temperature_k: float) -> tuple[float, float]:
    p, t = float(pressure_mpa), float(temperature_k)
    if not T_MIN_K <= t <= T_MAX_K:
        raise ValueError(f"IAPWS-IF97 region 1 needs 273.15..623.15 K, got {t:g} K")
    if not 0 < p <= P_MAX_MPA:
        raise ValueError(f"IAPWS-IF97 region 1 needs 0 < p <= 100 MPa, got {p:g} MPa")
    if t >= 273.16 and p < saturation_pressure_mpa(t):
        raise ValueError(f"water boils at {t - KELVIN:g} °C under {p:g} MPa: raise the pressure")
    return p, t


def _gamma_tau(pi: float, tau: float) -> float:
    return sum(n * (7.1 - pi) ** i * j * (tau - 1.222) ** (j - 1) for i, j, n in _COEFFICIENTS)


def _gamma_pi(pi: float, tau: float) -> float:
    return sum(-n * i * (7.1 - pi) ** (i - 1) * (tau - 1.222) ** j for i, j, n in _COEFFICIENTS)


def specific_enthalpy_kj_kg(pressure_mpa: float, temperature_k: float) -> float:
    """h in kJ/kg of liquid water at p (MPa) and T (K)."""
    p, t = _check(pressure_mpa, temperature_k)
    tau = T_STAR_K / t
    return R_KJ_PER_KG_K * t * tau * _gamma_tau(p / P_STAR_MPA, tau)


def specific_volume_m3_kg(pressure_mpa: float, temperature_k: float) -> float:
    """v in m³/kg of liquid water at p (MPa) and T (K)."""
    p, t = _check(pressure_mpa, temperature_k)
    pi = p / P_STAR_MPA
    # R in kJ/(kg·K) with p in MPa: R·T/p is in 1e-3 m³/kg.
    return R_KJ_PER_KG_K * t * pi * _gamma_pi(pi, T_STAR_K / t) / p / 1000


def density_kg_m3(pressure_mpa: float, temperature_c: float) -> float:
    """ρ in kg/m³ at p (MPa) and θ (°C)."""
    return 1 / specific_volume_m3_kg(pressure_mpa, temperature_c + KELVIN)


def enthalpy_kj_kg(pressure_mpa: float, temperature_c: float) -> float:
    """h in kJ/kg at p (MPa) and θ (°C)."""
    return specific_enthalpy_kj_kg(pressure_mpa, temperature_c + KELVIN)


def reference_heat_kj(
    volume_m3: float,
    supply_c: float,
    return_c: float,
    pressure_mpa: float,
    measured_at: str = "return",
) -> float:
    """Heat carried by ``volume_m3`` of water: Q = V·ρ(θ at the volume measurement)·(h_supply −
    h_return), in kJ (positive for heating, negative for cooling). ``measured_at`` is the
    installation side of the flow sensor ("supply" or "return")."""
    if measured_at not in ("supply", "return"):
        raise ValueError("measured_at must be 'supply' or 'return'")
    theta = supply_c if measured_at == "supply" else return_c
    mass = volume_m3 * density_kg_m3(pressure_mpa, theta)
    return mass * (enthalpy_kj_kg(pressure_mpa, supply_c) - enthalpy_kj_kg(pressure_mpa, return_c))


def heat_coefficient_kj_m3_k(
    supply_c: float, return_c: float, pressure_mpa: float, measured_at: str = "return"
) -> float:
    """k = ρ·(h_s − h_r)/(θ_s − θ_r), in kJ/(m³·K): the factor a calculator applies to V·Δθ."""
    if supply_c == return_c:
        raise ValueError("supply and return temperatures must differ")
    heat = reference_heat_kj(1.0, supply_c, return_c, pressure_mpa, measured_at)
    return heat / (supply_c - return_c)


# IAPWS-IF97 region 4 (saturation line), n1..n10 of Table 34.
_SAT = (
    0.11670521452767e4,
    -0.72421316703206e6,
    -0.17073846940092e2,
    0.12020824702470e5,
    -0.32325550322333e7,
    0.14915108613530e2,
    -0.48232657361591e4,
    0.40511340542057e6,
    -0.23855557567849,
    0.65017534844798e3,
)


def saturation_pressure_mpa(temperature_k: float) -> float:
    """Saturation pressure of water (MPa) at T from 273.15 K to the critical 647.096 K."""
    t = float(temperature_k)
    if not 273.15 <= t <= 647.096:
        raise ValueError(f"the IF97 saturation line covers 273.15..647.096 K, got {t:g} K")
    n = _SAT
    theta = t + n[8] / (t - n[9])
    a = theta * theta + n[0] * theta + n[1]
    b = n[2] * theta * theta + n[3] * theta + n[4]
    c = n[5] * theta * theta + n[6] * theta + n[7]
    return (2 * c / (-b + (b * b - 4 * a * c) ** 0.5)) ** 4


__all__ = [
    "density_kg_m3",
    "enthalpy_kj_kg",
    "heat_coefficient_kj_m3_k",
    "reference_heat_kj",
    "saturation_pressure_mpa",
    "specific_enthalpy_kj_kg",
    "specific_volume_m3_kg",
]
