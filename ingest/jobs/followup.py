"""An upload's follow-up: its devices' latest state, supply levels and their latest state, meter
reads of machines under contract, reorders of their supplies.

Idempotent: a reading already turned into a meter read is skipped, a reorder already closed or
opened stays as it is (``Reorder.open_slot`` is unique), and reorder decisions come from the
latest supply state, so running late, twice, or after a newer batch's job decides the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.intake import FOLLOWUP_JOB
from ingest.domain.meters import (
    agent_readings,
    machines_for_devices,
    not_yet_read,
    record_agent_reads,
)
from ingest.domain.registry import merge_batch_devices
from ingest.domain.supplies import close_answered_reorders, current_slots, reorder_machine
from ingest.domain.supply_state import fold_batch, store_supply_levels
from ingest.jobs.registry import job
from ingest.models import DeviceReading, Machine, MeterRead, UploadBatch


@job(FOLLOWUP_JOB)
def batch_followup(session: Session, args: dict[str, Any], now: datetime) -> None:
    """Supply levels and their latest state, meter reads, closed and opened reorders for the
    devices of one stored batch."""
    batch = session.get(UploadBatch, int(args["batch_id"]))
    if batch is None:
        return
    # First, and committed on its own: a device's liveness (last seen, newest reading) never
    # waits for the rest of the follow-up to succeed; run again, the merge changes nothing.
    merge_batch_devices(session, batch.id, now)
    session.commit()
    store_supply_levels(session, batch.id)
    fold_batch(session, batch.id)
    device_ids = sorted(
        set(
            session.scalars(
                select(DeviceReading.device_id).where(
                    DeviceReading.batch_id == batch.id, DeviceReading.flag.is_(None)
                )
            )
        )
    )
    machines = machines_for_devices(session, device_ids)
    if not machines:
        return
    # One job per machine at a time: meter-read checks compare with the previous read.
    session.execute(
        select(Machine.id)
        .where(Machine.id.in_(sorted(m.id for m in machines.values())))
        .order_by(Machine.id)
        .with_for_update()
    ).all()
    _meter_reads(session, batch, machines, now)
    close_answered_reorders(session, batch.id, machines)
    slots = current_slots(session, sorted(machines))
    for device_id, machine in sorted(machines.items()):
        reorder_machine(session, machine, slots[device_id])


def _meter_reads(
    session: Session, batch: UploadBatch, machines: dict[int, Machine], now: datetime
) -> None:
    readings = agent_readings(
        session,
        DeviceReading.batch_id == batch.id,
        DeviceReading.device_id.in_(sorted(machines)),
        DeviceReading.flag.is_(None),
        not_yet_read(MeterRead.batch_id == batch.id),
    )
    record_agent_reads(session, [(machines[r.device_id], r) for r in readings], now)
