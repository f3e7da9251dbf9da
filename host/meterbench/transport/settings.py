"""Line settings of a serial bus (rate, parity, data and stop bits) and the wire time they imply.

The wire time is what every deadline and the bus benchmark are built on: a DL/T 645 byte at
8E1 is 11 bits, so a frame of n bytes takes n x 11 / rate seconds on an RS-485 line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import serial

_PARITIES = {
    "N": serial.PARITY_NONE,
    "E": serial.PARITY_EVEN,
    "O": serial.PARITY_ODD,
    "M": serial.PARITY_MARK,
    "S": serial.PARITY_SPACE,
}
_STOPBITS = {1: serial.STOPBITS_ONE, 1.5: serial.STOPBITS_ONE_POINT_FIVE, 2: serial.STOPBITS_TWO}


@dataclass(frozen=True)
class SerialSettings:
    """Character format and rate of one bus; the DL/T 645 default is 2400 8E1."""

    baudrate: int = 2400
    parity: str = "E"
    bytesize: int = 8
    stopbits: float = 1

    def __post_init__(self) -> None:
        if self.baudrate <= 0:
            raise ValueError(f"baud rate must be positive, got {self.baudrate}")
        if self.parity.upper() not in _PARITIES:
            raise ValueError(f"parity must be one of N, E, O, M, S, got {self.parity!r}")
        object.__setattr__(self, "parity", self.parity.upper())
        if self.bytesize not in (5, 6, 7, 8):
            raise ValueError(f"data bits must be 5-8, got {self.bytesize}")
        if self.stopbits not in _STOPBITS:
            raise ValueError(f"stop bits must be 1, 1.5 or 2, got {self.stopbits}")

    @property
    def char_bits(self) -> float:
        """Bits per character on the wire: start + data + parity + stop (11 for 8E1)."""
        return 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits

    def wire_time(self, nbytes: int) -> float:
        """Seconds that ``nbytes`` characters occupy the line."""
        return nbytes * self.char_bits / self.baudrate

    def with_baudrate(self, baudrate: int) -> SerialSettings:
        return replace(self, baudrate=baudrate)

    def pyserial_kwargs(self) -> dict[str, Any]:
        return {
            "baudrate": self.baudrate,
            "parity": _PARITIES[self.parity],
            "bytesize": self.bytesize,
            "stopbits": _STOPBITS[self.stopbits],
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SerialSettings:
        """Settings from a bench-config table: ``baud``/``baudrate``, ``parity``, ``bytesize``
        (or ``data_bits``), ``stopbits`` (or ``stop_bits``); missing keys keep the defaults."""
        kwargs: dict[str, Any] = {}
        for key, names in {
            "baudrate": ("baudrate", "baud"),
            "parity": ("parity",),
            "bytesize": ("bytesize", "data_bits"),
            "stopbits": ("stopbits", "stop_bits"),
        }.items():
            for name in names:
                if name in config:
                    kwargs[key] = config[name]
                    break
        if "stopbits" in kwargs:
            value = float(kwargs["stopbits"])
            kwargs["stopbits"] = int(value) if value.is_integer() else value
        if "baudrate" in kwargs:
            kwargs["baudrate"] = int(kwargs["baudrate"])
        if "bytesize" in kwargs:
            kwargs["bytesize"] = int(kwargs["bytesize"])
        return cls(**kwargs)

    def __str__(self) -> str:
        stop = int(self.stopbits) if float(self.stopbits).is_integer() else self.stopbits
        return f"{self.baudrate} {self.bytesize}{self.parity}{stop}"
