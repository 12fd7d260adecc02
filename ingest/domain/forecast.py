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
    numeric = [p for p in cartridge if p.percent is not None]
    if latest.percent is None:
        return Forecast("coarse", None, latest.state, days_to_empty=_coarse_days(latest.state))
    if latest.percent == 0:
        return Forecast("empty", 0, latest.state, 0.0, 0.0, 0.0)
    if len(numeric) < MIN_POINTS or numeric[-1].at - numeric[0].at < MIN_SPAN:
        return Forecast("insufficient", latest.percent, latest.state)
    return _linear(numeric, latest)


def _coarse_days(state: str) -> float | None:
    return 0.0 if state == "empty" else None


def _linear(numeric: list[LevelPoint], latest: LevelPoint) -> Forecast:
    smoothed = _running_minimum([p.percent or 0 for p in numeric])
    origin = numeric[0].at
    days = [(p.at - origin).total_seconds() / 86400 for p in numeric]
    slope, stderr = _fit(days, smoothed)
    level = smoothed[-1]
    pages_to_empty = _pages_to_empty(numeric, smoothed)
    if slope >= 0:
        return Forecast("no_consumption", level, latest.state, pages_to_empty=pages_to_empty)
    rate = -slope
    fast, slow = rate + _CONFIDENCE_SIGMAS * stderr, max(rate - _CONFIDENCE_SIGMAS * stderr, 0)
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


def _running_minimum(values: list[int]) -> list[int]:
    result, lowest = [], math.inf
    for value in values:
        lowest = min(lowest, value)
        result.append(int(lowest))
    return result


def _fit(xs: list[float], ys: list[int]) -> tuple[float, float]:
    """Least-squares slope and its standard error."""
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:
        return 0.0, 0.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    stderr = math.sqrt(residual / (n - 2) / sxx) if n > 2 else 0.0
    return slope, stderr


def _pages_to_empty(numeric: list[LevelPoint], smoothed: list[int]) -> int | None:
    pairs = [
        (p.pages, level) for p, level in zip(numeric, smoothed, strict=True) if p.pages is not None
    ]
    if len(pairs) < MIN_POINTS:
        return None
    slope, _ = _fit([float(pages) for pages, _ in pairs], [level for _, level in pairs])
    if slope >= 0:
        return None
    return round(smoothed[-1] / -slope)
