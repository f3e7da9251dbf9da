"""Power factors as plans and tables write them: ``1.0``, ``0.5L``, ``0.8C``, ``0.25L``, ``0.5C``.

One canonical spelling (``1.0``, ``0.5L``) so a plan's ``pf = 1`` and a profile's ``"1.0"`` are
the same key in an MPE lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from meterbench.regulations.numbers import normalise, to_decimal


@dataclass(frozen=True, order=True)
class PowerFactor:
    """|cos phi| and whether the current lags (``L``, inductive) or leads (``C``). PF 1 has
    no nature."""

    value: Decimal
    nature: str = ""

    def __str__(self) -> str:
        if self.value == 1:
            return "1.0"
        return f"{normalise(self.value)}{self.nature}"


def parse_pf(text: object) -> PowerFactor:
    """Parse ``1``, ``1.0``, ``"0.5L"``, ``"0.8c"``; reject PF > 1, 0, or a PF < 1 without L/C."""
    if isinstance(text, PowerFactor):
        return text
    if isinstance(text, bool):
        raise ValueError("a power factor must be a number like 1.0 or text like '0.5L'")
    if isinstance(text, int | float | Decimal):
        raw = repr(text) if isinstance(text, float) else str(text)
    elif isinstance(text, str):
        raw = text.strip().upper()
    else:
        raise ValueError(f"not a power factor: {text!r}")
    nature = ""
    if raw.endswith(("L", "C")):
        raw, nature = raw[:-1].strip(), raw[-1]
    try:
        value = to_decimal(raw)
    except (ValueError, TypeError):
        raise ValueError(f"not a power factor: {text!r} (write e.g. 1.0, 0.5L, 0.8C)") from None
    if not 0 < value <= 1:
        raise ValueError(f"power factor {text!r} must be in (0, 1]")
    if value == 1:
        return PowerFactor(Decimal(1), "")
    if not nature:
        raise ValueError(f"power factor {text!r} needs L (inductive) or C (capacitive)")
    return PowerFactor(normalise(value), nature)


def canonical_pf(text: object) -> str:
    """The canonical spelling of a power factor (``1`` -> ``1.0``, ``0.50l`` -> ``0.5L``)."""
    return str(parse_pf(text))
