"""Toner forecasting: when will a supply run out?  Plain values in, plain values out.

The rules, in one place:

* A **cartridge change** is a level that jumps up by at least ``CHANGE_JUMP`` points (or a
  coarse state going from low/empty back to ok); the old cartridge's last level is kept as the
  level it was replaced at.  Smaller rises are noise (a toner sensor shaken awake) and ignored.
* The forecast uses the current cartridge only, over a recent window.  Levels cannot rise
  without a change, so the series is first made non-increasing (a running minimum): noise
  upwards cannot make a cartridge look fuller than it was.
* Days to empty come from a least-squares line of level against time (calendar time, so
  weekends and holidays lower the average rate as they really do); the confidence range
  comes from the slope's standard error (about two sigma).  Where page counters are known,
  the level against pages gives pages-to-empty as well.
* Coarse devices (only ok/low/empty, or level -3 "some remaining") get no number, only
  their state; the reorder rules act on the state.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

CHANGE_JUMP: Final = 30
MIN_POINTS: Final = 3
MIN_SPAN: Final = timedelta(hours=12)
WINDOW: Final = timedelta(days=90)
_CONFIDENCE_SIGMAS: Final = 2.0
_FULL_STATES: Final = frozenset({"ok", "some_remaining"})
_LOW_STATES: Final = frozenset({"low", "empty"})


@dataclass(frozen=True, slots=True)
class LevelPoint:
    """One observation of one supply slot."""

    at: datetime
    percent: int | None
    state: str
    pages: int | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """A cartridge replaced between two observations."""

    at: datetime
    replaced_at: int | None
    new_level: int | None


@dataclass(frozen=True, slots=True)
class Forecast:
    """How long a supply will last; ``basis`` says how the numbers were obtained."""

    basis: str
    level: int | None
    state: str
    days_to_empty: float | None = None
    days_low: float | None = None
    days_high: float | None = None
    rate_per_day: float | None = None
    pages_to_empty: int | None = None

    @property
    def earliest_days(self) -> float | None:
        """The pessimistic end of the range: what a reorder should plan for."""
        return self.days_low if self.days_low is not None else self.days_to_empty


def detect_changes(points: list[LevelPoint], min_jump: int = CHANGE_JUMP) -> list[Change]:
    """Cartridge changes in a slot's history (oldest first)."""
    changes = []
    ordered = sorted(points, key=lambda p: p.at)
    for before, after in itertools.pairwise(ordered):
        if is_change(before, after, min_jump):
            changes.append(Change(after.at, before.percent, after.percent))
    return changes


def is_change(before: LevelPoint, after: LevelPoint, min_jump: int = CHANGE_JUMP) -> bool:
    """The one rule for "a new cartridge went in" between two consecutive observations."""
    if before.percent is not None and after.percent is not None:
        return after.percent - before.percent >= min_jump
    return before.state in _LOW_STATES and after.state in _FULL_STATES


def current_cartridge(points: list[LevelPoint]) -> list[LevelPoint]:
    """The observations since the last cartridge change."""
    ordered = sorted(points, key=lambda p: p.at)
    start = 0
    for index in range(1, len(ordered)):
        if is_change(ordered[index - 1], ordered[index]):
            start = index
    return ordered[start:]


def forecast(points: list[LevelPoint], now: datetime, window: timedelta = WINDOW) -> Forecast:
    """Days to empty for the current cartridge, from observations up to ``now``."""
    if not points:
        return Forecast("no_data", None, "unknown")
    cartridge = [p for p in current_cartridge(points) if now - window <= p.at <= now]
    latest = max(points, key=lambda p: p.at)
    fit = RunningFit()
    for point in cartridge:
        fit = fit.add(point)
    return fit.forecast(latest)


@dataclass(frozen=True, slots=True)
class RunningFit:
    """The least-squares fit of one cartridge as running sums: one observation at a time.

    This is what intake keeps per supply slot (``supply_latest``), so a forecast never reads
    history: time ``t`` is in days since ``origin`` (the cartridge's first numeric point), the
    level ``y`` is the running minimum (noise upwards cannot refill a cartridge).
    """

    origin: datetime | None = None
    last_at: datetime | None = None
    smoothed: int | None = None
    n: int = 0
    sum_t: float = 0.0
    sum_y: float = 0.0
    sum_tt: float = 0.0
    sum_ty: float = 0.0
    sum_yy: float = 0.0
    pages_n: int = 0
    sum_p: float = 0.0
    sum_pp: float = 0.0
    sum_py: float = 0.0
    sum_yp: float = 0.0

    def add(self, point: LevelPoint) -> RunningFit:
        """The fit with one more observation (a point without a percent changes nothing)."""
        if point.percent is None:
            return self
        origin = self.origin or point.at
        t = (point.at - origin).total_seconds() / 86400
        y = point.percent if self.smoothed is None else min(self.smoothed, point.percent)
        paged = point.pages is not None
        p = float(point.pages or 0)
        return RunningFit(
            origin=origin,
            last_at=point.at,
            smoothed=y,
            n=self.n + 1,
            sum_t=self.sum_t + t,
            sum_y=self.sum_y + y,
            sum_tt=self.sum_tt + t * t,
            sum_ty=self.sum_ty + t * y,
            sum_yy=self.sum_yy + y * y,
            pages_n=self.pages_n + paged,
            sum_p=self.sum_p + p * paged,
            sum_pp=self.sum_pp + p * p * paged,
            sum_py=self.sum_py + p * y * paged,
            sum_yp=self.sum_yp + y * paged,
        )

    def forecast(self, latest: LevelPoint) -> Forecast:
        """The forecast the module docstring describes, from the sums and the latest point."""
        if latest.percent is None:
            return Forecast("coarse", None, latest.state, days_to_empty=_coarse_days(latest.state))
        if latest.percent == 0:
            return Forecast("empty", 0, latest.state, 0.0, 0.0, 0.0)
        span = (self.last_at - self.origin) if self.origin and self.last_at else timedelta(0)
        if self.n < MIN_POINTS or span < MIN_SPAN or self.smoothed is None:
            return Forecast("insufficient", latest.percent, latest.state)
        slope, stderr = _fit_sums(
            self.n, self.sum_t, self.sum_y, self.sum_tt, self.sum_ty, self.sum_yy
        )
        level = self.smoothed
        pages_to_empty = self._pages_to_empty(level)
        if slope >= 0:
            return Forecast("no_consumption", level, latest.state, pages_to_empty=pages_to_empty)
        rate = -slope
        fast = rate + _CONFIDENCE_SIGMAS * stderr
        slow = max(rate - _CONFIDENCE_SIGMAS * stderr, 0)
        return Forecast(
            basis="level_vs_time",
            level=level,
            state=latest.state,
            days_to_empty=level / rate,
            days_low=level / fast,
            days_high=level / slow if slow > 0 else None,
            rate_per_day=rate,
            pages_to_empty=pages_to_empty,
        )

    def _pages_to_empty(self, level: int) -> int | None:
        if self.pages_n < MIN_POINTS:
            return None
        slope, _ = _fit_sums(self.pages_n, self.sum_p, self.sum_yp, self.sum_pp, self.sum_py, 0.0)
        if slope >= 0:
            return None
        return round(level / -slope)


def _coarse_days(state: str) -> float | None:
    return 0.0 if state == "empty" else None


def _fit_sums(
    n: int, sum_x: float, sum_y: float, sum_xx: float, sum_xy: float, sum_yy: float
) -> tuple[float, float]:
    """Least-squares slope and its standard error, from running sums."""
    sxx = sum_xx - sum_x * sum_x / n
    if sxx <= 1e-12:
        return 0.0, 0.0
    sxy = sum_xy - sum_x * sum_y / n
    slope = sxy / sxx
    residual = max(sum_yy - sum_y * sum_y / n - slope * sxy, 0.0)
    stderr = math.sqrt(residual / (n - 2) / sxx) if n > 2 else 0.0
    return slope, stderr
