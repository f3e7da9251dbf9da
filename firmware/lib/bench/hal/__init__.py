"""Hardware abstraction: one module per board family, same duck-typed interface.

A HAL object has:
  board, positions, caps (CAP_* bits), tick_hz (gate tick rate), clock (SystemClock-like:
  ticks_ms, ticks_us, diff, add, period)
  gate_channel(position, kind) -> channel: start(skip, pulses, min_gap_ticks), poll(coarse_ms)
      -> [(count, ticks, coarse_ms)], stop(), count_mod, tick_mod, overruns; kind is
      FN_ERROR (meter pulses gate the reference) or FN_PERIOD (second pulses gate the time base)
  edge_capture(position, input) -> bench.edges.EdgeCapture (INPUT_METER / INPUT_SECOND)
  rs485(position) -> bench.rs485.Rs485 or None
  output(position, output) -> pin-like object with value(v), or None
  link_streams() -> (reader, writer) for the host link (asyncio stream interface)
  wdt(timeout_ms) -> object with feed(), or None
  reset(hard), mem_free(), sleep_us(us)
Only these modules touch machine / rp2 / esp32; everything in bench/ above them is portable.
"""


def load(board):
    """The HAL class for a board name in bench.hal.boards.BOARDS."""
    from bench.hal.boards import BOARDS

    family = BOARDS[board]["family"]
    if family == "rp2":
        from bench.hal.rp2 import Rp2Hal as cls
    elif family == "esp32":
        from bench.hal.esp32 import Esp32Hal as cls
    elif family == "sim":
        from bench.hal.sim import SimHal as cls
    else:
        raise ValueError("unknown board family " + family)
    return cls
