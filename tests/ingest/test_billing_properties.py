"""Property tests (Hypothesis) for the billing rule: for random reads, contract changes and
period boundaries, consecutive lines bill every page exactly once, and the statistics computed
by the same rule match every billed period to the page."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.domain.billing import (
    BillingProblemError,
    Boundary,
    ContractTerms,
    LineAmounts,
    MeterPoint,
    Period,
    add_months,
    at_midnight,
    bill_period,
    covered_span,
    period_containing,
)
from ingest.domain.statistics import pages_per_month

START = date(2026, 1, 1)
MONTHS = 6
PROFILE = settings(max_examples=60, deadline=None)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[MeterPoint], list[ContractTerms], str]:
    """Reads near every month start (so each boundary has a closest read of its own) plus
    random ones; one contract, or two split by a dated change mid-month."""
    period = draw(st.sampled_from(["monthly", "quarterly"]))
    moments = {
        at_midnight(add_months(START, m)) + timedelta(hours=draw(st.integers(-96, 96)))
        for m in range(MONTHS + 1)
    }
    change = None
    if draw(st.booleans()):
        month = draw(st.integers(1, MONTHS - 1))
        change = add_months(START, month) + timedelta(days=draw(st.integers(9, 19)))
        moments.add(at_midnight(change) + timedelta(hours=draw(st.integers(-36, 36))))
    extra = draw(st.lists(st.integers(0, 180 * 24), max_size=8))
    moments |= {at_midnight(START) + timedelta(hours=h) for h in extra}
    points, mono, colour = [], draw(st.integers(0, 10**6)), draw(st.integers(0, 10**5))
    for i, at in enumerate(sorted(moments)):
        mono += draw(st.integers(0, 6000))
        colour += draw(st.integers(0, 1500))
        points.append(MeterPoint(at, mono, colour, read_id=i + 1))
    first = ContractTerms(
        mono_rate=Decimal("0.01"),
        colour_rate=Decimal("0.08"),
        start=START,
        end=change - timedelta(days=1) if change else None,
        included_mono=draw(st.integers(0, 3000)),
        fixed_fee=Decimal(draw(st.integers(0, 100))),
        period=period,
        interpolate=draw(st.booleans()),
    )
    contracts = [first]
    if change:
        contracts.append(
            ContractTerms(
                mono_rate=Decimal("0.02"),
                colour_rate=Decimal("0.1"),
                start=change,
                period=period,
                interpolate=draw(st.booleans()),
            )
        )
    return points, contracts, period


def bill_all(
    points: list[MeterPoint], contracts: list[ContractTerms], period: str
) -> list[LineAmounts]:
    """Every period of the six months, each contract's line starting where the last one ended
    (as a run does with the previous invoice's end)."""
    months = {add_months(START, m) for m in range(MONTHS)}
    periods = sorted({period_containing(m, period) for m in months}, key=lambda p: p.start)
    carried: dict[date, Boundary] = {}
    lines = []
    for billed in periods:
        for terms in contracts:
            span = covered_span(terms, billed)
            if span is None:
                continue
            line = bill_period(terms, billed, points, carried.get(span.start))
            assert line is not None
            carried[span.end] = line.end
            lines.append(line)
    return lines


@PROFILE
@given(scenario())
def test_consecutive_lines_bill_every_page_exactly_once(case):
    points, contracts, period = case
    lines = bill_all(points, contracts, period)
    for before, after in itertools.pairwise(lines):
        assert after.start == before.end  # continued, never re-estimated
        assert after.span.start == before.span.end
    assert all(line.pages_mono >= 0 and line.pages_colour >= 0 for line in lines)
    assert sum(line.pages_mono for line in lines) == lines[-1].end.mono - lines[0].start.mono
    assert sum(line.pages_colour for line in lines) == lines[-1].end.colour - lines[0].start.colour


@PROFILE
@given(scenario())
def test_statistics_equal_the_invoice_for_every_billed_period(case):
    points, contracts, period = case
    lines = bill_all(points, contracts, period)
    anchors: dict[date, Boundary] = {}
    for line in lines:
        anchors.setdefault(line.span.start, line.start)
        anchors[line.span.end] = line.end
    months = [Period(add_months(START, m), add_months(START, m + 1)) for m in range(MONTHS)]
    stats = pages_per_month(points, months, interpolate=contracts[0].interpolate, anchors=anchors)
    for billed in {period_containing(m.start, period) for m in months}:
        in_period = [s for s in stats if billed.start <= s.month < billed.end]
        invoiced = [line for line in lines if billed.start <= line.span.start < billed.end]
        assert sum(s.mono for s in in_period) == sum(line.pages_mono for line in invoiced)
        assert sum(s.colour for s in in_period) == sum(line.pages_colour for line in invoiced)


def bill_or_none(terms, period, points, carried=None, within=None) -> LineAmounts | None:
    """A line, or None where the reads cannot tell yet (too few around the cut)."""
    try:
        return bill_period(terms, period, points, carried, within=within)
    except BillingProblemError:
        return None


@PROFILE
@given(scenario(), st.integers(1, 27))
def test_billing_to_date_then_the_rest_adds_up_to_the_whole_period(case, cut_day):
    points, contracts, _ = case
    terms = contracts[0]
    month = Period(add_months(START, 1), add_months(START, 2))  # February
    if covered_span(terms, month) != month:
        return  # a contract change inside February: the chaining property covers it
    cut = month.start + timedelta(days=cut_day)
    whole = bill_period(terms, month, points)
    first = bill_or_none(terms, month, points, within=Period(month.start, cut))
    rest = first and bill_or_none(terms, month, points, first.end, Period(cut, month.end))
    if not (whole and first and rest):
        return
    assert first.start == whole.start and rest.start == first.end
    assert first.pages_mono + rest.pages_mono == rest.end.mono - whole.start.mono
    assert abs(first.fee + rest.fee - whole.fee) <= Decimal("0.01")
    assert abs(first.included_mono + rest.included_mono - whole.included_mono) <= 1


def test_the_scenarios_cover_changes_and_quarters():
    """The generator really produces contract changes and quarterly periods (no vacuous run)."""
    seen: set[tuple[int, str]] = set()

    @settings(max_examples=80, deadline=None)
    @given(scenario())
    def collect(case):
        seen.add((len(case[1]), case[2]))

    collect()
    assert seen == {(1, "monthly"), (2, "monthly"), (1, "quarterly"), (2, "quarterly")}
