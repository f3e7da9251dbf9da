"""bench.hal.rp2 on CPython with stand-in machine/rp2 modules: the HAL wires the three state
machines as the PIO programs expect, and turns their FIFO words (taken from a pioemu run of the
real programs) into the readings the emulator measured."""

import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "firmware" / "lib"), str(Path(__file__).parent)]

import pio_bench as pb  # noqa: E402  (installs the rp2 stand-in)


class FakePin:
    IN, OUT, IRQ_RISING = 0, 1, 8
    made: list["FakePin"] = []

    def __init__(self, n: int, mode: int = 0, value: int = 0) -> None:
        self.n, self.mode, self._v = n, mode, value
        self.irq_args: dict[str, object] = {}
        FakePin.made.append(self)

    def value(self, v: int | None = None) -> int | None:
        if v is None:
            return self._v
        self._v = v
        return None

    def irq(self, **kwargs: object) -> None:
        self.irq_args = kwargs


class FakeSM:
    made: dict[int, "FakeSM"] = {}

    def __init__(self, sm_id: int, prog: object, **kwargs: object) -> None:
        self.id, self.prog, self.kwargs = sm_id, prog, kwargs
        self.tx: list[int] = []
        self.rx: list[int] = []
        self.running = False
        FakeSM.made[sm_id] = self

    def put(self, word: int) -> None:
        self.tx.append(word)

    def active(self, on: int) -> None:
        self.running = bool(on)

    def rx_fifo(self) -> int:
        return min(len(self.rx), 8)

    def get(self) -> int:
        return self.rx.pop(0)


def _install() -> None:
    machine = types.ModuleType("machine")
    machine.Pin = FakePin  # type: ignore[attr-defined]
    machine.UART = lambda *a, **k: types.SimpleNamespace(init=lambda **kw: None)  # type: ignore[attr-defined]
    machine.freq = lambda: 125_000_000  # type: ignore[attr-defined]
    sys.modules["machine"] = machine
    sys.modules["rp2"].StateMachine = FakeSM  # type: ignore[attr-defined]


_install()

from bench.gate import Series  # noqa: E402
from bench.hal import rp2_pio  # noqa: E402
from bench.hal.rp2 import Rp2Hal  # noqa: E402

from meterproto.link import messages as m  # noqa: E402


def test_channel_wiring_and_readings_from_pio_words() -> None:
    hal = Rp2Hal("rp2-pico")
    assert hal.positions == 2 and hal.tick_hz == 62_500_000 and hal.caps & m.CAP_HW_GATE
    channel = hal.gate_channel(1, m.FN_ERROR)
    channel.start(skip=1, pulses=2)
    gate, count, clock = (FakeSM.made[i] for i in (2, 3, 5))  # position 1: SMs (2, 3, 5)
    assert gate.prog is rp2_pio.gate and gate.tx == [1, 1] and gate.running
    assert count.prog is rp2_pio.counter and clock.prog is rp2_pio.clock
    gate_pin = gate.kwargs["set_base"]
    assert count.kwargs["jmp_pin"] is gate_pin and clock.kwargs["jmp_pin"] is gate_pin
    assert count.kwargs["in_base"].n == 16 and gate.kwargs["in_base"].n == 10  # ref, meter

    # Words from the emulated programs: meter every 257 cycles, reference every 13.
    meter, ref, cycles = pb.square(257, 120, 11), pb.square(13, 6), 257 * 14
    levels = pb.run_gate(meter, 1, 2, cycles)
    count.rx = pb.run_counter(rp2_pio.counter, ref, levels, cycles).snapshots
    clock.rx = pb.run_counter(rp2_pio.clock, ref, levels, cycles).snapshots
    expected = pb.readings(count.rx)
    series = Series(2, 0, channel.count_mod, channel.tick_mod, hal.tick_hz)
    got = []
    while True:
        snaps = channel.poll(coarse_ms=0)
        if not snaps:
            break
        for c, t, ms in snaps:
            r = series.add(c, t, ms)
            if r:
                got.append(r["count"])
    assert got == expected and len(got) >= 4
    channel.stop()
    assert not gate.running and not count.running


def test_window_inputs_use_hard_irqs() -> None:
    FakePin.made.clear()
    hal = Rp2Hal("rp2-pico")
    cap = hal.edge_capture(0, m.INPUT_METER)
    (meter,) = [p for p in FakePin.made if p.n == 2]  # position 0 meter input
    assert meter.irq_args["handler"] == cap.handler
    assert meter.irq_args["hard"] is True
