"""What the dispatcher works from every morning, gathered in a few queries.

Open alerts by kind (with their age), the low-toner list with days to empty and reorder state,
reorders waiting for an article, flagged reads, open tickets by status, and the fleet's pages
per month. Every figure comes from latest-state tables, open rows or invoice lines: nothing
here reads a device's history.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ingest.domain.alert_rules import KINDS
from ingest.domain.alerts import open_alerts
from ingest.domain.billing import add_months
from ingest.domain.meters import flagged_reads
from ingest.domain.reorder_desk import reorders_to_complete
from ingest.domain.staff_overview import dashboard_counts
from ingest.domain.supplies import slot_forecasts
from ingest.models import Alert, InvoiceLine, Machine, Reorder, Ticket

#: Toner that runs out within the lead time plus this many days is on the list.
LOW_TONER_MARGIN_DAYS = 14


@dataclass(frozen=True, slots=True)
class LowToner:
    """A toner or ink slot near its end."""

    machine: Machine
    description: str
    level: int | None
    days: float | None
    lead_days: int
    reorder: str  # "open", "none"
    kind: str = "toner"  # the slot's kind and colour, worded by the page
    colour: str | None = None


@dataclass(frozen=True, slots=True)
class MonthVolume:
    """Pages invoiced for one month across the fleet."""

    month: date
    mono: int
    colour: int


@dataclass(slots=True)
class Dashboard:
    """The dispatcher's morning view."""

    alerts: dict[str, list[Alert]] = field(default_factory=dict)
    low_toner: list[LowToner] = field(default_factory=list)
    reorders_to_complete: list[Reorder] = field(default_factory=list)
    flagged_reads: int = 0
    tickets: Counter[str] = field(default_factory=Counter)
    oldest_ticket: Ticket | None = None
    volume: list[MonthVolume] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def dispatcher_view(session: Session, today: date, months: int = 12) -> Dashboard:
    """Everything the ops home page shows."""
    by_kind: dict[str, list[Alert]] = {kind: [] for kind in KINDS}
    for alert in open_alerts(session):
        by_kind.setdefault(alert.kind, []).append(alert)
    open_tickets = select(Ticket).where(Ticket.status != "done")
    return Dashboard(
        alerts=by_kind,
        low_toner=low_toner(session),
        reorders_to_complete=reorders_to_complete(session),
        flagged_reads=len(flagged_reads(session)),
        tickets=Counter(
            dict(
                session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all()  # type: ignore[arg-type]
            )
        ),
        oldest_ticket=session.scalar(open_tickets.order_by(Ticket.created_at).limit(1)),
        volume=fleet_volume(session, today, months),
        counts=dashboard_counts(session),
    )


def low_toner(session: Session) -> list[LowToner]:
    """Toner and ink of monitored machines that run out soon, soonest first."""
    monitored = select(Machine).where(Machine.device_id.is_not(None), Machine.monitored.is_(True))
    machines = {m.id: m for m in session.scalars(monitored)}
    rows = []
    for (machine_id, _slot), slot in slot_forecasts(session, list(machines.values())).items():
        machine = machines[machine_id]
        lead = machine.customer.reorder_lead_days
        days = slot.forecast.earliest_days
        if slot.kind not in {"toner", "ink"} or days is None:
            continue
        if days <= lead + LOW_TONER_MARGIN_DAYS:
            rows.append(
                LowToner(
                    machine,
                    slot.description or slot.slot,
                    slot.forecast.level,
                    max(0.0, days),
                    lead,
                    "open" if slot.open_reorder else "none",
                    slot.kind,
                    slot.colour,
                )
            )
    return sorted(rows, key=lambda row: row.days if row.days is not None else 0.0)


def fleet_volume(session: Session, today: date, months: int = 12) -> list[MonthVolume]:
    """B/W and colour pages invoiced per month over the last ``months`` (the billing rule's own
    numbers, so the chart and the invoices agree)."""
    first = add_months(date(today.year, today.month, 1), 1 - months)
    lines = session.execute(
        select(InvoiceLine.span_start, InvoiceLine.pages_mono, InvoiceLine.pages_colour).where(
            InvoiceLine.span_start >= first
        )
    )
    totals: dict[date, list[int]] = {add_months(first, i): [0, 0] for i in range(months)}
    for start, mono, colour in lines:
        key = date(start.year, start.month, 1)
        if key in totals:
            totals[key][0] += mono
            totals[key][1] += colour
    return [MonthVolume(month, mono, colour) for month, (mono, colour) in totals.items()]


@dataclass(frozen=True, slots=True)
class Age:
    """A short age in whole units (3 days, 5 hours, 12 minutes); pages word the unit."""

    count: int
    unit: str  # "day", "hour", "minute"


def age_of(moment: datetime, now: datetime) -> Age:
    """A short age: 3 d, 5 h, 12 min (the largest unit reached, rounded down)."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds >= 86400:
        return Age(seconds // 86400, "day")
    if seconds >= 3600:
        return Age(seconds // 3600, "hour")
    return Age(seconds // 60, "minute")
