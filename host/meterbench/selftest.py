"""Commissioning checks of a bench: is every part of it there and working?

A lab that builds, moves or repairs a bench needs to know, before it verifies meters on it, that
every controller answers with the expected firmware, every position's pulse input counts against
the reference standard, every meter port answers, the source reaches its setpoints and the clock
reference input is wired. The same checks serve ``meterbench selftest`` (for an operator) and the
bench test suite (``hil_tests``), on a simulated bench and a real one alike: they only see the
bench config's endpoint URLs.

A device that cannot be opened or does not answer is a failed check, never the end of the
self-test, so one run lists everything that is wrong. Budgets are in the bench clock's seconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from meterbench.clock import Clock
from meterbench.config.bench import BenchConfig
from meterbench.devices.controller import ControllerClient, ControllerError
from meterbench.runner.context import ResultRouter
from meterbench.transport.bus import Bus, BusTiming
from meterbench.transport.errors import TransportError
from meterbench.transport.settings import SerialSettings
from meterproto.link import messages as m


@dataclass(frozen=True)
class MeterInfo:
    """What the self-test knows of the meter in a position (from [sim] or a meter list)."""

    address: str | None = None
    meter_type: Any = None  # the meter type (of the bench's kind), when known


@dataclass
class Options:
    voltage_v: float | None = None  # None: the meters' Un, else 220 V
    current_a: float | None = None  # None: the meters' Ib (In), else 5 A
    pulses: int = 2  # meter pulses per test reading
    tolerance_pct: float = 5.0  # a position's pulse error may be off by this much
    source_tolerance_pct: float = 1.0  # setpoint vs read-back
    timebase_tolerance_pct: float = 1.0  # time-base counts per second pulse vs its frequency
    period_cycles: int = 2  # second pulses per period reading


@dataclass
class Check:
    """One finding. ``passed`` None: skipped, with the reason in ``detail``."""

    kind: str  # controller, source, pulses, meter_port, clock_reference
    subject: str
    passed: bool | None
    detail: str
    position: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    bench: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed is not False for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.passed is False]

    def of_kind(self, kind: str) -> list[Check]:
        return [c for c in self.checks if c.kind == kind]

    def to_json(self) -> dict[str, Any]:
        return {
            "bench": self.bench,
            "passed": self.passed,
            "checks": [asdict(c) for c in self.checks],
        }


def _text(value: Any) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


class Devices:
    """The bench's devices, each opened on its own: what cannot be opened is in ``failed``.
    Controllers and meter buses are opened here; the kind's checks open their own devices
    into ``own`` and register how to switch them off and close them in ``closers``."""

    def __init__(self, config: BenchConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.controllers: dict[str, ControllerClient] = {}
        self.buses: dict[str, Bus] = {}
        self.failed: list[Check] = []
        self.routers: dict[str, ResultRouter] = {}
        self.own: dict[str, Any] = {}
        self.closers: list[Callable[[], Awaitable[None]]] = []

    @classmethod
    async def open(cls, config: BenchConfig, clock: Clock) -> Devices:
        self = cls(config, clock)
        for info in config.controllers:
            try:
                self.controllers[info.id] = await ControllerClient.open(info.url, info.baudrate)
            except (ControllerError, OSError, ValueError) as exc:
                self.failed.append(Check("controller", info.id, False, str(exc)))
        for bus_info in config.buses:
            bus = Bus(
                bus_info.url,
                SerialSettings(
                    bus_info.baudrate, bus_info.parity, bus_info.bytesize, bus_info.stopbits
                ),
                timing=BusTiming(response_window=bus_info.response_delay_max_s),
                name=bus_info.id,
            )
            try:
                self.buses[bus_info.id] = await bus.open()
            except (TransportError, OSError) as exc:
                self.failed.append(Check("meter_bus", bus_info.id, False, str(exc)))
        return self

    def router(self, controller_id: str) -> ResultRouter:
        if controller_id not in self.routers:
            self.routers[controller_id] = ResultRouter(self.controllers[controller_id])
        return self.routers[controller_id]

    async def close(self) -> None:
        for router in self.routers.values():
            await router.close()
        for closer in reversed(self.closers):
            with contextlib.suppress(Exception):
                await closer()
        for closable in [*self.controllers.values(), *self.buses.values()]:
            with contextlib.suppress(Exception):
                await closable.close()


def simulated_meters(simulator: Any) -> dict[int, MeterInfo]:
    """What a simulated bench's [sim] section says sits in each position."""
    return {
        number: MeterInfo(simulator.section.address_for(number), meter_type)
        for number, meter_type in simulator.meter_types.items()
    }


def listed_meters(path: Any) -> dict[int, MeterInfo]:
    """The positions, addresses and types of a meter list (CSV or TOML)."""
    from meterbench.runner.meters import load_meters

    return {e.position: MeterInfo(e.address, e.meter_type) for e in load_meters(path)}


# -- the checks -----------------------------------------------------------------------------------


async def check_controllers(devices: Devices) -> list[Check]:
    """HELLO from every controller: firmware version, protocol, channels, not in safe mode."""
    out = []
    for cid, client in devices.controllers.items():
        channels = [p.channel for p in devices.config.positions if p.controller == cid]
        try:
            hello = await client.hello()
        except ControllerError as exc:
            out.append(Check("controller", cid, False, f"no HELLO: {exc}"))
            continue
        data = {k: _text(v) if isinstance(v, bytes) else v for k, v in hello.fields.items()}
        problems = []
        if m.version_major(hello["protocol"]) != m.version_major(m.PROTOCOL_VERSION):
            problems.append(f"link protocol {hello['protocol']:#06x} is not ours")
        if hello["flags"] & m.FLAG_SAFE_MODE:
            problems.append("booted in safe mode")
        if not hello["caps"] & m.CAP_ERROR:
            problems.append("cannot measure errors")
        if channels and max(channels) >= hello["positions"]:
            problems.append(
                f"has {hello['positions']} channels, the bench uses {max(channels) + 1}"
            )
        text = f"firmware {data['fw_version']} ({data['fw_hash'][:12]}) on {data['board']}"
        out.append(Check("controller", cid, not problems, "; ".join([text, *problems]), data=data))
    return out


async def _first_result(
    devices: Devices, controller_id: str, channel: int, msg_type: int, budget_s: float
) -> Any:
    """The next result of ``msg_type`` on a channel within ``budget_s`` clock seconds."""
    router = devices.router(controller_id)
    deadline = devices.clock.now() + budget_s
    period = msg_type == m.PERIOD_READING  # second-pulse periods have a queue of their own
    while True:
        left = max(0.0, deadline - devices.clock.now())
        msg = await router.get(channel, left, devices.clock, period=period)
        if msg.msg_type == msg_type:
            return msg


async def run_checks(
    devices: Devices, meters: dict[int, MeterInfo], options: Options | None = None
) -> Report:
    """Every check, in the order an operator reads them: the controllers, then the bench's
    kind's own (its instruments, pulse inputs, meter ports); its devices are safe at the end."""
    options = options or Options()
    report = Report(devices.config.bench.id, list(devices.failed))
    report.checks += await check_controllers(devices)
    report.checks += await devices.config.kind.selftest(devices, meters, options)
    return report


async def check_bench(
    config: BenchConfig, clock: Clock, meters: dict[int, MeterInfo], options: Options | None = None
) -> Report:
    """Open the bench, run every check, close it again."""
    devices = await Devices.open(config, clock)
    try:
        return await run_checks(devices, meters, options)
    finally:
        await devices.close()
