"""Storing a verified batch exactly once.

The batch id is the idempotency key (Stripe's rule): the first request that carries it is stored
together with the answer it got; a later request with the same id and the same bytes gets that
same answer back and stores nothing; the same id with other bytes is a conflict.  Everything a
batch holds is written in one transaction, so a batch is stored whole or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ingest.domain.errors import DomainError
from ingest.domain.meters import machine_for_device, record_agent_read
from ingest.domain.registry import resolve_device
from ingest.domain.supplies import on_reading
from ingest.models import Agent, DeviceReading, SupplyLevel, UploadBatch
from shared.batch import Batch
from shared.reading import COUNTER_KEYS, Reading, format_timestamp


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What the API answers: the stored response, and whether this request was a re-send."""

    response: dict[str, Any]
    duplicate: bool


def previous_result(
    session: Session, agent: Agent, batch_id: str, digest: str
) -> IntakeResult | None:
    """The stored answer when this batch id was seen before; a conflict if the bytes differ."""
    stored = session.scalar(
        select(UploadBatch).where(
            UploadBatch.agent_id == agent.id, UploadBatch.batch_uuid == batch_id
        )
    )
    if stored is None:
        return None
    if stored.body_digest != digest:
        raise DomainError(
            "batch_id_reused", "this batch id was already used for a different body", 409
        )
    return IntakeResult({**json.loads(stored.response_json), "duplicate": True}, duplicate=True)


def store_batch(
    session: Session,
    agent: Agent,
    batch: Batch,
    *,
    digest: str,
    signature: str,
    received_at: datetime,
) -> IntakeResult:
    """Store ``batch`` (already verified) and commit; a concurrent twin becomes a duplicate."""
    earlier = previous_result(session, agent, batch.batch_id, digest)
    if earlier is not None:
        return earlier
    response = {
        "batch_id": batch.batch_id,
        "seq": batch.seq,
        "accepted": len(batch.readings),
        "duplicate": False,
        "received_at": format_timestamp(received_at),
    }
    row = UploadBatch(
        agent_id=agent.id,
        batch_uuid=batch.batch_id,
        seq=batch.seq,
        body_digest=digest,
        signature=signature,
        created_at=batch.created_at,
        received_at=received_at,
        reading_count=len(batch.readings),
        response_json=json.dumps(response),
    )
    session.add(row)
    try:
        session.flush()
        for reading in batch.readings:
            _store_reading(session, agent, row, reading, received_at)
        agent.last_seq = max(agent.last_seq, batch.seq)
        agent.last_seen_at = received_at
        session.commit()
    except IntegrityError:
        session.rollback()
        earlier = previous_result(session, agent, batch.batch_id, digest)
        if earlier is None:
            raise
        return earlier
    return IntakeResult(response, duplicate=False)


def _store_reading(
    session: Session, agent: Agent, batch: UploadBatch, reading: Reading, received_at: datetime
) -> DeviceReading:
    device = resolve_device(
        session, agent.customer_id, reading.device, reading.address, reading.observed_at
    )
    row = DeviceReading(
        device_id=device.id,
        batch_id=batch.id,
        agent_id=agent.id,
        observed_at=reading.observed_at,
        received_at=received_at,
        address=reading.address,
        payload=reading.to_dict(),
        **{name: getattr(reading.counters, name) for name in COUNTER_KEYS},
    )
    session.add(row)
    session.flush()
    machine = machine_for_device(session, device)
    if machine is not None:
        record_agent_read(session, machine, row, batch)
    session.add_all(
        SupplyLevel(
            reading_id=row.id,
            device_id=device.id,
            observed_at=reading.observed_at,
            slot=slot,
            kind=supply.kind,
            colour=supply.colour,
            description=supply.description,
            level=supply.level,
            max_capacity=supply.max,
            percent=supply.percent,
            state=supply.state,
        )
        for slot, supply in enumerate(reading.supplies)
    )
    session.flush()
    session.refresh(row, ["supplies"])
    on_reading(session, device, row, machine)
    return row
