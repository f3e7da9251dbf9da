"""A host that waits sleeps: it wakes for bytes, results and deadlines, never on a timer.

A bench at time scale 1 spends nearly all its time waiting for meter pulses, so what the host
costs is what its waits cost. Each test counts what a wait does (reads of an idle port, looks
at the clock, expansions of the bench's positions), which does not depend on the machine's
speed: a polling wait does some every few milliseconds, an event-driven one none at all.
"""

from __future__ import annotations

import asyncio
import os
import tty
from pathlib import Path
from typing import Any

import pytest

from meterbench.clock import Clock
from meterbench.config.bench import BenchConfig, load_bench
from meterbench.devices.controller import ControllerClient
from meterbench.firmware_tools.simlink import PtyLink, firmware_path
from meterbench.runner import context
from meterbench.runner.session import BenchSession
from meterbench.sim import virtual_loop
from meterbench.sim.clock import VirtualClock
from meterbench.transport.port import AsyncPort
from meterbench.transport.settings import SerialSettings
from meterproto import link
from meterproto.link import messages as m

BENCHES = Path(__file__).resolve().parent / "benches"
IDLE_S = 0.3  # an idle span: a polling reader reads several times in it, a waiting one never


class _Silent:
    """A controller that never sends a result."""

    async def next_result(self) -> None:
        await asyncio.Event().wait()


class _Counting:
    """A clock that counts how often it is read."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.reads = 0
        self.time_scale = clock.time_scale

    def now(self) -> float:
        self.reads += 1
        return self.clock.now()

    def wall_seconds(self, seconds: float) -> float:
        return self.clock.wall_seconds(seconds)


def test_a_result_wait_wakes_for_its_deadline_not_on_a_timer() -> None:
    async def main() -> tuple[int, float]:
        clock = _Counting(VirtualClock())
        router = context.ResultRouter(_Silent())  # type: ignore[arg-type]
        try:
            with pytest.raises(TimeoutError):
                await router.get(1, 30.0, clock)  # type: ignore[arg-type]
            return clock.reads, clock.now()
        finally:
            await router.close()

    reads, ended = virtual_loop.run(main())
    assert ended == pytest.approx(30.0)  # the deadline holds to the instant
    assert reads <= 4  # a poll every 0.1 s would have read the clock 300 times


def test_a_result_wait_returns_the_result_when_it_comes() -> None:
    class _Later:
        def __init__(self) -> None:
            self.sent = False

        async def next_result(self) -> link.Message:
            if self.sent:
                await asyncio.Event().wait()
            await asyncio.sleep(12.0)
            self.sent = True
            return link.Message(m.ERR_READING, 0, {"position": 1})

    async def main() -> tuple[Any, float]:
        clock = VirtualClock()
        router = context.ResultRouter(_Later())  # type: ignore[arg-type]
        try:
            return await router.get(1, 30.0, clock), clock.now()
        finally:
            await router.close()

    result, at = virtual_loop.run(main())
    assert result["position"] == 1 and at == pytest.approx(12.0)


def test_looking_up_positions_expands_the_bench_once(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_bench(BENCHES / "runner-1p-8.toml")
    expansions = 0
    expand = BenchConfig.positions.fget  # type: ignore[attr-defined]
    assert expand is not None

    def counted(self: BenchConfig) -> Any:
        nonlocal expansions
        expansions += 1
        return expand(self)

    monkeypatch.setattr(BenchConfig, "positions", property(counted))
    session = BenchSession(config, {}, {}, None)  # type: ignore[arg-type]
    channels = [session.positions[p].channel for p in range(1, 9) for _ in range(10)]
    assert len(channels) == 80
    assert expansions == 1  # a reading looks its position up: never all positions again


def test_an_idle_controller_link_reads_nothing_until_bytes_arrive() -> None:
    firmware_path()
    from bench import app, config  # type: ignore[import-not-found]
    from bench.clock import ManualClock  # type: ignore[import-not-found]
    from bench.hal.sim import SimHal  # type: ignore[import-not-found]

    class _Boot:
        safe = False
        boot_id = 3
        reason = ""

    async def main() -> tuple[int, int]:
        clock = ManualClock()
        server = app.build(SimHal(positions=2, clock=clock), dict(config.DEFAULTS), _Boot())
        pty = PtyLink()
        serving = asyncio.create_task(pty.serve(server, lambda: clock.now_us // 1000))
        client = await ControllerClient.open(pty.path, timeout=0.5)
        reads = 0
        read = client.port.read

        def counted(size: int = 1) -> bytes:
            nonlocal reads
            reads += 1
            return read(size)

        client.port.read = counted
        try:
            await client.hello()  # bytes arrive: they are read
            answered = reads
            await asyncio.sleep(IDLE_S)  # nothing arrives
            idle = reads - answered
            await client.status()  # and the link still answers
            return answered, idle
        finally:
            await client.close()
            serving.cancel()
            pty.close()

    answered, idle = asyncio.run(main())
    assert answered >= 1
    assert idle == 0


def test_a_request_frame_is_written_on_the_loop_without_a_worker_thread() -> None:
    """A frame fits the port's output buffer: handing each one to a thread (and its reply
    back) cost more than the write itself."""
    firmware_path()
    from bench import app, config  # type: ignore[import-not-found]
    from bench.clock import ManualClock  # type: ignore[import-not-found]
    from bench.hal.sim import SimHal  # type: ignore[import-not-found]

    class _Boot:
        safe = False
        boot_id = 3
        reason = ""

    async def main() -> int:
        clock = ManualClock()
        server = app.build(SimHal(positions=2, clock=clock), dict(config.DEFAULTS), _Boot())
        pty = PtyLink()
        serving = asyncio.create_task(pty.serve(server, lambda: clock.now_us // 1000))
        client = await ControllerClient.open(pty.path, timeout=0.5)
        threaded = 0
        write = client.port.write

        def counted(data: bytes) -> int | None:
            nonlocal threaded
            threaded += 1
            return write(data)

        client.port.write = counted  # type: ignore[method-assign]
        try:
            await client.hello()
            await client.status()
            return threaded
        finally:
            await client.close()
            serving.cancel()
            pty.close()

    assert asyncio.run(main()) == 0


def test_an_idle_port_reads_nothing_until_bytes_arrive() -> None:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)

    async def main() -> tuple[int, bytes]:
        port = await AsyncPort.open(os.ttyname(slave), SerialSettings(9600, "N"))
        reads = 0
        read = port._ser.read

        def counted(size: int = 1) -> bytes:
            nonlocal reads
            reads += 1
            return read(size)

        port._ser.read = counted  # type: ignore[method-assign]
        try:
            await asyncio.sleep(IDLE_S)  # nothing arrives
            idle = reads
            os.write(master, b"\x68\x01\x02")
            return idle, await port.read(5.0)
        finally:
            await port.close()

    try:
        idle, data = asyncio.run(main())
    finally:
        os.close(master)
        os.close(slave)
    assert idle == 0
    assert data == b"\x68\x01\x02"


def test_the_live_table_is_drawn_after_changes_not_for_each_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """192 positions each reporting a reading: one drawing per moment, none while idle."""
    import io

    from rich.console import Console

    from meterbench.runner import progress

    renders = 0
    render = progress.LiveProgress._render

    def counted(self: progress.LiveProgress) -> Any:
        nonlocal renders
        renders += 1
        return render(self)

    monkeypatch.setattr(progress.LiveProgress, "_render", counted)
    out = io.StringIO()

    async def main() -> tuple[int, int]:
        console = Console(file=out, force_terminal=True, width=160, height=80)
        with progress.LiveProgress(list(range(1, 193)), console) as live:
            for second in range(3):
                for p in range(1, 193):
                    live.position(p, f"reading {second + 1}")
                await asyncio.sleep(1.0)
            busy = renders
            await asyncio.sleep(60.0)  # nothing changes
            return busy, renders - busy

    busy, idle = virtual_loop.run(main())
    assert busy <= 8  # 576 changes in 3 s: a handful of drawings
    assert idle == 0
    assert "reading 3" in out.getvalue()  # the last state was shown
