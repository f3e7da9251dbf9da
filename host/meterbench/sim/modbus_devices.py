"""Simulated Modbus RTU servers of a water bench on one line (a pty, or in memory on virtual
time): the pump drive and the water temperature transmitter, both reading and changing the
shared water physics.

Register maps come from the bench file (the drive's registers are configurable there), so the
real drivers talk to these exactly as to the real devices.
"""

from __future__ import annotations

from typing import Any, Protocol

from meterbench.clock import Clock
from meterbench.kinds.water.config import FlowDrive, Thermometer
from meterbench.sim.endpoint import DeviceEndpoint
from meterbench.sim.water import WaterWorld
from meterproto.modbus import rtu


class ModbusServer(Protocol):
    """One unit: registers read or written; an exception code refuses."""

    def read(self, function: int, address: int, count: int) -> list[int] | int: ...

    def write(self, address: int, values: tuple[int, ...]) -> int | None: ...


class SimulatedDrive:
    """A frequency converter driving the bench pump."""

    def __init__(self, info: FlowDrive, world: WaterWorld, clock: Clock) -> None:
        self.info = info
        self.world = world
        self.clock = clock
        self.running = False
        self.setpoint = 0  # frequency register value
        self.writes = 0

    def _frequency_hz(self) -> float:
        return self.setpoint * self.info.frequency_unit_hz

    def _holding(self) -> dict[int, int]:
        info = self.info
        out = {
            info.control_register: info.run_command if self.running else info.stop_command,
            info.frequency_register: self.setpoint,
        }
        if info.output_frequency_register is not None:
            out[info.output_frequency_register] = self.setpoint if self.running else 0
        return out

    def read(self, function: int, address: int, count: int) -> list[int] | int:
        registers = self._holding()
        if function != rtu.READ_HOLDING:
            return rtu.ILLEGAL_FUNCTION
        try:
            return [registers[a] for a in range(address, address + count)]
        except KeyError:
            return rtu.ILLEGAL_ADDRESS

    def write(self, address: int, values: tuple[int, ...]) -> int | None:
        info = self.info
        for offset, value in enumerate(values):
            register = address + offset
            if register == info.control_register:
                if value not in (info.run_command, info.stop_command):
                    return rtu.ILLEGAL_VALUE
                self.running = value == info.run_command
            elif register == info.frequency_register:
                if value * info.frequency_unit_hz > info.max_frequency_hz * 1.0001:
                    return rtu.ILLEGAL_VALUE
                self.setpoint = value
            else:
                return rtu.ILLEGAL_ADDRESS
        self.writes += 1
        demand = self._frequency_hz() / info.max_frequency_hz
        self.world.set_drive(self.clock.now(), running=self.running, demand=demand)
        return None


class SimulatedThermometer:
    """A temperature transmitter in the line: one register, the water temperature."""

    def __init__(
        self, info: Thermometer, world: WaterWorld, clock: Clock, error_c: float = 0.0
    ) -> None:
        self.info = info
        self.world = world
        self.clock = clock
        self.error_c = error_c

    def read(self, function: int, address: int, count: int) -> list[int] | int:
        wanted = rtu.READ_INPUT if self.info.input_register else rtu.READ_HOLDING
        if function != wanted:
            return rtu.ILLEGAL_FUNCTION
        if address != self.info.address or count != 1:
            return rtu.ILLEGAL_ADDRESS
        celsius = self.world.temperature_c(self.clock.now()) + self.error_c
        value = round(celsius / self.info.scale_c)
        return [rtu.from_signed(value) if self.info.signed else max(0, value) & 0xFFFF]

    def write(self, address: int, values: tuple[int, ...]) -> int | None:
        return rtu.ILLEGAL_FUNCTION


def serve_request(servers: dict[int, ModbusServer], frame: rtu.Frame) -> bytes | None:
    """The reply to one request (None: not ours, or a broadcast)."""
    server = servers.get(frame.unit)
    if server is None and frame.unit != rtu.BROADCAST:
        return None
    try:
        request = rtu.parse_request(frame)
    except rtu.ModbusFrameError:
        return rtu.exception_reply(frame.unit, frame.function, rtu.ILLEGAL_FUNCTION)
    if frame.unit == rtu.BROADCAST:
        if request.values:
            for each in servers.values():
                each.write(request.address, request.values)
        return None
    assert server is not None
    if request.function in (rtu.READ_HOLDING, rtu.READ_INPUT):
        values = server.read(request.function, request.address, request.count)
        if isinstance(values, int):
            return rtu.exception_reply(frame.unit, frame.function, values)
        return rtu.read_reply(frame.unit, frame.function, values)
    problem = server.write(request.address, request.values)
    if problem is not None:
        return rtu.exception_reply(frame.unit, frame.function, problem)
    if request.function == rtu.WRITE_SINGLE:
        return rtu.write_single_reply(frame.unit, request.address, request.values[0])
    return rtu.write_multiple_reply(frame.unit, request.address, request.count)


class ModbusLineEndpoint(DeviceEndpoint):
    """Every Modbus server of the bench on one line (a pty, or in memory), as on one RS-485
    line; it only answers."""

    def __init__(self, servers: dict[int, ModbusServer], device: Any) -> None:
        super().__init__(device)
        self.servers = servers
        self._decoder = rtu.StreamDecoder(replies=False)
        self.requests = 0

    def serve(self, data: bytes) -> None:
        for frame in self._decoder.feed(data) if data else ():
            self.requests += 1
            reply = serve_request(self.servers, frame)
            if reply:
                self.device.send(reply)


__all__ = [
    "ModbusLineEndpoint",
    "ModbusServer",
    "SimulatedDrive",
    "SimulatedThermometer",
    "serve_request",
]
