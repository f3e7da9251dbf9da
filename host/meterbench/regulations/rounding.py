"""化整: rounding a result to the class interval, half to even, in exact arithmetic.

The quotient value / interval is rounded to an integer with ties going to the even neighbour
(GB/T 8170 style), then multiplied back. Everything runs on Fraction, so a decimal tie such as
0.35 on a 0.1 interval is a real tie; and a result of zero carries no sign.
"""

from __future__ import annotations

from decimal import Decimal

from meterbench.regulations.numbers import CONTEXT, Number, to_decimal, to_fraction


def round_to_interval(value: Number, interval: Number) -> Decimal:
    """Nearest multiple of ``interval`` (ties to the even multiple), with the interval's
    decimals: ``round_to_interval('0.126', '0.05') == Decimal('0.15')``. Never ``-0``."""
    step = to_fraction(interval)
    if step <= 0:
        raise ValueError(f"rounding interval must be positive, got {interval}")
    multiple = round(to_fraction(value) / step)  # Fraction.__round__ rounds half to even
    step_dec = _interval_decimal(interval)
    result = Decimal(multiple) * step_dec
    exponent = step_dec.as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0:
        result = result.quantize(Decimal(1).scaleb(exponent))
    if result == 0:
        return abs(result)
    return result


def interval_decimals(interval: Number) -> int:
    """How many decimals a value rounded to ``interval`` is shown with (0.02 -> 2, 0.2 -> 1)."""
    exponent = _interval_decimal(interval).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def format_rounded(value: Number, interval: Number) -> str:
    """Display form: rounded, '+' on positive values, no sign on zero, the interval's
    decimals: (0.01, 0.02) -> '0.00', (0.126, 0.05) -> '+0.15', (-0.3, 0.2) -> '-0.4'."""
    rounded = round_to_interval(value, interval)
    text = f"{rounded:.{interval_decimals(interval)}f}"
    return f"+{text}" if rounded > 0 else text


def _interval_decimal(interval: Number) -> Decimal:
    """The interval without trailing zeros, so 0.10 and 0.1 round and display alike."""
    return to_decimal(interval).normalize(CONTEXT)
