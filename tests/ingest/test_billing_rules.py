"""Billing arithmetic, table-driven: included volumes, minimums, partial periods, true-up."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ingest.domain.billing import (
    BillingProblemError,
    ContractTerms,
    MeterPoint,
    Period,
    add_months,
    bill_period,
    boundary_value,
    contract_year_ending_in,
    invoice_totals,
    period_containing,
    periods_in,
    true_up,
)

NOV = Period(date(2026, 11, 1), date(2026, 12, 1))


def at(day: int, month: int = 11, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def terms(**kw) -> ContractTerms:
    base = {"mono_rate": Decimal("0.01"), "colour_rate": Decimal("0.08"), "start": date(2026, 1, 1)}
    return ContractTerms(**{**base, **kw})


def reads(*values: tuple[datetime, int, int]) -> list[MeterPoint]:
    return [MeterPoint(t, m, c, read_id=i + 1) for i, (t, m, c) in enumerate(values)]


FULL_MONTH = reads((at(1), 10_000, 2_000), (at(1, 12), 13_000, 2_500))


@pytest.mark.parametrize(
    ("name", "contract", "points", "expected_total", "expected_pages"),
    [
        ("pure cost per copy", terms(), FULL_MONTH, "70.00", (3000, 500)),
        (
            "included volumes",
            terms(included_mono=2000, included_colour=400),
            FULL_MONTH,
            "18.00",
            (3000, 500),
        ),
        (
            "included covers all",
            terms(included_mono=5000, included_colour=1000),
            FULL_MONTH,
            "0.00",
            (3000, 500),
        ),
        (
            "fixed fee plus overage",
            terms(fixed_fee=Decimal("50"), included_mono=2000, included_colour=400),
            FULL_MONTH,
            "68.00",
            (3000, 500),
        ),
        (
            "minimum charge applies",
            terms(minimum_charge=Decimal("100")),
            FULL_MONTH,
            "100.00",
            (3000, 500),
        ),
        (
            "minimum charge exceeded",
            terms(minimum_charge=Decimal("60")),
            FULL_MONTH,
            "70.00",
            (3000, 500),
        ),
        (
            "mono-only machine",
            terms(colour_rate=Decimal(0)),
            reads((at(1), 500, 0), (at(1, 12), 1700, 0)),
            "12.00",
            (1200, 0),
        ),
        (
            "rates with fractions of a cent round half up",
            terms(mono_rate=Decimal("0.00875"), colour_rate=Decimal("0.065")),
            reads((at(1), 0, 0), (at(1, 12), 1001, 3)),
            "8.95",
            (1001, 3),
        ),
    ],
)
def test_period_line(name, contract, points, expected_total, expected_pages):
    line = bill_period(contract, NOV, points)
    assert (line.pages_mono, line.pages_colour) == expected_pages, name
    assert line.total == Decimal(expected_total), name
    assert line.read_ids == (points[0].read_id, points[-1].read_id)


def test_contract_starting_mid_period_prorates_included_fee_and_minimum():
    contract = terms(
        start=date(2026, 11, 16),
        included_mono=3000,
        fixed_fee=Decimal("30"),
        minimum_charge=Decimal("40"),
    )
    points = reads((at(16), 100, 0), (at(1, 12), 3100, 0))
    line = bill_period(contract, NOV, points)
    assert line.span == Period(date(2026, 11, 16), date(2026, 12, 1))
    assert line.included_mono == 1500  # 15 of 30 days
    assert line.fee == Decimal("15.00")
    assert line.minimum == Decimal("20.00")
    assert line.overage_mono == 1500
    assert line.total == Decimal("30.00")  # 15 fee + 1500 * 0.01
    assert "partial period: 15 of 30 days" in line.notes


def test_contract_ending_mid_period_stops_at_its_last_day():
    contract = terms(end=date(2026, 11, 10), included_mono=3000)
    points = reads((at(1), 0, 0), (at(11), 2000, 0), (at(1, 12), 9000, 0))
    line = bill_period(contract, NOV, points)
    assert line.span == Period(date(2026, 11, 1), date(2026, 11, 11))
    assert line.pages_mono == 2000
    assert line.included_mono == 1000
    assert line.total == Decimal("10.00")


def test_contract_outside_the_period_bills_nothing():
    assert bill_period(terms(start=date(2027, 1, 1)), NOV, FULL_MONTH) is None


def test_reads_closest_to_the_boundaries_are_used():
    points = reads(
        (at(28, 10), 900, 0),
        (at(2), 1000, 0),
        (at(20), 1500, 0),
        (at(30, 11, 20), 2000, 0),
        (at(3, 12), 2600, 0),
    )
    line = bill_period(terms(), NOV, points)
    assert line.start.read_ids == (2,)  # 1 day after vs 4 days before
    assert line.end.read_ids == (4,)  # 4 hours before vs 2 days after
    assert not line.start.interpolated
    assert line.pages_mono == 1000


def test_interpolation_only_where_the_contract_says_so_and_marked():
    points = reads(
        (at(31, 10), 1000, 100), (at(2), 1200, 120), (at(30), 4000, 400), (at(2, 12), 4200, 420)
    )
    plain = bill_period(terms(), NOV, points)
    assert not plain.start.interpolated
    line = bill_period(terms(interpolate=True), NOV, points)
    assert line.start.interpolated and line.end.interpolated
    assert line.start.mono == 1100 and line.start.colour == 110
    assert line.end.mono == 4100 and line.end.colour == 410
    assert line.read_ids == (1, 2, 3, 4)
    assert "interpolated at start and end" in line.notes


def test_interpolation_needs_reads_on_both_sides():
    points = reads((at(2), 1200, 0), (at(30), 4000, 0))
    boundary = boundary_value(points, at(1), interpolate=True)
    assert not boundary.interpolated
    assert boundary.mono == 1200


@pytest.mark.parametrize(
    "points",
    [
        [],
        reads((at(15), 100, 0)),
    ],
    ids=["no reads", "one read"],
)
def test_missing_reads_are_a_problem_not_a_zero(points):
    with pytest.raises(BillingProblemError):
        bill_period(terms(), NOV, points)


def test_counter_rollback_between_boundaries_is_a_problem():
    with pytest.raises(BillingProblemError, match="backwards"):
        bill_period(terms(), NOV, reads((at(1), 5000, 0), (at(1, 12), 10, 0)))


def test_board_replacement_offset_gives_continuous_counters():
    """The meter service applies offsets before billing: raw 10 + offset 5000 continues 4990."""
    points = [MeterPoint(at(1), 4000, 0, 1), MeterPoint(at(1, 12), 10 + 5000, 0, 2)]
    assert bill_period(terms(), NOV, points).pages_mono == 1010


def test_true_up_defers_overage_and_pools_the_year():
    contract = terms(
        start=date(2026, 1, 1), included_mono=1000, fixed_fee=Decimal("20"), true_up=True
    )
    monthly = bill_period(contract, NOV, reads((at(1), 0, 0), (at(1, 12), 5000, 0)))
    assert monthly.total == Decimal("20.00")
    assert monthly.overage_amount == 0
    assert monthly.deferred_to_true_up
    dec = Period(date(2026, 12, 1), date(2027, 1, 1))
    window = contract_year_ending_in(contract, dec)
    assert window == Period(date(2026, 1, 1), date(2027, 1, 1))
    assert contract_year_ending_in(contract, NOV) is None
    year = reads(
        (datetime(2026, 1, 1, tzinfo=UTC), 0, 0), (datetime(2027, 1, 1, tzinfo=UTC), 15_000, 0)
    )
    line = true_up(contract, window, year)
    assert line.included_mono == 12_000
    assert line.overage_mono == 3000
    assert line.total == Decimal("30.00")


def test_periods_in_a_window():
    assert periods_in(Period(date(2026, 1, 1), date(2027, 1, 1)), "monthly") == 12
    assert periods_in(Period(date(2026, 1, 1), date(2027, 1, 1)), "quarterly") == 4
    assert periods_in(Period(date(2026, 3, 1), date(2026, 4, 16)), "monthly") == Decimal(1) + (
        Decimal(15) / Decimal(30)
    )


def test_true_up_window_ends_with_the_contract():
    contract = terms(start=date(2026, 3, 1), end=date(2026, 11, 20), true_up=True)
    assert contract_year_ending_in(contract, NOV) == Period(date(2026, 3, 1), date(2026, 11, 21))


@pytest.mark.parametrize(
    ("day", "period", "expected"),
    [
        (date(2026, 11, 30), "monthly", Period(date(2026, 11, 1), date(2026, 12, 1))),
        (date(2026, 11, 30), "quarterly", Period(date(2026, 10, 1), date(2027, 1, 1))),
        (date(2026, 2, 10), "quarterly", Period(date(2026, 1, 1), date(2026, 4, 1))),
    ],
)
def test_periods(day, period, expected):
    assert period_containing(day, period) == expected


def test_add_months_clamps_to_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_vat_on_the_net_total():
    totals = invoice_totals([Decimal("10.01"), Decimal("20.02")], Decimal("0.22"))
    assert totals.net == Decimal("30.03")
    assert totals.vat == Decimal("6.61")
    assert totals.gross == Decimal("36.64")


def test_true_up_window_search_ends_for_contracts_long_over():
    """A true-up contract that ended before the period must not loop forever."""
    contract = terms(start=date(2026, 1, 1), end=date(2026, 6, 30), true_up=True)
    july = Period(date(2026, 7, 1), date(2026, 8, 1))
    assert contract_year_ending_in(contract, july) is None
    june = Period(date(2026, 6, 1), date(2026, 7, 1))
    assert contract_year_ending_in(contract, june) == Period(date(2026, 1, 1), date(2026, 7, 1))
