"""Toner forecasts on synthetic histories with known answers, and the reorder rule."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ingest.domain.forecast import LevelPoint, current_cartridge, detect_changes, forecast
from ingest.domain.reorder_rules import reorder_reason

T0 = datetime(2026, 9, 1, 8, tzinfo=UTC)  # a Tuesday


def daily(levels, start=T0, pages_per_point=None):
    return [
        LevelPoint(
            start + timedelta(days=i), level, "ok", pages_per_point * i if pages_per_point else None
        )
        for i, level in enumerate(levels)
    ]


def test_linear_use_gives_the_exact_days_left():
    points = daily([100 - 2 * i for i in range(21)])  # 2 % a day, now at 60 %
    result = forecast(points, points[-1].at)
    assert result.basis == "level_vs_time"
    assert result.level == 60
    assert result.days_to_empty == pytest.approx(30)
    assert result.rate_per_day == pytest.approx(2)
    assert result.days_low == pytest.approx(30, abs=0.01)  # a perfect line: a narrow range


def test_weekend_gaps_average_over_calendar_time():
    points, level = [], 90.0
    for day in range(28):
        moment = T0 + timedelta(days=day)
        if moment.weekday() < 5:
            level -= 1.4
        points.append(LevelPoint(moment, round(level), "ok"))
    result = forecast(points, points[-1].at)
    assert result.rate_per_day == pytest.approx(1.0, abs=0.08)  # 7 %/week over 7 days
    assert result.days_to_empty == pytest.approx(result.level / 1.0, rel=0.1)
    assert result.days_low < result.days_to_empty < result.days_high


def test_noise_upwards_does_not_make_the_cartridge_fuller():
    rng = random.Random(7)
    clean = [80 - i for i in range(30)]
    noisy = [v + rng.choice((0, 0, 3, 5)) for v in clean]
    result = forecast(daily(noisy), T0 + timedelta(days=29))
    assert detect_changes(daily(noisy)) == []
    assert result.rate_per_day == pytest.approx(1.0, abs=0.25)
    assert result.days_to_empty == pytest.approx(51, abs=12)


def test_a_cartridge_change_is_detected_and_starts_a_new_history():
    levels = [30, 25, 20, 15, 10, 6, 98, 96, 94, 92]
    points = daily(levels)
    [change] = detect_changes(points)
    assert change.replaced_at == 6
    assert change.new_level == 98
    assert change.at == points[6].at
    assert [p.percent for p in current_cartridge(points)] == [98, 96, 94, 92]
    result = forecast(points, points[-1].at)
    assert result.level == 92
    assert result.days_to_empty == pytest.approx(46)


@pytest.mark.parametrize(
    ("states", "expected_basis", "expected_days"),
    [(["ok", "ok", "low"], "coarse", None), (["ok", "low", "empty"], "coarse", 0.0)],
)
def test_coarse_levels_give_a_state_not_a_number(states, expected_basis, expected_days):
    points = [LevelPoint(T0 + timedelta(days=i), None, s) for i, s in enumerate(states)]
    result = forecast(points, points[-1].at)
    assert result.basis == expected_basis
    assert result.days_to_empty == expected_days
    assert result.state == states[-1]


def test_coarse_change_from_low_back_to_ok():
    points = [
        LevelPoint(T0 + timedelta(days=i), None, s)
        for i, s in enumerate(["ok", "low", "some_remaining"])
    ]
    assert len(detect_changes(points)) == 1


def test_too_little_history_is_said_not_guessed():
    points = daily([80, 79])
    assert forecast(points, points[-1].at).basis == "insufficient"
    burst = [LevelPoint(T0 + timedelta(minutes=i), 80 - i, "ok") for i in range(5)]
    assert forecast(burst, burst[-1].at).basis == "insufficient"


def test_pages_to_empty_from_level_against_pages():
    points = daily([100 - 2 * i for i in range(11)], pages_per_point=500)  # 2 % per 500 pages
    result = forecast(points, points[-1].at)
    assert result.pages_to_empty == 20_000  # 80 % left at 250 pages per %


def test_no_consumption_means_no_date():
    points = daily([70] * 10)
    result = forecast(points, points[-1].at)
    assert result.basis == "no_consumption"
    assert result.days_to_empty is None


# -- the reorder rule -------------------------------------------------------------------------


def test_reorder_when_the_forecast_falls_inside_the_lead_time():
    points = daily([50 - 4 * i for i in range(10)])  # 14 % left at 4 %/day: 3.5 days
    prediction = forecast(points, points[-1].at)
    reason = reorder_reason("toner", prediction, has_open_reorder=False, lead_days=7)
    assert reason.startswith("forecast empty in 3.5 days")
    assert reorder_reason("toner", prediction, has_open_reorder=False, lead_days=2) is None


def test_reorder_at_the_threshold_even_without_a_forecast():
    prediction = forecast(daily([12, 10]), T0 + timedelta(days=1))
    assert prediction.basis == "insufficient"
    assert reorder_reason("toner", prediction, has_open_reorder=False) == (
        "level 10% at or below 10%"
    )


def test_never_two_open_reorders_and_only_consumables():
    prediction = forecast(daily([5, 4, 3]), T0 + timedelta(days=2))
    assert reorder_reason("toner", prediction, has_open_reorder=True) is None
    assert reorder_reason("drum", prediction, has_open_reorder=False) is None
    assert reorder_reason("waste_toner", prediction, has_open_reorder=False) is not None


def test_coarse_low_is_reordered():
    points = [LevelPoint(T0, None, "ok"), LevelPoint(T0 + timedelta(days=1), None, "low")]
    prediction = forecast(points, points[-1].at)
    assert reorder_reason("toner", prediction, has_open_reorder=False) == "device reports low"
