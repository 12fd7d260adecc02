"""How pending jobs reach a runner: in-process, or Dramatiq over Redis to worker processes.

The outbox row is the job; a broker message only says "run job N".  So a message lost with a
Redis restart, or never sent because the broker was down, only delays the job: the worker's
relay sends every pending job that is due, again once its lease ran out (``outbox.due_jobs``).

* No broker configured (the embedded default: SQLite, the demo, the tests): the web process
  runs a batch's jobs itself right after the batch's commit.  Nothing is lost if it dies
  halfway: ``scm-ingest worker`` (or the next start of one) runs what is left.
* ``SCM_JOB_BROKER=redis://host:6379/0``: the web processes only write the jobs (in the
  transaction that caused them); every ``scm-ingest worker`` relays the due ones to Dramatiq
  twice a second and runs them (any number of processes on any number of hosts, all against
  the one database).  Sending from the upload itself cost its web worker 0.6 ms of each
  100-reading batch (measured, paired blocks), about a tenth of its whole cost, for follow-ups
  that nobody waits for by the millisecond.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from ingest.db import Database
from ingest.jobs import all_jobs
from ingest.jobs.outbox import DUE_PAGE, due_jobs, enqueue, run_job
from ingest.jobs.registry import SCHEDULE

QUEUE_NAME: Final = "scm-ingest"
ACTOR_NAME: Final = "scm_run_job"
#: How often a worker starts the scheduled jobs (each once per period, whatever the workers).
SWEEP_SECONDS: Final = 5.0
#: How often a worker sends the due jobs to the broker: a follow-up waits at most this long.
RELAY_SECONDS: Final = 0.5
#: Without a broker, how late a job must be before a worker runs it (the web process that
#: committed it runs it at once; a worker takes what a dying web process left).
INLINE_GRACE: Final = timedelta(seconds=5)
#: Pages of due jobs one relay sends at most (``outbox.due_jobs`` pages), so a backlog after an
#: outage drains in turns with the schedule instead of holding the loop.
RELAY_PAGES: Final = 20
log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The clock jobs are given (a job never reads it itself)."""
    return datetime.now(UTC)


class JobQueue:
    """Sends job ids to whatever runs them; one per application and per worker process."""

    def __init__(self, database: Database, broker_url: str | None) -> None:
        self.database = database
        self.broker_url = broker_url
        self._actor: dramatiq.Actor[..., Any] | None = None
        if broker_url:
            broker = RedisBroker(url=broker_url)
            self._actor = dramatiq.Actor(
                self._run,
                broker=broker,
                actor_name=ACTOR_NAME,
                queue_name=QUEUE_NAME,
                priority=0,
                # Retries are the outbox's (backoff in the row, re-sent by the sweeper).
                options={"max_retries": 0},
            )

    @property
    def broker(self) -> Any:
        """The Dramatiq broker (None when jobs run in-process)."""
        return self._actor.broker if self._actor is not None else None

    @property
    def inline(self) -> bool:
        """True when this process runs jobs itself (no broker)."""
        return self._actor is None

    def committed(self, job_ids: tuple[int, ...] | list[int]) -> None:
        """Jobs a request has just committed: run now when this process runs jobs itself;
        with a broker, left to the workers' relay (``relay``), so a web worker only writes."""
        if self.inline:
            self.dispatch(job_ids)

    def dispatch(self, job_ids: tuple[int, ...] | list[int]) -> None:
        """Run (inline) or send (broker) these committed jobs; a failure here loses nothing.

        A broker that refuses one message is down: the rest are not tried (one log line, not
        one a job), and wait for the relay that follows their lease."""
        for job_id in job_ids:
            try:
                if self._actor is None:
                    self._run(job_id)
                else:
                    self._actor.send(job_id)
            except Exception:
                log.exception("job %s not run now; the relay will retry it", job_id)
                if self._actor is not None:
                    return

    def ping(self) -> None:
        """Raise when the broker cannot be reached (``/readyz``)."""
        if self._actor is not None:
            self._actor.broker.client.ping()  # type: ignore[attr-defined]

    def _run(self, job_id: int) -> None:
        run_job(self.database.sessions, job_id, all_jobs(), utc_now())

    def sweep(self, now: datetime) -> int:
        """Enqueue this period's scheduled jobs, then send every due job; how many were sent."""
        self.schedule(now)
        return self.relay(now)

    def schedule(self, now: datetime) -> None:
        """Enqueue this period's run of every scheduled job, once whoever else does it too."""
        all_jobs()  # importing the job modules fills SCHEDULE
        with self.database.session() as session:
            for name, every in SCHEDULE:
                period = int(now.timestamp() // every.total_seconds())
                key = f"{name}@{period}"
                try:
                    with session.begin_nested():
                        enqueue(session, name, {}, now=now, unique_key=key)
                except IntegrityError:  # this period's run exists (another host, or before)
                    continue
            session.commit()

    def relay(self, now: datetime, stop: threading.Event | None = None) -> int:
        """Send (or run, without a broker) the jobs that are due, page by page, until ``stop``;
        how many.  Without a broker the web process runs its jobs itself right after their
        commit: this takes only those left over (``INLINE_GRACE``), not race it for the rest."""
        due = now - INLINE_GRACE if self.inline else now
        sent = 0
        for _ in range(RELAY_PAGES):
            with self.database.session() as session:
                ids = due_jobs(session, due, limit=DUE_PAGE)
            self.dispatch(ids)
            sent += len(ids)
            if len(ids) < DUE_PAGE or (stop is not None and stop.is_set()):
                break
        return sent

    def run_worker(
        self, threads: int, stop: threading.Event, clock: Callable[[], datetime]
    ) -> None:
        """Run jobs until ``stop`` is set: Dramatiq's worker threads plus this relay loop."""
        worker = None
        if self._actor is not None:
            worker = dramatiq.Worker(
                self._actor.broker, queues={QUEUE_NAME}, worker_threads=threads
            )
            worker.start()
        scheduled_at = -SWEEP_SECONDS
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    if started - scheduled_at >= SWEEP_SECONDS:
                        self.schedule(clock())
                        scheduled_at = started
                    self.relay(clock(), stop)
                except Exception:
                    log.exception("relay failed; trying again")
                stop.wait(max(RELAY_SECONDS - (time.monotonic() - started), 0.05))
        finally:
            if worker is not None:
                worker.stop()


_EXTENSION = "scm.jobs"


def init_app(app: Flask, database: Database, broker_url: str | None) -> JobQueue:
    """Attach the application's job queue (``SCM_JOB_BROKER``, else in-process)."""
    queue = JobQueue(database, broker_url)
    app.extensions[_EXTENSION] = queue
    return queue


def job_queue(app: Flask | None = None) -> JobQueue:
    """The application's job queue (the current application's by default)."""
    found: JobQueue = (app or current_app).extensions[_EXTENSION]
    return found
