"""Cost-per-copy billing arithmetic ("costo copia"): plain values in, plain values out.

Nothing here touches a database or Flask, so every rule is a table-driven unit test away.
The rules, in one place:

* A period's pages are the read closest to the period end minus the read closest to the period
  start (within the part of the period the contract covers).  Where the contract allows it and
  reads exist on both sides of a boundary, the boundary value is interpolated linearly in time
  instead, and the line says so.
* Included pages, the fixed fee and the minimum charge are prorated by days for a partial
  period (a contract starting or ending mid-period).
* Pages beyond the included ones are charged at the contract's rates; the period total is at
  least the minimum charge.
* With a true-up ("conguaglio") contract the overage is not charged period by period: the
  pages of each contract year are pooled against the year's included pages and the difference
  is charged once, on the period in which the contract year ends.

Money is ``Decimal`` rounded half-up to the cent; page counts are integers.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from ingest.stored_texts import (
    INTERPOLATED_BOTH,
    INTERPOLATED_END,
    INTERPOLATED_START,
    PARTIAL_PERIOD,
    TRUE_UP,
)

CENT: Final = Decimal("0.01")
PERIOD_MONTHS: Final = {"monthly": 1, "quarterly": 3}


MSG_NO_READS: Final = "no meter reads"
MSG_ONE_READ: Final = "only one usable meter read for this period"
MSG_BACKWARDS: Final = "counters go backwards between the boundary reads"


class BillingProblemError(Exception):
    """A line that cannot be computed as it stands (missing or inconsistent reads)."""


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """What a machine's contract says about money."""

    mono_rate: Decimal
    colour_rate: Decimal
    start: date
    end: date | None = None
    included_mono: int = 0
    included_colour: int = 0
    fixed_fee: Decimal = Decimal(0)
    minimum_charge: Decimal = Decimal(0)
    period: str = "monthly"
    interpolate: bool = False
    true_up: bool = False


@dataclass(frozen=True, slots=True)
class MeterPoint:
    """A validated counter read, offsets already applied; ``read_id`` links back to the DB."""

    at: datetime
    mono: int
    colour: int
    read_id: int | None = None


@dataclass(frozen=True, slots=True)
class Boundary:
    """The counter value used at one end of a billed span, and where it came from."""

    at: datetime
    mono: int
    colour: int
    read_ids: tuple[int, ...]
    interpolated: bool = False


@dataclass(frozen=True, slots=True)
class Period:
    """A billing period, ``start`` inclusive, ``end`` exclusive (dates in UTC)."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """Length in days."""
        return (self.end - self.start).days


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """One machine's bill for one period: pages, included volume, money, provenance."""

    span: Period
    start: Boundary
    end: Boundary
    pages_mono: int
    pages_colour: int
    included_mono: int
    included_colour: int
    overage_mono: int
    overage_colour: int
    fee: Decimal
    overage_amount: Decimal
    minimum: Decimal
    total: Decimal
    deferred_to_true_up: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def read_ids(self) -> tuple[int, ...]:
        """Every meter read this line was computed from."""
        return self.start.read_ids + self.end.read_ids


def money(value: Decimal | int) -> Decimal:
    """Round to the cent, half up (as invoices do)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the end of shorter months."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_containing(day: date, period: str) -> Period:
    """The calendar month or quarter that contains ``day``."""
    months = PERIOD_MONTHS[period]
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    return Period(start, add_months(start, months))


def covered_span(terms: ContractTerms, period: Period) -> Period | None:
    """The part of ``period`` the contract covers, or None when it covers none of it."""
    start = max(period.start, terms.start)
    end = min(period.end, terms.end + timedelta(days=1)) if terms.end else period.end
    return Period(start, end) if start < end else None


def at_midnight(day: date) -> datetime:
    """The instant a billing day starts (UTC)."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def boundary_value(points: list[MeterPoint], moment: datetime, *, interpolate: bool) -> Boundary:
    """The counters at ``moment``: the closest read, or a marked linear interpolation."""
    if not points:
        raise BillingProblemError(MSG_NO_READS)
    before = [p for p in points if p.at <= moment]
    after = [p for p in points if p.at >= moment]
    if interpolate and before and after:
        left = max(before, key=lambda p: p.at)
        right = min(after, key=lambda p: p.at)
        if left.at != right.at:
            return _interpolated(left, right, moment)
    closest = min(points, key=lambda p: (abs((p.at - moment).total_seconds()), p.at))
    return Boundary(closest.at, closest.mono, closest.colour, _ids(closest))


def _interpolated(left: MeterPoint, right: MeterPoint, moment: datetime) -> Boundary:
    share = (moment - left.at).total_seconds() / (right.at - left.at).total_seconds()
    return Boundary(
        at=moment,
        mono=left.mono + round((right.mono - left.mono) * share),
        colour=left.colour + round((right.colour - left.colour) * share),
        read_ids=_ids(left) + _ids(right),
        interpolated=True,
    )


def _ids(point: MeterPoint) -> tuple[int, ...]:
    return (point.read_id,) if point.read_id is not None else ()


def span_counters(
    points: list[MeterPoint],
    span: Period,
    *,
    interpolate: bool,
    start: Boundary | None = None,
    end: Boundary | None = None,
) -> tuple[Boundary, Boundary]:
    """The counters at both ends of ``span``: the one rule invoices *and* statistics use.

    ``start``/``end`` are boundaries already fixed by an issued invoice (the previous line's
    end, or a billed period's ends): they win over the reads, so nothing is counted twice.
    """
    first = start or boundary_value(points, at_midnight(span.start), interpolate=interpolate)
    last = end or boundary_value(points, at_midnight(span.end), interpolate=interpolate)
    if last.at <= first.at:
        raise BillingProblemError(MSG_ONE_READ)
    if last.mono < first.mono or last.colour < first.colour:
        raise BillingProblemError(MSG_BACKWARDS)
    return first, last


def limited_span(terms: ContractTerms, period: Period, within: Period | None) -> Period | None:
    """The part of ``period`` to bill now: what the contract covers, cut to ``within`` (the
    days not invoiced yet, up to the day staff bill to)."""
    span = covered_span(terms, period)
    if span is None or within is None:
        return span
    start, end = max(span.start, within.start), min(span.end, within.end)
    return Period(start, end) if start < end else None


def bill_period(
    terms: ContractTerms,
    period: Period,
    points: list[MeterPoint],
    carried_start: Boundary | None = None,
    *,
    within: Period | None = None,
) -> LineAmounts | None:
    """The line for one machine and period; None when the contract does not cover the period.

    ``carried_start`` is where the previous invoiced line of the machine ended: a period starts
    exactly there, so reads that arrive late never make two invoices count the same pages (or
    none count them).  ``within`` limits the span (bill to date; the rest of a period billed to
    date); included pages, fee and minimum stay prorated over the whole period.
    """
    span = limited_span(terms, period, within)
    if span is None:
        return None
    start, end = span_counters(points, span, interpolate=terms.interpolate, start=carried_start)
    pages_mono, pages_colour = end.mono - start.mono, end.colour - start.colour
    share = Decimal(span.days) / Decimal(period.days)
    included_mono = round(terms.included_mono * share)
    included_colour = round(terms.included_colour * share)
    overage_mono = max(0, pages_mono - included_mono)
    overage_colour = max(0, pages_colour - included_colour)
    fee = money(terms.fixed_fee * share)
    minimum = money(terms.minimum_charge * share)
    overage_amount = Decimal(0)
    if not terms.true_up:
        overage_amount = money(overage_mono * terms.mono_rate + overage_colour * terms.colour_rate)
    interpolation = _interpolation_note(start, end)
    notes = [interpolation] if interpolation else []
    if span != period:
        notes.append(PARTIAL_PERIOD % {"days": span.days, "period": period.days})
    return LineAmounts(
        span=span,
        start=start,
        end=end,
        pages_mono=pages_mono,
        pages_colour=pages_colour,
        included_mono=included_mono,
        included_colour=included_colour,
        overage_mono=overage_mono,
        overage_colour=overage_colour,
        fee=fee,
        overage_amount=overage_amount,
        minimum=minimum,
        total=max(minimum, fee + overage_amount),
        deferred_to_true_up=terms.true_up,
        notes=tuple(notes),
    )


def _interpolation_note(start: Boundary, end: Boundary) -> str:
    return {
        (True, False): INTERPOLATED_START,
        (False, True): INTERPOLATED_END,
        (True, True): INTERPOLATED_BOTH,
    }.get((start.interpolated, end.interpolated), "")


def contract_year_ending_in(terms: ContractTerms, period: Period) -> Period | None:
    """The true-up window (contract year, or the contract's last part) ending in ``period``."""
    if not terms.true_up:
        return None
    contract_end = terms.end + timedelta(days=1) if terms.end else None
    year_start = terms.start
    while year_start < period.end and (contract_end is None or year_start < contract_end):
        year_end = add_months(year_start, 12)
        if contract_end is not None:
            year_end = min(year_end, contract_end)
        if period.start < year_end <= period.end:
            return Period(year_start, year_end)
        year_start = year_end
    return None


def true_up(terms: ContractTerms, window: Period, points: list[MeterPoint]) -> LineAmounts:
    """The "conguaglio" line: a contract year's pooled pages against its included pages."""
    start = boundary_value(points, at_midnight(window.start), interpolate=terms.interpolate)
    end = boundary_value(points, at_midnight(window.end), interpolate=terms.interpolate)
    pages_mono, pages_colour = end.mono - start.mono, end.colour - start.colour
    if end.at <= start.at or pages_mono < 0 or pages_colour < 0:
        raise BillingProblemError("no consistent reads over the true-up window")
    periods = periods_in(window, terms.period)
    included_mono = round(terms.included_mono * periods)
    included_colour = round(terms.included_colour * periods)
    overage_mono = max(0, pages_mono - included_mono)
    overage_colour = max(0, pages_colour - included_colour)
    amount = money(overage_mono * terms.mono_rate + overage_colour * terms.colour_rate)
    return LineAmounts(
        span=window,
        start=start,
        end=end,
        pages_mono=pages_mono,
        pages_colour=pages_colour,
        included_mono=included_mono,
        included_colour=included_colour,
        overage_mono=overage_mono,
        overage_colour=overage_colour,
        fee=Decimal("0.00"),
        overage_amount=amount,
        minimum=Decimal("0.00"),
        total=amount,
        notes=tuple(
            n
            for n in (
                TRUE_UP
                % {"window": f"{window.start:%d/%m/%Y}-{window.end - timedelta(days=1):%d/%m/%Y}"},
                _interpolation_note(start, end),
            )
            if n
        ),
    )


def periods_in(window: Period, period: str) -> Decimal:
    """How many billing periods ``window`` spans: whole ones, then the rest prorated by days."""
    months = PERIOD_MONTHS[period]
    count, cursor = 0, window.start
    while add_months(cursor, months) <= window.end:
        count, cursor = count + 1, add_months(cursor, months)
    rest = Period(cursor, add_months(cursor, months))
    return count + Decimal((window.end - cursor).days) / Decimal(rest.days)


@dataclass(frozen=True, slots=True)
class InvoiceTotals:
    """Net, VAT and gross of a set of lines."""

    net: Decimal
    vat: Decimal
    gross: Decimal


def invoice_totals(line_totals: list[Decimal], vat_rate: Decimal) -> InvoiceTotals:
    """VAT is computed once on the net total (Italian practice), rounded half up."""
    net = money(sum(line_totals, Decimal(0)))
    vat = money(net * vat_rate)
    return InvoiceTotals(net=net, vat=vat, gross=net + vat)
