"""Every result delivered exactly once while the host and the controller restart, in both
orders, again and again: the real firmware link server (sim HAL) on a pty whose power can be
cut, and host link clients that come and go like ``meterbench resume``.

A power cut loses what only the controller's RAM held (results produced but not yet received
by any host); everything else must arrive once: no duplicates, no result of a new boot taken
for an old one, nothing stuck unacknowledged. The test prints the counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from pathlib import Path

from meterbench.devices.controller import ControllerClient
from meterbench.firmware_tools.simlink import firmware_path
from meterproto.link import messages as m

firmware_path()

from bench import app, config  # noqa: E402
from bench.clock import ManualClock, Uptime  # noqa: E402
from bench.hal.sim import SimHal  # noqa: E402
from bench.safemode import BootState  # noqa: E402

ROUNDS = 3
PER_PHASE = 15  # results consumed between two restarts


class PoweredController:
    """A controller whose power can be cut: a new firmware instance, RAM (buffered results and
    running functions) lost, boot id one higher (bootstate.json survives, like flash)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.clock = ManualClock()
        self.produced: list[int] = []
        self.in_ram_at_cuts: set[int] = set()
        self.boots = 0
        self._boot()
        self._master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(self._master)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(slave)
        self._slave = slave

    def _boot(self) -> None:
        self.hal = SimHal(positions=1, clock=self.clock)
        boot = BootState(
            state_path=str(self.state_dir / "bootstate.json"),
            safe_path=str(self.state_dir / "SAFE"),
            max_bad_boots=100,  # quick power cycles, not crashes: no safe mode here
        ).begin()
        cfg = dict(config.DEFAULTS)
        cfg["resend_ms"] = 50
        self.server = app.build(self.hal, cfg, boot)
        self.uptime = Uptime(self.clock)
        add = self.server.results.add

        def recording_add(msg_type: int, fields: dict[str, int]) -> int:
            rid = add(msg_type, fields)
            self.produced.append(rid)
            return rid

        self.server.results.add = recording_add
        self.boots += 1

    def cut_power(self) -> None:
        self.in_ram_at_cuts.update(item[0] for item in self.server.results._items)
        self._boot()

    def pending(self) -> int:
        return len(self.server.results)

    async def serve(self) -> None:
        while True:
            with contextlib.suppress(BlockingIOError):
                data = os.read(self._master, 4096)
                if data:
                    self.server.feed(data)
            self.clock.advance_us(2000)
            if self.server.controller.active_mask():
                self.hal.edge("meter", 0)  # a meter pulse per tick while a window runs
            self.server.service(self.uptime.now())
            out = self.server.take_output()
            while out:
                try:
                    out = out[os.write(self._master, out) :]
                except BlockingIOError:
                    await asyncio.sleep(0.002)
            await asyncio.sleep(0.002)

    def close(self) -> None:
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class Host:
    """The host side: one link client at a time; a restart closes it and opens a new one."""

    def __init__(self, controller: PoweredController) -> None:
        self.controller = controller
        self.client: ControllerClient | None = None
        self.delivered: list[int] = []
        self.restarts_seen = 0
        self.rehellos = 0

    async def start(self) -> None:
        self.client = await ControllerClient.open(self.controller.path, timeout=0.3)
        await self.client.hello()

    async def restart(self) -> None:
        assert self.client is not None
        self.restarts_seen += self.client.restarts
        self.rehellos += self.client.stats.rehellos
        await self.client.close()
        await self.start()

    async def start_window(self) -> None:
        assert self.client is not None
        # After a power cut the controller has no window and wants a HELLO first: the client
        # finds out from the refusal, says HELLO and starts it.
        with contextlib.suppress(Exception):
            await self.client.request(m.STOP, position=0, functions=m.FN_WINDOW)
        await self.client.request(
            m.WINDOW_START, position=0, input=m.INPUT_METER, duration_ms=0, max_events=0xFFFF
        )

    async def consume(self, n: int) -> None:
        assert self.client is not None
        for _ in range(n):
            msg = await self.client.next_result(timeout=10)
            self.delivered.append(msg["result_id"])


async def _scenario(tmp: Path) -> tuple[PoweredController, Host]:
    ctl = PoweredController(tmp)
    serving = asyncio.create_task(ctl.serve())
    host = Host(ctl)
    try:
        await host.start()
        await host.start_window()
        await host.consume(PER_PHASE)
        for k in range(ROUNDS):
            for first in ("host", "controller") if k % 2 == 0 else ("controller", "host"):
                if first == "host":
                    await host.restart()
                    await host.consume(PER_PHASE)  # the window still runs: results go on
                else:
                    ctl.cut_power()
                    await host.start_window()
                    await host.consume(PER_PHASE)
        assert host.client is not None
        await host.client.request(m.STOP, position=0, functions=m.FN_ALL)
        # Take whatever is still buffered until the controller holds nothing unacknowledged.
        while True:
            with contextlib.suppress(TimeoutError):
                await host.consume(1)
                continue
            if ctl.pending() == 0 and host.client._events.empty():
                break
        host.restarts_seen += host.client.restarts
        host.rehellos += host.client.stats.rehellos
        await host.client.close()
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        ctl.close()
    return ctl, host


def test_every_result_delivered_exactly_once_across_restarts(tmp_path: Path) -> None:
    ctl, host = asyncio.run(asyncio.wait_for(_scenario(tmp_path), 120))
    produced = set(ctl.produced)
    delivered = host.delivered
    lost = produced - set(delivered)
    print(
        f"\nboots {ctl.boots}, host restarts {ROUNDS}, restarts seen {host.restarts_seen} "
        f"(found by refusal {host.rehellos}); results produced {len(produced)}, "
        f"delivered {len(delivered)}, delivered twice {len(delivered) - len(set(delivered))}, "
        f"lost with controller RAM at power cuts {len(lost)}"
    )
    assert len(ctl.produced) == len(produced)  # ids unique across boots
    assert len(delivered) == len(set(delivered)), "a result was delivered twice"
    assert set(delivered) <= produced
    assert lost <= ctl.in_ram_at_cuts, "a result the controller still had was never delivered"
    assert ctl.boots == 1 + ROUNDS and host.restarts_seen == ROUNDS
    assert len(delivered) >= (1 + 2 * ROUNDS) * PER_PHASE
    boots = {m.result_boot(r) for r in delivered}
    assert len(boots) == 1 + ROUNDS  # every boot's results arrived, none discarded as old
