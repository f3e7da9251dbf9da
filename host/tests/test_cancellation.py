"""Cancellation reaches the task it was meant for.

On CPython 3.11 ``asyncio.wait_for`` returns the inner result instead of raising when the
outer task is cancelled in the loop turn after the inner wait finished (bpo-42130 /
gh-86296, fixed in 3.12 by rebuilding ``wait_for`` on ``asyncio.timeout``). A source watcher
polling through such a read then survived ``leave()``'s one cancel and ``leave()`` waited on it
for good: the stall of a whole run. These drivers cancel at each turn of the loop around the
moment a byte arrives, so every interleaving is visited on every run, and a hang becomes a
failure through a generous guard (it is not a timing threshold: a correct run never gets near).
"""

from __future__ import annotations

import asyncio
import signal
import threading

import pytest

from meterbench.clock import ManualClock
from meterbench.kinds.electricity.source_watch import SourceWatch
from meterbench.transport.port import AsyncPort
from meterbench.transport.settings import SerialSettings
from meterbench.waits import TaskWouldNotStop, stop_task

TRIALS = 200
TURNS = 8  # loop turns between a byte's arrival and the cancel, visited in turn
GUARD_S = 10.0  # only turns a hang into a failure


class _IdleSerial:
    """A serial port that never receives anything by itself: bytes come from the driver."""

    def __init__(self) -> None:
        self._closed = threading.Event()
        self.in_waiting = 0

    def read(self, size: int) -> bytes:
        self._closed.wait(0.1)
        return b""

    def write(self, data: bytes) -> int:
        return len(data)

    def cancel_read(self) -> None:
        self._closed.set()

    def close(self) -> None:
        self._closed.set()

    def reset_input_buffer(self) -> None:
        pass


class _PortSource:
    """A source whose stability query waits on a real AsyncPort read."""

    def __init__(self, port: AsyncPort) -> None:
        self.port = port
        self.reading = asyncio.Event()

    async def is_stable(self) -> bool:
        self.reading.set()
        await self.port.read(60.0)
        self.reading.clear()
        return True


async def _open_port() -> AsyncPort:
    return AsyncPort(_IdleSerial(), "idle://", SerialSettings(), None)  # type: ignore[arg-type]


async def _turns(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def _watch_trial(turns: int) -> None:
    port = await _open_port()
    source = _PortSource(port)
    watch = SourceWatch(source, ManualClock(), poll_s=0.0)
    try:
        await watch.join()
        await source.reading.wait()
        await _turns(1)  # the watcher is inside the port's wait now
        loop = asyncio.get_running_loop()
        loop.call_soon(port._deliver, b"1\n", None)  # what the reader thread hands over
        await _turns(turns)
        leaving = loop.create_task(watch.leave())
        done, _ = await asyncio.wait({leaving}, timeout=GUARD_S)
        assert done, f"leave() hung {turns} loop turns after a byte arrived"
        leaving.result()
    finally:
        await port.close()


@pytest.mark.parametrize("block", range(TRIALS // 50))
def test_leave_always_stops_the_watcher(block: int) -> None:
    async def main() -> None:
        for trial in range(50):
            await _watch_trial((block * 50 + trial) % TURNS)

    asyncio.run(main())


async def _read_trial(turns: int) -> str:
    port = await _open_port()
    try:
        reader = asyncio.get_running_loop().create_task(port.read(60.0))
        await _turns(2)
        asyncio.get_running_loop().call_soon(port._deliver, b"x", None)
        await _turns(turns)
        if not reader.cancel():
            return "finished before the cancel"
        done, _ = await asyncio.wait({reader}, timeout=GUARD_S)
        assert done, "a cancelled read hung"
        return "cancelled" if reader.cancelled() else "returned"
    finally:
        await port.close()


def test_a_cancelled_read_raises_cancelled() -> None:
    """A read cancelled while its byte arrives ends cancelled, never with the byte."""

    async def main() -> list[str]:
        return [await _read_trial(trial % TURNS) for trial in range(TRIALS)]

    outcomes = asyncio.run(main())
    assert outcomes.count("cancelled") > 0  # the drive does reach the window
    assert outcomes.count("returned") == 0, f"{outcomes.count('returned')} cancels swallowed"


def _sigint_trial(turns: int) -> str:
    """Ctrl-C while the main task reads a port: asyncio.Runner cancels the main task once, so
    a swallowed cancel means an ignored Ctrl-C."""
    sent = asyncio.Event()

    async def main() -> str:
        port = await _open_port()
        loop = asyncio.get_running_loop()

        async def interrupt() -> None:
            await _turns(2)
            loop.call_soon(port._deliver, b"x", None)
            await _turns(turns)
            sent.set()
            signal.raise_signal(signal.SIGINT)

        helper = loop.create_task(interrupt())
        try:
            while True:
                await port.read(60.0)
                if sent.is_set():
                    return "ignored"
        finally:
            helper.cancel()
            await port.close()

    try:
        with asyncio.Runner() as runner:
            return runner.run(main())
    except KeyboardInterrupt:
        return "interrupted"


def test_ctrl_c_always_interrupts_a_reading_task() -> None:
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is handled by someone else here")
    outcomes = [_sigint_trial(trial % TURNS) for trial in range(TRIALS // 4)]
    assert outcomes.count("ignored") == 0, f"{outcomes.count('ignored')} Ctrl-C ignored"


class _Stubborn:
    """A task body that survives its first ``times`` cancels, as one behind 3.11's wait_for
    did; ``give_up()`` lets the test end it."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.started = asyncio.Event()

    def give_up(self) -> None:
        self.times = 0

    async def run(self) -> None:
        self.started.set()
        survived = 0
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                if survived >= self.times:
                    raise
                survived += 1

    async def start(self) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self.run())
        await self.started.wait()
        return task


def test_stop_task_cancels_again_until_the_task_ends() -> None:
    async def main() -> bool:
        task = await _Stubborn(2).start()
        await stop_task(task, wait_s=0.01, cancels=3)
        return task.cancelled()

    assert asyncio.run(main())


def test_stop_task_reports_a_task_that_never_stops() -> None:
    async def main() -> None:
        body = _Stubborn(10**9)
        task = await body.start()
        try:
            with pytest.raises(TaskWouldNotStop, match="ignored 2 cancellations"):
                await stop_task(task, wait_s=0.01, cancels=2)
        finally:
            body.give_up()
            task.cancel()
            await asyncio.wait({task})

    asyncio.run(main())


def test_stopping_never_swallows_the_callers_own_cancel() -> None:
    async def main() -> str:
        body = _Stubborn(10**9)
        task = await body.start()
        stopper = asyncio.get_running_loop().create_task(stop_task(task, wait_s=60))
        await _turns(2)
        stopper.cancel()
        await asyncio.wait({stopper})
        body.give_up()
        task.cancel()
        await asyncio.wait({task})
        return "cancelled" if stopper.cancelled() else "swallowed"

    assert asyncio.run(main()) == "cancelled"


def _quick_stop(monkeypatch: pytest.MonkeyPatch, module: object) -> None:
    """The module's stop_task, with short waits between its cancels."""

    async def quick(task: asyncio.Task[object]) -> None:
        await stop_task(task, wait_s=0.01)

    monkeypatch.setattr(module, "stop_task", quick, raising=False)


def test_closing_a_transmitter_ends_a_task_that_swallowed_a_cancel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import meterbench.sim.servers as servers

    _quick_stop(monkeypatch, servers)

    async def main() -> bool:
        tx = servers.Transmitter(lambda data: None, pace=False, char_bits=11)
        tx._task.cancel()
        await asyncio.wait({tx._task})
        tx._task = await _Stubborn(1).start()  # as a 3.11 wait_for that lost one cancel
        closer = asyncio.get_running_loop().create_task(tx.close())
        await asyncio.wait({closer}, timeout=60)  # a safety net: closing never waits this long
        return closer.done() and tx._task.done()

    assert asyncio.run(main())


def test_closing_a_result_router_ends_a_task_that_swallowed_a_cancel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import meterbench.runner.context as context

    _quick_stop(monkeypatch, context)

    class _Silent:
        async def next_result(self) -> object:
            await asyncio.Event().wait()

    async def main() -> bool:
        router = context.ResultRouter(_Silent())  # type: ignore[arg-type]
        router._task.cancel()
        await asyncio.wait({router._task})
        router._task = await _Stubborn(1).start()
        closer = asyncio.get_running_loop().create_task(router.close())
        await asyncio.wait({closer}, timeout=60)
        return closer.done() and router._task.done()

    assert asyncio.run(main())


class _StableSource:
    """A source that is always stable and counts how often it was asked."""

    def __init__(self) -> None:
        self.polls = 0

    async def is_stable(self) -> bool:
        self.polls += 1
        return True


def test_a_watcher_started_again_makes_readers_wait_for_its_own_polls() -> None:
    """One load point's watcher ends (and sets its event for whoever waited); the next point
    starts a new one. A reader of the new point must wait for the new watcher's polls, not
    find the old event set and loop without ever letting the watcher run."""

    async def scenario() -> tuple[bool, int]:
        clock = ManualClock()
        source = _StableSource()
        watch = SourceWatch(source, clock, poll_s=0.0)
        await watch.join()
        await watch.unstable_between(0.0, 0.0)
        await watch.leave()
        clock.advance(10.0)
        await watch.join()
        # (with the old event still set, the wait below would never yield to the watcher)
        assert not watch._polled.is_set()
        polls_before = source.polls
        unstable = await watch.unstable_between(5.0, 10.0)
        await watch.leave()
        return not unstable, source.polls - polls_before

    ok, new_polls = asyncio.run(scenario())
    assert ok
    assert new_polls >= 1
