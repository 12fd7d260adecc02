"""gunicorn settings: ``gunicorn -c ingest/gunicorn_conf.py -w N ingest.wsgi:app``.

Sync workers (measured fastest for this service, notes/ingest-protocol.md).  When
``PROMETHEUS_MULTIPROC_DIR`` is set every worker writes its metrics there and a worker that
exits is marked dead, so ``/metrics`` on any worker reports the whole server.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import multiprocess

worker_class = "sync"
timeout = 60
accesslog = None  # the application logs one line per request, with its request id


def child_exit(_server: Any, worker: Any) -> None:
    """Forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
