"""Simulated benches of any size: every controller keeps its own boot state (so none of them
boots into safe mode however many there are) and a stopped bench leaves no directory behind."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from meterbench.config.bench import load_bench
from meterbench.config.errors import ConfigError
from meterbench.kinds.electricity.simulator import SimulatedBench

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench_configs" / "sim-1p-24.toml"


def _with_controllers(tmp_path: Path, count: int) -> Path:
    """The shipped 24-position bench split over ``count`` controllers."""
    text = BENCH.read_text(encoding="utf-8")
    head, _, rest = text.partition("[[controllers]]")
    _, _, tail = rest.partition("[certificates]")
    per = 24 // count
    blocks = [
        f'[[controllers]]\nid = "C{i}"\nurl = "sim://controller/C{i}"\n'
        for i in range(1, count + 1)
    ]
    blocks += [
        '[[buses]]\nid = "M1"\nurl = "sim://bus/M1"\nbaudrate = 2400\nparity = "E"\n',
    ]
    blocks += [
        f'[[position_groups]]\nnumbers = "{i * per + 1}-{(i + 1) * per}"\n'
        f'controller = "C{i + 1}"\nbus = "M1"\n'
        for i in range(count)
    ]
    path = tmp_path / "many.toml"
    body = head.replace('lab = "labs/', f'lab = "{BENCH.parent}/labs/')
    body = body.replace('type = "1p-class', 'type = "1p-class')
    path.write_text(body + "\n".join(blocks) + "\n[certificates]" + tail, encoding="utf-8")
    (tmp_path / "meter_types").symlink_to(BENCH.parent / "meter_types")
    return path


def test_every_controller_of_a_large_bench_boots_normally(tmp_path: Path) -> None:
    path = _with_controllers(tmp_path, 8)

    async def scenario() -> list[bool]:
        bench = SimulatedBench(load_bench(path), path)
        await bench.start()
        try:
            return [c.server.controller.safe for c in bench.controllers.values()]
        finally:
            await bench.stop()

    assert asyncio.run(scenario()) == [False] * 8


@pytest.fixture
def own_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder for this test alone: another test worker's benches come and go in
    the shared one."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_a_stopped_bench_leaves_no_directory_behind(own_tmp: Path) -> None:
    async def scenario() -> None:
        bench = SimulatedBench(load_bench(BENCH), BENCH)
        assert bench.workdir.parent == own_tmp  # the check below looks in the right place
        await bench.start()
        await bench.stop()

    asyncio.run(scenario())
    assert list(own_tmp.iterdir()) == []


def test_a_bench_that_cannot_be_built_leaves_no_directory_behind(own_tmp: Path) -> None:
    text = BENCH.read_text().replace('type = "1p-class1-5-60a"', 'type = "gas-g4-class1.5"')
    bad = own_tmp.parent / "bad.toml"
    bad.write_text(text)
    with pytest.raises(ConfigError, match="is not an electricity meter"):
        SimulatedBench(load_bench(bad), bad)
    assert list(own_tmp.iterdir()) == []


def test_pulses_at_the_end_of_a_service_interval_are_injected_once() -> None:
    """A controller woken exactly when a pulse falls due ends its interval on that pulse; the
    next interval must not count it again (a gate would see one pulse too many)."""
    from meterbench.electrical import Setpoint
    from meterbench.sim.physics import ErrorModel, MeterBehaviour, MeterPhysics

    behaviour = MeterBehaviour(1200.0, 5.0, error=ErrorModel(noise_pct=0.01), seed=3)
    physics = MeterPhysics(behaviour)
    physics.apply(0.0, Setpoint.balanced("1p", 220.0, 5.0, 1.0))
    t, seen = 0.0, []
    for _ in range(200):
        due = physics.next_pulse_time(t)
        seen += physics.pulse_times(t, due)
        t = due
    assert len(seen) == 200
    assert seen == physics.pulse_times(0.0, t)
