"""A simulated bench controller: the real firmware logic (``bench.app.build`` with the sim HAL)
run in-process, fed with edges and counts from the physics model, reached over a pty with the
real link protocol.

Every service tick the controller's simulated time catches up with the shared clock: the
meter pulses and clock second pulses of its positions that fell due since the last tick are
injected in time order, each preceded by the reference and time-base counts reached at that
instant, exactly as the counters of a real board would have them. A reset (a fault on demand)
restarts the firmware with a new boot id and fresh counters, losing whatever was in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meterbench.clock import Clock
from meterbench.firmware_tools.simlink import firmware_path
from meterbench.sim.physics import ElectricityWorld
from meterbench.sim.pty import PtyDevice

TICK_S = 0.004  # wall seconds between service ticks
DRAIN_EVERY = 16  # edges injected between two firmware services within one catch-up


class SimulatedController:
    """One controller; ``channels`` maps firmware channel -> bench position number."""

    def __init__(
        self,
        controller_id: str,
        channels: dict[int, int],
        world: ElectricityWorld,
        clock: Clock,
        *,
        second_pulse_enabled: Callable[[int], bool],
        link: str | None = None,
        state_dir: Path | None = None,
    ) -> None:
        firmware_path()
        self.id = controller_id
        self.channels = dict(sorted(channels.items()))
        self.world = world
        self.clock = clock
        self.second_pulse_enabled = second_pulse_enabled
        self.device = PtyDevice(link)
        self._state_dir = state_dir or Path(tempfile.mkdtemp(prefix=f"meterbench-{controller_id}-"))
        self._task: asyncio.Task[None] | None = None
        self.resets = 0
        self._boot()
        governor = getattr(clock, "govern", None)
        if governor is not None:
            governor(lambda: self._last_t)

    # -- firmware life cycle ------------------------------------------------------------------
    def _boot(self) -> None:
        from bench import config
        from bench.app import build
        from bench.clock import ManualClock, Uptime
        from bench.hal.sim import SimHal
        from bench.safemode import BootState

        self._fw_clock = ManualClock(start_us=self._sim_us(self.clock.now()))
        positions = max(self.channels) + 1 if self.channels else 1
        self.hal = SimHal(positions=positions, clock=self._fw_clock)
        cfg = dict(config.DEFAULTS)
        cfg["wdt_ms"] = 0
        # No failsafe: firmware time here is simulated time, which outruns the host's
        # wall-clock keep-alives on an accelerated bench (and the outputs are simulated).
        cfg["failsafe_ms"] = 0
        # Resend unacknowledged results after the same wall time as on a real bench: the
        # firmware's milliseconds are simulated ones here.
        scale = self.clock.time_scale
        if scale != float("inf"):
            cfg["resend_ms"] = int(cfg["resend_ms"] * max(1.0, scale))
        boot = BootState(
            state_path=str(self._state_dir / "bootstate.json"),
            safe_path=str(self._state_dir / "SAFE"),
        ).begin()
        self.server: Any = build(self.hal, cfg, boot)
        self._uptime = Uptime(self._fw_clock)
        self._last_t = self.clock.now()
        self._ref_fed = self.world.reference.count(self._last_t)
        self._tb_fed = self.world.time_base.count(self._last_t)

    def reset(self) -> None:
        """Power-cycle the controller: the firmware restarts, everything in flight is lost."""
        self.resets += 1
        self._boot()

    @staticmethod
    def _sim_us(t: float) -> int:
        return max(0, int(t * 1_000_000))

    # -- the loop -------------------------------------------------------------------------------
    def start(self) -> str:
        path = self.device.open()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return path

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.device.close()

    async def _run(self) -> None:
        while True:
            self.step()
            await asyncio.sleep(TICK_S)

    def step(self) -> None:
        """One service tick: host bytes in, physics caught up, firmware serviced, bytes out."""
        data = self.device.read()
        if data:
            self.server.feed(data)
        self._catch_up(self.clock.now())
        self.server.service(self._uptime.now())
        out = self.server.take_output()
        if out:
            self.device.send(out)
        else:
            self.device.flush()
        if getattr(self.server, "reset_mode", None) is not None:
            self.reset()

    def _catch_up(self, t: float) -> None:
        t0 = self._last_t
        if t <= t0:
            return
        events: list[tuple[float, str, int]] = []
        for channel, position in self.channels.items():
            meter = self.world.meters.get(position)
            if meter is None:
                continue
            events += [(te, "meter", channel) for te in meter.pulse_times(t0, t)]
            if self.second_pulse_enabled(position):
                events += [(te, "second", channel) for te in meter.second_pulse_times(t0, t)]
        events.sort()
        for index, (te, name, channel) in enumerate(events, 1):
            self._counts_to(te)
            self.hal.edge(name, channel, self._at_us(te))
            if index % DRAIN_EVERY == 0:
                # A board's main loop drains its edge rings far more often than a busy host
                # process ticks; service in between so a long catch-up never overruns them.
                self.server.service(self._uptime.now())
        self._counts_to(t)
        self.hal.set_time(max(self._fw_clock.now_us, self._sim_us(t)))
        self._last_t = t

    def _at_us(self, t: float) -> int:
        return max(self._fw_clock.now_us, self._sim_us(t))

    def _counts_to(self, t: float) -> None:
        at = self._at_us(t)
        ref = self.world.reference.count(t)
        if ref > self._ref_fed:
            self.hal.count("ref", ref - self._ref_fed, at)
            self._ref_fed = ref
        tb = self.world.time_base.count(t)
        if tb > self._tb_fed:
            self.hal.count("timebase", tb - self._tb_fed, at)
            self._tb_fed = tb
