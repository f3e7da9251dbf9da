"""``meterbench meter ...`` (talk to meters on a port) and ``meterbench sim meter`` (serve
simulated meters on TCP or a pty).

Every failure ends in one line on stderr and a non-zero exit status that says what kind of
failure it was, so scripts and operators can tell a wrong port from a silent meter:

    2  bad arguments        3  port cannot be opened or vanished
    4  no reply (timeout)   5  abnormal reply (the meter refused)   6  bad or corrupt reply

``--trace`` prints every raw frame both ways on stderr as it happens (passwords masked).
Heavy imports happen inside the commands, so ``meterbench --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from meterbench.devices.dlt645_client import Dlt645Client, Reading
    from meterbench.transport import Bus

EXIT_USAGE = 2
EXIT_PORT = 3
EXIT_TIMEOUT = 4
EXIT_ABNORMAL = 5
EXIT_BAD_REPLY = 6

PASSWORD_ENV = "METERBENCH_METER_PASSWORD"

meter_app = typer.Typer(
    name="meter",
    help="Read, address, time-set and scan DL/T 645 (and read DL/T 698.45) meters on a port.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sim_app = typer.Typer(
    name="sim",
    help="Simulated devices that speak the real wire protocols.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# -- shared options ----------------------------------------------------------------------------

PortOpt = Annotated[
    str,
    typer.Option(
        "--port",
        help="Device path or pyserial URL: /dev/ttyUSB0, socket://host:port, rfc2217://...",
    ),
]
BaudOpt = Annotated[int, typer.Option("--baud", help="Line rate in bit/s.")]
ParityOpt = Annotated[str, typer.Option("--parity", help="N, E, O, M or S.")]
BytesizeOpt = Annotated[int, typer.Option("--bytesize", help="Data bits.")]
StopbitsOpt = Annotated[float, typer.Option("--stopbits", help="Stop bits: 1, 1.5 or 2.")]
TraceOpt = Annotated[
    bool, typer.Option("--trace", help="Print the raw frames both ways on stderr.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]
EditionOpt = Annotated[int, typer.Option("--edition", help="DL/T 645 edition: 2007 or 1997.")]
ProtocolOpt = Annotated[
    str, typer.Option("--protocol", help="dlt645 (DL/T 645, see --edition) or dlt698 (698.45).")
]
RetriesOpt = Annotated[
    int, typer.Option("--retries", help="Retries after a timeout or a corrupt reply.")
]


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _settings(baud: int, parity: str, bytesize: int, stopbits: float) -> Any:
    from meterbench.transport import SerialSettings

    try:
        stop: float = int(stopbits) if float(stopbits).is_integer() else stopbits
        return SerialSettings(baud, parity, bytesize, stop)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)


def _check_address(address: str | None) -> None:
    from meterproto.dlt645.frame import EncodeError, address_from_text

    if address is None:
        return
    try:
        address_from_text(address)
    except EncodeError as exc:
        fail(f"bad meter address {address!r}: {exc}", EXIT_USAGE)


def _run(
    url: str, settings: Any, trace: bool, retries: int, work: Callable[[Bus], Awaitable[None]]
) -> None:
    """Open a bus on ``url``, run ``work`` and map every failure to a line and an exit code."""
    from meterbench.devices.errors import (
        MeterAbnormalReply,
        MeterBadReply,
        MeterTimeout,
    )
    from meterbench.transport import Bus, BusTiming, TransportError

    async def main() -> None:
        bus = Bus(url, settings, timing=BusTiming(retries=retries))
        if trace:
            bus.trace.listen(lambda entry: print(entry.format(), file=sys.stderr, flush=True))
        await bus.open()
        try:
            await work(bus)
        finally:
            await bus.close()

    try:
        asyncio.run(main())
    except TransportError as exc:
        fail(str(exc), EXIT_PORT)
    except MeterTimeout as exc:
        fail(str(exc), EXIT_TIMEOUT)
    except MeterAbnormalReply as exc:
        fail(str(exc), EXIT_ABNORMAL)
    except MeterBadReply as exc:
        fail(str(exc), EXIT_BAD_REPLY)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        fail("interrupted", 130)


def _client(bus: Bus, address: str | None, edition: int, **kwargs: Any) -> Dlt645Client:
    from meterbench.devices.dlt645_client import Dlt645Client

    if address is None:
        return Dlt645Client(bus, version=edition, **kwargs)
    return Dlt645Client(bus, address, version=edition, **kwargs)


def _format_value(value: Any) -> str:
    import datetime as dt

    if isinstance(value, list | tuple):
        return ", ".join(_format_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_format_value(v)}" for k, v in value.items())
    if isinstance(value, dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def _print_reading(reading: Reading, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(reading.to_json(), ensure_ascii=False))
        return
    if reading.value is None:
        text = f"n/a ({reading.problem}; raw {reading.raw.hex() or 'empty'})"
    else:
        text = _format_value(reading.value) + (f" {reading.unit}" if reading.unit else "")
    typer.echo(f"{reading.di_text}  {reading.name}: {text}")


# -- meterbench meter ... ----------------------------------------------------------------------


@meter_app.command("read")
def read_command(
    dis: Annotated[list[str], typer.Argument(help="Data identifiers, e.g. 00010000 02010100.")],
    port: PortOpt,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Meter address (12 digits); omit for the wildcard."),
    ] = None,
    baud: BaudOpt = 2400,
    parity: ParityOpt = "E",
    bytesize: BytesizeOpt = 8,
    stopbits: StopbitsOpt = 1,
    edition: EditionOpt = 2007,
    protocol: ProtocolOpt = "dlt645",
    retries: RetriesOpt = 2,
    as_json: JsonOpt = False,
    trace: TraceOpt = False,
) -> None:
    """Read data identifiers (698.45: OADs) and print each one's name, value and unit."""
    from meterproto.dlt645.di import lookup, parse_di

    settings = _settings(baud, parity, bytesize, stopbits)
    if protocol == "dlt698":
        _read_698(dis, port, address, settings, trace, retries, as_json)
        return
    if protocol != "dlt645":
        fail(f"--protocol must be dlt645 or dlt698, got {protocol!r}", EXIT_USAGE)
    _check_address(address)
    if edition not in (1997, 2007):
        fail("--edition must be 2007 or 1997", EXIT_USAGE)
    numbers = []
    for di in dis:
        try:
            number = parse_di(di)
        except ValueError as exc:
            fail(str(exc), EXIT_USAGE)
        if (edition == 2007) != (len(di.strip().lower().removeprefix("0x").replace(" ", "")) == 8):
            fail(
                f"{di}: DL/T 645-{edition} identifiers have {8 if edition == 2007 else 4} "
                "hex digits",
                EXIT_USAGE,
            )
        if lookup(number, edition) is None:
            fail(f"{di}: not a DL/T 645-{edition} data identifier this program knows", EXIT_USAGE)
        numbers.append(number)

    async def work(bus: Bus) -> None:
        client = _client(bus, address, edition)
        for number in numbers:
            _print_reading(await client.read(number), as_json)

    _run(port, settings, trace, retries, work)


def _read_698(
    oads: list[str],
    port: str,
    address: str | None,
    settings: Any,
    trace: bool,
    retries: int,
    as_json: bool,
) -> None:
    """``meter read --protocol dlt698``: GET each OAD, values scaled by the catalogue."""
    from meterbench.devices.dlt698_client import WILDCARD, Dlt698Client
    from meterproto.dlt698.catalogue import split_oad
    from meterproto.dlt698.frame import EncodeError, address_from_text

    for oad in oads:
        try:
            split_oad(oad)
        except ValueError as exc:
            fail(str(exc), EXIT_USAGE)
    try:
        address_from_text(address or WILDCARD)
    except EncodeError as exc:
        fail(f"bad meter address {address!r}: {exc}", EXIT_USAGE)

    async def work(bus: Bus) -> None:
        client = Dlt698Client(bus, address or WILDCARD)
        for oad in oads:
            reading = await client.read(oad)
            if as_json:
                typer.echo(json.dumps(reading.to_json(), ensure_ascii=False))
                continue
            unit = f" {reading.unit}" if reading.unit else ""
            typer.echo(f"{reading.oad}  {reading.name}: {_format_value(reading.value)}{unit}")

    _run(port, settings, trace, retries, work)


@meter_app.command("address")
def address_command(
    port: PortOpt,
    baud: BaudOpt = 2400,
    parity: ParityOpt = "E",
    bytesize: BytesizeOpt = 8,
    stopbits: StopbitsOpt = 1,
    edition: EditionOpt = 2007,
    retries: RetriesOpt = 2,
    as_json: JsonOpt = False,
    trace: TraceOpt = False,
) -> None:
    """Read the address of the single meter on a port (wildcard read)."""
    settings = _settings(baud, parity, bytesize, stopbits)

    async def work(bus: Bus) -> None:
        found = await _client(bus, None, edition).read_address()
        typer.echo(json.dumps({"address": found}) if as_json else found)

    _run(port, settings, trace, retries, work)


@meter_app.command("set-time")
def set_time_command(
    port: PortOpt,
    broadcast: Annotated[
        bool, typer.Option("--broadcast", help="08H broadcast time sync (no reply, no password).")
    ] = False,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Meter address; omit to read it with the wildcard."),
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar=PASSWORD_ENV,
            show_envvar=True,
            help="LL:DDDDDD, privilege level and 6 digits (prefer the variable).",
        ),
    ] = None,
    operator: Annotated[str, typer.Option("--operator", help="Operator code (8 digits).")] = "0",
    when: Annotated[
        str | None, typer.Option("--time", help="ISO date-time to set; default: now.")
    ] = None,
    combined: Annotated[
        bool, typer.Option("--combined", help="Write 0400010C (date and time in one item).")
    ] = False,
    baud: BaudOpt = 2400,
    parity: ParityOpt = "E",
    bytesize: BytesizeOpt = 8,
    stopbits: StopbitsOpt = 1,
    edition: EditionOpt = 2007,
    retries: RetriesOpt = 2,
    trace: TraceOpt = False,
) -> None:
    """Set a meter's clock: 14H writes with a password, or an 08H broadcast."""
    import datetime as dt

    from meterbench.devices.dlt645_client import parse_password

    settings = _settings(baud, parity, bytesize, stopbits)
    _check_address(address)
    target: dt.datetime | None = None
    if when is not None:
        try:
            target = dt.datetime.fromisoformat(when).replace(microsecond=0, tzinfo=None)
        except ValueError:
            fail(f"--time {when!r} is not an ISO date-time (2025-03-14T09:26:53)", EXIT_USAGE)
    secret = None
    if not broadcast:
        if password is None:
            fail(
                f"set-time needs --password LL:DDDDDD (or {PASSWORD_ENV}); "
                "use --broadcast for a password-less 08H",
                EXIT_USAGE,
            )
        try:
            secret = parse_password(password)
        except ValueError as exc:
            fail(str(exc), EXIT_USAGE)
        if not operator.isdigit() or len(operator) > 8:
            fail("--operator is up to 8 digits", EXIT_USAGE)

    async def work(bus: Bus) -> None:
        client = _client(bus, address, edition, password=secret, operator=operator)
        if broadcast:
            sent = (target or client.clock()).replace(microsecond=0)
            await client.broadcast_time(sent)
            typer.echo(f"broadcast time {sent.isoformat(sep=' ')} sent (meters do not reply)")
            return
        if address is None:
            await client.read_address()
        await client.set_clock(target, combined=combined)
        typer.echo(
            f"meter {client.address}: clock set to "
            f"{(target or client.clock()).replace(microsecond=0).isoformat(sep=' ')}"
        )

    _run(port, settings, trace, retries, work)


def _address_range(text: str) -> list[str]:
    start, sep, end = text.partition("-")
    if not sep or not start.isdigit() or not end.isdigit() or len(start) > 12 or len(end) > 12:
        fail(f"--range {text!r}: write FIRST-LAST, two addresses of up to 12 digits", EXIT_USAGE)
    first, last = int(start), int(end)
    if last < first or last - first >= 1000:
        fail(f"--range {text!r}: LAST must follow FIRST, at most 1000 addresses", EXIT_USAGE)
    return [f"{n:012d}" for n in range(first, last + 1)]


@meter_app.command("scan")
def scan_command(
    port: PortOpt,
    addresses: Annotated[
        list[str] | None,
        typer.Option("--address", help="Address to probe; repeat for several."),
    ] = None,
    span: Annotated[
        str | None, typer.Option("--range", help="Probe every address FIRST-LAST.")
    ] = None,
    baud: BaudOpt = 2400,
    parity: ParityOpt = "E",
    bytesize: BytesizeOpt = 8,
    stopbits: StopbitsOpt = 1,
    edition: EditionOpt = 2007,
    retries: RetriesOpt = 1,
    as_json: JsonOpt = False,
    trace: TraceOpt = False,
) -> None:
    """Find meters: probe given addresses (unicast), or read the wildcard on a one-meter port."""
    settings = _settings(baud, parity, bytesize, stopbits)
    probes = list(addresses or [])
    for a in probes:
        _check_address(a)
    if span is not None:
        probes += _address_range(span)

    def show(found: str) -> None:
        typer.echo(json.dumps({"address": found}) if as_json else found)

    async def work(bus: Bus) -> None:
        from meterbench.devices.errors import MeterBadReply, MeterError, MeterTimeout

        if not probes:
            try:
                show(await _client(bus, None, edition).read_address())
            except MeterBadReply as exc:
                raise MeterBadReply(
                    f"{exc} -- several meters on this port? scan with --address or --range"
                ) from None
            return
        found = 0
        for probe in probes:
            client = _client(bus, probe, edition)
            try:
                await client.read(client.edition.address[0])
            except MeterTimeout:
                continue
            except MeterError as exc:  # it answered, even if only to refuse
                typer.echo(f"note: {exc}", err=True)
            show(client.address)
            found += 1
        typer.echo(f"{found} of {len(probes)} address(es) answered", err=True)
        if not found:
            raise MeterTimeout("no meter answered on this port", None)

    _run(port, settings, trace, retries, work)


# -- meterbench sim meter ----------------------------------------------------------------------


@sim_app.command("meter")
def sim_meter_command(
    listen: Annotated[
        str | None, typer.Option("--listen", help="Serve on TCP HOST:PORT (raw bytes).")
    ] = None,
    pty: Annotated[
        bool, typer.Option("--pty", help="Serve on a new pty; prints its path.")
    ] = False,
    link: Annotated[
        str | None, typer.Option("--link", help="With --pty: also create this symlink to it.")
    ] = None,
    addresses: Annotated[
        list[str] | None,
        typer.Option("--address", help="Meter address (12 digits); repeat for several meters."),
    ] = None,
    count: Annotated[
        int, typer.Option("--count", help="Meters with consecutive addresses from --address.")
    ] = 1,
    energy: Annotated[str, typer.Option("--energy", help="Forward active energy, kWh.")] = "0",
    voltage: Annotated[str, typer.Option("--voltage", help="Phase voltage, V.")] = "220.0",
    current: Annotated[str, typer.Option("--current", help="Phase current, A.")] = "5.000",
    power_factor: Annotated[str, typer.Option("--pf", help="Power factor.")] = "1.000",
    frequency: Annotated[str, typer.Option("--frequency", help="Grid frequency, Hz.")] = "50.00",
    constant: Annotated[int, typer.Option("--constant", help="Meter constant, imp/kWh.")] = 1200,
    tariffs: Annotated[int, typer.Option("--tariffs", help="Number of tariffs (1-63).")] = 4,
    delay: Annotated[
        float, typer.Option("--delay", help="Response delay, s (20-500 ms is normal).")
    ] = 0.05,
    fault: Annotated[
        str,
        typer.Option(
            "--fault",
            help="silent, slow, corrupt, wrong-checksum, echo, "
            "partial-echo, garbage, split, merge.",
        ),
    ] = "none",
    fault_count: Annotated[
        int | None, typer.Option("--fault-count", help="Misbehave only this many times.")
    ] = None,
    fault_probability: Annotated[
        float, typer.Option("--fault-probability", help="Chance of misbehaving per reply.")
    ] = 1.0,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar=PASSWORD_ENV,
            help="LL:DDDDDD: the meter's password at that level (default 000000).",
        ),
    ] = None,
    baud: Annotated[int, typer.Option("--baud", help="The meters' line rate.")] = 2400,
    pace: Annotated[
        bool, typer.Option("--pace", help="Send at the real wire rate (11 bits per byte).")
    ] = False,
    echo: Annotated[bool, typer.Option("--echo", help="The line echoes what it hears.")] = False,
    edition: EditionOpt = 2007,
    protocol: ProtocolOpt = "dlt645",
    water: Annotated[
        list[str] | None,
        typer.Option("--water", help="Also a CJ/T 188 water meter at this 14-digit address."),
    ] = None,
    volume: Annotated[str, typer.Option("--volume", help="Water meters' volume, m3.")] = "0",
) -> None:
    """Serve simulated meters on TCP or a pty until interrupted; prints the port to use."""
    from decimal import Decimal, InvalidOperation

    from meterbench.devices.dlt645_client import parse_password
    from meterbench.inputs import not_negative_problem
    from meterbench.sim.faults import Fault, FaultPlan
    from meterbench.sim.line import SimLine
    from meterbench.sim.meter_cjt188 import Cjt188WaterMeter
    from meterbench.sim.meter_dlt645 import Dlt645Meter
    from meterbench.sim.meter_dlt698 import Dlt698Meter
    from meterbench.sim.servers import PtyMeterServer, TcpMeterServer
    from meterbench.transport import SerialSettings

    if (listen is None) == (not pty):
        fail("give exactly one of --listen HOST:PORT or --pty", EXIT_USAGE)
    if link is not None and not pty:
        fail("--link needs --pty", EXIT_USAGE)
    host, port_number = "", 0
    if listen is not None:
        host, sep, port_text = listen.rpartition(":")
        if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            fail(f"--listen {listen!r}: write HOST:PORT, e.g. 127.0.0.1:6450", EXIT_USAGE)
        port_number = int(port_text)
        host = host or "127.0.0.1"
    try:
        fault_mode = Fault.parse(fault)
        numbers = {
            name: Decimal(text)
            for name, text in (
                ("--energy", energy),
                ("--voltage", voltage),
                ("--current", current),
                ("--pf", power_factor),
                ("--frequency", frequency),
                ("--volume", volume),
            )
        }
        secret = parse_password(password) if password else None
        char_bits = SerialSettings(baud).char_bits
    except (ValueError, InvalidOperation) as exc:
        fail(str(exc) or "bad number", EXIT_USAGE)
    problem = (
        not_negative_problem(numbers["--current"], "--current", "A")
        or not_negative_problem(numbers["--voltage"], "--voltage", "V")
        or not_negative_problem(numbers["--energy"], "--energy", "kWh")
        or not_negative_problem(numbers["--volume"], "--volume", "m3")
    )
    if problem:
        fail(problem, EXIT_USAGE)
    if count < 1 or (count > 1 and len(addresses or []) > 1):
        fail("--count needs one --address (or none) and must be at least 1", EXIT_USAGE)
    if edition not in (1997, 2007):
        fail("--edition must be 2007 or 1997", EXIT_USAGE)
    if protocol not in ("dlt645", "dlt698"):
        fail(f"--protocol must be dlt645 or dlt698, got {protocol!r}", EXIT_USAGE)

    meter_addresses = list(addresses or ["000000000001"])
    if count > 1:
        first = meter_addresses[0]
        if not first.isdigit() or len(first) > 12 or int(first) + count > 10**12:
            fail(f"--address {first!r} cannot start {count} consecutive addresses", EXIT_USAGE)
        meter_addresses = [f"{int(first) + i:012d}" for i in range(count)]
    devices: list[Any] = []
    try:
        for addr in meter_addresses:
            passwords = {0: "000000", 2: "000000", 4: "000000"}
            if secret is not None:
                passwords[secret.level] = secret.digits
            meter = (Dlt698Meter if protocol == "dlt698" else Dlt645Meter)(
                address=addr,
                version=edition,
                tariffs=tariffs,
                active_constant=constant,
                reactive_constant=constant,
                response_delay=delay,
                baudrate=baud,
                passwords=passwords,
                faults=FaultPlan(fault_mode, fault_count, fault_probability),
            )
            meter.set_energy(numbers["--energy"])
            meter.set_instantaneous(
                voltage=numbers["--voltage"],
                current=numbers["--current"],
                power_factor=numbers["--pf"],
                frequency=numbers["--frequency"],
            )
            devices.append(meter)
        for addr in water or []:
            water_meter = Cjt188WaterMeter(address=addr, response_delay=delay, baudrate=baud)
            water_meter.set_volume(numbers["--volume"])
            devices.append(water_meter)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)

    line = SimLine(devices, baudrate=baud, char_bits=char_bits, pace=pace, echo=echo)

    async def serve() -> None:
        import signal

        server: Any = (
            PtyMeterServer(line, link=link) if pty else TcpMeterServer(line, host, port_number)
        )
        try:
            url = await server.start()
        except OSError as exc:
            fail(f"cannot serve on {listen or 'a pty'}: {exc.strerror or exc}", EXIT_PORT)
        print(url, flush=True)
        for device in devices:
            if isinstance(device, Dlt698Meter):
                kind = "DL/T 698.45 meter"
            elif isinstance(device, Dlt645Meter):
                kind = f"DL/T 645-{device.version} meter"
            else:
                kind = "CJ/T 188 water meter"
            print(f"{kind} {device.address}", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(serve())


def main() -> None:
    """Stand-alone entry (``python -m meterbench.meter_cli meter ...``) for tools without the
    main command."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.add_typer(meter_app, name="meter")
    app.add_typer(sim_app, name="sim")
    app()


if __name__ == "__main__":
    main()
