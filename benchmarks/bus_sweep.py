"""Bus sweep: how close meterbench gets to the wire-time bound on a busy 2400-baud bus.

24 simulated DL/T 645 meters share one line whose simulator paces every byte at the real wire
rate (11 bits per byte at 2400 bit/s) and waits each meter's response delay (20-100 ms) before
answering. meterbench reads, from every meter in turn (by its known address, as a bench does
with the meters it was given; a wildcard read only works with one meter per line), its
communication address (04000401), total forward active energy (00010000) and active meter
constant (04000409), and checks every value.

The bound is what the line itself needs: all frame bytes (requests and replies, preambles
included) x (11 bits / 2400 + the inter-byte gap) + each reply's response delay. With a bus
model (``--latency-ms``: a USB-serial adapter's latency timer, 16 ms for FTDI's default;
``--gap-ms``: idle time after each byte of a slow meter's reply; the same fields a bench's
``[[buses]]`` carries) the simulated line delivers replies as such an adapter does, and the
script prints the ratio against the wire bound and against the model's (the wire bound plus,
per reply, the mean wait for the adapter's next latency tick, half the timer). Target for
the model ratio: <= 1.15.

    python benchmarks/bus_sweep.py [--meters 24] [--transport pty|tcp] [--baud 2400]
                                   [--latency-ms 16] [--gap-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from decimal import Decimal

from meterbench.devices.dlt645_client import Dlt645Client
from meterbench.sim.line import SimLine
from meterbench.sim.meter_dlt645 import Dlt645Meter
from meterbench.sim.servers import PtyMeterServer, TcpMeterServer
from meterbench.transport import Bus, SerialSettings
from meterproto.dlt645 import messages

ITEMS = (0x04000401, 0x00010000, 0x04000409)
CLIENT_PREAMBLE = 4


def make_meters(count: int, baud: int) -> list[Dlt645Meter]:
    meters = []
    for i in range(count):
        meter = Dlt645Meter(
            address=f"2307150000{i + 1:02d}",
            baudrate=baud,
            response_delay=0.020 + (i * 0.017) % 0.080,
            active_constant=(1200, 1600, 3200)[i % 3],
            preamble=i % 5,
        )
        meter.set_energy(Decimal("1000.00") + Decimal(i) * Decimal("12.34"))
        meters.append(meter)
    return meters


def wire_bound(
    meters: list[Dlt645Meter], settings: SerialSettings, gap_s: float = 0.0
) -> tuple[float, int]:
    """Seconds the line needs for the sweep (bytes, their gaps, response delays), and the
    number of bytes on it."""
    total_bytes = 0
    delays = 0.0
    for meter in meters:
        for di in ITEMS:
            request = messages.read(meter.address, di).encode(preamble=CLIENT_PREAMBLE)
            value = meter.value(di)
            assert value is not None
            reply_bytes = meter.preamble + 12 + 4 + len(value)
            total_bytes += len(request) + reply_bytes
            delays += meter.response_delay
    return settings.wire_time(total_bytes) + total_bytes * gap_s + delays, total_bytes


async def sweep(meters: list[Dlt645Meter], bus: Bus) -> None:
    for meter in meters:
        client = Dlt645Client(bus, meter.address)
        address, energy, constant = await client.read_many(ITEMS)
        if address.value != meter.address:
            raise SystemExit(f"meter {meter.address}: read address {address.value}")
        if energy.value != meter.energy_kwh():
            raise SystemExit(f"meter {meter.address}: read energy {energy.value}")
        if constant.value != meter.active_constant:
            raise SystemExit(f"meter {meter.address}: read constant {constant.value}")


async def main(count: int, transport: str, baud: int, latency_s: float, gap_s: float) -> float:
    settings = SerialSettings(baudrate=baud)
    meters = make_meters(count, baud)
    line = SimLine(
        meters,
        baudrate=baud,
        char_bits=settings.char_bits,
        pace=True,
        latency_s=latency_s,
        gap_s=gap_s,
    )
    server = PtyMeterServer(line) if transport == "pty" else TcpMeterServer(line)
    url = await server.start()
    bus = Bus(url, settings)
    await bus.open()
    try:
        await Dlt645Client(bus, meters[0].address).read(0x04000401)  # warm-up, not timed
        started = time.perf_counter()
        await sweep(meters, bus)
        elapsed = time.perf_counter() - started
    finally:
        await bus.close()
        await server.stop()
    bound, nbytes = wire_bound(meters, settings, gap_s)
    transactions = count * len(ITEMS)
    model = bound + transactions * latency_s / 2
    ratio = elapsed / model
    print(f"{count} meters, {transactions} reads on one {settings} bus over {transport}")
    print(f"  bytes on the wire      {nbytes}")
    print(
        f"  wire-time bound        {bound:.3f} s  (bytes x {settings.char_bits:g} bits / "
        f"{baud} + response delays)"
    )
    print(
        f"  bus model              adapter latency {latency_s * 1000:g} ms, "
        f"inter-byte gap {gap_s * 1000:g} ms"
    )
    print(f"  model bound            {model:.3f} s  (+ half the latency per reply)")
    print(f"  time taken             {elapsed:.3f} s")
    print(f"  ratio to wire bound    {elapsed / bound:.3f}")
    print(f"  ratio to model bound   {ratio:.3f}  (target <= 1.15)")
    print(f"  retries {bus.stats.attempts - bus.stats.transactions}, timeouts {bus.stats.timeouts}")
    return ratio


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=24)
    parser.add_argument("--transport", choices=("pty", "tcp"), default="pty")
    parser.add_argument("--baud", type=int, default=2400)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--gap-ms", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(
        main(args.meters, args.transport, args.baud, args.latency_ms / 1000, args.gap_ms / 1000)
    )
