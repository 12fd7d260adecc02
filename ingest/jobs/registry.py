"""Every job, declared once: ``@job("name")`` on a function ``(session, args, now)``.

Jobs must be idempotent (a message may arrive twice, a worker may die after the work and before
the commit) and take ``now`` rather than reading the clock.  ``SCHEDULE`` lists the periodic
jobs: the worker enqueues each once per period under a unique key, so any number of worker
hosts run it once (the next issue adds alert evaluation and the mail/webhook outbox here).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Final

from ingest.jobs.outbox import JobFunction

JOBS: dict[str, JobFunction] = {}
#: (job name, period): run once per period by whichever worker gets there first.
SCHEDULE: Final[list[tuple[str, timedelta]]] = []


def job(name: str, *, every: timedelta | None = None) -> Callable[[JobFunction], JobFunction]:
    """Declare a job (and, with ``every``, schedule it)."""

    def register(function: JobFunction) -> JobFunction:
        JOBS[name] = function
        if every is not None:
            SCHEDULE.append((name, every))
        return function

    return register
