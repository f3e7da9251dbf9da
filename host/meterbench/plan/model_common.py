"""The pieces every step model shares: frozen models, ``why``, limits, durations and the step
base. Why a module of its own: the kind modules (``heat_model``, ``gas_model``) build their
steps on these while ``model`` gathers all steps into one union, so they cannot import
``model`` itself."""

from __future__ import annotations

from decimal import Decimal

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


class _Step(_Frozen):
    id: str
    title: str = ""
    unconfirmed: list[str] = []
    time: Duration | None = None
    why: Why = Why()
