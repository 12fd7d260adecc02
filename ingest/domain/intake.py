"""Storing a verified batch exactly once, set-based: a few statements per batch, not per reading.

The batch id is the idempotency key (Stripe's rule): the first request that carries it is stored
together with the answer it got; a later request with the same id and the same bytes gets that
same answer back and stores nothing; the same id with other bytes is a conflict.  Everything a
batch holds is written in one transaction, so a batch is stored whole or not at all, and so is
the outbox row of its follow-up job (known devices' latest state, supply levels and their
latest state, meter reads, reorders: ``ingest.jobs.followup``), which therefore can never be
lost.

Per batch: claim the id (``insert ... on conflict do nothing``), reserve the readings' ids, move
the agent's ``last_seq`` with ``greatest`` (no lost update under concurrency) and enqueue the
follow-up (on PostgreSQL all in one statement); resolve every device at once
(``registry.resolve_devices``); write the readings, each with the contract's JSON it came as
(on PostgreSQL by binary ``COPY``).
The follow-up job, off the request path, shreds that JSON into supply levels and folds them into
their latest state (``supply_state.store_supply_levels``, ``fold_batch``).
On PostgreSQL a batch of printers this process has already seen stored under their serials is
two statements (the claim and the readings' ``COPY``) and the commit: the agent's key and the
devices' ids come from this process's memory, the claim checks that the agent is still active,
and the devices' latest state is the follow-up's to merge (``registry.merge_batch_devices``).

On SQLite every upload waits for the one writer, so everything that needs no database (the
rows in the driver's form) is made before the writer's turn, and the turn
holds only the statements (measured: 6.3 to 4.8 ms a batch, single-threaded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Final, Protocol

from sqlalchemy import (
    String,
    bindparam,
    exists,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from ingest.domain.bulk import (
    PreparedRows,
    backend_insert,
    core,
    greatest,
    insert_prepared,
    is_postgres,
    prepare_rows,
    reserved_ids,
    single_writer,
    take_ids,
)
from ingest.domain.enrollment import refuse_unless_still_active
from ingest.domain.errors import DomainError
from ingest.domain.registry import Sighting, resolve_devices
from ingest.jobs.outbox import enqueue, enqueue_from
from ingest.models import Agent, DeviceReading, UploadBatch
from shared.batch import Batch
from shared.reading import (
    COUNTER_KEYS,
    COUNTER_VALUES,
    Reading,
    format_timestamp,
)

#: A reading dated further ahead of the ingest's clock than this is impossible: refused.
FUTURE_TOLERANCE: Final = timedelta(minutes=5)
#: Older than any agent's spool can hold (the default 100 MB spool holds weeks to months of
#: reads; a year is beyond every configuration we ship): a wrong clock, not a late delivery.
MAX_READING_AGE: Final = timedelta(days=366)
FOLLOWUP_JOB: Final = "batch_followup"


class Uploader(Protocol):
    """The agent a batch comes from, as intake needs it: an ORM ``Agent`` or the plain
    ``enrollment.SigningAgent`` the upload route looks up."""

    @property
    def id(self) -> int: ...

    @property
    def public_id(self) -> str: ...

    @property
    def customer_id(self) -> int: ...

    @property
    def public_key(self) -> str: ...


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
    session: Session, agent: Uploader, batch_id: str, digest: str
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
    agent: Uploader,
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
    readings = prepare_rows(
        session,
        DeviceReading.__table__,
        READING_COLUMNS,
        [
            _reading_row(agent, received_at, r, flag)
            for r, flag in zip(batch.readings, flags, strict=True)
        ],
        late=_READING_LATE,
    )
    with single_writer(session):
        claimed = _claim(session, agent, batch, digest, signature, received_at, response)
        if claimed is None:  # stored before (a re-send), a twin committed first, or refused
            session.rollback()
            refuse_unless_still_active(session, agent)
            earlier = previous_result(session, agent, batch.batch_id, digest)
            if earlier is None:
                raise DomainError("retry", "a concurrent upload of this batch failed: retry", 503)
            return earlier
        batch_pk, reading_ids, job = claimed
        device_ids = resolve_devices(
            session,
            agent.customer_id,
            [
                Sighting.of_reading(r.device, r.address, r.observed_at, flag, reading_id)
                for r, flag, reading_id in zip(batch.readings, flags, reading_ids, strict=True)
            ],
            received_at,
            state_later=True,  # the follow-up merges known devices' latest state
        )
        _store_readings(session, batch_pk, readings, reading_ids, device_ids)
        session.commit()
        return IntakeResult(response, duplicate=False, jobs=(job,))


def _store_readings(
    session: Session,
    batch_pk: int,
    readings: PreparedRows,
    reading_ids: list[int],
    device_ids: list[int],
) -> None:
    """The readings, each with the contract's JSON it came as (``payload``); their supply levels
    are the follow-up's to write (``supply_state.store_supply_levels``)."""
    late = [(i, d, batch_pk) for i, d in zip(reading_ids, device_ids, strict=True)]
    insert_prepared(session, readings, late)


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
    agent: Uploader,
    batch: Batch,
    digest: str,
    signature: str,
    received_at: datetime,
    response: dict[str, Any],
) -> tuple[int, list[int], int] | None:
    """What the batch as a whole writes: its row, its readings' reserved ids, the agent's
    progress and the batch's follow-up job.  The batch's key, those ids and the job's, or None
    when this batch id is already stored (and nothing was written).  PostgreSQL does it all in
    one round trip."""
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
        "agent_key": agent.public_key,
    }
    postgres = is_postgres(session)
    claimed = core(session).execute(_claim_statement(postgres), values).first()
    if claimed is None:
        return None
    if postgres:
        return claimed.id, claimed.reading_ids or [], claimed.job_id
    core(session).execute(
        _agent_seen_statement(), {"agent": agent.id, "seq": batch.seq, "seen": received_at}
    )
    job = enqueue(session, FOLLOWUP_JOB, {"batch_id": claimed.id}, now=received_at)
    return claimed.id, take_ids(session, DeviceReading.__table__, len(batch.readings)), job


@lru_cache(maxsize=2)
def _claim_statement(postgres: bool) -> Any:
    """Built once per backend: the upload path runs it for every batch.  A batch id seen
    before, or an agent no longer active, claims nothing; on PostgreSQL the agent's update and
    the job's insert read the claimed row, so then they write nothing either."""
    table = UploadBatch.__table__
    columns = [c for c in table.c if c.name != "id"]
    agents = Agent.__table__
    # Only the agent still enrolled and active with the key that signed claims: the upload
    # took that key from memory (``enrollment.uploading_agent``).
    values = select(*(bindparam(c.name, type_=c.type) for c in columns)).where(
        exists().where(
            agents.c.id == bindparam("agent_id"),
            agents.c.public_key == bindparam("agent_key", type_=agents.c.public_key.type),
            agents.c.active,
        )
    )
    claim = (
        backend_insert(postgres, table)
        .from_select([c.name for c in columns], values)
        .on_conflict_do_nothing(index_elements=[table.c.agent_id, table.c.batch_uuid])
    )
    if not postgres:
        return claim.returning(table.c.id)
    reserved = reserved_ids(DeviceReading.__table__, table.c.reading_count)
    claimed = claim.returning(
        table.c.id,
        table.c.agent_id,
        table.c.seq,
        table.c.received_at,
        reserved.label("reading_ids"),
    ).cte("claimed")
    seen = _agent_seen(True, claimed.c.agent_id, claimed.c.seq, claimed.c.received_at)
    args = func.json_build_object(literal("batch_id", String), claimed.c.id)
    job = enqueue_from(FOLLOWUP_JOB, args, claimed.c.received_at).cte("job")
    return (
        select(claimed.c.id, claimed.c.reading_ids, job.c.id.label("job_id"))
        .join_from(claimed, job, true())
        .add_cte(seen.cte("seen"))
    )


@lru_cache(maxsize=1)
def _agent_seen_statement() -> Any:
    """SQLite: ``_agent_seen`` with the values as parameters, built once."""
    table = Agent.__table__
    return _agent_seen(
        False,
        bindparam("agent"),
        bindparam("seq", type_=table.c.last_seq.type),
        bindparam("seen", type_=table.c.last_seen_at.type),
    )


def _agent_seen(postgres: bool, agent: Any, seq: Any, seen: Any) -> Any:
    """The agent's ``last_seq`` and ``last_seen_at`` moved forward, never back (Core: an ORM
    update would also look for the agent among the session's objects)."""
    table = Agent.__table__
    return (
        update(table)
        .where(table.c.id == agent)
        .values(
            last_seq=greatest(postgres, table.c.last_seq, seq),
            last_seen_at=greatest(postgres, func.coalesce(table.c.last_seen_at, seen), seen),
        )
    )


#: A reading's id, device and batch: the write itself decides them.
_READING_LATE: Final = ("id", "device_id", "batch_id")
#: A reading's other columns, in ``_reading_row``'s order.
READING_COLUMNS: Final = (
    "agent_id",
    "observed_at",
    "received_at",
    "address",
    *COUNTER_KEYS,
    "clock",
    "derived",
    "flag",
    "payload",
)


def _reading_row(
    agent: Uploader, received_at: datetime, reading: Reading, flag: str | None
) -> tuple[Any, ...]:
    """A reading's values in ``READING_COLUMNS`` order."""
    return (
        agent.id,
        reading.observed_at,
        received_at,
        reading.address,
        *COUNTER_VALUES(reading.counters),
        reading.clock,
        ",".join(reading.derived) or None,
        flag,
        reading.to_json().decode(),  # the contract's JSON, written in C, stored as it is
    )
