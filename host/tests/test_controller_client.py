"""The host link client against the real firmware server (sim HAL, in-process) over a pty:
HELLO, requests matched by SEQ, NAKs as exceptions, and streamed readings acknowledged so the
controller stops resending them."""

import asyncio

import pytest

from meterbench.devices.controller import (
    ControllerClient,
    NakError,
    SoftGateRefused,
    VersionMismatch,
    send_input_config,
)
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


async def _with_server(check, caps_off: int = 0, protocol: int | None = None, **cfg) -> None:  # type: ignore[no-untyped-def]
    clock = ManualClock()
    hal = SimHal(positions=2, clock=clock)
    hal.caps &= ~caps_off
    config_ = dict(config.DEFAULTS)
    config_.update(cfg)
    server = app.build(hal, config_, _Boot())
    if protocol is not None:
        server_hello = server._hello

        def old_hello(seq, f):  # type: ignore[no-untyped-def]
            reply = server_hello(seq, f)
            reply[1]["protocol"] = protocol
            return reply

        server._hello = old_hello
        server._handlers[m.HELLO] = old_hello
    pty = PtyLink()
    serving = asyncio.create_task(pty.serve(server, lambda: clock.now_us // 1000))
    client = await ControllerClient.open(pty.path, timeout=0.5)
    try:
        await check(client, server, hal, clock)
    finally:
        await client.close()
        serving.cancel()
        pty.close()


def test_input_config_from_the_bench_config_reaches_the_controller() -> None:
    async def check(client, server, hal, clock) -> None:  # type: ignore[no-untyped-def]
        await client.hello()
        await send_input_config(client, 20_000)
        assert server.controller.min_pulse_us == [[20_000, 0], [20_000, 0]]

    asyncio.run(asyncio.wait_for(_with_server(check), 30))


def test_clock_test_refused_on_software_gating_unless_allowed() -> None:
    async def check(client, server, hal, clock) -> None:  # type: ignore[no-untyped-def]
        await client.hello()
        with pytest.raises(SoftGateRefused, match="CAP_HW_GATE"):
            await client.request(m.PERIOD_START, position=0, cycles=10, readings=1, skip=1)
        assert not server.controller.active_mask()
        client.allow_soft_gate = True
        await client.request(m.PERIOD_START, position=0, cycles=10, readings=1, skip=1)
        assert server.controller.active_mask() == 1

    asyncio.run(asyncio.wait_for(_with_server(check, caps_off=m.CAP_HW_GATE), 30))


def test_a_controller_of_another_major_version_is_refused_with_a_clear_error() -> None:
    async def check(client, server, hal, clock) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(VersionMismatch, match="0x0100"):
            await client.hello()

    asyncio.run(asyncio.wait_for(_with_server(check, protocol=0x0100), 30))


def test_the_client_keeps_the_failsafe_from_tripping() -> None:
    async def check(client, server, hal, clock) -> None:  # type: ignore[no-untyped-def]
        reply = await client.hello()
        assert reply["failsafe_ms"] == 400
        await client.request(m.OUTPUT_SET, position=0, output=0, state=1)
        frames = server.rx_frames
        # Firmware time runs with wall time here; wait for the client's STATUS_GETs.
        while server.rx_frames < frames + 4:
            clock.advance_us(20_000)
            await asyncio.sleep(0.02)
        assert hal.output(0, 0).value() == 1 and server.failsafes == 0
        await client.close()  # the host goes silent
        while not server.failsafes:
            clock.advance_us(20_000)
            await asyncio.sleep(0.02)
        assert hal.output(0, 0).value() == 0

    asyncio.run(asyncio.wait_for(_with_server(check, failsafe_ms=400), 30))
