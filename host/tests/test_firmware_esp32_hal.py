"""bench.hal.esp32 at run time on CPython with stand-in ``machine`` and ``esp32`` modules: PCNT
units that wrap at 32 000 like the chip's, pin interrupts fired by the test, and a clock the
test moves. Readings come out exact through many counter wraps; a VM stall long enough to hide
a wrap (the firmware's service loop not running) flags the reading instead of losing counts;
software debounce rejects bounce below the configured width."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "firmware" / "lib")]

from bench.clock import ManualClock  # noqa: E402

from meterproto.link import messages as m  # noqa: E402


class FakePin:
    IN, OUT, IRQ_RISING = 0, 1, 8
    by_number: dict[int, FakePin] = {}

    def __init__(self, n: int, mode: int = 0, value: int = 0) -> None:
        self.n, self._v = n, value
        self.handler: Callable[[object], None] | None = None
        FakePin.by_number[n] = self

    def value(self, v: int | None = None) -> int | None:
        if v is None:
            return self._v
        self._v = v
        return None

    def irq(self, handler=None, trigger=0, **_kw):  # type: ignore[no-untyped-def]
        self.handler = handler


class FakePCNT:
    INCREMENT, IGNORE = 1, 0
    units: dict[int, FakePCNT] = {}

    def __init__(self, unit: int, **kwargs: object) -> None:
        self.kwargs = kwargs
        self.limit = int(kwargs["max"])  # type: ignore[call-overload]
        self.raw = 0
        self.true = 0
        self.running = False
        FakePCNT.units[unit] = self

    def value(self, v: int | None = None) -> int:
        old = self.raw
        if v is not None:
            self.raw = v
        return old

    def start(self) -> None:
        self.running = True

    def count(self, n: int) -> None:
        self.true += n
        self.raw = (self.raw + n) % self.limit


@pytest.fixture
def esp32_hal() -> Iterator[types.ModuleType]:
    machine = types.ModuleType("machine")
    machine.Pin = FakePin  # type: ignore[attr-defined]
    machine.UART = lambda *a, **k: types.SimpleNamespace(init=lambda **kw: None)  # type: ignore[attr-defined]
    esp32 = types.ModuleType("esp32")
    esp32.PCNT = FakePCNT  # type: ignore[attr-defined]
    saved = {k: sys.modules.get(k) for k in ("machine", "esp32")}
    sys.modules["machine"], sys.modules["esp32"] = machine, esp32
    for name in ("bench.hal.common", "bench.hal.esp32"):
        sys.modules.pop(name, None)
    try:
        yield importlib.import_module("bench.hal.esp32")
    finally:
        for name in ("bench.hal.common", "bench.hal.esp32"):
            sys.modules.pop(name, None)
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def _controller(mod: types.ModuleType, **hal_args: object):  # type: ignore[no-untyped-def]
    from bench import app, config
    from bench.safemode import BootState  # noqa: F401  (app needs it importable)

    clock = ManualClock()
    vars(mod)["SystemClock"] = lambda: clock  # the board's ticks, moved by the test
    hal = mod.Esp32Hal("esp32-devkit", **hal_args)
    cfg = dict(config.DEFAULTS)

    class Boot:
        safe, boot_id, reason = False, 1, ""

    server = app.build(hal, cfg, Boot())
    server.host_seen = True
    return server, hal, clock


def _meter_edge(hal, position: int = 0) -> None:  # type: ignore[no-untyped-def]
    from bench.hal.boards import BOARDS

    pin = BOARDS["esp32-devkit"]["positions"][position]["meter"]
    handler = FakePin.by_number[pin].handler
    assert handler is not None, f"no interrupt handler on pin {pin}"
    handler(None)


def _readings(server) -> list[dict[str, int]]:  # type: ignore[no-untyped-def]
    out = []
    for msg_type, fields in server.controller.poll(0):
        if msg_type == m.ERR_READING:
            out.append(fields)
    return out


def _run(server, hal, clock, ref: FakePCNT, seconds: int, rate_hz: int, stall_at=None):  # type: ignore[no-untyped-def]
    """Drive 1 ms steps: reference counts, a meter edge every second, the service loop every
    5 ms (except during a stall of ``stall_at`` = (start_ms, length_ms))."""
    readings = []
    for ms in range(1, seconds * 1000 + 1):
        clock.advance_us(1000)
        ref.count(rate_hz // 1000)
        if ms % 1000 == 0:
            _meter_edge(hal)
        stalled = stall_at is not None and stall_at[0] <= ms < stall_at[0] + stall_at[1]
        if ms % 5 == 0 and not stalled:
            hal.service(ms)
            readings += _readings(server)
    return readings


def test_pcnt_units_wired_and_counts_exact_through_many_wraps(esp32_hal: types.ModuleType) -> None:
    server, hal, clock = _controller(esp32_hal)
    ref = FakePCNT.units[0]
    assert ref.running and ref.kwargs["rising"] == FakePCNT.INCREMENT and ref.limit == 32000
    assert not hal.caps & m.CAP_HW_GATE and hal.caps & m.CAP_DEBOUNCE
    server.controller.gate_start(m.FN_ERROR, 0, 1, 0, 0)
    readings = _run(server, hal, clock, ref, 5, 190_000)
    assert len(readings) == 4  # edges at 1..5 s: four readings
    for r in readings:
        assert r["ref_count"] == 190_000 and r["flags"] == 0  # ~6 wraps per reading, none lost


def test_a_vm_stall_hiding_a_wrap_flags_the_reading(esp32_hal: types.ModuleType) -> None:
    server, hal, clock = _controller(esp32_hal, count_max_hz=100_000)
    ref = FakePCNT.units[0]
    server.controller.gate_start(m.FN_ERROR, 0, 1, 0, 0)
    # 95 kHz (legal) but a 400 ms stall inside the second reading: 38 000 counts pass, one
    # whole wrap and more, between two service passes.
    readings = _run(server, hal, clock, ref, 4, 95_000, stall_at=(2300, 400))
    assert len(readings) == 3
    flags = [r["flags"] & m.RF_OVERRUN for r in readings]
    assert flags == [0, m.RF_OVERRUN, 0], readings
    assert readings[0]["ref_count"] == readings[2]["ref_count"] == 95_000


def test_a_counted_input_above_the_limit_is_flagged(esp32_hal: types.ModuleType) -> None:
    server, hal, clock = _controller(esp32_hal)
    ref = FakePCNT.units[0]
    server.controller.gate_start(m.FN_ERROR, 0, 1, 0, 0)
    # A 10 MHz time base: 50 000 counts between two passes 5 ms apart, more than a wrap.
    readings = _run(server, hal, clock, ref, 3, 10_000_000)
    assert readings and all(r["flags"] & m.RF_OVERRUN for r in readings)


def test_software_debounce_on_the_meter_input(esp32_hal: types.ModuleType) -> None:
    server, hal, clock = _controller(esp32_hal)
    ctl = server.controller
    ctl.input_config(0, m.INPUT_METER, 20_000)  # 20 ms: reed contact bounce
    ctl.gate_start(m.FN_ERROR, 0, 2, 0, 0)
    ref = FakePCNT.units[0]
    readings = []
    for k in range(1, 8):
        clock.advance_us(500_000)
        ref.count(1000)
        _meter_edge(hal)
        clock.advance_us(3_000)  # a bounce 3 ms later: not a pulse
        _meter_edge(hal)
        hal.service(k)
        readings += _readings(server)
    assert [r["ref_count"] for r in readings] == [2000, 2000, 2000]
