"""What the plan expansion needs to know about the bench, when it is known.

Without a bench the expansion still works: pulses per reading then follow from the minimum
reading time alone and setpoints are not checked against the source's range. The bench config
(another module) fills this in from the reference standard and source it describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class BenchContext:
    """``reference_constant`` is C0 (imp/kWh) of the standard on the range in use; ``k_i`` and
    ``k_u`` the ratios of the transformers the standard is connected through (1 when direct).
    The limits are the source's (or water bench's) setpoint range."""

    reference_constant: Decimal | None = None
    k_i: Decimal = Decimal(1)
    k_u: Decimal = Decimal(1)
    max_current_a: Decimal | None = None
    max_voltage_v: Decimal | None = None
    min_flow_l_h: Decimal | None = None
    max_flow_l_h: Decimal | None = None
    reference_resolution_l: Decimal | None = None

    def __post_init__(self) -> None:
        for name in (
            "reference_constant",
            "max_current_a",
            "max_voltage_v",
            "reference_resolution_l",
        ):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive")
        if self.k_i <= 0 or self.k_u <= 0:
            raise ValueError("transformer ratios must be positive")
