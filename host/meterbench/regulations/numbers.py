"""Exact number conversions shared by the regulation functions.

Regulation arithmetic runs on Fraction (exact) or, where a value is irrational (the square root in
the three-wire constant m), on Decimal with a fixed, generous precision. Binary floats never enter
a verdict: with floats 0.35 / 0.1 is 3.4999999999999996, and a tie stops being a tie.
"""

from __future__ import annotations

import math
from decimal import Context, Decimal
from fractions import Fraction

Number = int | Decimal | Fraction | str | float
"""Anything the public functions accept as a number. Floats are read through ``repr``."""

PRECISION = 34
"""Significant digits for Decimal work that cannot be exact (divisions, square roots)."""

CONTEXT = Context(prec=PRECISION)


def to_fraction(value: Number) -> Fraction:
    """The exact rational value of ``value``; floats by their shortest repr, not their binary
    expansion, so 0.1 means one tenth."""
    if isinstance(value, bool):
        raise TypeError("a bool is not a number here")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        return Fraction(Decimal(repr(value)))
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except ArithmeticError:
            raise ValueError(f"not a number: {value!r}") from None
        if not parsed.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return Fraction(parsed)
    raise TypeError(f"not a number: {value!r}")


def to_decimal(value: Number) -> Decimal:
    """``value`` as a Decimal: exact when it terminates, else to ``PRECISION`` digits."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    frac = to_fraction(value)
    if frac.denominator == 1:
        return Decimal(frac.numerator)
    return CONTEXT.divide(Decimal(frac.numerator), Decimal(frac.denominator))


def plain(value: Number, places: int = 6) -> Decimal:
    """A value for people and JSON: exact if it terminates within ``places`` decimals,
    otherwise rounded half-even to ``places``; trailing zeros removed, never exponent form."""
    dec = to_decimal(value)
    quantum = Decimal(1).scaleb(-places)
    if dec != dec.quantize(quantum, context=CONTEXT):
        dec = dec.quantize(quantum, context=CONTEXT)
    return normalise(dec)


def normalise(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (``Decimal('1E+2')``)."""
    if value == 0:
        return Decimal(0)
    reduced = value.normalize(CONTEXT)
    if reduced.as_tuple().exponent > 0:  # type: ignore[operator]
        return reduced.quantize(Decimal(1))
    return reduced


def sqrt(value: Number) -> Decimal:
    """Square root to ``PRECISION`` digits (exact for perfect squares)."""
    return CONTEXT.sqrt(to_decimal(value))
