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
The time of each position's next pulse is remembered until the source changes its output, and
that of its next clock second pulse until its meter's output mode changes, both in heaps
(earliest first), so a service costs only the positions whose pulses fell due: the simulator's
cost grows with the number of pulses, linearly in positions, not with positions times ticks.
"""

from __future__ import annotations

import asyncio
import heapq
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
# Relative distance to a remembered next second pulse within which it is asked again (float
# rounding of the pulse arithmetic is some 1e-16 relative: far inside it)
SECOND_GUARD = 1e-9


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
        second_pulse_changes: Callable[[], int] | None = None,
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
        self.second_pulse_changes = second_pulse_changes
        self._due: dict[int, float] = {}  # channel -> its next meter pulse (before jitter)
        self._due_heap: list[tuple[float, int]] = []  # the same, earliest first
        self._unpredicted: list[int] = []  # channels whose next pulse is asked at the next look
        self._always: list[int] = []  # channels whose meter model cannot tell: every service
        self._pulsing: dict[int, Any] = {}  # channel -> its meter's physics
        self._version = -1  # the world's setpoint version the predictions were made under
        # channel -> (its next second pulse, the instant that was asked at), for the channels
        # whose second pulse is enabled; the same earliest first; what the change count of
        # their output modes was when they were looked at
        self._seconds: dict[int, tuple[float, float]] = {}
        self._second_heap: list[tuple[float, int]] = []
        self._seconds_seen: int | None = None
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

    # -- what falls due when ------------------------------------------------------------------
    # Every service used to ask every channel when its next pulse falls due: O(channels) per
    # service, and services grow with pulses, so a controller cost the square of its positions.
    # Now the next meter pulse and the next second pulse of every channel sit in two heaps: a
    # service touches only the channels whose pulse fell due, and asks their meter models the
    # very same questions at the very same simulated instants as before (same answers, same
    # schedule, same readings).

    def _predictions_current(self) -> None:
        version = getattr(self.world, "version", None)
        if version is None or version != self._version:
            self._due.clear()
            self._due_heap.clear()
            self._version = -1 if version is None else version
            pulsing: dict[int, Any] = {}
            for channel, position in self.channels.items():
                meter = self.world.meters.get(position)
                if meter is not None:
                    pulsing[channel] = meter
            old = self._pulsing
            if pulsing.keys() != old.keys() or any(pulsing[c] is not old[c] for c in pulsing):
                self._pulsing = pulsing
                self._seconds = {}  # other meters: their second pulses are asked afresh
                self._second_heap = []
                self._seconds_seen = None
            # A meter model that cannot predict (or a world without versions) is looked at
            # every service; the others once per pulse.
            self._always = [
                channel
                for channel, meter in pulsing.items()
                if self._version < 0 or getattr(meter, "next_pulse_time", None) is None
            ]
            always = set(self._always)
            self._unpredicted = [channel for channel in pulsing if channel not in always]
        if self._unpredicted:
            for channel in self._unpredicted:
                due = self._due[channel] = self._pulsing[channel].next_pulse_time(self._last_t)
                heapq.heappush(self._due_heap, (due, channel))
            self._unpredicted = []
        self._seconds_current()

    def _seconds_current(self) -> None:
        """Which channels give second pulses now (asked again only when an output mode may
        have changed, if the bench says when; else at every service, as before)."""
        changes = self.second_pulse_changes
        seen = None if changes is None else changes()
        if seen is not None and seen == self._seconds_seen:
            return
        self._seconds_seen = seen
        enabled = {
            channel
            for channel, meter in self._pulsing.items()
            if self.second_pulse_enabled(self.channels[channel])
        }
        if enabled == set(self._seconds):
            return
        seconds: dict[int, tuple[float, float]] = {}
        for channel in sorted(enabled):
            known = self._seconds.get(channel)
            if known is None:
                meter = self._pulsing[channel]
                known = (meter.next_second_pulse_time(self._last_t), self._last_t)
            seconds[channel] = known
        self._seconds = seconds
        self._second_heap = [(due, channel) for channel, (due, _) in seconds.items()]
        heapq.heapify(self._second_heap)

    def _seconds_exact(self) -> None:
        """Make the remembered next second pulse exact at the last service for every channel
        whose answer could have moved on since it was asked: one asked at ``t`` is the same
        at any later ``t'`` short of it (a rounding away from the next pulse at the most);
        only those within ``SECOND_GUARD`` of their pulse, or past it, are asked again."""
        heap = self._second_heap
        last = self._last_t
        near = last + SECOND_GUARD * (1.0 + abs(last))
        if not heap or heap[0][0] > near:
            return
        again: list[int] = []
        while heap and heap[0][0] <= near:
            again.append(heapq.heappop(heap)[1])
        for channel in again:
            due, asked = self._seconds[channel]
            if asked != last:
                due = self._pulsing[channel].next_second_pulse_time(last)
                self._seconds[channel] = (due, last)
            heapq.heappush(heap, (due, channel))

    def next_edge(self) -> float:
        """The earliest simulated time an edge of one of this controller's inputs falls due."""
        self._predictions_current()
        first = self._last_t if self._always else math.inf
        if self._due_heap:
            first = min(first, self._due_heap[0][0])
        self._seconds_exact()
        if self._second_heap:
            first = min(first, self._second_heap[0][0])
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
        for channel in self._always:
            events += [(te, "meter", channel) for te in self._pulsing[channel].pulse_times(t0, t)]
        heap = self._due_heap
        while heap and heap[0][0] <= t:
            channel = heapq.heappop(heap)[1]
            del self._due[channel]  # predicted again from t, after this service
            self._unpredicted.append(channel)
            events += [(te, "meter", channel) for te in self._pulsing[channel].pulse_times(t0, t)]
        # A channel whose remembered second pulse lies beyond t has none in (t0, t]: the
        # pulses after t0 are never earlier than the first after an earlier instant.
        seconds = self._second_heap
        passed: list[int] = []
        while seconds and seconds[0][0] <= t:
            channel = heapq.heappop(seconds)[1]
            passed.append(channel)
            meter = self._pulsing[channel]
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
        for channel in passed:
            due = self._pulsing[channel].next_second_pulse_time(t)
            self._seconds[channel] = (due, t)
            heapq.heappush(seconds, (due, channel))

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
