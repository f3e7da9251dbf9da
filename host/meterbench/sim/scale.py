"""The simulated balance under the weighing tank, speaking a subset of MT-SICS on its line (a
pty, or in memory on virtual time).

It weighs what the water physics says is in the tank, as a balance does: the reading is the
conventional mass (the water's mass less its air buoyancy against steel weights), in whole
digits of its resolution, stable only when nothing flows in or out. ``S`` waits for a stable
reading (up to its timeout, then ``S I``); ``SI`` answers at once, ``S D`` while dynamic.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from meterbench.clock import Clock
from meterbench.kinds.water.config import Scale
from meterbench.sim.endpoint import ONLY_ANSWERS_S, DeviceEndpoint
from meterbench.sim.water import SECONDS_PER_HOUR, WaterWorld

STABLE_LOOK_S = 0.1  # simulated seconds between two looks at stability while an S waits
MIN_LOOK_S = 0.001  # loop seconds: the shortest wait between two looks


class SimulatedScale:
    """Balance state and the commands it understands (``handle``)."""

    def __init__(
        self, info: Scale, world: WaterWorld, clock: Clock, serial: str = "SIM-BAL-0001"
    ) -> None:
        self.info = info
        self.world = world
        self.clock = clock
        self.serial = serial
        self.resolution = Decimal(str(info.resolution_kg))
        self._zero = Decimal(0)

    def gross_kg(self) -> Decimal:
        """What the balance shows before zeroing, in whole digits."""
        t = self.clock.now()
        rho_w = self.world.density_kg_m3(t)
        air, weights = self.info.air_density_kg_m3, self.info.weights_density_kg_m3
        shown = self.world.tank.mass_kg(t) * (1 - air / rho_w) / (1 - air / weights)
        return (Decimal(str(shown)) / self.resolution).quantize(Decimal(1)) * self.resolution

    def stable(self) -> bool:
        """Less than half a digit per second arriving or leaving."""
        t = self.clock.now()
        tank = self.world.tank
        inflow_kg_s = self.world.flow_l_h(t) / SECONDS_PER_HOUR * self.world.density_kg_m3(t) / 1000
        draining = tank.settling(t) and self.world.valves.get("drain", False)
        return inflow_kg_s < self.info.resolution_kg / 2 and not draining

    def _weight(self, status: str) -> str:
        net = self.gross_kg() - self._zero
        if net > Decimal(str(self.info.capacity_kg)):
            return "S +"
        places = max(0, -self.resolution.normalize().as_tuple().exponent)  # type: ignore[operator]
        return f"S {status} {net:>11.{places}f} kg"

    def stable_reply(self) -> str:
        return self._weight("S")

    def handle(self, line: str) -> str | None:
        """The reply to one command; None for ``S`` (answered once stable, by the endpoint)."""
        command = line.strip().upper()
        if command == "S":
            return None
        if command == "SI":
            return self._weight("S" if self.stable() else "D")
        if command == "Z":
            if not self.stable():
                return "Z I"
            self._zero = self.gross_kg()
            return "Z A"
        if command == "I4":
            return f'I4 A "{self.serial}"'
        return "ES"


class ScaleEndpoint(DeviceEndpoint):
    """The balance on its line (a pty, or in memory): CR LF lines in, replies out; an ``S``
    waits in simulated time for a stable reading, looked at every ``STABLE_LOOK_S``."""

    def __init__(self, scale: SimulatedScale, device: Any) -> None:
        super().__init__(device)
        self.scale = scale
        self._buffer = b""
        self._waiting: list[float] = []  # deadlines of pending S commands

    def _feed(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer:
            line, _, self._buffer = self._buffer.partition(b"\n")
            text = line.decode("ascii", errors="replace").strip()
            if not text:
                continue
            reply = self.scale.handle(text)
            if reply is None:
                now = self.scale.clock.now()
                self._waiting.append(now + self.scale.info.stable_timeout_s)
            else:
                self.device.send(reply.encode("ascii") + b"\r\n")
        if len(self._buffer) > 1024:
            self._buffer = b""

    def _answer_waiting(self) -> None:
        if not self._waiting:
            return
        if self.scale.stable():
            reply = self.scale.stable_reply()
            for _ in self._waiting:
                self.device.send(reply.encode("ascii") + b"\r\n")
            self._waiting.clear()
            return
        now = self.scale.clock.now()
        while self._waiting and self._waiting[0] <= now:
            self._waiting.pop(0)
            self.device.send(b"S I\r\n")

    def serve(self, data: bytes) -> None:
        if data:
            self._feed(data)
        self._answer_waiting()

    def look_again_s(self) -> float:
        """While an ``S`` waits: its deadline or the next look at stability, whichever is
        first (in loop seconds, at least ``MIN_LOOK_S`` so a fast scaled clock never spins)."""
        if not self._waiting:
            return ONLY_ANSWERS_S
        clock = self.scale.clock
        left = clock.wall_seconds(self._waiting[0] - clock.now())
        return max(MIN_LOOK_S, min(left, clock.wall_seconds(STABLE_LOOK_S)))


__all__ = ["ScaleEndpoint", "SimulatedScale"]
