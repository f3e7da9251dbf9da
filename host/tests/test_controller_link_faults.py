"""The controller link client on a simulated bench whose port vanishes and whose controller
restarts: results survive a vanished port, requests wait for it to come back, a restart is
seen (and counted), and a start whose ACK was lost is not refused on the resend."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from meterbench.devices.controller import ControllerClient
from meterbench.devices.source import ScpiSource
from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.simulator import SimulatedBench
from meterproto.link import messages as m

BENCH = Path(__file__).resolve().parents[2] / "bench_configs" / "sim-3p-12.toml"
LOAD = Setpoint.balanced("3p4w", 57.7, 1.5, 1.0)


Scenario = Callable[[SimulatedBench, ControllerClient, int], Awaitable[None]]


def _run(scenario: Scenario, **client_options: Any) -> None:
    async def main() -> None:
        bench = SimulatedBench.from_file(BENCH, time_scale=200)
        config = await bench.start()
        source = await ScpiSource.open(config.section.source.url, poll_s=0.01)
        client = await ControllerClient.open(config.controllers[0].url, **client_options)
        try:
            await source.apply(LOAD)
            await source.wait_stable(10)
            await client.hello()
            await scenario(bench, client, config.positions[0].channel)
        finally:
            await client.close()
            await source.close()
            await bench.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


async def _reading(client: ControllerClient) -> Any:
    while True:
        msg = await client.next_result(timeout=30)
        if msg.msg_type == m.ERR_READING:
            return msg


def test_a_reading_taken_while_the_port_was_gone_arrives_after_it_returns() -> None:
    async def scenario(bench: SimulatedBench, client: ControllerClient, channel: int) -> None:
        device = bench.controllers["C1"].device
        await client.request(m.ERR_START, position=channel, pulses=2, readings=1, skip=0)
        device.close()
        await bench.clock.sleep(30.0)  # the reading completes while nobody can hear it
        device.open()
        msg = await _reading(client)
        assert msg["pulses"] == 2 and msg["ref_count"] > 0
        assert client.stats.port_losses == 1 and client.stats.reconnects == 1
        assert client.restarts == 0

    _run(scenario)


def test_a_request_waits_for_a_vanished_port_to_return() -> None:
    async def scenario(bench: SimulatedBench, client: ControllerClient, channel: int) -> None:
        device = bench.controllers["C1"].device
        device.close()
        while client.stats.port_losses == 0:  # the reader notices the loss
            await asyncio.sleep(0.01)
        status = asyncio.create_task(client.status())
        await asyncio.sleep(0.2)
        assert not status.done()
        device.open()
        reply = await status
        assert reply["boot_id"] == client.boot_id

    _run(scenario)


def test_a_restart_is_seen_once_and_results_flow_again() -> None:
    async def scenario(bench: SimulatedBench, client: ControllerClient, channel: int) -> None:
        await client.request(m.ERR_START, position=channel, pulses=1, readings=1, skip=0)
        first = await _reading(client)
        bench.controllers["C1"].reset()
        assert await client.check_boot() is True
        assert await client.check_boot() is False
        assert client.restarts == 1
        await client.request(m.ERR_START, position=channel, pulses=1, readings=1, skip=0)
        again = await _reading(client)  # a new boot's ids: accepted, never taken for old ones
        assert m.result_boot(again["result_id"]) == m.result_boot(first["result_id"]) + 1

    _run(scenario)


def test_a_restart_the_host_missed_is_found_at_its_next_request() -> None:
    async def scenario(bench: SimulatedBench, client: ControllerClient, channel: int) -> None:
        bench.controllers["C1"].reset()
        # No check_boot: the controller refuses the start (no HELLO since it booted), the
        # client says HELLO, counts the restart, and the start goes through.
        await client.request(m.ERR_START, position=channel, pulses=1, readings=1, skip=0)
        assert client.restarts == 1 and client.stats.rehellos == 1
        assert (await _reading(client))["pulses"] == 1

    _run(scenario)


def test_a_start_whose_ack_was_lost_is_not_refused_when_sent_again() -> None:
    async def scenario(bench: SimulatedBench, client: ControllerClient, channel: int) -> None:
        route = client._route
        lost: list[int] = []

        def lose_first_ack(msg: Any) -> None:
            if msg.msg_type == m.ACK and msg["req_type"] == m.ERR_START and not lost:
                lost.append(msg.seq)
                return
            route(msg)

        client._route = lose_first_ack  # type: ignore[method-assign]
        # A continuous series (readings=0) is still running when the start is sent again.
        await client.request(m.ERR_START, position=channel, pulses=1, readings=0, skip=0)
        assert lost and client.stats.resends == 1
        assert (await _reading(client))["pulses"] == 1
        await client.request(m.STOP, position=channel, functions=m.FN_ALL)

    _run(scenario, timeout=0.3)
