"""The gas kind's pieces on their own: the bench section's rules (one clear line, exit 2), the
CJ/T 188 client talking to a 30H meter, the simulated world's physics against the
regulation's formulas, and the commissioning checks of the simulated gas bench."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from meter_harness import bus_on, run, served, within  # noqa: E402

from meterbench.cli import app  # noqa: E402
from meterbench.config.bench import load_bench  # noqa: E402
from meterbench.config.errors import ConfigError  # noqa: E402
from meterbench.devices.cjt188_client import Cjt188Client  # noqa: E402
from meterbench.devices.errors import MeterTimeout  # noqa: E402
from meterbench.kinds.gas import registers as r  # noqa: E402
from meterbench.kinds.gas.world import Air, GasMeterBehaviour, GasWorld  # noqa: E402
from meterbench.regulations.gas import bell_volume_at_meter  # noqa: E402
from meterbench.sim.faults import Fault, FaultPlan  # noqa: E402
from meterbench.sim.meter_cjt188 import Cjt188WaterMeter  # noqa: E402
from meterproto.cjt188 import messages as cm  # noqa: E402
from meterproto.cjt188.frame import TYPE_GAS  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench_configs" / "sim-gas-6.toml"
GAS = "20263000000001"


# -- the bench file ----------------------------------------------------------------------------


def _bench_with(tmp_path: Path, old: str, new: str) -> Path:
    text = BENCH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bench.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    (tmp_path / "labs").mkdir(exist_ok=True)
    return path


def test_the_shipped_gas_bench_loads_as_a_gas_bench() -> None:
    bench = load_bench(BENCH)
    assert bench.kind.name == "gas"
    assert bench.section.gas.reference.capacity_l == 200
    assert "gas.modbus.url" in bench.endpoints()


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("capacity_l = 200", "", "gas.reference.capacity_l"),
        ("min_flow_l_h = 16", "min_flow_l_h = 7000", "gas.max_flow_l_h"),
        ("[gas.sensors]               # meter-line temperature/pressure, per-position pressures\n"
         "unit = 2", "[gas.sensors]\nunit = 1", "gas.sensors.unit"),
        ('bus = "G1"', "", "no bus"),
    ],
)  # fmt: skip
def test_a_bad_gas_section_names_its_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    path = _bench_with(tmp_path, old, new)
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_bench(path)


def test_a_bad_gas_bench_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    path = _bench_with(tmp_path, "capacity_l = 200", "capacity_l = -1")
    plan = REPO / "bench_configs" / "plans" / "jjg577-gas.toml"
    meters = REPO / "bench_configs" / "meters" / "sim-gas-6.csv"
    db = tmp_path / "results.db"
    args = ["run", "--bench", str(path), "--plan", str(plan), "--meters", str(meters)]
    result = CliRunner().invoke(app, [*args, "--db", str(db), "--plain"])
    assert result.exit_code == 2, result.output
    assert "gas.reference.capacity_l" in result.output
    assert len(result.output.strip().splitlines()) == 1


# -- the CJ/T 188 client and a 30H meter ----------------------------------------------------------


def test_the_client_reads_a_gas_meter_and_names_it_when_it_fails() -> None:
    meter = Cjt188WaterMeter(address=GAS, meter_type=TYPE_GAS, unit=cm.UNIT_LITRE)
    meter.set_volume("30.20")

    async def scenario() -> None:
        async with served([meter], "pty") as (_, url), bus_on(url) as bus:
            client = Cjt188Client(bus, GAS, meter_type=TYPE_GAS, retries=0)
            reading = await within(client.read_volume(), 3)
            assert (reading.volume, reading.unit) == (Decimal("30.20"), "L")
            meter.faults = FaultPlan(Fault.SILENT)
            with pytest.raises(MeterTimeout, match=f"^gas meter {GAS}"):
                await within(client.read_volume(), 3)

    run(scenario())


# -- the simulated world --------------------------------------------------------------------------


def _world(method: str = "bell") -> GasWorld:
    world = GasWorld(
        method=method,
        litres_per_count=0.01,
        capacity_l=200,
        reference_air=Air(20.4, 101325 + 1600),
        line_air=Air(19.8, 101325 + 1250),
    )
    curve = ((20.0, -3.0), (4000.0, 1.0))
    world.add_meter(1, GasMeterBehaviour(error_curve=curve, leak_pa_per_min=30), 10.0)
    world.add_meter(2, GasMeterBehaviour(error_pct=0.5, dp_at_qmax_pa=150, qmax_l_h=4000), 0.0)
    return world


@pytest.mark.parametrize("method", ["bell", "master_meter"])
def test_the_meters_see_the_reference_volume_at_their_own_conditions(method: str) -> None:
    world = _world(method)
    world.set_flow(0, 4000)
    world.command(0, r.CMD_DELIVER)
    world.command(90, r.CMD_STOP)  # 100 L delivered
    assert world.count(100) == 10000
    humid = 1 if method == "bell" else 0
    at_meter = bell_volume_at_meter(100, 101325 + 1600, "20.4", 101325 + 1250, "19.8", humid, humid)
    indicated = Fraction(world.meters[2].indicated_l)
    assert abs(indicated / at_meter - Fraction("1.005")) < Fraction(1, 10**9)
    # the register shows whole 0.2 L steps of the indication
    assert world.register_l(1, 100) == pytest.approx(10 + 0.2 * int(float(at_meter) * 1.01 / 0.2))


def test_the_bell_runs_empty_and_refills() -> None:
    world = _world()
    world.set_flow(0, 3600)
    world.command(0, r.CMD_DELIVER)
    assert not world.status(199) & r.ST_EMPTY  # 200 L at 3600 L/h: 200 s
    assert world.status(250) & r.ST_EMPTY and world.count(300) == 20000
    world.command(300, r.CMD_REFILL)
    assert world.status(301) & r.ST_MOVING
    assert world.status(400) == 0 and world.left_l == 200


def test_tightness_leaks_only_at_the_leaking_position() -> None:
    world = _world()
    world.set_pressure(0, 15000)
    world.command(0, r.CMD_PRESSURISE)
    assert not world.status(10) & r.ST_PRESSURISED  # 500 Pa/s: 30 s to 15 kPa
    assert world.status(30) & r.ST_PRESSURISED
    assert world.gauge_pa(2, 210) == 15000
    assert world.gauge_pa(1, 210) == pytest.approx(15000 - 90)  # 30 Pa/min for 180 s
    world.command(220, r.CMD_VENT)
    assert world.gauge_pa(1, 221) == 0


def test_the_differential_pressure_grows_with_the_square_of_the_flow() -> None:
    world = _world()
    world.set_flow(0, 2000)
    world.command(0, r.CMD_DELIVER)
    density = world.line_density()
    assert world.differential_pa(2, 1) == pytest.approx(150 / 4 * density / 1.2)


# -- commissioning --------------------------------------------------------------------------------


def test_selftest_of_the_simulated_gas_bench(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["selftest", "--bench", str(BENCH), "--json", "--time-scale", "200"]
    )
    assert result.exit_code == 0, result.output
    assert "bell prover stopped" in result.output
    assert result.output.count('"meter_port"') == 6


# -- plan show ----------------------------------------------------------------------------------


def test_plan_show_gives_class_1_its_zones_and_the_same_sign_limit() -> None:
    benches = Path(__file__).resolve().parent / "gas_benches"
    result = CliRunner().invoke(
        app,
        [
            "plan", "show", str(REPO / "bench_configs" / "plans" / "jjg577-gas.toml"),
            "--meter-type", str(benches / "meter_types" / "gas-g4-class1-cjt188.toml"),
            "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (step,) = [s for s in json.loads(result.output)["steps"] if s["type"] == "gas_error"]
    points = {p["key"]: p for p in step["points"]}
    assert {k: (p["zone"], p["limits"]["mpe"]) for k, p in points.items()} == {
        "qmax": ("upper", "1"),
        "0.2qmax": ("upper", "1"),
        "qmin": ("lower", "2"),
    }
    assert points["qmax"]["same_sign_limit"] == "0.5"
    assert points["qmin"]["upper_points"] == ["qmax", "0.2qmax"]
    assert points["qmax"]["volume_l"] == "200.4"  # 0.2 L / (0.1 x 1 %), whole 1.2 L cycles
