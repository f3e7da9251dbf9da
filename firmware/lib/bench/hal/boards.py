"""Board pin maps (data only). MicroPython-safe.

Per position: meter pulse input, second-pulse input, gate pin (rp2: the PIO gate output that the
counter state machines watch; wire nothing to it), RS-485 UART id with tx/rx and DE pin, and
output pins (relay, valve). Shared: reference pulse input and external time base input.
rp2 state machines: per position (gate, counter, clock). Gate and counter programs share one
PIO block (28 of its 32 instructions), the clock counter runs in another block.
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
                "sm": (0, 1, 4),
                "uart": (0, 0, 1),
                "de": 5,
                "outputs": (6, 7),
            },
            {
                "meter": 10,
                "second": 11,
                "gate": 12,
                "sm": (2, 3, 5),
                "uart": (1, 8, 9),
                "de": 13,
                "outputs": (14, 15),
            },
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
