"""The virtual clock stops exactly at each timer's instant, whatever other timers there are:
a task sees the same times with and without unrelated timers in between (a live display's
redraws, another kind of device), to the last bit."""

from __future__ import annotations

import asyncio

from meterbench.sim import virtual_loop


async def _times_seen(interval: float, others: list[float]) -> list[float]:
    loop = asyncio.get_running_loop()

    async def tick(every: float) -> None:
        while True:
            await asyncio.sleep(every)

    noise = [asyncio.create_task(tick(every)) for every in others]
    seen = []
    for _ in range(2000):
        await asyncio.sleep(interval)
        seen.append(loop.time())
    for task in noise:
        task.cancel()
    return seen


def test_other_timers_do_not_move_the_times_a_task_sees() -> None:
    alone = virtual_loop.run(_times_seen(0.1, []))
    among = virtual_loop.run(_times_seen(0.1, [0.037, 0.25, 1 / 3]))
    assert among == alone


def test_the_clock_stops_at_the_timers_instant() -> None:
    async def scenario() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        when = loop.time() + 0.3
        woke = loop.create_future()
        loop.call_at(when, lambda: woke.set_result(loop.time()))
        return when, await woke

    when, woke = virtual_loop.run(scenario())
    assert woke == when


def test_a_wait_longer_than_the_selectors_limit_still_reaches_its_timer() -> None:
    async def scenario() -> float:
        await asyncio.sleep(3 * 86400.0 + 0.1)  # asyncio waits at most a day per select
        return asyncio.get_running_loop().time()

    assert virtual_loop.run(scenario()) == 3 * 86400.0 + 0.1
