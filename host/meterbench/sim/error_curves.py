"""Load-dependent error curves of a simulated meter, for its pulses and its register apart.

A meter built to cheat behaves differently where the bench looks and where it does not: its
register may run fast only at small currents, only at one power factor, only in one direction,
or its pulses may be honest while its register is not. A curve is a table of
(current as a multiple of Ib, power factor, direction) -> error %, interpolated linearly in
current within one power factor and direction and held flat beyond its ends. A step is two
points close together (1.0 -> 3 %, 1.001 -> 0 %).

Lookup takes the most specific group that fits the load: an exact power factor before
``pf = "any"``, an exact direction before ``direction = "both"``; a load no group fits has
no error from the curve.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from meterbench.electrical import angle_difference, pf_to_angle

ANY_PF = "any"
BOTH = "both"
PF_MATCH_DEG = 1.0  # a load within this angle of a curve's PF is at that PF


@dataclass(frozen=True)
class CurvePoint:
    """One point: error at a current (multiple of Ib), power factor and energy direction."""

    current_ib: float
    error_pct: float
    pf: str = ANY_PF
    direction: str = BOTH

    def __post_init__(self) -> None:
        if self.current_ib < 0:
            raise ValueError(f"current_ib must not be negative: {self.current_ib}")
        if self.direction not in ("P+", "P-", BOTH):
            raise ValueError(f"direction must be P+, P- or both, not {self.direction!r}")
        if self.pf != ANY_PF:
            pf_to_angle(self.pf)  # refuses a power factor it cannot read


@dataclass(frozen=True)
class ErrorCurve:
    """A whole curve; empty means no error anywhere."""

    points: tuple[CurvePoint, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.points)

    def error_pct(self, current_ib: float, angle_deg: float, direction: str) -> float:
        """Error at a load: current as a multiple of Ib, PF angle (lagging positive) and
        direction ("P+"/"P-")."""
        group = self._group(angle_deg, direction)
        if not group:
            return 0.0
        return interpolate(group, current_ib)

    def _group(self, angle_deg: float, direction: str) -> list[tuple[float, float]]:
        best: list[tuple[float, float]] = []
        best_rank = -1
        ranks: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for point in self.points:
            if point.direction not in (direction, BOTH):
                continue
            if point.pf != ANY_PF and angle_difference(pf_to_angle(point.pf), angle_deg) > (
                PF_MATCH_DEG
            ):
                continue
            ranks.setdefault((point.pf, point.direction), []).append(
                (point.current_ib, point.error_pct)
            )
        for (pf, point_direction), entries in ranks.items():
            rank = (2 if pf != ANY_PF else 0) + (1 if point_direction != BOTH else 0)
            if rank > best_rank:
                best, best_rank = entries, rank
        return sorted(best)


def interpolate(points: list[tuple[float, float]], x: float) -> float:
    """Linear interpolation over sorted (x, y) points, flat beyond the ends."""
    xs = [px for px, _ in points]
    i = bisect.bisect_left(xs, x)
    if i == 0:
        return points[0][1]
    if i == len(points):
        return points[-1][1]
    (x0, y0), (x1, y1) = points[i - 1], points[i]
    if x1 == x0:
        return y1
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
