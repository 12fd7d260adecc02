"""Flush the spool to the ingest service as transactions (Telegraf's ``updateTransaction``).

Each batch ends one of three ways: acknowledged (its readings leave the spool), kept (network
error, 5xx, 408, 409, 429: the same bytes go again later) or rejected for good (any other 4xx: the
server will never accept those bytes as they are, so they move to the dead-letter table for
support, are logged, and are never re-sent).  A flush stops at the first batch that must wait,
so batches keep their order and a down server is not hammered.

A refusal of the *agent* (revoked, unknown or re-keyed: 401 ``unknown_agent``,
``bad_signature``, ``bad_key``) says nothing about the batch: every batch stays, uploads stop
and wait hours (:meth:`Backoff.refused`), and they resume on their own as soon as any exchange
with the server succeeds again (the heartbeat resets the backoff).

A 409 is retried because the issue asks for it, but the spool freezes a batch's bytes, so a
conflict that persists means the server holds other bytes under that id: after
``MAX_CONFLICTS`` answers in a row the batch is dead-lettered rather than block every later
batch forever.

:class:`Uploader` is the service's upload job: it flushes only when its :class:`Backoff` allows
and, after a failure, waits a fully jittered, growing time and never less than ``Retry-After``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.backoff import Backoff
from agent.ingest_client import IngestClient, Outcome
from agent.spool import DEFAULT_BATCH_SIZE, PendingBatch, Spool

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCHES = 100
MAX_CONFLICTS = 3


@dataclass(slots=True)
class FlushReport:
    """What one flush did."""

    sent_batches: int = 0
    sent_readings: int = 0
    duplicates: int = 0
    rejected_batches: int = 0
    waiting: Outcome | None = None
    #: Set when the server refused the agent itself (every batch kept).
    refused: Outcome | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when nothing is left waiting because of the server or the network."""
        return self.waiting is None


def flush(
    spool: Spool,
    client: IngestClient,
    key: Ed25519PrivateKey,
    agent_id: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int = DEFAULT_MAX_BATCHES,
    stop: Callable[[], bool] = lambda: False,
) -> FlushReport:
    """Send pending batches oldest first, at most ``max_batches`` of them in this call, and
    none after ``stop`` says the agent is stopping."""
    report = FlushReport()
    for _ in range(max_batches):
        if stop():
            break
        batch = spool.next_batch(agent_id, max_readings=batch_size)
        if batch is None:
            break
        outcome = client.post_batch(key, agent_id, batch.batch_id, batch.body)
        if outcome.verdict == "accepted":
            spool.acknowledge(batch.batch_id)
            report.sent_batches += 1
            report.sent_readings += batch.reading_count
            report.duplicates += bool(outcome.body.get("duplicate"))
            continue
        if outcome.verdict == "refused":
            log.error("the server refuses this agent (%s): every batch kept", outcome.error)
            spool.record_attempt(batch.batch_id, outcome.error)
            report.waiting = report.refused = outcome
            report.errors.append(outcome.error)
            break
        if outcome.verdict == "rejected" or _persistent_conflict(batch, outcome):
            log.error("batch %s (seq %s) rejected: %s", batch.batch_id, batch.seq, outcome.error)
            spool.reject(batch.batch_id, outcome.status, outcome.error)
            report.rejected_batches += 1
            report.errors.append(outcome.error)
            continue
        log.warning(
            "batch %s (seq %s) kept for later: %s", batch.batch_id, batch.seq, outcome.error
        )
        spool.record_attempt(batch.batch_id, outcome.error, conflict=outcome.status == 409)
        report.waiting = outcome
        report.errors.append(outcome.error)
        break
    return report


def _persistent_conflict(batch: PendingBatch, outcome: Outcome) -> bool:
    """A 409 for the ``MAX_CONFLICTS``-th time in a row: waiting will not change the answer."""
    return outcome.status == 409 and batch.conflicts + 1 >= MAX_CONFLICTS


class Uploader:
    """The upload job: flush when the backoff allows it, and back off after a failure."""

    def __init__(
        self,
        spool: Spool,
        client: IngestClient,
        key: Ed25519PrivateKey,
        agent_id: str,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        backoff: Backoff | None = None,
    ) -> None:
        self.spool = spool
        self.client = client
        self.key = key
        self.agent_id = agent_id
        self.batch_size = batch_size
        self.backoff = backoff or Backoff()

    def upload(
        self, now: datetime, *, stop: Callable[[], bool] = lambda: False
    ) -> FlushReport | None:
        """Flush at ``now`` unless still backing off (then None: nothing was sent)."""
        if not self.backoff.ready(now):
            return None
        report = flush(
            self.spool, self.client, self.key, self.agent_id, batch_size=self.batch_size, stop=stop
        )
        if report.waiting is None:
            self.backoff.succeeded()
        elif report.refused is not None:
            wait = self.backoff.refused(now)
            log.warning(
                "uploads paused %.1f h: the server refuses this agent", wait.total_seconds() / 3600
            )
        else:
            wait = self.backoff.failed(now, report.waiting.retry_after_s)
            log.info(
                "upload postponed %.0f s after %s failure(s)",
                wait.total_seconds(),
                self.backoff.failures,
            )
        return report
