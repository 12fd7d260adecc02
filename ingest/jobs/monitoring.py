"""Alerts and their notifications as scheduled jobs (the rules and the outbox are issue 11's:
``ingest.domain.alerts``, ``ingest.notifications``); ``scm-ingest alerts evaluate`` and
``scm-ingest outbox deliver`` run the same functions by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from ingest.domain.alerts import evaluate_alerts, send_digests
from ingest.jobs.registry import job
from ingest.notifications import deliver

ALERTS_JOB: Final = "alerts_evaluate"
OUTBOX_JOB: Final = "outbox_deliver"


@job(ALERTS_JOB, every=timedelta(minutes=5))
def evaluate(session: Session, args: dict[str, Any], now: datetime) -> None:
    """Open, refresh and clear alerts by the rules (one open alert per thing)."""
    evaluate_alerts(session, now)


@job(OUTBOX_JOB, every=timedelta(minutes=1))
def deliver_outbox(session: Session, args: dict[str, Any], now: datetime) -> None:
    """Queue the daily digests that are due, then deliver due e-mails and webhooks."""
    send_digests(session, now)
    deliver(session, now)
