"""What a verification item asks of an electricity meter, whatever protocol the meter speaks.

Items (communication, register, clock, time setting, tariffs) talk to meters through this
interface only, never through protocol identifiers: each client (DL/T 645-2007, DL/T 645-1997,
DL/T 698.45) maps the questions to its own identifiers, one table per protocol edition. A new
protocol is one more client, not a branch in the items.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Protocol, runtime_checkable


class EnergyRegister(enum.Enum):
    """Which accumulated energy: direction and quantity, as a meter's register table names them."""

    ACTIVE_IMPORT = "active_import"  # 正向有功 (P+)
    ACTIVE_EXPORT = "active_export"  # 反向有功 (P-)
    ACTIVE_COMBINED = "active_combined"  # 组合有功


class PulseOutput(enum.Enum):
    """What the meter's multi-function (auxiliary) pulse output carries."""

    CLOCK_SECOND = "clock_second"  # 时钟秒脉冲
    DEMAND_PERIOD = "demand_period"  # 需量周期
    TARIFF_SWITCH = "tariff_switch"  # 时段投切


@runtime_checkable
class ElectricityMeter(Protocol):
    """The meter-side questions a bench asks. Every method raises the client's own error
    (a subclass of ``meterbench.devices.errors.MeterError``) when the meter refuses or stays
    silent; it never returns a guess."""

    @property
    def protocol(self) -> str:
        """``dlt645-2007``, ``dlt645-1997`` or ``dlt698``."""
        ...

    async def read_address(self) -> str:
        """The communication address as 12 decimal digits, most significant first."""
        ...

    async def read_energy(
        self, register: EnergyRegister = EnergyRegister.ACTIVE_IMPORT, tariff: int = 0
    ) -> Decimal:
        """Accumulated energy in kWh; ``tariff`` 0 is the total, 1..n the tariff registers."""
        ...

    async def read_clock(self) -> dt.datetime:
        """The meter's date and time (naive, the meter's local time)."""
        ...

    async def set_clock(self, when: dt.datetime | None = None) -> None:
        """Set date and time; ``None`` means now by the client's clock at the moment of sending."""
        ...

    async def set_pulse_output(self, mode: PulseOutput) -> None:
        """Switch the multi-function output (DL/T 645 1DH, or the 698 equivalent)."""
        ...
