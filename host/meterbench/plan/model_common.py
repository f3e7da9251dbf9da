"""The pieces every step model shares: frozen models, ``why``, limits, durations and the step
base. Why a module of its own: the kind modules (``heat_model``, ``gas_model``) build their
steps on these while ``model`` gathers all steps into one union, so they cannot import
``model`` itself."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Why(_Frozen):
    """How a step's numbers were obtained."""

    formula: str = ""
    inputs: dict[str, str] = {}
    basis: list[str] = Field(default=[], description="Profile entries used, 'path [tag: source]'")
    notes: list[str] = []


class LimitSet(_Frozen):
    """Symmetric limits in %: the regulatory MPE and, separately, an acceptance limit."""

    mpe: Decimal
    acceptance: Decimal | None = None
    acceptance_basis: str | None = None


class Duration(_Frozen):
    """Estimated measuring time (no settling): shortest and longest case."""

    min_s: Decimal
    max_s: Decimal


class Planned(NamedTuple):
    """One step of a run as this plan step contributes it: a key shared by every meter type
    that has the step (or load point), the point's name, a title and the model to execute."""

    key: str
    point: str
    title: str
    model: Any


class _Step(_Frozen):
    id: str
    title: str = ""
    unconfirmed: list[str] = []
    time: Duration | None = None
    why: Why = Why()

    # whose conclusions enter the batch statistics (error points against an MPE)
    batch_statistics: ClassVar[bool] = False

    def planned(self) -> list[Planned]:
        """The runner's steps of this plan step: itself, or one per load (flow) point."""
        return [Planned(self.id, self.id, self.title or self.id, self)]

    def _per_point(self, points: list[tuple[str, Any]]) -> list[Planned]:
        return [Planned(f"{self.id}/{key}", key, f"{self.title}: {key}", m) for key, m in points]
