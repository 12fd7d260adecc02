"""Portal statistics ("Statistiche"): pages per month and tickets, for the last months.

Monthly pages reuse the billing rule for counters at a boundary (the read closest to it), so
the statistics and the invoices never disagree about how many pages a month had.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.billing import (
    BillingProblemError,
    MeterPoint,
    Period,
    add_months,
    at_midnight,
    boundary_value,
)
from ingest.domain.meters import billable_points
from ingest.models import Machine, Ticket


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


def pages_per_month(points: list[MeterPoint], months: list[Period]) -> list[MonthPages]:
    """Pages in each month from one machine's billable reads."""
    result = []
    for month in months:
        try:
            start = boundary_value(points, at_midnight(month.start), interpolate=True)
            end = boundary_value(points, at_midnight(month.end), interpolate=True)
        except BillingProblemError:
            result.append(MonthPages(month.start, None, None))
            continue
        if end.at <= start.at:
            result.append(MonthPages(month.start, None, None))
            continue
        result.append(
            MonthPages(
                month.start, max(0, end.mono - start.mono), max(0, end.colour - start.colour)
            )
        )
    return result


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
        for month in pages_per_month(billable_points(session, machine), months):
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
