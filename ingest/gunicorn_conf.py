"""gunicorn settings: ``gunicorn -c ingest/gunicorn_conf.py -w N ingest.wsgi:app``.

Sync workers (measured fastest for this service, notes/ingest-protocol.md).  When
``PROMETHEUS_MULTIPROC_DIR`` is set every worker writes its metrics there and a worker that
exits is marked dead, so ``/metrics`` on any worker reports the whole server.
"""

from __future__ import annotations

import gc
import os
from typing import Any, Final

from prometheus_client import multiprocess

worker_class = "sync"
timeout = 60
accesslog = None  # the application logs one line per request, with its request id
#: ``gc.set_threshold`` of a web worker (Python's default: 700, 10, 10): ``post_worker_init``.
YOUNG_GC_THRESHOLD: Final = (100_000, 50, 100)


def post_worker_init(_worker: Any) -> None:
    """Move everything the loaded application holds out of the garbage collector's sight.

    A worker holds some 230,000 long-lived objects (Flask, SQLAlchemy, Babel...) that every
    full collection walked again: measured 1.3 ms of each 100-reading upload, and a stall of
    about 130 ms on the request that triggered it.  Frozen, they are never scanned for cycles
    (they are still freed when their last reference goes); collections cost 0.2 ms an upload.
    The start-up's own garbage is collected first, so none of it is kept for good.

    Then the young generation is collected after 100,000 new objects instead of 700: an upload
    makes tens of thousands (its readings, their rows) that reference counting frees, and the
    collector ran a dozen times an upload to find no cycles in them (measured, paired blocks:
    0.2-0.27 ms of each 100-reading upload, 4 % of its CPU).  Garbage in cycles waits longer,
    at most that many objects (a few MB) a worker."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*YOUNG_GC_THRESHOLD)


def child_exit(_server: Any, worker: Any) -> None:
    """Forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
