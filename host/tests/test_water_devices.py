"""Water-bench wire formats and drivers: the Modbus RTU codec (frames by structure and CRC,
hunting past garbage, split and concatenated frames), the MT-SICS weight replies, and the real
drivers (drive, temperature transmitter, balance, CJ/T 188 register, valves) against the
simulated water bench on its ptys."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from meterbench.devices.cjt188_client import Cjt188Client
from meterbench.devices.controller import ControllerClient
from meterbench.devices.flow import ModbusVfd
from meterbench.devices.modbus_client import ModbusExceptionReply, ModbusRtuClient
from meterbench.devices.scale import ScaleError, SicsScale, parse_weight
from meterbench.devices.thermometer import ModbusThermometer
from meterbench.devices.valves import Valve
from meterbench.kinds.water.simulator import SimulatedWaterBench
from meterbench.transport.bus import Bus
from meterbench.transport.settings import SerialSettings
from meterproto.modbus import rtu

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench_configs" / "sim-water-10.toml"
T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, 120))  # type: ignore[arg-type]


# -- Modbus RTU codec ----------------------------------------------------------------------------


def test_crc_check_value_and_frame_layout() -> None:
    assert rtu.crc16(b"123456789") == 0x4B37
    frame = rtu.read_request(1, 0x0000, 2)
    assert frame.hex(" ") == "01 03 00 00 00 02 c4 0b"  # CRC low byte first


def test_replies_decode_and_requests_parse() -> None:
    reply = rtu.read_reply(7, rtu.READ_INPUT, [0x1234, 0xFFFE])
    (frame,) = rtu.StreamDecoder().feed(reply)
    assert (frame.unit, frame.function, frame.is_response) == (7, rtu.READ_INPUT, True)
    assert rtu.registers(frame) == [0x1234, 0xFFFE]
    assert rtu.to_signed(0xFFFE) == -2 and rtu.from_signed(-2) == 0xFFFE
    request = rtu.write_multiple_request(3, 0x2001, [2500, 7])
    (frame,) = rtu.StreamDecoder(replies=False).feed(request)
    parsed = rtu.parse_request(frame)
    assert (parsed.address, parsed.count, parsed.values) == (0x2001, 2, (2500, 7))
    (error,) = rtu.StreamDecoder().feed(rtu.exception_reply(3, 0x10, rtu.ILLEGAL_ADDRESS))
    assert error.abnormal and error.exception_code == rtu.ILLEGAL_ADDRESS


def test_stream_decoder_hunts_past_garbage_and_joins_pieces() -> None:
    a = rtu.read_reply(1, rtu.READ_HOLDING, [1, 2, 3])
    b = rtu.write_multiple_reply(2, 0x2000, 1)
    corrupt = bytearray(rtu.read_reply(1, rtu.READ_HOLDING, [9]))
    corrupt[-1] ^= 0xFF
    stream = b"\x00\xff\x55" + bytes(corrupt) + a + b
    decoder = rtu.StreamDecoder()
    frames = []
    for i in range(0, len(stream), 3):  # arrives in small pieces
        frames += decoder.feed(stream[i : i + 3])
    assert [f.raw for f in frames] == [a, b]
    assert decoder.bad_checksum >= 1 and decoder.pending == 0


def test_out_of_range_values_are_refused() -> None:
    with pytest.raises(rtu.ModbusFrameError):
        rtu.write_single_request(1, 0x2000, 70000)
    with pytest.raises(rtu.ModbusFrameError):
        rtu.read_request(1, 0, 126)
    with pytest.raises(rtu.ModbusFrameError):
        rtu.encode(248, 3)


# -- MT-SICS weight replies --------------------------------------------------------------------


def test_weight_replies() -> None:
    assert parse_weight("S S      12.345 kg") == (Decimal("12.345"), True)
    assert parse_weight("S D     500.0 g") == (Decimal("0.5"), False)
    for line, text in (("S I", "cannot"), ("S +", "over"), ("S -", "under"), ("ES", "not a")):
        with pytest.raises(ScaleError, match=text):
            parse_weight(line)


# -- drivers against the simulated water bench --------------------------------------------------


async def _with_bench(body: Any) -> Any:
    bench = SimulatedWaterBench.from_file(BENCH, time_scale=200)
    config = await bench.start()
    water = config.section.water
    assert water is not None
    modbus = Bus(water.modbus.url, SerialSettings(9600, "E"), name="modbus")
    await modbus.open()
    controller = await ControllerClient.open(config.controllers[0].url)
    await controller.hello()
    try:
        return await body(bench, config, modbus, controller)
    finally:
        await controller.close()
        await modbus.close()
        await bench.stop()


def test_drive_valve_and_thermometer_act_on_the_physics() -> None:
    async def body(bench: Any, config: Any, modbus: Bus, controller: ControllerClient) -> None:
        water = config.section.water
        drive = ModbusVfd(ModbusRtuClient(modbus, water.flow.unit, name="drive"), water.flow)
        thermometer = ModbusThermometer(
            ModbusRtuClient(modbus, water.temperature.unit), water.temperature
        )
        assert await thermometer.read_c() == Decimal("19.60")
        await drive.start()
        assert await drive.set_demand(0.123456) == pytest.approx(0.1234)  # 0.01 Hz steps
        assert await drive.output_frequency_hz() == pytest.approx(6.17)
        world = bench.world
        assert world.target_flow_l_h() == 0  # the start valve is still closed
        valve = Valve(controller, water.start_valve.channel, water.start_valve.output, "start")
        await valve.open()
        assert world.valves["start"]
        assert world.target_flow_l_h() == pytest.approx(3200 * 0.1234**1.15)
        with pytest.raises(ModbusExceptionReply, match="illegal data address"):
            await ModbusRtuClient(modbus, water.flow.unit).read(0x1234)
        await valve.close()
        await drive.stop()
        assert world.target_flow_l_h() == 0

    run(_with_bench(body))


def test_balance_weighs_the_tank_and_register_reads_in_litres() -> None:
    async def body(bench: Any, config: Any, modbus: Bus, controller: ControllerClient) -> None:
        water = config.section.water
        scale = await SicsScale.open(water.scale.url)
        bus = Bus(config.buses[0].url, SerialSettings(2400, "E"))
        await bus.open()
        try:
            world, clock = bench.world, bench.clock
            world.set_drive(clock.now(), running=True, demand=0.5)
            world.set_valve(clock.now(), "start", True)
            await clock.sleep(20)
            weight, stable = await scale.weight_kg()
            assert not stable and weight > 0  # water still arriving
            world.set_valve(clock.now(), "start", False)
            settled = await scale.stable_kg(timeout_s=5)  # waits for the run-out
            now = clock.now()
            rho = world.density_kg_m3(now)
            expected = world.tank.mass_kg(now) * (1 - 1.2 / rho) / (1 - 1.2 / 8000)
            assert float(settled) == pytest.approx(expected, abs=0.001)
            meter = Cjt188Client(bus, "20260000000007")
            reading = await meter.read_volume()
            assert reading.unit == "L"
            physics = world.meters[7]
            assert float(reading.volume) == pytest.approx(physics.register_l(now), abs=0.01)
        finally:
            await scale.close()
            await bus.close()

    run(_with_bench(body))
