"""Cartridge changes and automatic reorders over the latest supply state; the catalogue.

Intake folds every observation into ``supply_latest`` (``supply_state``), recording cartridge
changes; the upload's follow-up job then closes the reorders those changes answer and, for each
consumable slot of a machine under contract, forecasts from the slot's running sums and reorders
where ``reorder_rules`` says so.  Nothing here reads a device's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ingest.domain.catalogue import fits
from ingest.domain.forecast import Forecast
from ingest.domain.orders import add_auto_order_line
from ingest.domain.reorder_rules import REORDERED_KINDS, reorder_reason
from ingest.domain.supply_state import slot_forecast, slot_key
from ingest.models import (
    CartridgeChange,
    Consumable,
    Device,
    Machine,
    Reorder,
    SupplyLevel,
    SupplyState,
)

__all__ = [
    "SlotForecast",
    "close_answered_reorders",
    "consumables_for",
    "current_slots",
    "evaluate_slot",
    "find_consumable",
    "machine_forecasts",
    "reorder_machine",
    "slot_forecasts",
    "slot_key",
    "slot_of",
]


def slot_of(level: SupplyLevel | SupplyState) -> str:
    """The slot a stored level belongs to."""
    return slot_key(level.kind, level.colour, level.description)


def current_slots(session: Session, device_ids: list[int]) -> dict[int, list[SupplyState]]:
    """The slots each device reported in its newest reading, in the device's order."""
    rows = session.scalars(
        select(SupplyState)
        .join(Device, Device.id == SupplyState.device_id)
        .where(
            SupplyState.device_id.in_(device_ids),
            SupplyState.reading_id == Device.latest_reading_id,
        )
        .order_by(SupplyState.device_id, SupplyState.position)
    )
    slots: dict[int, list[SupplyState]] = {device_id: [] for device_id in device_ids}
    for state in rows:
        slots[state.device_id].append(state)
    return slots


def close_answered_reorders(session: Session, batch_id: int, machines: dict[int, Machine]) -> None:
    """Close the open reorder of every slot whose cartridge change this upload showed."""
    for change in session.scalars(
        select(CartridgeChange)
        .where(CartridgeChange.batch_id == batch_id)
        .order_by(CartridgeChange.changed_at, CartridgeChange.id)
    ):
        machine = machines.get(change.device_id)
        if machine is None:
            continue
        for reorder in session.scalars(
            select(Reorder).where(Reorder.open_slot == _open_key(machine, change.slot))
        ):
            reorder.status, reorder.open_slot = "closed", None
            reorder.closed_at, reorder.closed_by_change_id = change.changed_at, change.id


def reorder_machine(session: Session, machine: Machine, slots: list[SupplyState]) -> list[Reorder]:
    """Reorder what the machine's consumable slots need now; the reorders opened."""
    created = []
    for state in slots:
        if state.kind in REORDERED_KINDS:
            reorder = evaluate_slot(session, machine, state)
            if reorder is not None:
                created.append(reorder)
    return created


def evaluate_slot(session: Session, machine: Machine, state: SupplyState) -> Reorder | None:
    """Forecast one slot and open a reorder (with its order line) when the rule says so.

    The slot's latest observation is "now" for the rule: the answer depends on the data alone,
    so a job that runs late or twice decides the same.
    """
    slot, now = slot_of(state), state.observed_at
    prediction = slot_forecast(state)
    customer = machine.customer
    if not customer.auto_reorder:
        return None  # the customer orders itself: a low supply is a staff alert (supply_low)
    reason = reorder_reason(
        state.kind,
        prediction,
        has_open_reorder=False,
        lead_days=customer.reorder_lead_days,
        threshold_percent=customer.reorder_threshold_percent,
    )
    # An open reorder only silences the rule: looked up (a query) for a slot it would reorder,
    # not for every slot of every follow-up (0.6 ms each, most of a follow-up's time).
    if reason is None or _has_open(session, machine, slot):
        return None
    consumable = find_consumable(session, machine, state.kind, state.colour)
    reorder = Reorder(
        machine_id=machine.id,
        slot=slot,
        open_slot=_open_key(machine, slot),
        kind=state.kind,
        colour=state.colour,
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
        return None  # a concurrent job opened it first: still one reorder per slot
    add_auto_order_line(session, machine, reorder, consumable, state.description, now)
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
    """Every supply slot of a monitored machine with its forecast, from its latest state.

    ``now`` is kept for callers: the running fit already ends at the slot's latest reading.
    """
    return list(slot_forecasts(session, [machine]).values())


def slot_forecasts(
    session: Session, machines: list[Machine]
) -> dict[tuple[int, str], SlotForecast]:
    """The forecast of every current slot of these machines, by (machine id, slot): two
    queries for a whole page of machines."""
    by_device = {m.device_id: m for m in machines if m.device_id is not None}
    if not by_device:
        return {}
    open_slots = set(
        session.scalars(
            select(Reorder.open_slot).where(
                Reorder.machine_id.in_([m.id for m in by_device.values()]),
                Reorder.open_slot.is_not(None),
            )
        )
    )
    result = {}
    for device_id, states in current_slots(session, list(by_device)).items():
        machine = by_device[device_id]
        for state in states:
            slot = slot_of(state)
            result[(machine.id, slot)] = SlotForecast(
                slot,
                state.kind,
                state.colour,
                state.description,
                slot_forecast(state),
                _open_key(machine, slot) in open_slots,
            )
    return result
