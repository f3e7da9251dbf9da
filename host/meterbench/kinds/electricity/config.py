"""The tables of an electricity bench file that belong to its kind: the ``[source]`` (with its
reference standard, whose constant sits in the common ``[standard]`` table)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from meterbench.config.bench import BenchConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceInfo(_Strict):
    driver: Literal["scpi"] = "scpi"
    url: str = Field(min_length=1)
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "N"
    timeout_s: float = Field(default=2.0, gt=0)
    settle_timeout_s: float = Field(
        default=60.0, gt=0, description="wait this long for stable output"
    )


class ElectricitySection(_Strict):
    """What an electricity bench has beyond the common bench."""

    source: SourceInfo


def check_electricity(bench: BenchConfig, section: ElectricitySection) -> None:
    """Rules between the source and the rest of the bench; ValueError naming the field."""
    if bench.standard.constant_imp_per_kwh is None:
        raise ValueError("standard.constant_imp_per_kwh: required for an electricity bench")


def source_of(bench: BenchConfig) -> SourceInfo:
    section: ElectricitySection = bench.section
    return section.source


__all__ = ["ElectricitySection", "SourceInfo", "check_electricity", "source_of"]
