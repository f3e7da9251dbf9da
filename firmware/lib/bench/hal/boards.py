"""Board pin maps (data only). MicroPython-safe.

Per position: meter pulse input, second-pulse input, gate pin (rp2: the PIO gate output that the
counter state machines watch; wire nothing to it), RS-485 UART id with tx/rx and DE pin, and
output pins (relay, valve). Shared: reference pulse input and external time base input.

rp2 state machines per position: (gate, counter, clock). The gate program (29 instructions)
fills PIO block 0, whose 4 state machines (ids 0-3) serve up to 4 positions; counter (16) and
clock (10) share a block (26 of 32 instructions), 2 positions per block (ids 4-7 in block 1,
8-11 in block 2). So:

  board       chip    PIO blocks  positions  RS-485 ports   notes
  rp2-pico    RP2040  2           2          2 (UART0, 1)   GPIO 0-17 used
  rp2-pico2   RP2350  3           4          2 (pos 0, 1)   positions 2-3 have no UART left
                                                            (meters on a host bus); pos 3 has
                                                            no outputs (GPIO 0-22, 26-28 used)
  esp32-devkit ESP32  -           2          2              software gating (no CAP_HW_GATE)

ESP32-C3 (no PCNT) is not supported: ``meterbench firmware build --arch esp32c3`` refuses.
"""

BOARDS = {
    "sim": {"family": "sim", "positions": 4},
    "rp2-pico": {
        "family": "rp2",
        "ref": 16,
        "timebase": 17,
        "positions": [
            {
                "meter": 2,
                "second": 3,
                "gate": 4,
                "sm": (0, 4, 5),
                "uart": (0, 0, 1),
                "de": 5,
                "outputs": (6, 7),
            },
            {
                "meter": 10,
                "second": 11,
                "gate": 12,
                "sm": (1, 6, 7),
                "uart": (1, 8, 9),
                "de": 13,
                "outputs": (14, 15),
            },
        ],
        "link": {"uart": None},
    },
    "rp2-pico2": {
        "family": "rp2",
        "ref": 16,
        "timebase": 17,
        "positions": [
            {
                "meter": 2,
                "second": 3,
                "gate": 4,
                "sm": (0, 4, 5),
                "uart": (0, 0, 1),
                "de": 5,
                "outputs": (6, 7),
            },
            {
                "meter": 10,
                "second": 11,
                "gate": 12,
                "sm": (1, 6, 7),
                "uart": (1, 8, 9),
                "de": 13,
                "outputs": (14, 15),
            },
            {"meter": 18, "second": 19, "gate": 20, "sm": (2, 8, 9), "outputs": (21, 22)},
            {"meter": 26, "second": 27, "gate": 28, "sm": (3, 10, 11), "outputs": ()},
        ],
        "link": {"uart": None},
    },
    "esp32-devkit": {
        "family": "esp32",
        "ref": 34,
        "timebase": 35,
        "positions": [
            {"meter": 25, "second": 26, "uart": (2, 17, 16), "de": 4, "outputs": (32, 33)},
            {"meter": 27, "second": 14, "uart": (1, 19, 18), "de": 21, "outputs": (22, 23)},
        ],
        "link": {"uart": None},
    },
}
