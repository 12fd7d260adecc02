"""Follow-up work off the request path: jobs declared once, run inline or by workers.

* ``outbox``: the durable ``jobs`` table: a job is a row written in the transaction of what
  caused it, so it is never lost, and it is done once (``done_at``, a row lock while it runs).
* ``registry``: ``@job("name")`` declares a job function ``(session, args, now)`` and
  ``SCHEDULE`` the periodic ones (one run per period across every worker host).
* ``queue``: how rows reach a runner: in-process right after the commit (the embedded default:
  SQLite, the demo, the tests) or Dramatiq over Redis to ``scm-ingest worker`` processes.
* ``followup`` (meter reads and reorders of an upload), ``maintenance`` (partitions, retention).
"""

from __future__ import annotations

from ingest.jobs.outbox import JobFunction


def all_jobs() -> dict[str, JobFunction]:
    """Every declared job: importing the job modules fills the registry."""
    from ingest.jobs import followup, maintenance, monitoring  # noqa: F401 - registers them
    from ingest.jobs.registry import JOBS

    return JOBS
