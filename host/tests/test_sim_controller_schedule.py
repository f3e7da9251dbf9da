"""The simulated controller's pulse schedule: it remembers every channel's next meter pulse and
next second pulse (heaps, not a walk over all channels per service) and must still inject
every pulse once, at its time, and honour a meter's output mode from the service after it
changes. The integrator's pulse search, begun at the previous pulse, finds what a search
from the segment's start finds."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from meterbench.clock import ManualClock
from meterbench.electrical import Setpoint
from meterbench.sim.controller import MIN_GAP_S, SimulatedController
from meterbench.sim.physics import (
    ElectricityWorld,
    ErrorModel,
    MeterBehaviour,
    MeterPhysics,
    ReferenceStandard,
    _Integrator,
)


class _Quiet:
    """A controller line nobody writes to."""

    def open(self) -> str:
        return "quiet"

    def read(self) -> bytes:
        return b""

    def send(self, data: bytes) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def _meter(seed: int, error: float, noise: float) -> MeterPhysics:
    model = ErrorModel(constant_pct=error, noise_pct=noise, noise_interval_s=2.0)
    return MeterPhysics(
        MeterBehaviour(1200.0, 5.0, error=model, clock_error_s_per_day=seed * 0.3, seed=seed)
    )


def test_every_pulse_is_injected_once_and_output_modes_are_honoured(tmp_path: Path) -> None:
    meters = {n: _meter(n, 0.1 * n, 0.05 * (n % 3)) for n in range(1, 7)}
    world = ElectricityWorld(ReferenceStandard(2e6), meters)
    clock = ManualClock()
    enabled = {n: True for n in meters}
    changes = [0]
    controller = SimulatedController(
        "C1",
        {channel: channel + 1 for channel in range(6)},
        world,
        clock,
        second_pulse_enabled=lambda position: enabled[position],
        second_pulse_changes=lambda: changes[0],
        device=_Quiet(),
        state_dir=tmp_path,
    )
    injected: list[tuple[str, int, int]] = []
    edge = controller.hal.edge

    def record(name: str, position: int, t_us: int | None = None) -> None:
        assert t_us is not None
        injected.append((name, position, t_us))
        edge(name, position, t_us)

    hal: Any = controller.hal
    hal.edge = record
    world.apply(0.0, Setpoint.balanced("1p", 220.0, 5.0, 1.0))

    def run_until(end: float) -> float:
        while True:
            now = clock.now()
            wake = max(controller.next_edge(), now + MIN_GAP_S)
            if wake > end:
                return now
            clock.advance(wake - now)
            controller.step()

    t1 = run_until(40.0)
    world.apply(t1, Setpoint.balanced("1p", 220.0, 20.0, 0.5))  # the source changes
    t2 = run_until(80.0)
    enabled[2] = enabled[5] = False  # their meters' outputs leave the clock second pulse
    changes[0] += 1
    t3 = run_until(120.0)

    def us(times: list[float]) -> list[int]:
        return [max(0, int(t * 1_000_000)) for t in times]

    for channel, position in enumerate(meters, 0):
        meter = meters[position]
        got_meter = [t for name, c, t in injected if c == channel and name == "meter"]
        assert got_meter == us(meter.pulse_times(0.0, t3)), channel
        got_second = [t for name, c, t in injected if c == channel and name == "second"]
        until = t2 if position in (2, 5) else t3
        assert got_second == us(meter.second_pulse_times(0.0, until)), channel
    assert len(injected) > 6 * 120  # every channel pulses and ticks


def test_a_pulse_search_from_the_last_pulse_finds_what_one_from_the_segment_start_finds() -> None:
    rng = random.Random(7)
    for noise in (0.01, 0.2, 3.0):
        integrator = _Integrator(noise, 0.7, seed=11)
        integrator.set_rate(0.0, 2e-4)
        integrator.set_rate(50.0, 7e-4)
        after = 50.0 + rng.uniform(0.0, 5.0)
        for _ in range(300):
            target = integrator.energy(after) + rng.uniform(1e-7, 4e-4)
            hinted = integrator._solve(1, target, float("inf"), after)
            assert hinted == integrator._solve(1, target, float("inf"))
            assert hinted is not None and hinted >= after
            after = hinted


def test_a_noise_strong_enough_to_reverse_energy_searches_from_the_start() -> None:
    integrator: Any = _Integrator(20.0, 1.0, seed=1)
    assert not integrator._monotone
    assert _Integrator(11.0, 1.0, seed=1)._monotone
