"""Shared state of one expansion: the inputs, and the record of which profile entries each step
used (for ``why.basis`` and the unconfirmed list) and which warnings arose."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from meterbench.config.errors import ConfigError
from meterbench.config.meter_types import MeterType
from meterbench.config.plans import Plan
from meterbench.plan.bench import BenchContext
from meterbench.plan.model import Duration, LimitSet
from meterbench.regulations.limits import acceptance_limit
from meterbench.regulations.numbers import Number, plain
from meterbench.regulations.profile import Provenance, RegulationProfile, Sourced, Tagged

T = TypeVar("T")


class Basis:
    """Collects the profile entries one step rests on."""

    def __init__(self) -> None:
        self.entries: list[Provenance] = []

    def use(self, value: Sourced[T]) -> T:
        self.entries.extend(value.basis)
        return value.value

    def tagged(self, entry: Tagged[Any]) -> Any:
        self.entries.append(entry)
        return entry.value

    def cites(self) -> list[str]:
        seen: dict[str, str] = {}
        for entry in self.entries:
            seen.setdefault(entry.path, entry.cite())
        return list(seen.values())

    def unconfirmed(self) -> list[str]:
        return sorted({e.path for e in self.entries if e.unconfirmed})


@dataclass
class Expansion:
    """Inputs plus what the expansion accumulates across steps."""

    plan: Plan
    meter: MeterType
    profile: RegulationProfile
    bench: BenchContext
    warnings: list[str] = field(default_factory=list)
    unconfirmed: set[str] = field(default_factory=set)

    def plan_error(self, field_name: str, message: str) -> ConfigError:
        return ConfigError(self.plan.source_path or f"plan {self.plan.id}", field_name, message)

    def meter_error(self, field_name: str, message: str) -> ConfigError:
        return ConfigError(
            self.meter.source_path or f"meter type {self.meter.id}", field_name, message
        )

    def finish(self, basis: Basis) -> list[str]:
        """The step's unconfirmed entries, also added to the expansion-wide list."""
        paths = basis.unconfirmed()
        self.unconfirmed.update(paths)
        return paths


def limit_set(ctx: Expansion, mpe: Decimal, absolute: Decimal | None, field_name: str) -> LimitSet:
    """The regulatory MPE and, apart from it, the acceptance limit: a point's own absolute
    value, else the plan's fraction of the MPE, else none."""
    if absolute is not None:
        if absolute > mpe:
            raise ctx.plan_error(
                f"{field_name}.acceptance", f"{absolute} % is wider than the MPE {mpe} %"
            )
        return LimitSet(mpe=num(mpe), acceptance=num(absolute), acceptance_basis="plan point")
    acceptance = ctx.plan.acceptance
    if acceptance is None:
        return LimitSet(mpe=num(mpe))
    value = acceptance_limit(mpe, acceptance.fraction_of_mpe)
    basis = f"{acceptance.fraction_of_mpe} x MPE" + (
        f" ({acceptance.source})" if acceptance.source else ""
    )
    return LimitSet(mpe=num(mpe), acceptance=num(value), acceptance_basis=basis)


def num(value: Number, places: int = 6) -> Decimal:
    """A number for the expansion: exact when short, else rounded half-even to ``places``."""
    return plain(value, places)


def text(value: Number, places: int = 6) -> str:
    return str(num(value, places))


def duration(min_s: Number, max_s: Number | None = None) -> Duration:
    return Duration(min_s=num(min_s, 3), max_s=num(max_s if max_s is not None else min_s, 3))
