"""Flush the spool to the ingest service as transactions (Telegraf's ``updateTransaction``).

Each batch ends one of three ways: acknowledged (its readings leave the spool), kept (network
error, 5xx, 429: the same bytes go again next flush) or rejected for good (a 4xx the server will
never accept as it is: moved to the dead-letter table, logged, never retried).  A flush stops at
the first batch that must wait, so batches keep their order and a down server is not hammered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.ingest_client import IngestClient, Outcome
from agent.spool import DEFAULT_BATCH_SIZE, Spool

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCHES = 100


@dataclass(slots=True)
class FlushReport:
    """What one flush did."""

    sent_batches: int = 0
    sent_readings: int = 0
    duplicates: int = 0
    rejected_batches: int = 0
    waiting: Outcome | None = None
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
) -> FlushReport:
    """Send pending batches oldest first, at most ``max_batches`` of them in this call."""
    report = FlushReport()
    for _ in range(max_batches):
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
        if outcome.verdict == "rejected":
            log.error("batch %s (seq %s) rejected: %s", batch.batch_id, batch.seq, outcome.error)
            spool.reject(batch.batch_id, outcome.status, outcome.error)
            report.rejected_batches += 1
            report.errors.append(outcome.error)
            continue
        log.warning(
            "batch %s (seq %s) kept for later: %s", batch.batch_id, batch.seq, outcome.error
        )
        spool.record_attempt(batch.batch_id, outcome.error)
        report.waiting = outcome
        report.errors.append(outcome.error)
        break
    return report
