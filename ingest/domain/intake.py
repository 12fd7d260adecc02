"""Storing a verified batch exactly once, set-based: a few statements per batch, not per reading.

The batch id is the idempotency key (Stripe's rule): the first request that carries it is stored
together with the answer it got; a later request with the same id and the same bytes gets that
same answer back and stores nothing; the same id with other bytes is a conflict.  Everything a
batch holds is written in one transaction, so a batch is stored whole or not at all, and so is
the outbox row of its follow-up job (meter reads, reorders: ``ingest.jobs.followup``), which
therefore can never be lost.

Per batch: claim the id (``insert ... on conflict do nothing``), reserve reading ids, resolve
every device at once (``registry.resolve_devices``), insert readings and supply levels in one
statement each, move the agent's ``last_seq`` with ``greatest`` (no lost update under
concurrency), enqueue the follow-up, which folds the supplies into their latest state
(``supply_state.fold_batch``) off the request path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ingest.domain.bulk import dialect_insert, greatest, insert_rows, take_ids
from ingest.domain.errors import DomainError
from ingest.domain.registry import Sighting, resolve_devices
from ingest.domain.supply_state import SlotObservation, supply_columns
from ingest.jobs.outbox import enqueue
from ingest.models import Agent, DeviceReading, SupplyLevel, UploadBatch
from shared.batch import Batch
from shared.reading import COUNTER_KEYS, Reading, format_timestamp

#: A reading dated further ahead of the ingest's clock than this is impossible: refused.
FUTURE_TOLERANCE: Final = timedelta(minutes=5)
#: Older than any agent's spool can hold (the default 100 MB spool holds weeks to months of
#: reads; a year is beyond every configuration we ship): a wrong clock, not a late delivery.
MAX_READING_AGE: Final = timedelta(days=366)
FOLLOWUP_JOB: Final = "batch_followup"


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What the API answers: the stored response, whether this request was a re-send, and the
    jobs to start once the transaction is committed."""

    response: dict[str, Any]
    duplicate: bool
    jobs: tuple[int, ...] = field(default=())


def reading_flag(observed_at: datetime, now: datetime) -> str | None:
    """Why a reading must not count (it is kept, flagged, but never billed or shown), or None."""
    if observed_at > now + FUTURE_TOLERANCE:
        return "in_future"
    if observed_at < now - MAX_READING_AGE:
        return "too_old"
    return None


def previous_result(
    session: Session, agent: Agent, batch_id: str, digest: str
) -> IntakeResult | None:
    """The stored answer when this batch id was seen before; a conflict if the bytes differ."""
    stored = session.execute(
        select(UploadBatch.body_digest, UploadBatch.response_json).where(
            UploadBatch.agent_id == agent.id, UploadBatch.batch_uuid == batch_id
        )
    ).first()
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
    flags = [reading_flag(r.observed_at, received_at) for r in batch.readings]
    response = _response(batch, flags, received_at)
    # End the read transaction the checks opened: the batch's own begins with a write, since
    # SQLite cannot upgrade a read transaction once another writer has committed.
    session.commit()
    batch_pk = _claim(session, agent, batch, digest, signature, received_at, response)
    if batch_pk is None:  # a twin committed first: answer as it was answered
        session.rollback()
        earlier = previous_result(session, agent, batch.batch_id, digest)
        if earlier is None:
            raise DomainError("retry", "a concurrent upload of this batch failed: retry", 503)
        return earlier
    reading_ids = take_ids(session, DeviceReading.__table__, len(batch.readings))
    device_ids = resolve_devices(
        session,
        agent.customer_id,
        [
            Sighting(r.device, r.address, None if flag else r.observed_at, reading_id)
            for r, flag, reading_id in zip(batch.readings, flags, reading_ids, strict=True)
        ],
        received_at,
    )
    rows = list(zip(batch.readings, flags, reading_ids, device_ids, strict=True))
    insert_rows(
        session,
        DeviceReading.__table__,
        [_reading_row(agent, batch_pk, received_at, *row) for row in rows],
    )
    observations = [
        SlotObservation(device_id, reading_id, r.observed_at, position, supply, r.counters.total)
        for r, flag, reading_id, device_id in rows
        if flag is None
        for position, supply in enumerate(r.supplies)
    ]
    insert_rows(session, SupplyLevel.__table__, [_supply_row(o) for o in observations])
    session.execute(
        update(Agent)
        .where(Agent.id == agent.id)
        .values(
            last_seq=greatest(session, Agent.last_seq, batch.seq),
            last_seen_at=greatest(
                session, func.coalesce(Agent.last_seen_at, received_at), received_at
            ),
        )
    )
    job = enqueue(session, FOLLOWUP_JOB, {"batch_id": batch_pk}, now=received_at)
    session.commit()
    return IntakeResult(response, duplicate=False, jobs=(job,))


def _response(batch: Batch, flags: list[str | None], received_at: datetime) -> dict[str, Any]:
    response: dict[str, Any] = {
        "batch_id": batch.batch_id,
        "seq": batch.seq,
        "accepted": sum(flag is None for flag in flags),
        "duplicate": False,
        "received_at": format_timestamp(received_at),
    }
    flagged = [{"index": i, "reason": flag} for i, flag in enumerate(flags) if flag]
    if flagged:
        response["flagged"] = flagged
    return response


def _claim(
    session: Session,
    agent: Agent,
    batch: Batch,
    digest: str,
    signature: str,
    received_at: datetime,
    response: dict[str, Any],
) -> int | None:
    """Insert the batch row, or None when this batch id is already stored."""
    table = UploadBatch.__table__
    statement = (
        dialect_insert(session, table)
        .values(
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
        .on_conflict_do_nothing(index_elements=[table.c.agent_id, table.c.batch_uuid])
        .returning(table.c.id)
    )
    return session.scalar(statement)


def _reading_row(
    agent: Agent,
    batch_pk: int,
    received_at: datetime,
    reading: Reading,
    flag: str | None,
    reading_id: int,
    device_id: int,
) -> dict[str, Any]:
    return {
        "id": reading_id,
        "device_id": device_id,
        "batch_id": batch_pk,
        "agent_id": agent.id,
        "observed_at": reading.observed_at,
        "received_at": received_at,
        "address": reading.address,
        **{name: getattr(reading.counters, name) for name in COUNTER_KEYS},
        "clock": reading.clock,
        "derived": ",".join(reading.derived) or None,
        "flag": flag,
        "payload": reading.to_dict(),
    }


def _supply_row(obs: SlotObservation) -> dict[str, Any]:
    return {"reading_id": obs.reading_id, "slot": obs.position, **supply_columns(obs)}
