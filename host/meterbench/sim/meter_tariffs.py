"""Time-of-use registers of a simulated meter: energy goes into the tariff its day
time-period table names for the meter's own time of day.

A simulated meter's registers are brought up to date only when it answers, so the energy since
the last answer is split at every period boundary its clock passed in between (the meter's
clock runs at true rate here; its daily error is far too small to move energy between tariffs
within one answer's interval). Setting the meter's clock moves the boundaries, which is what
the tariff-switching item relies on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

DAY_MIN = 24 * 60


class TariffSplitter:
    """Per-tariff energy of one register (a cumulative energy function of simulated time)."""

    def __init__(
        self,
        periods: Sequence[tuple[int, int]],
        tariffs: int,
        energy: Callable[[float], float],
        delay_s: float = 0.0,
    ) -> None:
        self.periods = sorted(periods)  # (minute of day, tariff)
        self.energy = energy
        self.delay = dt.timedelta(seconds=delay_s)  # a faulty meter switches this late
        self.by_tariff = [0.0] * (tariffs + 1)
        self._synced: float | None = None

    def tariff_at(self, when: dt.datetime) -> int:
        when = when - self.delay
        minute = when.hour * 60 + when.minute
        current = self.periods[-1][1]  # the last period runs over midnight
        for start, tariff in self.periods:
            if start <= minute:
                current = tariff
        return current

    def _next_boundary_s(self, when: dt.datetime) -> float:
        """Seconds from ``when`` (meter time) to the next period boundary."""
        when = when - self.delay
        second = when.hour * 3600 + when.minute * 60 + when.second + when.microsecond / 1e6
        starts = [start * 60 for start, _ in self.periods]
        later = [s for s in starts if s > second]
        nxt = later[0] if later else starts[0] + DAY_MIN * 60
        return nxt - second

    def sync(self, t: float, meter_now: dt.datetime) -> list[float]:
        """Energy per tariff (index 0 unused) at simulated time ``t``, when the meter's clock
        shows ``meter_now``."""
        if self._synced is None:
            self.by_tariff[self.tariff_at(meter_now)] += self.energy(t)
            self._synced = t
            return self.by_tariff
        start = self._synced
        while start < t:
            clock = meter_now - dt.timedelta(seconds=t - start)
            end = min(t, start + self._next_boundary_s(clock))
            self.by_tariff[self.tariff_at(clock)] += self.energy(end) - self.energy(start)
            start = end
        self._synced = t
        return self.by_tariff


__all__ = ["TariffSplitter"]
