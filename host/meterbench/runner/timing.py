"""Elapsed and estimated remaining time, per step and for the run, for the operator.

Estimates come from the plan's own measuring times (``Duration.max_s`` of each step or load
point, settling not included), converted to wall time on a faster-than-real simulated
bench, so "about 12 min left" means minutes on the operator's watch.
"""

from __future__ import annotations

import time
from typing import Any

from meterbench.clock import Clock


def estimate_s(step: Any) -> float:
    """The longest measuring time any meter type's plan gives this step (clock seconds)."""
    times = [getattr(model, "time", None) for model in step.by_type.values()]
    return max((float(t.max_s) for t in times if t is not None), default=0.0)


def hms(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Timing:
    """Wall time since the run (this process) started and what the plan says is left."""

    def __init__(self, clock: Clock, estimates: list[float]) -> None:
        self.clock = clock
        self.estimates = estimates
        self.started = time.monotonic()

    def line(self, index: int) -> str:
        """'step about 2:00, run 0:41 elapsed, about 14:10 left' for the step at ``index``."""
        step = self.clock.wall_seconds(self.estimates[index])
        left = self.clock.wall_seconds(sum(self.estimates[index:]))
        elapsed = time.monotonic() - self.started
        return f"step about {hms(step)}; run {hms(elapsed)} elapsed, about {hms(left)} left"


__all__ = ["Timing", "estimate_s", "hms"]
