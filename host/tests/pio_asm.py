"""A small stand-in for MicroPython's ``rp2`` module so firmware PIO programs assemble on CPython.

Written from the RP2040 datasheet's instruction encoding, for the subset the firmware uses
(jmp, wait, in_, push, pull, mov, set, nop; labels, wrap_target, wrap; no side-set or delays).
``install()`` puts it (and a bare ``machine``) into ``sys.modules`` so ``bench.hal.rp2_pio``
imports unchanged; each decorated program becomes a ``Program`` with opcodes and wrap bounds
ready for ``pioemu.emulate``.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

JMP_CONDITIONS = {None: 0, "not_x": 1, "x_dec": 2, "not_y": 3, "y_dec": 4, "x_not_y": 5}
JMP_CONDITIONS.update({"pin": 6, "not_osre": 7})
MOV_DEST = {"pins": 0, "x": 1, "y": 2, "exec": 4, "pc": 5, "isr": 6, "osr": 7}
MOV_SRC = {"pins": 0, "x": 1, "y": 2, "null": 3, "status": 5, "isr": 6, "osr": 7}
SET_DEST = {"pins": 0, "x": 1, "y": 2, "pindirs": 4}
IN_SRC = {"pins": 0, "x": 1, "y": 2, "null": 3, "isr": 6, "osr": 7}
WAIT_SRC = {"gpio": 0, "pin": 1, "irq": 2}


@dataclass
class Program:
    name: str
    opcodes: list[int]
    wrap_target: int
    wrap_top: int
    options: dict[str, Any] = field(default_factory=dict)


class _Assembler:
    def __init__(self) -> None:
        self.labels: dict[str, int] = {}
        self.opcodes: list[int] = []
        self.wrap_target = 0
        self.wrap_top: int | None = None
        self.final = False

    # Names the DSL refers to as bare words.
    def names(self) -> dict[str, Any]:
        words = ["pins", "pin", "x", "y", "osr", "isr", "null", "gpio", "irq", "pindirs", "pc"]
        words += ["x_dec", "y_dec", "not_x", "not_y", "x_not_y", "not_osre", "status", "exec"]
        env: dict[str, Any] = {w: w for w in words}
        env.update(block="block", noblock="noblock")
        for op in ("jmp", "wait", "in_", "push", "pull", "mov", "set", "nop", "label"):
            env[op] = getattr(self, "op_" + op.rstrip("_"))
        env["wrap_target"] = self.op_wrap_target
        env["wrap"] = self.op_wrap
        return env

    def _emit(self, word: int) -> None:
        self.opcodes.append(word)

    def op_label(self, name: str) -> None:
        if not self.final:
            self.labels[name] = len(self.opcodes)

    def op_wrap_target(self) -> None:
        self.wrap_target = len(self.opcodes)

    def op_wrap(self) -> None:
        self.wrap_top = len(self.opcodes) - 1

    def op_jmp(self, cond: Any, target: str | None = None) -> None:
        if target is None:
            cond, target = None, cond
        addr = self.labels.get(target, 0) if self.final and target is not None else 0
        self._emit((0 << 13) | (JMP_CONDITIONS[cond] << 5) | addr)

    def op_wait(self, polarity: int, source: str, index: int) -> None:
        self._emit((1 << 13) | (polarity << 7) | (WAIT_SRC[source] << 5) | index)

    def op_in(self, source: str, count: int) -> None:
        self._emit((2 << 13) | (IN_SRC[source] << 5) | (count & 31))

    def op_push(self, mode: str = "block") -> None:
        self._emit((4 << 13) | ((mode == "block") << 5))

    def op_pull(self, mode: str = "block") -> None:
        self._emit((4 << 13) | (1 << 7) | ((mode == "block") << 5))

    def op_mov(self, dest: str, src: str) -> None:
        self._emit((5 << 13) | (MOV_DEST[dest] << 5) | MOV_SRC[src])

    def op_set(self, dest: str, value: int) -> None:
        self._emit((7 << 13) | (SET_DEST[dest] << 5) | value)

    def op_nop(self) -> None:
        self.op_mov("y", "y")


def assembled(program: object) -> Program:
    """A firmware program as this assembler built it: the firmware module's names are untyped
    (``rp2`` exists only on the board), so callers check here what they got."""
    if not isinstance(program, Program):
        raise TypeError(f"not an assembled PIO program: {program!r} (call install() first)")
    return program


def asm_pio(**options: Any):
    """Decorator: assemble in two passes (labels, then code), like MicroPython's."""

    def assemble(func: Any) -> Program:
        asm = _Assembler()
        saved = dict(func.__globals__)
        try:
            for final in (False, True):
                asm.final = final
                asm.opcodes = []
                func.__globals__.update(asm.names())
                func()
        finally:
            func.__globals__.clear()
            func.__globals__.update(saved)
        top = asm.wrap_top if asm.wrap_top is not None else len(asm.opcodes) - 1
        return Program(func.__name__, asm.opcodes, asm.wrap_target, top, options)

    return assemble


class _PIO:
    OUT_LOW, OUT_HIGH, IN_LOW, IN_HIGH = 0, 1, 2, 3
    SHIFT_LEFT, SHIFT_RIGHT = 0, 1
    JOIN_NONE, JOIN_TX, JOIN_RX = 0, 1, 2
    IRQ_SM0 = 0x100


def install() -> types.ModuleType:
    """Register the stand-in ``rp2`` module and return it."""
    rp2 = types.ModuleType("rp2")
    rp2.asm_pio = asm_pio  # type: ignore[attr-defined]
    rp2.PIO = _PIO  # type: ignore[attr-defined]
    rp2.StateMachine = object  # type: ignore[attr-defined]
    sys.modules["rp2"] = rp2
    return rp2
