"""Storing a verified batch exactly once, set-based: a few statements per batch, not per reading.

The batch id is the idempotency key (Stripe's rule): the first request that carries it is stored
together with the answer it got; a later request with the same id and the same bytes gets that
same answer back and stores nothing; the same id with other bytes is a conflict.  Everything a
batch holds is written in one transaction, so a batch is stored whole or not at all, and so is
the outbox row of its follow-up job (meter reads, reorders: ``ingest.jobs.followup``), which
therefore can never be lost.

Per batch: claim the id (``insert ... on conflict do nothing``), reserve reading ids, resolve
every device at once (``registry.resolve_devices``), insert the readings in one statement and
their supply levels in another that takes them from the stored payloads, move the agent's
``last_seq`` with ``greatest`` (no lost update under concurrency), enqueue the follow-up, which
folds the supplies into their latest state (``supply_state.fold_batch``) off the request path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from ingest.domain.bulk import (
    backend_insert,
    core,
    greatest,
    insert_rows,
    is_postgres,
    single_writer,
    take_ids,
)
from ingest.domain.errors import DomainError
from ingest.domain.registry import Sighting, resolve_devices
from ingest.jobs.outbox import enqueue
from ingest.models import Agent, DeviceReading, UploadBatch
from shared.batch import Batch
from shared.reading import COUNTER_KEYS, COUNTER_VALUES, Reading, format_timestamp

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
    """Store ``batch`` (already verified) and commit; a re-sent batch gets its first answer.

    The idempotency check is the claim itself: a batch id seen before is looked up only when
    its claim finds it taken, so a new batch (nearly every one) costs no extra query.
    """
    flags = [reading_flag(r.observed_at, received_at) for r in batch.readings]
    response = _response(batch, flags, received_at)
    if not is_postgres(session):
        # End the read transaction the checks opened: the batch's own begins with a write, as
        # SQLite cannot upgrade a read transaction once another writer has committed.
        session.commit()
    # Everything that needs no database is done before taking SQLite's single writer turn.
    rows = [
        _reading_row(agent, received_at, r, flag)
        for r, flag in zip(batch.readings, flags, strict=True)
    ]
    with single_writer(session):
        batch_pk = _claim(session, agent, batch, digest, signature, received_at, response)
        if batch_pk is None:  # stored before (a re-send), or a twin committed first
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
        for row, reading_id, device_id in zip(rows, reading_ids, device_ids, strict=True):
            row.update(id=reading_id, device_id=device_id, batch_id=batch_pk)
        insert_rows(session, DeviceReading.__table__, rows)
        _store_supply_levels(session, batch_pk, batch)
        core(session).execute(
            _agent_seen_statement(is_postgres(session)),
            {"agent": agent.id, "seq": batch.seq, "seen": received_at},
        )
        job = enqueue(session, FOLLOWUP_JOB, {"batch_id": batch_pk}, now=received_at)
        session.commit()
        return IntakeResult(response, duplicate=False, jobs=(job,))


def _store_supply_levels(session: Session, batch_pk: int, batch: Batch) -> None:
    """The supply levels of the batch's readings that count, one row per supply, taken by the
    database from the readings just stored (their payload holds the checked supplies): no
    Python object or parameter per supply on the upload path."""
    if not any(r.supplies for r in batch.readings):
        return
    times = [r.observed_at for r in batch.readings]
    core(session).execute(
        _SUPPLY_LEVELS_SQL["postgresql" if is_postgres(session) else "sqlite"],
        {"batch": batch_pk, "first": min(times), "last": max(times)},
    )


#: ``observed_at`` bounds let PostgreSQL look in the batch's monthly partitions only.
_SUPPLY_LEVELS_SQL: Final = {
    "postgresql": text(
        "INSERT INTO supply_levels (reading_id, slot, device_id, observed_at, kind, colour, "
        "description, level, max_capacity, percent, state) "
        "SELECT r.id, s.n - 1, r.device_id, r.observed_at, s.kind, s.colour, s.description, "
        "s.level, s.max, s.percent, s.state "
        "FROM device_readings r CROSS JOIN LATERAL ROWS FROM (json_to_recordset("
        "r.payload -> 'supplies') AS (kind varchar, colour varchar, description varchar, "
        "level bigint, max bigint, percent integer, state varchar)) "
        "WITH ORDINALITY AS s(kind, colour, description, level, max, percent, state, n) "
        "WHERE r.batch_id = :batch AND r.flag IS NULL "
        "AND r.observed_at BETWEEN :first AND :last"
    ),
    "sqlite": text(
        "INSERT INTO supply_levels (reading_id, slot, device_id, observed_at, kind, colour, "
        "description, level, max_capacity, percent, state) "
        "SELECT r.id, s.key, r.device_id, r.observed_at, json_extract(s.value, '$.kind'), "
        "json_extract(s.value, '$.colour'), json_extract(s.value, '$.description'), "
        "json_extract(s.value, '$.level'), json_extract(s.value, '$.max'), "
        "json_extract(s.value, '$.percent'), json_extract(s.value, '$.state') "
        "FROM device_readings r, json_each(r.payload, '$.supplies') s "
        "WHERE r.batch_id = :batch AND r.flag IS NULL"
    ),
}


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
    values = {
        "agent_id": agent.id,
        "batch_uuid": batch.batch_id,
        "seq": batch.seq,
        "body_digest": digest,
        "signature": signature,
        "created_at": batch.created_at,
        "received_at": received_at,
        "reading_count": len(batch.readings),
        "response_json": json.dumps(response),
    }
    return core(session).scalar(_claim_statement(is_postgres(session)), values)


@lru_cache(maxsize=2)
def _claim_statement(postgres: bool) -> Any:
    """Built once per backend: the upload path runs it for every batch."""
    table = UploadBatch.__table__
    return (
        backend_insert(postgres, table)
        .values({c.name: bindparam(c.name, type_=c.type) for c in table.c if c.name != "id"})
        .on_conflict_do_nothing(index_elements=[table.c.agent_id, table.c.batch_uuid])
        .returning(table.c.id)
    )


@lru_cache(maxsize=2)
def _agent_seen_statement(postgres: bool) -> Any:
    """The agent's ``last_seq`` and ``last_seen_at`` moved forward, never back (Core, built once:
    an ORM update would also look for the agent among the session's objects)."""
    table = Agent.__table__
    seq, seen = (
        bindparam("seq", type_=table.c.last_seq.type),
        bindparam("seen", type_=table.c.last_seen_at.type),
    )
    return (
        update(table)
        .where(table.c.id == bindparam("agent"))
        .values(
            last_seq=greatest(postgres, table.c.last_seq, seq),
            last_seen_at=greatest(postgres, func.coalesce(table.c.last_seen_at, seen), seen),
        )
    )


def _reading_row(
    agent: Agent, received_at: datetime, reading: Reading, flag: str | None
) -> dict[str, Any]:
    """A reading's row but for its id, device and batch, which the write itself decides."""
    return {
        "agent_id": agent.id,
        "observed_at": reading.observed_at,
        "received_at": received_at,
        "address": reading.address,
        **dict(zip(COUNTER_KEYS, COUNTER_VALUES(reading.counters), strict=True)),
        "clock": reading.clock,
        "derived": ",".join(reading.derived) or None,
        "flag": flag,
        "payload": reading.to_dict(),
    }
