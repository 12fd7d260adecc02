"""The job outbox: rows in the ``jobs`` table, written with what caused them, run once.

``run_job`` locks the row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) for the job's own
transaction, so two workers that got the same message never both run it, and marks it done in
that same transaction: a job's effects and its "done" commit together.  A failure rolls back,
counts the attempt and sets the next try with exponential backoff; the sweeper re-sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Insert, String, bindparam, func, insert, literal, null, select, update
from sqlalchemy.orm import Session

from ingest.domain.bulk import core
from ingest.models import Job

#: After this many failures a job stays in the table with its error, for staff to look at
#: (``scm-ingest jobs failed``) and run again once its cause is mended (``jobs retry``).
MAX_ATTEMPTS: Final = 12
#: A pending job not run this long after it was sent is sent again (its message was lost).
LEASE: Final = timedelta(seconds=60)
#: Due jobs leased and sent at a time.
DUE_PAGE: Final = 500
log = logging.getLogger(__name__)

JobFunction = Callable[[Session, dict[str, Any], datetime], None]


def enqueue(
    session: Session,
    name: str,
    args: dict[str, Any],
    *,
    now: datetime,
    unique_key: str | None = None,
) -> int:
    """Add a job to the session's transaction; its id (written, not committed).

    One ``insert ... returning``, not an ORM object and a flush: it runs on every upload.
    """
    values = {"name": name, "args": args, "unique_key": unique_key, "now": now}
    return core(session).execute(_ENQUEUE, values).scalar_one()


def enqueue_from(name: str, args: Any, now: Any) -> Insert:
    """``enqueue`` as SQL over other SQL: a job for each row that ``args`` and ``now`` (column
    expressions) come from, returning its id.  PostgreSQL's upload path writes a batch's
    follow-up job in the round trip that stores the batch itself (``intake._claim``)."""
    row = _new_job(literal(name, String), args, null(), now)
    return insert(_JOBS).from_select(list(row), select(*row.values())).returning(_JOBS.c.id)


def _new_job(name: Any, args: Any, unique_key: Any, now: Any) -> dict[str, Any]:
    """A new job's columns, as SQL expressions: due from ``now``, never tried."""
    return {
        "name": name,
        "args": args,
        "unique_key": unique_key,
        "created_at": now,
        "run_after": now,
        "attempts": literal(0),
    }


_JOBS = Job.__table__
#: Core and built once, not an ORM insert: every upload runs it.
_ENQUEUE: Final = (
    insert(_JOBS)
    .values(
        _new_job(
            *(bindparam(name, type_=_JOBS.c[name].type) for name in ("name", "args", "unique_key")),
            bindparam("now", type_=_JOBS.c.created_at.type),
        )
    )
    .returning(_JOBS.c.id)
)


def run_job(
    sessions: Callable[[], Session],
    job_id: int,
    functions: dict[str, JobFunction],
    now: datetime,
) -> bool:
    """Run one job if it is still pending and nobody else runs it; True when it ran."""
    with sessions() as session:
        job = session.get(Job, job_id, with_for_update={"skip_locked": True})
        if job is None or job.done_at is not None:
            return False
        name, args = job.name, dict(job.args)
        try:
            functions[name](session, args, now)
            job.done_at = now
            session.commit()
        except Exception as err:
            session.rollback()
            _failed(session, job_id, err, now)
            raise
    return True


def _failed(session: Session, job_id: int, err: Exception, now: datetime) -> None:
    attempts = session.scalar(select(Job.attempts).where(Job.id == job_id)) or 0
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            attempts=attempts + 1,
            last_error=f"{type(err).__name__}: {err}"[:2000],
            run_after=now + min(timedelta(seconds=2**attempts), timedelta(hours=1)),
        )
    )
    session.commit()


def due_jobs(session: Session, now: datetime, limit: int = DUE_PAGE) -> list[int]:
    """Pending jobs whose time has come, leased for ``LEASE`` so they are sent once a lease.

    Rows another relay is leasing, or a worker running (``run_job`` locks its row), at this
    moment are skipped (PostgreSQL), not waited for and sent twice."""
    ids = list(
        session.scalars(
            select(Job.id)
            .where(Job.done_at.is_(None), Job.run_after <= now, Job.attempts < MAX_ATTEMPTS)
            .order_by(Job.run_after)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        session.execute(update(Job).where(Job.id.in_(ids)).values(run_after=now + LEASE))
    session.commit()
    return ids


def given_up(session: Session) -> list[Job]:
    """Jobs that failed ``MAX_ATTEMPTS`` times, oldest first: nothing runs them again until
    staff have looked (their work waits: a batch's follow-up holds its supply levels)."""
    return list(session.scalars(select(Job).where(*_GAVE_UP).order_by(Job.id)))


def retry_given_up(session: Session, job_ids: Sequence[int] | None, now: datetime) -> list[int]:
    """Give jobs that gave up (all of them, or those of ``job_ids``) their attempts back, due
    now; their ids.  Their last error stays on the row, as a record."""
    chosen = () if job_ids is None else (Job.id.in_(job_ids),)
    ids = list(session.scalars(select(Job.id).where(*_GAVE_UP, *chosen).order_by(Job.id)))
    if ids:
        session.execute(update(Job).where(Job.id.in_(ids)).values(attempts=0, run_after=now))
    return ids


_GAVE_UP: Final = (Job.done_at.is_(None), Job.attempts >= MAX_ATTEMPTS)


def queue_depth(session: Session, now: datetime) -> tuple[int, float]:
    """Pending jobs and the age in seconds of the oldest (for metrics and ``/ops/queue``)."""
    count, oldest = session.execute(
        select(func.count(), func.min(Job.created_at)).where(Job.done_at.is_(None))
    ).one()
    return count, 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)
