"""Load-point current expressions (``Imax``, ``0.5Imax``, ``0.05Ib``, ``(Imax-Ib)/2``, ``2A``).

Plans and profiles write currents the way bench software does: as expressions on the meter's
rating. This is a small recursive-descent parser (no ``eval``) with exact Fraction arithmetic and
a dimension check, so ``Imax*Ib`` or a bare ``0.05`` (which would silently mean amperes) is
rejected when the file is loaded rather than when the bench is live.

Names (case-insensitive): ``Ib`` and ``In`` both mean the meter's base current (IEC 62052-11:2020
renamed Ib to In; direct meters mark Ib, transformer-operated meters In), ``Imax``, ``Itr``,
``Imin`` (IR46-style ratings) and ``A`` (one ampere, for absolute currents such as ``2.5A``).
A number directly before a name or a parenthesis multiplies it: ``0.5Imax``, ``2(Imax-Ib)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from meterbench.regulations.numbers import Number, to_fraction

MAX_LENGTH = 80
MAX_DEPTH = 8

CURRENT_NAMES: dict[str, str] = {
    "ib": "base",
    "in": "base",
    "imax": "imax",
    "itr": "itr",
    "imin": "imin",
    "a": "ampere",
}
"""Spellings accepted in expressions -> the rating quantity they stand for."""

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?|\.\d+)|(?P<name>[A-Za-z_]\w*)|(?P<op>[-+*/()]))")


class ExpressionError(ValueError):
    """A current expression that cannot be parsed or evaluated; the message says why."""


@dataclass(frozen=True)
class Rating:
    """The currents an expression can refer to, in amperes. ``base`` is Ib (direct) or In
    (transformer-operated); ``itr`` and ``imin`` exist only for IR46-style ratings."""

    base: Fraction
    imax: Fraction
    itr: Fraction | None = None
    imin: Fraction | None = None

    @classmethod
    def of(
        cls,
        base: Number,
        imax: Number,
        itr: Number | None = None,
        imin: Number | None = None,
    ) -> Rating:
        """Build from any exact numbers (Decimal, str, int)."""
        return cls(
            to_fraction(base),
            to_fraction(imax),
            None if itr is None else to_fraction(itr),
            None if imin is None else to_fraction(imin),
        )

    def quantity(self, name: str) -> Fraction | None:
        """Value of a rating quantity ('base', 'imax', 'itr', 'imin', 'ampere')."""
        if name == "ampere":
            return Fraction(1)
        return getattr(self, name)


# AST: ("num", Fraction) | ("name", key, spelling) | (op, left, right) | ("neg", operand)
_Node = tuple


@dataclass(frozen=True)
class CurrentExpression:
    """A parsed current expression; evaluate it against a ``Rating``."""

    text: str
    _tree: _Node = field(repr=False, compare=False)

    @property
    def names(self) -> frozenset[str]:
        """Rating quantities this expression uses ('base', 'imax', ...)."""
        found: set[str] = set()
        _collect_names(self._tree, found)
        return frozenset(found)

    def evaluate(self, rating: Rating) -> Fraction:
        """The current in amperes, exactly."""
        return _evaluate(self._tree, rating, self.text)

    def __str__(self) -> str:
        return self.text


def parse_current(text: str) -> CurrentExpression:
    """Parse ``text``; raise ExpressionError naming the problem and where it is."""
    if not isinstance(text, str):
        raise ExpressionError(f"a current expression must be text, got {text!r}")
    source = text.strip()
    if not source:
        raise ExpressionError("empty current expression")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"current expression longer than {MAX_LENGTH} characters")
    parser = _Parser(source)
    tree = parser.parse()
    dimension = _dimension(tree)
    if dimension != 1:
        if dimension == 0 and _has_names(tree):
            raise ExpressionError(f"{source!r} is a ratio of currents, not a current")
        if dimension == 0:
            raise ExpressionError(
                f"{source!r} names no current: write e.g. '0.05Ib', 'Imax' or '2.5A'"
            )
        raise ExpressionError(f"{source!r} is not a current (it multiplies or divides currents)")
    return CurrentExpression(source, tree)


def resolve_current(expression: str | CurrentExpression, rating: Rating) -> Fraction:
    """Current in amperes of an expression (text or parsed) for one rating."""
    parsed = parse_current(expression) if isinstance(expression, str) else expression
    return parsed.evaluate(rating)


class _Parser:
    """expr := term (('+'|'-') term)* ; term := unary (('*'|'/') unary | implicit)* ;
    unary := '-' unary | atom ; atom := number | name | '(' expr ')'."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenise(text)
        self.pos = 0
        self.depth = 0

    @staticmethod
    def _tokenise(text: str) -> list[tuple[str, str, int]]:
        tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos].isspace():
                pos += 1
                continue
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise ExpressionError(f"unexpected character {text[pos]!r} in {text!r}")
            kind = match.lastgroup or "op"
            tokens.append((kind, match.group(kind), match.start(kind)))
            pos = match.end()
        return tokens

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, str, int]:
        token = self._peek()
        if token is None:
            raise ExpressionError(f"{self.text!r} ends too early")
        self.pos += 1
        return token

    def parse(self) -> _Node:
        tree = self._expr()
        token = self._peek()
        if token is not None:
            raise ExpressionError(f"unexpected {token[1]!r} in {self.text!r}")
        return tree

    def _expr(self) -> _Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"{self.text!r} is nested too deeply")
        node = self._term()
        while (token := self._peek()) is not None and token[1] in "+-" and token[0] == "op":
            self._take()
            node = (token[1], node, self._term())
        self.depth -= 1
        return node

    def _term(self) -> _Node:
        node = self._unary()
        while (token := self._peek()) is not None:
            if token[0] == "op" and token[1] in "*/":
                self._take()
                node = (token[1], node, self._unary())
            elif node[0] == "num" and (token[0] == "name" or token[1] == "("):
                node = ("*", node, self._unary())  # implicit: 0.5Imax, 2(Imax-Ib)
            else:
                break
        return node

    def _unary(self) -> _Node:
        token = self._peek()
        if token is not None and token[0] == "op" and token[1] == "-":
            self._take()
            return ("neg", self._unary())
        return self._atom()

    def _atom(self) -> _Node:
        kind, value, _ = self._take()
        if kind == "num":
            return ("num", Fraction(value))
        if kind == "name":
            key = CURRENT_NAMES.get(value.lower())
            if key is None:
                known = ", ".join(("Ib", "In", "Imax", "Itr", "Imin", "A"))
                raise ExpressionError(f"unknown name {value!r} in {self.text!r} (known: {known})")
            return ("name", key, value)
        if value == "(":
            node = self._expr()
            closing = self._take()
            if closing[1] != ")":
                raise ExpressionError(f"expected ')' in {self.text!r}")
            return node
        raise ExpressionError(f"unexpected {value!r} in {self.text!r}")


def _dimension(node: _Node) -> int:
    """Power of 'ampere' the node carries; numbers are 0, names 1."""
    kind = node[0]
    if kind == "num":
        return 0
    if kind == "name":
        return 1
    if kind == "neg":
        return _dimension(node[1])
    left, right = _dimension(node[1]), _dimension(node[2])
    if kind in "+-":
        if left != right:
            raise ExpressionError("cannot add or subtract a current and a plain number")
        return left
    return left + right if kind == "*" else left - right


def _has_names(node: _Node) -> bool:
    found: set[str] = set()
    _collect_names(node, found)
    return bool(found)


def _collect_names(node: _Node, found: set[str]) -> None:
    if node[0] == "name":
        if node[1] != "ampere":
            found.add(node[1])
    elif node[0] == "neg":
        _collect_names(node[1], found)
    elif node[0] != "num":
        _collect_names(node[1], found)
        _collect_names(node[2], found)


def _evaluate(node: _Node, rating: Rating, text: str) -> Fraction:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "name":
        value = rating.quantity(node[1])
        if value is None:
            raise ExpressionError(f"{text!r}: this meter's rating defines no {node[2]}")
        return value
    if kind == "neg":
        return -_evaluate(node[1], rating, text)
    left = _evaluate(node[1], rating, text)
    right = _evaluate(node[2], rating, text)
    if kind == "+":
        return left + right
    if kind == "-":
        return left - right
    if kind == "*":
        return left * right
    if right == 0:
        raise ExpressionError(f"{text!r} divides by zero")
    return left / right
