"""Commissioning checks of an electricity bench, beside the controller checks every bench
gets (``meterbench.selftest``): the source reaches its setpoints and reads them back, every
position's pulse input counts against the reference standard, every meter port answers a DL/T
645 read, and the clock reference input is wired.

The source is opened by the first check that needs it (a source that cannot be opened is a
failed check, never the end of the self-test) and switched off when the devices close.
"""

from __future__ import annotations

import asyncio
import contextlib

from meterbench.config.bench import BenchConfig
from meterbench.config.meter_types import ElectricityMeterType
from meterbench.devices.controller import ControllerError
from meterbench.devices.dlt645_client import Dlt645Client
from meterbench.devices.source import ScpiSource, SourceError, deviation
from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.config import source_of
from meterbench.regulations.pulses import error_from_counts
from meterbench.selftest import Check, Devices, MeterInfo, Options, _first_result
from meterbench.transport.errors import TransportError
from meterbench.transport.settings import SerialSettings
from meterproto.dlt645.messages import MultiFunctionOutput
from meterproto.link import messages as m


def _wall(devices: Devices, seconds: float) -> float:
    """Wall seconds that ``seconds`` of the bench clock last (a simulated clock runs faster)."""
    return devices.clock.wall_seconds(seconds)


def _type(info: MeterInfo) -> ElectricityMeterType | None:
    return info.meter_type if isinstance(info.meter_type, ElectricityMeterType) else None


async def open_source(devices: Devices) -> ScpiSource | None:
    """The source, opened once per Devices (its reference constant read); None when it cannot
    be opened (``own["source_problem"]`` says why, and the source check fails with it)."""
    if "source" in devices.own:
        return devices.own["source"]
    src = source_of(devices.config)
    source: ScpiSource | None = None
    try:
        source = await ScpiSource.open(
            src.url, SerialSettings(src.baudrate, src.parity), timeout_s=src.timeout_s
        )
        devices.own["reference_constant"] = await source.reference_constant()
    except (SourceError, TransportError, OSError) as exc:
        devices.own["source_problem"] = str(exc)
        if source is not None:
            with contextlib.suppress(Exception):
                await source.close()
        source = None
    devices.own["source"] = source
    if source is not None:
        opened = source

        async def close() -> None:
            with contextlib.suppress(Exception):
                await opened.output_off()
            await opened.close()

        devices.closers.append(close)
    return source


def load_for(config: BenchConfig, meters: dict[int, MeterInfo], options: Options) -> Setpoint:
    """The load of the pulse check: the meters' Un and Ib (or In) unless given, PF 1."""
    types = [t for t in map(_type, meters.values()) if t is not None]
    first = types[0] if types else None
    voltage = options.voltage_v or (float(first.un_v) if first else 220.0)
    base = (first.ib_a or first.in_a) if first else None
    current = options.current_a or (float(base) if base else 5.0)
    voltage = min(voltage, float(config.bench.max_voltage_v))
    current = min(current, float(config.bench.max_current_a))
    return Setpoint.balanced(config.bench.wiring, voltage, current, 1.0)


async def check_source(devices: Devices, load: Setpoint, options: Options) -> list[Check]:
    """Set the test load; the source must become stable and read back what was set."""
    source = await open_source(devices)
    if source is None:
        return [Check("source", "source", False, devices.own["source_problem"])]
    wait_s = _wall(devices, float(source_of(devices.config).settle_timeout_s)) + 2.0
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


async def check_pulses(
    devices: Devices, meters: dict[int, MeterInfo], load: Setpoint, options: Options
) -> list[Check]:
    """At the test load, one gated reading per position: pulses counted against the reference,
    and the error within the tolerance where the meter constant is known."""
    source = await open_source(devices)
    if source is None:
        return []
    reference_constant = float(devices.own["reference_constant"])
    try:
        await source.apply(load)
        settle_s = float(source_of(devices.config).settle_timeout_s)
        await source.wait_stable(_wall(devices, settle_s) + 2.0)
    except SourceError as exc:
        return [Check("pulses", "source", False, f"test load not reached: {exc}")]
    standard = devices.config.standard

    async def one(position: int, controller_id: str, channel: int) -> Check:
        subject = f"position {position}"
        meter_type = _type(meters.get(position, MeterInfo()))
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
                reference_constant,
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
    meter_type = _type(info)
    protocol = meter_type.protocol if meter_type is not None else "dlt645-2007"
    return 1997 if protocol == "dlt645-1997" else 2007


async def check_meter_ports(devices: Devices, meters: dict[int, MeterInfo]) -> list[Check]:
    """Every position with a meter bus: its meter answers a read of its address (unicast to
    the known address, or 13H when it is the only meter on its bus)."""
    alone = _single_meter_buses(devices.config)

    async def one(position: int, bus_id: str) -> Check:
        subject = f"position {position}"
        info = meters.get(position, MeterInfo())
        address = info.address
        meter_type = _type(info)
        if meter_type is not None and not meter_type.protocol.startswith("dlt645"):
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
        devices.router(cid).drain(chosen.channel, period=True)
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
    meter_type = _type(info)
    return meter_type is None or bool(meter_type.clock)


async def electricity_checks(
    devices: Devices, meters: dict[int, MeterInfo], options: Options
) -> list[Check]:
    """The source, the pulse inputs, the meter ports and the clock reference, in that order;
    the meters stay powered without load while their ports are read."""
    load = load_for(devices.config, meters, options)
    checks = await check_source(devices, load, options)
    checks += await check_pulses(devices, meters, load, options)
    source = devices.own.get("source")
    if source is not None:
        idle = Setpoint.balanced(load.wiring, load.phases[0].voltage_v, 0.0, 1.0)
        with contextlib.suppress(SourceError):
            await source.apply(idle)  # the meters stay powered, no energy flows
    checks += await check_meter_ports(devices, meters)
    checks += await check_clock_reference(devices, meters, options)
    return checks


__all__ = [
    "check_clock_reference",
    "check_meter_ports",
    "check_pulses",
    "check_source",
    "electricity_checks",
    "load_for",
]
