"""Per-meter view of a run: each step with its readings and conclusions, and the verdicts.

The legal verdict comes from MPE conclusions only; an acceptance (customer) limit gives a
separate verdict that never decides a certificate (verification reference §1.10).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meterbench.reports.traceability import nameplate
from meterbench.results import (
    Conclusion,
    Event,
    LimitKind,
    ManualResult,
    Outcome,
    Position,
    Reading,
    RunRecord,
    Step,
)
from meterbench.results.manual import latest_manual_results, missing_manual_items

# A failed item decides the meter even when another item has no result.
_WORST_FIRST = (Outcome.FAIL, Outcome.ERROR, Outcome.NO_RESULT, Outcome.PASS)


def worst(outcomes: set[Outcome]) -> Outcome | None:
    for outcome in _WORST_FIRST:
        if outcome in outcomes:
            return outcome
    return None


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of one meter: readings in the order taken, conclusions MPE first."""

    step: Step
    readings: tuple[Reading, ...]
    conclusions: tuple[Conclusion, ...]

    def conclusion(self, kind: LimitKind) -> Conclusion | None:
        return next((c for c in self.conclusions if c.limit_kind is kind), None)

    @property
    def mpe(self) -> Conclusion | None:
        return self.conclusion(LimitKind.MPE)

    @property
    def acceptance(self) -> Conclusion | None:
        return self.conclusion(LimitKind.ACCEPTANCE)


@dataclass(frozen=True, slots=True)
class MeterResult:
    position: Position
    index: int  # 0-based place of the meter in the run, by position number
    nameplate: dict[str, Any]
    steps: tuple[StepResult, ...]
    events: tuple[Event, ...]
    manual: tuple[ManualResult, ...] = ()  # latest entry per manual item
    missing_manual: tuple[str, ...] = ()  # mandatory manual items not recorded

    @property
    def label(self) -> str:
        """How the meter is named in messages and file names: serial, else asset, else pos."""
        p = self.position
        return p.serial_no or p.asset_no or f"pos{p.position:02d}"

    def verdict(self, kind: LimitKind = LimitKind.MPE) -> Outcome | None:
        """The worst conclusion of that kind; recorded manual items count as legal ones."""
        outcomes = {c.outcome for s in self.steps for c in s.conclusions if c.limit_kind is kind}
        if kind is LimitKind.MPE:
            outcomes |= {m.outcome for m in self.manual}
        return worst(outcomes)

    @property
    def failed(self) -> tuple[StepResult, ...]:
        """Steps whose legal (MPE) conclusion is fail: the items named on a result notice."""
        return tuple(s for s in self.steps if s.mpe is not None and s.mpe.outcome is Outcome.FAIL)

    @property
    def document_kind(self) -> str | None:
        """'certificate' (every item passed), 'notice' (an item failed), None (incomplete)."""
        verdict = self.verdict()
        if verdict is Outcome.PASS:
            return "certificate"
        if verdict is Outcome.FAIL:
            return "notice"
        return None


def steps_in_order(record: RunRecord) -> list[Step]:
    return sorted(record.steps, key=lambda s: (s.ordinal, s.step_key))


def meter_results(record: RunRecord) -> list[MeterResult]:
    """Every meter of the run, by position number, with the steps that concern it."""
    steps = steps_in_order(record)
    out: list[MeterResult] = []
    for index, position in enumerate(sorted(record.positions, key=lambda p: p.position)):
        number = position.position
        results = []
        for step in steps:
            readings = record.readings_for(number, step.step_key)
            conclusions = tuple(
                sorted(
                    (
                        c
                        for c in record.conclusions
                        if c.position == number and c.step_key == step.step_key
                    ),
                    key=lambda c: c.limit_kind is not LimitKind.MPE,
                )
            )
            if readings or conclusions:
                results.append(StepResult(step, readings, conclusions))
        events = tuple(e for e in record.events if e.position == number)
        out.append(
            MeterResult(
                position=position,
                index=index,
                nameplate=nameplate(record, position.meter_type, position.nameplate),
                steps=tuple(results),
                events=events,
                manual=tuple(latest_manual_results(record, number).values()),
                missing_manual=tuple(missing_manual_items(record, number)),
            )
        )
    return out


def find_meter(meters: list[MeterResult], wanted: str) -> MeterResult | None:
    """By serial number, else asset number, else position number ('3' or 'pos3')."""
    for attr in ("serial_no", "asset_no"):
        for meter in meters:
            if getattr(meter.position, attr) == wanted:
                return meter
    digits = wanted.lower().removeprefix("pos")
    if digits.isdigit():
        return next((m for m in meters if m.position.position == int(digits)), None)
    return None
