"""One machine in detail: how fresh its data is, its counters and supplies over time, its reads.

Histories are windowed (the last months) and thinned to one point a day, so a machine read every
fifteen minutes for years costs the same page as a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from ingest.domain.alert_rules import freshness
from ingest.domain.alerts import silence_threshold
from ingest.domain.meters import billable_points
from ingest.domain.supplies import SlotForecast, slot_forecasts, slot_of
from ingest.models import Device, DeviceReading, Machine, MeterRead, SupplyLevel

HISTORY: Final = timedelta(days=180)


def machine_freshness(
    session: Session, machine: Machine, now: datetime
) -> tuple[str, datetime | None]:
    """The machine's state colour and when its agent last read it."""
    if machine.device_id is None:
        return "never", None
    device = session.get(Device, machine.device_id)
    last = device.last_seen_at if device else None
    return freshness(last, now, silence_threshold(session, machine.customer_id)), last


@dataclass(frozen=True, slots=True)
class DailyCounters:
    """The billable counters at the end of one day."""

    day: date
    mono: int
    colour: int


def counter_history(session: Session, machine: Machine, now: datetime) -> list[DailyCounters]:
    """The last billable counters of each day in the window, oldest first."""
    by_day: dict[date, DailyCounters] = {}
    for point in billable_points(session, machine, since=now - HISTORY):
        by_day[point.at.date()] = DailyCounters(point.at.date(), point.mono, point.colour)
    return [by_day[day] for day in sorted(by_day)]


@dataclass(frozen=True, slots=True)
class SupplyHistory:
    """One supply slot: its level a day over the window, and its forecast."""

    slot: str
    label: str
    points: list[tuple[datetime, int]]
    forecast: SlotForecast | None


def supply_history(session: Session, machine: Machine, now: datetime) -> list[SupplyHistory]:
    """Each current supply slot with its daily level (the day's lowest) and its forecast."""
    if machine.device_id is None:
        return []
    forecasts = {slot: f for (_m, slot), f in slot_forecasts(session, [machine]).items()}
    levels: dict[str, dict[date, tuple[datetime, int]]] = {}
    since = now - HISTORY
    # Through the device's readings (their index), then each one's levels (theirs): supply
    # levels keep no index by device, which every upload would pay for.
    rows = session.scalars(
        select(SupplyLevel)
        .join(
            DeviceReading,
            and_(
                DeviceReading.id == SupplyLevel.reading_id,
                DeviceReading.observed_at == SupplyLevel.observed_at,
            ),
        )
        .where(
            DeviceReading.device_id == machine.device_id,
            DeviceReading.observed_at >= since,
            SupplyLevel.observed_at >= since,
            SupplyLevel.percent.is_not(None),
        )
        .order_by(SupplyLevel.observed_at)
    )
    for level in rows:
        day = levels.setdefault(slot_of(level), {})
        seen = day.get(level.observed_at.date())
        if seen is None or (level.percent or 0) < seen[1]:
            day[level.observed_at.date()] = (level.observed_at, level.percent or 0)
    return [
        SupplyHistory(
            slot,
            " ".join(p for p in (forecast.colour, forecast.kind) if p) or slot,
            sorted(levels.get(slot, {}).values()),
            forecast,
        )
        for slot, forecast in sorted(forecasts.items())
    ]


def recent_reads(session: Session, machine: Machine, limit: int = 20) -> list[MeterRead]:
    """The newest meter reads of the machine, any status."""
    query = (
        select(MeterRead)
        .where(MeterRead.machine_id == machine.id)
        .order_by(MeterRead.taken_at.desc(), MeterRead.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
