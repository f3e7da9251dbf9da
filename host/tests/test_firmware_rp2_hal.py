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


def _pin(sm: FakeSM, key: str) -> FakePin:
    """The pin a state machine was given as ``key`` (kwargs are untyped)."""
    pin = sm.kwargs[key]
    assert isinstance(pin, FakePin), f"{key} is not a pin: {pin!r}"
    return pin


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
    gate, count, clock = (FakeSM.made[i] for i in (1, 6, 7))  # position 1: SMs (1, 6, 7)
    assert gate.prog is rp2_pio.gate and gate.tx == [1, 1, 0] and gate.running
    assert gate.kwargs["jmp_pin"] is gate.kwargs["in_base"]  # debounce watches the meter input
    assert count.prog is rp2_pio.counter and clock.prog is rp2_pio.clock
    gate_pin = gate.kwargs["set_base"]
    assert count.kwargs["jmp_pin"] is gate_pin and clock.kwargs["jmp_pin"] is gate_pin
    assert _pin(count, "in_base").n == 16 and _pin(gate, "in_base").n == 10  # ref, meter

    # Words from the emulated programs: meter every 257 cycles, reference every 13.
    meter, ref, cycles = pb.square(257, 120, 11), pb.square(13, 6), 257 * 14
    levels = pb.run_gate(meter, 1, 2, cycles)
    count.rx = pb.run_counter(pb.COUNTER, ref, levels, cycles).snapshots
    clock.rx = pb.run_counter(pb.CLOCK, ref, levels, cycles).snapshots
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


METER = pb.square(257, 120, 11)


class TimedSM(FakeSM):
    """A state machine whose RX words become visible at the cycle the emulator pushed them."""

    now = 0

    def __init__(self, sm_id: int, prog: object, **kwargs: object) -> None:
        super().__init__(sm_id, prog, **kwargs)
        self.timed: list[tuple[int, int]] = []

    def rx_fifo(self) -> int:
        return min(sum(1 for c, _w in self.timed if c <= TimedSM.now), 8)

    def get(self) -> int:
        return self.timed.pop(0)[1]


def test_reference_absent_gives_an_invalid_reading_and_a_restart_not_a_merged_one() -> None:
    sys.modules["rp2"].StateMachine = TimedSM  # type: ignore[attr-defined]
    try:
        hal = Rp2Hal("rp2-pico")
        channel = hal.gate_channel(0, m.FN_ERROR)
        channel.ref_timeout_ms = 30
        channel.start(skip=0, pulses=1)
        gate, count, clock = (FakeSM.made[i] for i in (0, 4, 5))
        cycles = 257 * 12
        levels = pb.run_gate(METER, 0, 1, cycles)
        flips = pb.boundaries(levels)
        present = pb.square(13, 6)

        def ref(c: int) -> int:  # the reference is absent for more than two readings
            return 0 if flips[3] - 5 <= c <= flips[6] + 5 else present(c)

        for sm, prog in ((count, pb.COUNTER), (clock, pb.CLOCK)):
            assert isinstance(sm, TimedSM)
            run = pb.run_counter(prog, ref, levels, cycles)
            sm.timed = list(zip(run.cycles, run.snapshots, strict=True))
        series = Series(1, 0, channel.count_mod, channel.tick_mod, hal.tick_hz)
        readings = []
        restarted_at = None
        for c in range(0, cycles, 10):  # the service loop: one poll per "ms" of 10 cycles
            TimedSM.now = c
            for snap in channel.poll(coarse_ms=c // 10):
                if snap[0] is None:
                    restarted_at = c
                    r = series.discontinuity(snap[2])
                else:
                    r = series.add(*snap)
                if r:
                    readings.append(r)
            if restarted_at is not None:
                break
        assert restarted_at is not None and channel.restarts == 1
        good = [r for r in readings if not r["flags"] & m.RF_INVALID]
        bad = [r for r in readings if r["flags"] & m.RF_INVALID]
        assert len(bad) == 1 and bad[0] is readings[-1]  # the reading in flight
        expected = [257 // 13, 257 // 13 + 1]
        assert good and all(r["count"] in expected for r in good)  # none merged or out of step
        new_gate = FakeSM.made[0]
        assert new_gate is not gate and new_gate.running and new_gate.tx == [0, 0, 0]
    finally:
        sys.modules["rp2"].StateMachine = FakeSM  # type: ignore[attr-defined]


def test_error_and_period_on_one_position_refused_at_once() -> None:
    from bench.controller import Controller, Nak

    hal = Rp2Hal("rp2-pico")
    ctl = Controller(hal)
    ctl.gate_start(m.FN_ERROR, 0, 10, 0, 0)
    try:
        ctl.gate_start(m.FN_PERIOD, 0, 10, 0, 1)
    except Nak as nak:
        assert nak.reason == m.NAK_BUSY and nak.detail == m.FN_ERROR
    else:
        raise AssertionError("the period function reprogrammed the running error function")
    ctl.gate_start(m.FN_PERIOD, 1, 10, 0, 1)  # the other position has its own machines
    ctl.stop(0, m.FN_ALL)
    ctl.gate_start(m.FN_PERIOD, 0, 10, 0, 1)


def test_min_pulse_width_reaches_the_gate_program() -> None:
    from bench.controller import Controller

    hal = Rp2Hal("rp2-pico")
    ctl = Controller(hal)
    assert hal.caps & m.CAP_DEBOUNCE
    ctl.input_config(1, m.INPUT_METER, 1000)
    ctl.gate_start(m.FN_ERROR, 1, 4, 0, 0)
    assert FakeSM.made[1].tx == [0, 3, rp2_pio.width_loops(1000, 125_000_000)]


def test_rp2350_map_has_four_positions_on_distinct_state_machines() -> None:
    hal = Rp2Hal("rp2-pico2")
    assert hal.positions == 4
    from bench.hal.boards import BOARDS

    sms = [p["sm"] for p in BOARDS["rp2-pico2"]["positions"]]
    flat = [i for t in sms for i in t]
    assert len(set(flat)) == len(flat) and max(flat) < 12  # 3 PIO blocks x 4
    assert {t[0] for t in sms} <= {0, 1, 2, 3}  # every gate program in block 0
    for t in sms:  # counter and clock of a position in the same block
        assert t[1] // 4 == t[2] // 4 != 0
