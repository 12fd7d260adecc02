"""gunicorn settings: ``gunicorn -c ingest/gunicorn_conf.py -w N ingest.wsgi:app``.

Sync workers (measured fastest for this service, notes/ingest-protocol.md).  When
``PROMETHEUS_MULTIPROC_DIR`` is set every worker writes its metrics there and a worker that
exits is marked dead, so ``/metrics`` on any worker reports the whole server.
"""

from __future__ import annotations

import gc
import os
from typing import Any

from prometheus_client import multiprocess

worker_class = "sync"
timeout = 60
accesslog = None  # the application logs one line per request, with its request id


def post_worker_init(_worker: Any) -> None:
    """Move everything the loaded application holds out of the garbage collector's sight.

    A worker holds some 230,000 long-lived objects (Flask, SQLAlchemy, Babel...) that every
    full collection walked again: measured 1.3 ms of each 100-reading upload, and a stall of
    about 130 ms on the request that triggered it.  Frozen, they are never scanned for cycles
    (they are still freed when their last reference goes); collections cost 0.2 ms an upload.
    The start-up's own garbage is collected first, so none of it is kept for good."""
    gc.collect()
    gc.freeze()


def child_exit(_server: Any, worker: Any) -> None:
    """Forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
