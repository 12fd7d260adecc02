"""Supply history, cartridge changes and automatic reorders, over the database.

Called at intake for every stored reading: a level that jumped up is a cartridge change (and
closes the slot's open reorder); then each consumable slot of a machine under contract is
forecast and, where ``reorder_rules`` says so, reordered.  The arithmetic lives in
``forecast`` and ``reorder_rules``; this module only loads histories and writes rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ingest.domain.catalogue import fits
from ingest.domain.forecast import WINDOW, Forecast, LevelPoint, forecast, is_change
from ingest.domain.orders import add_auto_order_line
from ingest.domain.reorder_rules import REORDERED_KINDS, reorder_reason
from ingest.models import (
    CartridgeChange,
    Consumable,
    Device,
    DeviceReading,
    Machine,
    Reorder,
    SupplyLevel,
)


def slot_key(kind: str, colour: str | None, description: str | None) -> str:
    """A supply slot's identity on one device: kind and colour (else its description)."""
    detail = colour or " ".join((description or "").lower().split())
    return f"{kind}:{detail}"[:120]


def slot_of(level: SupplyLevel) -> str:
    """The slot a stored level belongs to."""
    return slot_key(level.kind, level.colour, level.description)


def slot_history(
    session: Session, device_id: int, slot: str, since: datetime, until: datetime
) -> list[LevelPoint]:
    """Observations of one slot, oldest first, with the page counter at each."""
    rows = session.execute(
        select(SupplyLevel, DeviceReading.total)
        .join(DeviceReading, DeviceReading.id == SupplyLevel.reading_id)
        .where(
            SupplyLevel.device_id == device_id,
            SupplyLevel.observed_at >= since,
            SupplyLevel.observed_at <= until,
        )
        .order_by(SupplyLevel.observed_at, SupplyLevel.id)
    )
    return [
        LevelPoint(level.observed_at, level.percent, level.state, total)
        for level, total in rows
        if slot_of(level) == slot
    ]


def on_reading(
    session: Session, device: Device, reading: DeviceReading, machine: Machine | None
) -> list[Reorder]:
    """Record cartridge changes this reading shows, then reorder what must be; new reorders."""
    created = []
    latest = reading.observed_at >= device.last_seen_at  # a late spooled reading only records
    for level in reading.supplies:
        slot = slot_of(level)
        _record_change(session, device, level, slot, machine)
        if latest and machine is not None and level.kind in REORDERED_KINDS:
            reorder = evaluate_slot(session, machine, device, slot, level, reading.observed_at)
            if reorder is not None:
                created.append(reorder)
    return created


def _record_change(
    session: Session, device: Device, level: SupplyLevel, slot: str, machine: Machine | None
) -> None:
    before = _previous_level(session, device.id, slot, level)
    if before is None:
        return
    previous = LevelPoint(before.observed_at, before.percent, before.state)
    current = LevelPoint(level.observed_at, level.percent, level.state)
    if not is_change(previous, current):
        return
    change = CartridgeChange(
        device_id=device.id,
        slot=slot,
        changed_at=level.observed_at,
        replaced_at_percent=before.percent,
        new_percent=level.percent,
    )
    session.add(change)
    session.flush()
    if machine is not None:
        for reorder in session.scalars(
            select(Reorder).where(Reorder.open_slot == _open_key(machine, slot))
        ):
            reorder.status, reorder.open_slot = "closed", None
            reorder.closed_at, reorder.closed_by_change_id = level.observed_at, change.id


def _previous_level(
    session: Session, device_id: int, slot: str, level: SupplyLevel
) -> SupplyLevel | None:
    candidates = session.scalars(
        select(SupplyLevel)
        .where(
            SupplyLevel.device_id == device_id,
            SupplyLevel.observed_at < level.observed_at,
            SupplyLevel.kind == level.kind,
        )
        .order_by(SupplyLevel.observed_at.desc(), SupplyLevel.id.desc())
        .limit(20)
    )
    return next((c for c in candidates if slot_of(c) == slot), None)


def evaluate_slot(
    session: Session, machine: Machine, device: Device, slot: str, level: SupplyLevel, now: datetime
) -> Reorder | None:
    """Forecast one slot and open a reorder (with its order line) when the rule says so."""
    prediction = forecast(slot_history(session, device.id, slot, now - WINDOW, now), now)
    customer = machine.customer
    reason = reorder_reason(
        level.kind,
        prediction,
        has_open_reorder=_has_open(session, machine, slot),
        lead_days=customer.reorder_lead_days,
        threshold_percent=customer.reorder_threshold_percent,
    )
    if reason is None:
        return None
    consumable = find_consumable(session, machine, level.kind, level.colour)
    reorder = Reorder(
        machine_id=machine.id,
        slot=slot,
        open_slot=_open_key(machine, slot),
        kind=level.kind,
        colour=level.colour,
        consumable_id=consumable.id if consumable else None,
        reason=reason,
        level_percent=prediction.level,
        days_to_empty=prediction.earliest_days,
        status="open",
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(reorder)
            session.flush()
    except IntegrityError:
        return None  # a concurrent upload opened it first: still one reorder per slot
    add_auto_order_line(session, machine, reorder, consumable, level.description, now)
    return reorder


def _has_open(session: Session, machine: Machine, slot: str) -> bool:
    return (
        session.scalar(select(Reorder.id).where(Reorder.open_slot == _open_key(machine, slot)))
        is not None
    )


def _open_key(machine: Machine, slot: str) -> str:
    return f"{machine.id}:{slot}"


def find_consumable(
    session: Session, machine: Machine, kind: str, colour: str | None
) -> Consumable | None:
    """The catalogue article for this machine's model, kind and colour, if the dealer has one."""
    for article in session.scalars(
        select(Consumable).where(Consumable.kind == kind).order_by(Consumable.article_code)
    ):
        if fits(article, machine) and (article.colour or None) == (colour or None):
            return article
    return None


def consumables_for(session: Session, machine: Machine, query: str = "") -> list[Consumable]:
    """Catalogue articles that fit the machine, filtered by code or description."""
    wanted = query.strip().lower()
    return [
        article
        for article in session.scalars(select(Consumable).order_by(Consumable.article_code))
        if fits(article, machine)
        and (
            not wanted
            or wanted in article.article_code.lower()
            or wanted in article.description.lower()
        )
    ]


@dataclass(frozen=True, slots=True)
class SlotForecast:
    """A slot's latest level and forecast, for pages and the API."""

    slot: str
    kind: str
    colour: str | None
    description: str | None
    forecast: Forecast
    open_reorder: bool


def machine_forecasts(session: Session, machine: Machine, now: datetime) -> list[SlotForecast]:
    """Every supply slot of a monitored machine with its forecast."""
    if machine.device_id is None:
        return []
    latest = session.scalar(
        select(DeviceReading)
        .where(DeviceReading.device_id == machine.device_id)
        .order_by(DeviceReading.observed_at.desc(), DeviceReading.id.desc())
        .limit(1)
    )
    if latest is None:
        return []
    result = []
    for level in latest.supplies:
        slot = slot_of(level)
        history = slot_history(session, machine.device_id, slot, now - WINDOW, now)
        result.append(
            SlotForecast(
                slot,
                level.kind,
                level.colour,
                level.description,
                forecast(history, now),
                _has_open(session, machine, slot),
            )
        )
    return result
