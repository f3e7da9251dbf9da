"""The host link client against the real firmware server (sim HAL, in-process) over a pty:
HELLO, requests matched by SEQ, NAKs as exceptions, and streamed readings acknowledged so the
controller stops resending them."""

import asyncio

import pytest

from meterbench.devices.controller import ControllerClient, NakError
from meterbench.firmware_tools.simlink import PtyLink, firmware_path
from meterproto.link import messages as m

firmware_path()

from bench import app, config  # noqa: E402
from bench.clock import ManualClock  # noqa: E402
from bench.hal.sim import SimHal  # noqa: E402


class _Boot:
    safe = False
    boot_id = 3
    reason = ""


async def _session() -> None:
    clock = ManualClock()
    hal = SimHal(positions=2, clock=clock)
    server = app.build(hal, dict(config.DEFAULTS), _Boot())
    pty = PtyLink()
    serving = asyncio.create_task(pty.serve(server, lambda: clock.now_us // 1000))
    client = await ControllerClient.open(pty.path, timeout=0.5)
    try:
        hello = await client.hello()
        assert hello["board"] == b"sim" and hello["boot_id"] == 3
        with pytest.raises(NakError) as nak:
            await client.request(m.OUTPUT_SET, position=9, output=0, state=1)
        assert nak.value.reason == m.NAK_BAD_POSITION
        await client.request(m.ERR_START, position=1, pulses=2, readings=2, skip=0)
        # 3 meter edges 1 s apart, 1000 reference pulses between each: two readings.
        for k in range(1, 6):
            hal.count("ref", 1000, k * 1000000 - 10)
            hal.edge("meter", 1, k * 1000000)
        first = await client.next_result(timeout=5)
        second = await client.next_result(timeout=5)
        assert [first["index"], second["index"]] == [0, 1]
        assert first["ref_count"] == second["ref_count"] == 2000
        assert second["flags"] & m.RF_LAST
        for _ in range(100):  # the acknowledgement reaches the controller
            if len(server.results) == 0:
                break
            await asyncio.sleep(0.01)
        assert len(server.results) == 0
        status = await client.status()
        assert status["results_dropped"] == 0 and status["bad_crc"] == 0
    finally:
        await client.close()
        serving.cancel()
        pty.close()


def test_client_against_firmware_server() -> None:
    asyncio.run(asyncio.wait_for(_session(), 30))
