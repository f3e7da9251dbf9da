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

import asyncio
import contextlib
from dataclasses import asdict, dataclass, field
from typing import Any

from meterbench.config.bench import BenchConfig
from meterbench.config.meter_types import ElectricityMeterType
from meterbench.devices.controller import ControllerClient, ControllerError
from meterbench.devices.dlt645_client import Dlt645Client
from meterbench.devices.source import ScpiSource, SourceError, deviation
from meterbench.electrical import Setpoint
from meterbench.regulations.pulses import error_from_counts
from meterbench.runner.context import ResultRouter
from meterbench.sim.clock import Clock
from meterbench.transport.bus import Bus, BusTiming
from meterbench.transport.errors import TransportError
from meterbench.transport.settings import SerialSettings
from meterproto.dlt645.messages import MultiFunctionOutput
from meterproto.link import messages as m


@dataclass(frozen=True)
class MeterInfo:
    """What the self-test knows of the meter in a position (from [sim] or a meter list)."""

    address: str | None = None
    meter_type: ElectricityMeterType | None = None


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


def _wall(clock: Clock, seconds: float) -> float:
    """Wall seconds that ``seconds`` of the bench clock last (a simulated clock runs faster)."""
    return float(getattr(clock, "wall_seconds", lambda s: s)(seconds))


class Devices:
    """The bench's devices, each opened on its own: what cannot be opened is in ``failed``."""

    def __init__(self, config: BenchConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.source: ScpiSource | None = None
        self.controllers: dict[str, ControllerClient] = {}
        self.buses: dict[str, Bus] = {}
        self.failed: list[Check] = []
        self.reference_constant: float | None = None
        self.routers: dict[str, ResultRouter] = {}

    @classmethod
    async def open(cls, config: BenchConfig, clock: Clock) -> Devices:
        self = cls(config, clock)
        src = config.source
        try:
            self.source = await ScpiSource.open(
                src.url, SerialSettings(src.baudrate, src.parity), timeout_s=src.timeout_s
            )
            self.reference_constant = await self.source.reference_constant()
        except (SourceError, TransportError, OSError) as exc:
            self.failed.append(Check("source", "source", False, str(exc)))
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
        if self.source is not None:
            with contextlib.suppress(Exception):
                await self.source.output_off()
            with contextlib.suppress(Exception):
                await self.source.close()
        for closable in [*self.controllers.values(), *self.buses.values()]:
            with contextlib.suppress(Exception):
                await closable.close()


def simulated_meters(bench: Any) -> dict[int, MeterInfo]:
    """What a simulated bench's [sim] section says sits in each position."""
    section = bench.section
    return {
        number: MeterInfo(section.address_for(number), meter_type)
        for number, meter_type in bench.meter_types.items()
    }


def listed_meters(path: Any) -> dict[int, MeterInfo]:
    """The positions, addresses and types of a meter list (CSV or TOML)."""
    from meterbench.runner.meters import load_meters

    out = {}
    for entry in load_meters(path):
        meter_type = entry.meter_type
        if not isinstance(meter_type, ElectricityMeterType):
            meter_type = None
        out[entry.position] = MeterInfo(entry.address, meter_type)
    return out


def load_for(config: BenchConfig, meters: dict[int, MeterInfo], options: Options) -> Setpoint:
    """The load of the pulse check: the meters' Un and Ib (or In) unless given, PF 1."""
    types = [i.meter_type for i in meters.values() if i.meter_type is not None]
    first = types[0] if types else None
    voltage = options.voltage_v or (float(first.un_v) if first else 220.0)
    base = (first.ib_a or first.in_a) if first else None
    current = options.current_a or (float(base) if base else 5.0)
    voltage = min(voltage, float(config.bench.max_voltage_v))
    current = min(current, float(config.bench.max_current_a))
    return Setpoint.balanced(config.bench.wiring, voltage, current, 1.0)


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


async def check_source(devices: Devices, load: Setpoint, options: Options) -> list[Check]:
    """Set the test load; the source must become stable and read back what was set."""
    if devices.source is None:
        return []
    source = devices.source
    wait_s = _wall(devices.clock, float(devices.config.source.settle_timeout_s)) + 2.0
    try:
        identity = await source.identify()
        await source.apply(load)
        measured = await source.wait_stable(wait_s)
    except SourceError as exc:
        return [Check("source", "source", False, str(exc))]
    worst = deviation(load, measured) * 100
    text = (
        f"{identity}: set {load.phases[0].voltage_v:g} V {load.phases[0].current_a:g} A, "
        f"read {measured.voltages_v[0]:g} V {measured.currents_a[0]:g} A "
        f"({worst:.3f} % off)"
    )
    data = {"identity": identity, "deviation_pct": worst, "power_w": measured.active_power_w}
    return [Check("source", "source", worst <= options.source_tolerance_pct, text, data=data)]


async def _first_result(
    devices: Devices, controller_id: str, channel: int, msg_type: int, budget_s: float
) -> Any:
    """The next result of ``msg_type`` on a channel within ``budget_s`` clock seconds."""
    router = devices.router(controller_id)
    deadline = devices.clock.now() + budget_s
    while True:
        msg = await router.get(channel, max(0.0, deadline - devices.clock.now()), devices.clock)
        if msg.msg_type == msg_type:
            return msg


async def check_pulses(
    devices: Devices, meters: dict[int, MeterInfo], load: Setpoint, options: Options
) -> list[Check]:
    """At the test load, one gated reading per position: pulses counted against the reference,
    and the error within the tolerance where the meter constant is known."""
    if devices.source is None or devices.reference_constant is None:
        return []
    try:
        await devices.source.apply(load)
        settle_s = float(devices.config.source.settle_timeout_s)
        await devices.source.wait_stable(_wall(devices.clock, settle_s) + 2.0)
    except SourceError as exc:
        return [Check("pulses", "source", False, f"test load not reached: {exc}")]
    standard = devices.config.standard

    async def one(position: int, controller_id: str, channel: int) -> Check:
        subject = f"position {position}"
        meter_type = meters.get(position, MeterInfo()).meter_type
        constant = float(meter_type.constant_imp_per_kwh) if meter_type else None
        reading_s = 120.0
        if constant:
            reading_s = options.pulses / (constant * max(load.active_power_w, 1e-9) / 3.6e6)
        client = devices.controllers[controller_id]
        devices.router(controller_id).drain(channel)
        try:
            await client.request(
                m.ERR_START, position=channel, pulses=options.pulses, readings=1, skip=0
            )
            msg = await _first_result(
                devices, controller_id, channel, m.ERR_READING, reading_s * 3 + 30
            )
        except TimeoutError:
            return Check("pulses", subject, False, "no reading: no meter pulses?", position)
        except ControllerError as exc:
            return Check("pulses", subject, False, f"controller {controller_id}: {exc}", position)
        finally:
            with contextlib.suppress(ControllerError):
                await client.request(m.STOP, position=channel, functions=m.FN_ALL)
        data = {k: msg[k] for k in ("pulses", "ref_count", "gate_ticks", "flags")}
        if msg["ref_count"] <= 0:
            return Check("pulses", subject, False, "no reference pulses counted", position, data)
        if constant is None:
            text = f"{msg['pulses']} pulses against {msg['ref_count']} reference counts"
            return Check(
                "pulses", subject, True, text + " (meter constant unknown)", position, data
            )
        error = float(
            error_from_counts(
                msg["ref_count"],
                msg["pulses"],
                constant,
                devices.reference_constant,  # type: ignore[arg-type]
                standard.ct_ratio,
                standard.vt_ratio,
            )
        )
        data["error_pct"] = error
        passed = abs(error) <= options.tolerance_pct
        text = f"{error:+.3f} %"
        if not passed:
            text += f" beyond ±{options.tolerance_pct:g} %: wiring or meter constant?"
        return Check("pulses", subject, passed, text, position, data)

    jobs = [
        one(p.number, p.controller, p.channel)
        for p in devices.config.positions
        if p.controller in devices.controllers
    ]
    return list(await asyncio.gather(*jobs))


def _single_meter_buses(config: BenchConfig) -> set[str]:
    counts: dict[str, int] = {}
    for p in config.positions:
        if p.bus is not None:
            counts[p.bus] = counts.get(p.bus, 0) + 1
    return {bus for bus, n in counts.items() if n == 1}


def _edition(info: MeterInfo) -> int:
    protocol = info.meter_type.protocol if info.meter_type is not None else "dlt645-2007"
    return 1997 if protocol == "dlt645-1997" else 2007


async def check_meter_ports(devices: Devices, meters: dict[int, MeterInfo]) -> list[Check]:
    """Every position with a meter bus: its meter answers a read of its address (unicast to
    the known address, or 13H when it is the only meter on its bus)."""
    alone = _single_meter_buses(devices.config)

    async def one(position: int, bus_id: str) -> Check:
        subject = f"position {position}"
        info = meters.get(position, MeterInfo())
        address = info.address
        if info.meter_type is not None and not info.meter_type.protocol.startswith("dlt645"):
            return Check("meter_port", subject, None, "the meter has no DL/T 645 port", position)
        if address is None and bus_id not in alone:
            return Check(
                "meter_port", subject, None, "address unknown (give a meter list)", position
            )
        client = Dlt645Client(devices.buses[bus_id], address or b"\xaa" * 6, version=_edition(info))
        try:
            # to the wildcard the only meter answers; to a known address, that meter reads its
            # own address from its edition's identifier
            answered = await client.read_address()
        except Exception as exc:  # noqa: BLE001 - any failure is this port's finding
            return Check("meter_port", subject, False, str(exc), position)
        passed = address is None or answered == address
        text = f"address {answered}"
        if not passed:
            text += f", expected {address}"
        return Check("meter_port", subject, passed, text, position, {"address": answered})

    async def bus_in_turn(bus_id: str, positions: list[int]) -> list[Check]:
        return [await one(position, bus_id) for position in positions]

    by_bus: dict[str, list[int]] = {}
    for p in devices.config.positions:
        if p.bus is not None and p.bus in devices.buses:
            by_bus.setdefault(p.bus, []).append(p.number)
    results = await asyncio.gather(*(bus_in_turn(b, ps) for b, ps in by_bus.items()))
    return sorted((c for group in results for c in group), key=lambda c: c.position or 0)


async def check_clock_reference(
    devices: Devices, meters: dict[int, MeterInfo], options: Options
) -> list[Check]:
    """Per controller: a meter's second pulse measured against the time base (PERIOD) gives
    about ``frequency_hz`` counts per second. Needs one position with a clock meter."""
    config = devices.config
    frequency = float(config.timebase.frequency_hz)
    alone = _single_meter_buses(config)
    out = []
    for cid, client in devices.controllers.items():
        chosen = None
        for p in config.positions:
            info = meters.get(p.number, MeterInfo())
            if p.controller != cid or p.bus not in devices.buses or not _may_tick(info):
                continue
            if info.address is None and p.bus not in alone:
                continue
            meter = Dlt645Client(
                devices.buses[p.bus], info.address or b"\xaa" * 6, version=_edition(info)
            )
            with contextlib.suppress(Exception):
                await meter.set_multi_function_output(MultiFunctionOutput.CLOCK_SECOND_PULSE)
                chosen = p
                break
        if chosen is None:
            out.append(
                Check("clock_reference", cid, None, "no position whose meter gives second pulses")
            )
            continue
        devices.router(cid).drain(chosen.channel)
        cycles = options.period_cycles
        try:
            await client.request(
                m.PERIOD_START, position=chosen.channel, cycles=cycles, readings=1, skip=1
            )
            msg = await _first_result(
                devices, cid, chosen.channel, m.PERIOD_READING, cycles * 3.0 + 30.0
            )
        except TimeoutError:
            out.append(Check("clock_reference", cid, False, "no period reading: no second pulses"))
            continue
        except ControllerError as exc:
            out.append(Check("clock_reference", cid, False, str(exc)))
            continue
        finally:
            with contextlib.suppress(ControllerError):
                await client.request(m.STOP, position=chosen.channel, functions=m.FN_ALL)
        per_second = msg["timebase_count"] / max(1, msg["cycles"])
        off = (per_second - frequency) / frequency * 100
        passed = abs(off) <= options.timebase_tolerance_pct
        text = (
            f"position {chosen.number}: {per_second:.0f} time-base counts per second pulse "
            f"({off:+.4f} % from {frequency:g} Hz)"
        )
        if not passed:
            text += ": is the time base wired?"
        data = {"position": chosen.number, "counts_per_second": per_second, "offset_pct": off}
        out.append(Check("clock_reference", cid, passed, text, data=data))
    return out


def _may_tick(info: MeterInfo) -> bool:
    """Can this meter give second pulses (unknown types are tried)?"""
    return info.meter_type is None or bool(info.meter_type.clock)


async def run_checks(
    devices: Devices, meters: dict[int, MeterInfo], options: Options | None = None
) -> Report:
    """Every check, in the order an operator reads them; the source is off at the end."""
    options = options or Options()
    load = load_for(devices.config, meters, options)
    report = Report(devices.config.bench.id, list(devices.failed))
    report.checks += await check_controllers(devices)
    report.checks += await check_source(devices, load, options)
    report.checks += await check_pulses(devices, meters, load, options)
    if devices.source is not None:
        idle = Setpoint.balanced(load.wiring, load.phases[0].voltage_v, 0.0, 1.0)
        with contextlib.suppress(SourceError):
            await devices.source.apply(idle)  # the meters stay powered, no energy flows
    report.checks += await check_meter_ports(devices, meters)
    report.checks += await check_clock_reference(devices, meters, options)
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
