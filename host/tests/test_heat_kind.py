"""The heat kind's pieces that need no bench: Ef at a run's flow from the plan's coefficients
agrees with the regulation module; a 901F heat reading is judged on its fields; the kind is
registered and loads its bench file with the water bench inside; the simulated meter integrates
heat from V·ρ·Δh at its inputs, with its sensor and calculator errors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from meterbench.config.bench import load_bench
from meterbench.kinds import KINDS
from meterbench.kinds.heat.communication import heat_data_problems
from meterbench.kinds.heat.config import HeatSection
from meterbench.kinds.heat.sim_devices import BathPhysics, HeatMeterErrors, HeatPhysics
from meterbench.plan.heat_model import EfFormula
from meterbench.regulations.heat import flow_sensor_mpe
from meterbench.regulations.profile import load_profile
from meterbench.regulations.water_properties import reference_heat_kj
from meterproto.cjt188.heat import HeatMeterData, encode_heat_data, parse_heat_data

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench_configs" / "sim-heat-8.toml"


@pytest.mark.parametrize("flow_l_h", ["15", "15.75", "157.5", "1425", "1500", "3000"])
def test_ef_at_a_runs_flow_is_the_regulations_ef(flow_l_h: str) -> None:
    profile = load_profile("jjg225-2024")
    formula = EfFormula(a=Decimal(2), b=Decimal("0.02"), cap=Decimal(5), qp_m3h=Decimal("1.5"))
    q = Decimal(flow_l_h)
    expected = flow_sensor_mpe(profile, "2", Decimal("1.5"), q / 1000).value  # type: ignore[arg-type]
    assert abs(formula.at(q) - Decimal(expected.numerator) / expected.denominator) < Decimal("1e-6")


def _reading(**changes: object) -> HeatMeterData:
    base = {
        "settlement_heat": Decimal(0),
        "settlement_heat_unit": 0x05,
        "heat": Decimal("12.34"),
        "heat_unit": 0x05,
        "power": Decimal(0),
        "power_unit": 0x17,
        "flow": Decimal(0),
        "flow_unit": 0x35,
        "volume": Decimal("1.5"),
        "volume_unit": 0x2C,
        "supply_c": Decimal("55.1"),
        "return_c": Decimal("40.02"),
        "working_hours": 12,
        "time": datetime(2026, 12, 2, 8, 30, 0),
        "status": bytes(2),
    }
    base.update(changes)
    return parse_heat_data(encode_heat_data(HeatMeterData(**base)))  # type: ignore[arg-type]


def test_a_sound_heat_reading_has_no_problems_and_an_unset_clock_has_one() -> None:
    assert heat_data_problems(_reading()) == []
    assert heat_data_problems(_reading(time=None)) == ["real time: all zero (clock not set)"]


def test_a_garbled_temperature_is_named() -> None:
    content = bytearray(encode_heat_data(_reading()))
    content[25:28] = b"\xaa\xaa\xaa"
    problems = heat_data_problems(parse_heat_data(bytes(content)))
    assert len(problems) == 1 and problems[0].startswith("supply temperature")


def test_the_heat_kind_is_registered_and_loads_its_bench() -> None:
    assert "heat" in KINDS
    bench = load_bench(BENCH)
    assert isinstance(bench.section, HeatSection)
    endpoints = bench.endpoints()
    assert endpoints["heat.modbus.url"] == "sim://heat-modbus"
    assert endpoints["water.modbus.url"] == "sim://modbus"
    assert KINDS["heat"].reference_text(bench.model_dump(by_alias=True)) == ("1000 imp/L", "")


class _Flow:
    """A flow sensor that has indicated ``litres`` so far."""

    def __init__(self) -> None:
        self.litres = 0.0

    def indicated_l(self, t: float) -> float:
        return self.litres


class _World:
    def flow_l_h(self, t: float) -> float:
        return 0.0


def _physics(errors: HeatMeterErrors) -> tuple[HeatPhysics, _Flow, BathPhysics]:
    flow = _Flow()
    supply, ret = BathPhysics(70.0, 1.0), BathPhysics(40.0, 1.0)
    physics = HeatPhysics(
        flow=flow,  # type: ignore[arg-type]
        world=_World(),  # type: ignore[arg-type]
        supply_bath=supply,
        return_bath=ret,
        tester=None,
        sensor="Pt1000",
        pulse_value_l=1.0,
        pressure_mpa=0.6,
        installation="return",
        heating=True,
        errors=errors,
    )
    return physics, flow, supply


def test_the_simulated_meter_integrates_heat_at_its_inputs() -> None:
    physics, flow, supply = _physics(HeatMeterErrors())
    flow.litres = 100.0
    physics.update(10.0)
    exact = reference_heat_kj(0.1, 70.0, 40.0, 0.6, "return") / 3.6
    assert physics.heat_wh == pytest.approx(exact, rel=1e-12)
    assert physics.volume_l == 100.0
    supply.set_setpoint(10.0, 40.0)  # no Δθ: volume counts, heat does not
    flow.litres = 150.0
    physics.update(1000.0)
    assert physics.volume_l == 150.0 and physics.heat_wh == pytest.approx(exact, rel=1e-12)


def test_sensor_and_calculator_errors_enter_the_heat() -> None:
    physics, flow, _ = _physics(
        HeatMeterErrors(supply_sensor_error_k=0.3, calculator_error_pct=1.0)
    )
    flow.litres = 100.0
    physics.update(10.0)
    exact = reference_heat_kj(0.1, 70.3, 40.0, 0.6, "return") / 3.6 * 1.01
    assert physics.heat_wh == pytest.approx(exact, rel=1e-12)
    assert physics.inputs_c(10.0) == pytest.approx((70.3, 40.0))


def test_a_cooling_meter_counts_when_the_return_is_warmer() -> None:
    physics, flow, supply = _physics(HeatMeterErrors())
    physics.heating = False
    flow.litres = 10.0
    physics.update(1.0)  # supply 70, return 40: no cooling energy
    assert physics.heat_wh == 0 and physics.volume_l == 10.0
    supply.set_setpoint(1.0, 10.0)
    flow.litres = 20.0
    physics.update(100.0)  # the supply bath has reached 10 °C long since
    exact = abs(reference_heat_kj(0.01, 10.0, 40.0, 0.6, "return")) / 3.6
    assert physics.heat_wh == pytest.approx(exact, rel=1e-9)
