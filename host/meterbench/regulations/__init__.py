"""Regulations as data plus pure functions.

Every regulatory number lives in a profile file (``profiles/<id>.toml``) with its confidence tag;
the functions here take the profile (or plain numbers) as parameters and do no I/O beyond loading
profiles. Exact arithmetic throughout: Fraction for counts and verdicts, Decimal where a value
is irrational or rounded for display.
"""

from meterbench.regulations.batch import BatchPointStatistics, MeterPointValue, batch_statistics
from meterbench.regulations.classes import normalise_class
from meterbench.regulations.clock import (
    ClockJudgement,
    daily_error,
    daily_error_from_frequency,
    judge_clock,
    judge_clock_profile,
    period_from_counts,
    timebase_max_ppm,
)
from meterbench.regulations.creep import (
    creep_coefficient,
    creep_duration,
    creep_duration_min,
    creep_voltage,
    judge_creep,
)
from meterbench.regulations.expressions import (
    CurrentExpression,
    ExpressionError,
    Rating,
    parse_current,
    resolve_current,
)
from meterbench.regulations.limits import (
    Limits,
    acceptance_limit,
    check_class,
    mpe_lookup,
    rounding_interval,
    single_element_difference_limit,
)
from meterbench.regulations.lookup import NotInProfile
from meterbench.regulations.power_factor import PowerFactor, canonical_pf, parse_pf
from meterbench.regulations.profile import (
    ElectricityProfile,
    Provenance,
    RegulationProfile,
    Sourced,
    Tagged,
    WaterProfile,
    available_profiles,
    load_profile,
    unconfirmed_entries,
)
from meterbench.regulations.pulses import (
    PulseChoice,
    choose_pulses,
    error_from_counts,
    expected_reference_pulses,
    min_reference_pulses,
    pulse_frequency_hz,
)
from meterbench.regulations.readings import (
    BorderlineRule,
    PointJudgement,
    is_borderline,
    judge_point,
    max_readings,
    mean,
    readings_still_needed,
)
from meterbench.regulations.register import (
    pulse_energy_kwh,
    register_ahead_of_pulses,
    register_error,
    register_test_energy_kwh,
    register_vs_pulses_error,
    tariff_combination_ok,
)
from meterbench.regulations.rounding import format_rounded, interval_decimals, round_to_interval
from meterbench.regulations.starting import (
    judge_starting,
    one_pulse_time_min,
    starting_current,
    starting_current_factor,
    starting_time,
    starting_time_min,
)
from meterbench.regulations.std_dev import (
    StdDevJudgement,
    judge_std_dev,
    sample_variance,
    std_dev,
    std_dev_limit,
)
from meterbench.regulations.water import (
    FlowRates,
    flow_band,
    flow_in_band,
    flow_rates,
    min_test_volume,
    profile_flow_rates,
    run_volume_l,
    water_error,
    water_mpe,
    water_rounding_interval,
    zone_for_flow,
)
from meterbench.regulations.wiring import ELEMENTS, point_power_w, wiring_constant

__all__ = [
    "ELEMENTS",
    "BatchPointStatistics",
    "BorderlineRule",
    "ClockJudgement",
    "CurrentExpression",
    "ElectricityProfile",
    "ExpressionError",
    "FlowRates",
    "Limits",
    "MeterPointValue",
    "NotInProfile",
    "PointJudgement",
    "PowerFactor",
    "Provenance",
    "PulseChoice",
    "Rating",
    "RegulationProfile",
    "Sourced",
    "StdDevJudgement",
    "Tagged",
    "WaterProfile",
    "acceptance_limit",
    "available_profiles",
    "batch_statistics",
    "canonical_pf",
    "check_class",
    "choose_pulses",
    "creep_coefficient",
    "creep_duration",
    "creep_duration_min",
    "creep_voltage",
    "daily_error",
    "daily_error_from_frequency",
    "error_from_counts",
    "expected_reference_pulses",
    "flow_band",
    "flow_in_band",
    "flow_rates",
    "format_rounded",
    "interval_decimals",
    "is_borderline",
    "judge_clock",
    "judge_clock_profile",
    "judge_creep",
    "judge_point",
    "judge_starting",
    "judge_std_dev",
    "load_profile",
    "max_readings",
    "mean",
    "min_reference_pulses",
    "min_test_volume",
    "mpe_lookup",
    "normalise_class",
    "one_pulse_time_min",
    "parse_current",
    "parse_pf",
    "period_from_counts",
    "point_power_w",
    "profile_flow_rates",
    "pulse_energy_kwh",
    "pulse_frequency_hz",
    "readings_still_needed",
    "register_ahead_of_pulses",
    "register_error",
    "register_test_energy_kwh",
    "register_vs_pulses_error",
    "resolve_current",
    "round_to_interval",
    "rounding_interval",
    "run_volume_l",
    "sample_variance",
    "single_element_difference_limit",
    "starting_current",
    "starting_current_factor",
    "starting_time",
    "starting_time_min",
    "std_dev",
    "std_dev_limit",
    "tariff_combination_ok",
    "timebase_max_ppm",
    "unconfirmed_entries",
    "water_error",
    "water_mpe",
    "water_rounding_interval",
    "wiring_constant",
    "zone_for_flow",
]
