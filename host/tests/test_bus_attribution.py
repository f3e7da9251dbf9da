"""No reply is ever taken for the answer to another request, whatever the meter's timing.

Each simulated meter here numbers the requests it hears and answers every read with that
number as its energy value, so a read tells exactly which request its reply answered. Over more
than 1,000 transactions per setting (slow replies up to the meter's whole response window,
random delays, slow refusals, dropped replies, and a meter beyond its declared window), every
read must return a reply to a request of its own transaction, and no write the meter refused
may be reported as done. The bus runs on an in-memory line under a virtual-time event loop:
seconds of response delay cost no wall time and the outcome does not depend on the machine.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from meterbench.devices.dlt645_client import Dlt645Client, Password
from meterbench.devices.errors import (
    MeterAbnormalReply,
    MeterTimeout,
    MeterWriteUnknown,
)
from meterbench.sim.faults import Fault, FaultPlan
from meterbench.sim.line import SimLine
from meterbench.sim.memory_port import MemoryPort
from meterbench.sim.meter_dlt645 import Dlt645Meter
from meterbench.sim.virtual_loop import run as run_virtual
from meterbench.transport import Bus, BusTiming
from meterproto.dlt645.frame import Frame

ADDRESS = "230715000042"
WINDOW = 2.0  # the bench's response_delay_max_s
TRANSACTIONS = 1_050
GOOD = Password(2, "000000")
BAD = Password(2, "999999")
ENERGY, VOLTAGE, PERIOD = 0x00010000, 0x02010100, 0x04000103


@dataclass(kw_only=True)
class NumberingMeter(Dlt645Meter):
    """Answers each read of the energy with the number of the request (in hundredths of a
    kWh) and remembers, per request, whether it refused it and whether its reply was lost."""

    heard: int = 0
    refused: dict[int, bool] = field(default_factory=dict)
    delivered: dict[int, bool] = field(default_factory=dict)

    def respond(self, request: Frame):  # type: ignore[no-untyped-def]
        if not self.accepts(request):
            return None
        self.heard += 1
        self.set_energy(Decimal(self.heard) / 100)
        answer = super().respond(request)
        self.delivered[self.heard] = answer is not None
        return answer

    def handle(self, request: Frame) -> Frame | None:
        reply = super().handle(request)
        self.refused[self.heard] = reply is not None and reply.abnormal
        return reply


@dataclass
class Counts:
    transactions: int = 0
    reads_ok: int = 0
    writes_ok: int = 0
    refused_reported: int = 0
    unknown: int = 0
    timeouts: int = 0
    misattributed: int = 0
    refused_reported_ok: int = 0

    def line(self, name: str, bus: Bus) -> str:
        return (
            f"{name:<22} transactions {self.transactions:5d}  reads {self.reads_ok:4d}  "
            f"writes ok {self.writes_ok:4d}  refused {self.refused_reported:4d}  "
            f"unknown {self.unknown:3d}  timeouts {self.timeouts:3d}  "
            f"late discarded {bus.stats.late_discarded:3d}  "
            f"misattributed {self.misattributed}  refused-reported-ok {self.refused_reported_ok}"
        )


async def _exercise(meter: NumberingMeter, seed: int) -> tuple[Counts, Bus]:
    line = SimLine([meter])
    bus = Bus(
        "memory://line",
        timing=BusTiming(response_window=WINDOW, retries=2),
        opener=MemoryPort.opener(line),
    )
    await bus.open()
    client = Dlt645Client(bus, ADDRESS, password=GOOD)
    rng = random.Random(seed)
    counts = Counts()
    try:
        for _ in range(TRANSACTIONS):
            before = meter.heard
            op = rng.random()
            counts.transactions += 1
            try:
                if op < 0.5:
                    value = (await client.read(ENERGY)).value
                    own = range(before + 1, meter.heard + 1)
                    if int(value * 100) not in own:
                        counts.misattributed += 1
                    counts.reads_ok += 1
                elif op < 0.6:
                    await client.read(VOLTAGE)  # another identifier in between
                    counts.reads_ok += 1
                else:
                    good = op < 0.8
                    await client.write(PERIOD, rng.randint(1, 60), GOOD if good else BAD)
                    mine = range(before + 1, meter.heard + 1)
                    if not good:
                        counts.refused_reported_ok += 1
                    elif not any(not meter.refused[s] and meter.delivered[s] for s in mine):
                        counts.misattributed += 1
                    counts.writes_ok += 1
            except MeterWriteUnknown:
                counts.unknown += 1
            except MeterTimeout:
                counts.timeouts += 1
            except MeterAbnormalReply:
                mine = range(before + 1, meter.heard + 1)
                if not any(meter.refused[s] and meter.delivered[s] for s in mine):
                    counts.misattributed += 1
                counts.refused_reported += 1
    finally:
        await bus.close()
    return counts, bus


SETTINGS = {
    "delay 0.5 s": {"response_delay": 0.5},
    "delay 2.0 s": {"response_delay": 2.0},
    "delay 0.5-2 s": {"response_delay": 0.5, "response_delay_max": 2.0},
    "refusals late 1.9 s": {"response_delay": 0.5, "error_delay": 1.9},
    "dropped 20 %": {"response_delay": 0.5, "response_delay_max": 2.0, "drop": 0.2},
    "beyond window 2-3 s": {"response_delay": 2.0, "response_delay_max": 3.0},
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_no_reply_is_taken_for_another_request(name: str) -> None:
    options = dict(SETTINGS[name])
    drop = options.pop("drop", 0.0)
    meter = NumberingMeter(address=ADDRESS, **options)  # type: ignore[arg-type]
    if drop:
        meter.faults = FaultPlan(Fault.SILENT, probability=drop, seed=14)
    counts, bus = run_virtual(_exercise(meter, seed=list(SETTINGS).index(name)))
    print(counts.line(name, bus))
    assert counts.transactions > 1_000
    assert counts.misattributed == 0
    assert counts.refused_reported_ok == 0
    assert counts.reads_ok > 400  # the meter was reached, not merely never wrong
    if name != "beyond window 2-3 s":
        assert drop or counts.timeouts + counts.unknown == 0  # in time, nothing is lost


def _client_on(meter: Dlt645Meter) -> tuple[Bus, Dlt645Client]:
    bus = Bus(
        "memory://line",
        timing=BusTiming(response_window=WINDOW, retries=2),
        opener=MemoryPort.opener(SimLine([meter])),
    )
    return bus, Dlt645Client(bus, ADDRESS, password=GOOD)


def test_a_caller_giving_up_mid_read_does_not_hand_its_reply_to_the_next_read() -> None:
    meter = NumberingMeter(address=ADDRESS, response_delay=1.5)
    bus, client = _client_on(meter)

    async def scenario() -> None:
        await bus.open()
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.read(ENERGY), 0.5)  # request 1 is on the line
            value = (await client.read(ENERGY)).value
            assert value == Decimal("0.02")  # request 2's own reply, not request 1's
            assert bus.stats.late_discarded == 1 and bus.stats.quiet_waits == 1
        finally:
            await bus.close()

    run_virtual(scenario())


@pytest.mark.parametrize(
    ("lose", "confirmed"),
    [("replies", True), ("requests", False)],
)
def test_a_write_without_reply_is_unknown_and_read_back(lose: str, confirmed: bool) -> None:
    """Never reported done: the read-back says whether the meter took it (its replies were
    lost) or not (the requests were)."""
    meter = NumberingMeter(address=ADDRESS, response_delay=0.1)
    original = meter.respond

    def lossy(request: Frame):  # type: ignore[no-untyped-def]
        if request.function != 0x14:
            return original(request)
        if lose == "requests":
            return None  # it never reached the meter
        original(request)  # the meter acts on it, its reply is lost
        return None

    meter.respond = lossy  # type: ignore[method-assign]
    bus, client = _client_on(meter)

    async def scenario() -> None:
        await bus.open()
        try:
            with pytest.raises(MeterWriteUnknown) as info:
                await client.write(PERIOD, 30)
            assert info.value.confirmed is confirmed
            assert "outcome unknown" in str(info.value)
        finally:
            await bus.close()

    run_virtual(scenario())
