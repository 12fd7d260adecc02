"""Prometheus metrics (prometheus_client), safe under gunicorn's several worker processes.

With ``PROMETHEUS_MULTIPROC_DIR`` set (the gunicorn configuration in ``ingest/gunicorn_conf.py``
does it), every process writes its samples to files there and ``/metrics`` aggregates them;
without it (the demo, the tests) the process's own registry is served.  Queue depth and the
oldest job's age are read from the database at scrape time, so every worker reports the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func, select

from ingest.db import Database
from ingest.domain.alert_rules import KINDS
from ingest.jobs.outbox import queue_depth
from ingest.models import Alert

REQUESTS = Counter(
    "scm_http_requests_total", "HTTP requests by route and status", ["route", "method", "status"]
)
LATENCY = Histogram(
    "scm_http_request_seconds",
    "HTTP request latency by route",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCHES = Counter("scm_batches_total", "Upload batches by outcome", ["outcome"])
READINGS = Counter("scm_readings_total", "Readings by outcome", ["outcome"])
REFUSED = Counter("scm_api_refused_total", "Refused API requests by reason", ["reason"])


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request."""
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route).observe(seconds)


def batch_stored(response: dict[str, Any]) -> None:
    """Count a stored batch and its readings, accepted or flagged by reason."""
    BATCHES.labels("stored").inc()
    READINGS.labels("accepted").inc(response["accepted"])
    for item in response.get("flagged", []):
        READINGS.labels(item["reason"]).inc()


def refused(path: str, reason: str) -> None:
    """Count a refused API request (and a refused batch on the upload route)."""
    REFUSED.labels(reason).inc()
    if path.endswith("/batches"):
        BATCHES.labels(f"refused_{reason}").inc()


class QueueCollector(Collector):
    """Pending jobs and the oldest one's age, read from the outbox when scraped."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The queue's two gauges, and the open alerts by kind."""
        with self.database.session() as session:
            depth, age = queue_depth(session, datetime.now(UTC))
            open_by_kind = dict(
                session.execute(
                    select(Alert.kind, func.count())
                    .where(Alert.open_key.is_not(None))
                    .group_by(Alert.kind)
                ).all()  # type: ignore[arg-type]
            )
        yield GaugeMetricFamily("scm_jobs_pending", "Follow-up jobs not done yet", value=depth)
        yield GaugeMetricFamily(
            "scm_jobs_oldest_age_seconds", "Age of the oldest pending job", value=age
        )
        alerts = GaugeMetricFamily("scm_alerts_open", "Open alerts by kind", labels=["kind"])
        for kind in KINDS:
            alerts.add_metric([kind], open_by_kind.get(kind, 0))
        yield alerts


def exposition(database: Database) -> tuple[bytes, str]:
    """The ``/metrics`` body and content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        base = CollectorRegistry()
        multiprocess.MultiProcessCollector(base)
    else:
        base = REGISTRY
    queue = CollectorRegistry()
    queue.register(QueueCollector(database))
    return generate_latest(base) + generate_latest(queue), CONTENT_TYPE_LATEST
