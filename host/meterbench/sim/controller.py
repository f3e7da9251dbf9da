"""A simulated bench controller: the real firmware logic (``bench.app.build`` with the sim HAL)
run in-process, fed with edges and counts from the physics model, reached over a pty (or an
in-process line on virtual time) with the real link protocol.

Every service the controller's simulated time catches up with the shared clock: the meter
pulses and clock second pulses of its positions that fell due since the last service are
injected in time order, each preceded by the reference and time-base counts reached at that
instant, exactly as the counters of a real board would have them. A reset (a fault on demand)
restarts the firmware with a new boot id and fresh counters, losing whatever was in flight.

The controller is event-driven: it wakes when the host writes, when the next pulse of one of
its positions falls due (edges closer than ``MIN_GAP_S`` are injected together, as a board's
main loop drains its edge rings) and at least every ``IDLE_S`` for the firmware's own timers.
The time of each position's next pulse is remembered until the source changes its output, so
a service costs only the positions whose pulses fell due: the simulator's cost grows with the
number of pulses, linearly in positions, not with positions times ticks.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meterbench.clock import Clock
from meterbench.firmware_tools.simlink import firmware_path
from meterbench.sim.physics import ElectricityWorld
from meterbench.sim.pty import PtyDevice
from meterbench.waits import stop_task

MIN_GAP_S = 0.01  # simulated seconds: pulses due closer together are injected in one service
IDLE_S = 0.25  # simulated seconds: the longest the firmware goes unserviced (resends, windows)
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
        device: Any = None,
    ) -> None:
        firmware_path()
        self.id = controller_id
        self.channels = dict(sorted(channels.items()))
        self.world = world
        self.clock = clock
        self.second_pulse_enabled = second_pulse_enabled
        self.device = device if device is not None else PtyDevice(link)
        self._own_state = state_dir is None  # removed again by ``stop``
        self._state_dir = state_dir or Path(tempfile.mkdtemp(prefix=f"meterbench-{controller_id}-"))
        self._task: asyncio.Task[None] | None = None
        self.resets = 0
        self._due: dict[int, float] = {}  # channel -> its next meter pulse (before jitter)
        self._version = -1  # the world's setpoint version the predictions were made under
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
        try:
            if self._task is not None:
                task, self._task = self._task, None
                await stop_task(task)
        finally:
            self.device.close()
            if self._own_state:
                shutil.rmtree(self._state_dir, ignore_errors=True)

    async def _run(self) -> None:
        while True:
            self.step()
            now = self.clock.now()
            wake = min(max(self.next_edge(), now + MIN_GAP_S), now + IDLE_S)
            await self.device.wait(self.clock.wall_seconds(wake - now))

    def _predictions_current(self) -> None:
        version = getattr(self.world, "version", None)
        if version is None or version != self._version:
            self._due.clear()
            self._version = -1 if version is None else version

    def _meter_due(self, channel: int, meter: Any) -> float:
        """When the channel's next meter pulse falls due after the last service (a meter
        model that cannot tell is looked at every service)."""
        due = self._due.get(channel)
        if due is None:
            predict = getattr(meter, "next_pulse_time", None)
            if predict is None or self._version < 0:
                return self._last_t
            due = self._due[channel] = predict(self._last_t)
        return due

    def next_edge(self) -> float:
        """The earliest simulated time an edge of one of this controller's inputs falls due."""
        self._predictions_current()
        first = math.inf
        for channel, position in self.channels.items():
            meter = self.world.meters.get(position)
            if meter is None:
                continue
            first = min(first, self._meter_due(channel, meter))
            if self.second_pulse_enabled(position):
                second = getattr(meter, "next_second_pulse_time", None)
                first = min(first, self._last_t if second is None else second(self._last_t))
        return first

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
        self._predictions_current()
        events: list[tuple[float, str, int]] = []
        for channel, position in self.channels.items():
            meter = self.world.meters.get(position)
            if meter is None:
                continue
            if self._meter_due(channel, meter) <= t:
                events += [(te, "meter", channel) for te in meter.pulse_times(t0, t)]
                self._due.pop(channel, None)  # predicted again from t, after this service
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
