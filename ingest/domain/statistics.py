"""Portal statistics ("Statistiche"): pages per month and tickets, for the last months.

Monthly pages come from the function invoices use (``billing.span_counters``), with the
machine's contract deciding about interpolation, and every boundary an issued invoice fixed
taken from that invoice: for every invoiced period the statistics match the invoice to the page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.billing import (
    BillingProblemError,
    Boundary,
    MeterPoint,
    Period,
    add_months,
    at_midnight,
    span_counters,
)
from ingest.domain.meters import billable_points_around
from ingest.models import Contract, Invoice, InvoiceLine, Machine, Ticket


@dataclass(frozen=True, slots=True)
class MonthPages:
    """Pages printed in one month (None where the reads do not tell)."""

    month: date
    mono: int | None
    colour: int | None


def last_months(today: date, count: int = 6) -> list[Period]:
    """The ``count`` calendar months ending with the current one, oldest first."""
    current = date(today.year, today.month, 1)
    return [
        Period(add_months(current, -i), add_months(current, 1 - i)) for i in reversed(range(count))
    ]


def pages_per_month(
    points: list[MeterPoint],
    months: list[Period],
    *,
    interpolate: bool | Callable[[date], bool] = False,
    anchors: Mapping[date, Boundary] | None = None,
) -> list[MonthPages]:
    """Pages in each month from one machine's billable reads.

    ``interpolate`` is the contract's choice (or a function of the month's first day, when
    contracts changed); ``anchors`` are the counters issued invoices fixed at a day's start.
    """
    fixed = anchors or {}
    result = []
    for month in months:
        flag = interpolate(month.start) if callable(interpolate) else interpolate
        try:
            start, end = span_counters(
                points,
                month,
                interpolate=flag,
                start=fixed.get(month.start),
                end=fixed.get(month.end),
            )
        except BillingProblemError:
            result.append(MonthPages(month.start, None, None))
            continue
        result.append(MonthPages(month.start, end.mono - start.mono, end.colour - start.colour))
    return result


def invoice_anchors(session: Session, machine: Machine, window: Period) -> dict[date, Boundary]:
    """The counters the machine's issued period lines fixed within ``window``, by the day
    they start or end at."""
    anchors: dict[date, Boundary] = {}
    for line in session.scalars(
        select(InvoiceLine)
        .join(Invoice)
        .where(
            InvoiceLine.machine_id == machine.id,
            InvoiceLine.kind == "period",
            InvoiceLine.span_end >= window.start - timedelta(days=1),
            InvoiceLine.span_start <= window.end,
        )
        .order_by(InvoiceLine.span_start)
    ):
        start, end = line.span_start, line.span_end + timedelta(days=1)
        anchors.setdefault(
            start, Boundary(at_midnight(start), line.start_mono, line.start_colour, ())
        )
        anchors[end] = Boundary(at_midnight(end), line.end_mono, line.end_colour, ())
    return anchors


def contract_interpolation(contracts: list[Contract]) -> Callable[[date], bool]:
    """Whether the contract in force on a day interpolates (False where none is)."""

    def flag(day: date) -> bool:
        for contract in contracts:
            if contract.start <= day and (contract.end is None or day <= contract.end):
                return contract.interpolate
        return False

    return flag


def machine_pages(session: Session, machine: Machine, months: list[Period]) -> list[MonthPages]:
    """One machine's pages per month, by the billing rule and its invoices."""
    return pages_per_month(
        billable_points_around(session, machine, months[0].start, months[-1].end),
        months,
        interpolate=contract_interpolation(list(machine.contracts)),
        anchors=invoice_anchors(session, machine, Period(months[0].start, months[-1].end)),
    )


def fleet_pages(
    session: Session, customer_id: int | None, months: list[Period], machine_id: int | None = None
) -> list[MonthPages]:
    """Pages per month summed over the customer's machines (or one machine)."""
    query = select(Machine)
    if customer_id is not None:
        query = query.where(Machine.customer_id == customer_id)
    if machine_id is not None:
        query = query.where(Machine.id == machine_id)
    totals = {m.start: [None, None] for m in months}
    for machine in session.scalars(query):
        for month in machine_pages(session, machine, months):
            for index, value in enumerate((month.mono, month.colour)):
                if value is not None:
                    totals[month.month][index] = (totals[month.month][index] or 0) + value
    return [MonthPages(start, mono, colour) for start, (mono, colour) in totals.items()]


def ticket_counts(
    session: Session, customer_id: int | None, months: list[Period], machine_id: int | None = None
) -> dict[date, Counter[str]]:
    """Tickets opened per month, by current status."""
    query = select(Ticket).where(Ticket.created_at >= at_midnight(months[0].start))
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id)
    if machine_id is not None:
        query = query.where(Ticket.machine_id == machine_id)
    counts: dict[date, Counter[str]] = {m.start: Counter() for m in months}
    for ticket in session.scalars(query):
        key = date(ticket.created_at.year, ticket.created_at.month, 1)
        if key in counts:
            counts[key][ticket.status] += 1
    return counts
