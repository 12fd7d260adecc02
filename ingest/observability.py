"""Operating the service behind a load balancer: health, readiness, metrics, request ids, logs.

* ``/healthz``: the process answers (liveness).  ``/readyz``: the database and the job broker
  answer too (readiness): a balancer stops sending traffic to an instance that cannot store.
* Every request gets an id (the caller's ``X-Request-Id`` when it sends a sane one, else a new
  one), returned as ``X-Request-Id``, put on every log line of the request and on its access
  line; the agent logs the id of each upload, so both sides' logs meet.
* Logs are JSON lines (python-json-logger) when ``SCM_LOG_JSON=1`` (what production sets).
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from typing import Final

from flask import Flask, Response, g, jsonify, request
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import text

from ingest import metrics
from ingest.db import database
from ingest.jobs.queue import job_queue

REQUEST_ID_HEADER: Final = "X-Request-Id"
_SANE_ID: Final = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("ingest.access")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; only annotate it."""
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:  # outside a request
            record.request_id = "-"
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr when ``SCM_LOG_JSON`` is set, else readable text; both carry ids."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if os.environ.get("SCM_LOG_JSON") == "1":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_app(app: Flask) -> None:
    """Request ids, access lines and metrics for every request; the three endpoints."""
    app.before_request(_start)
    app.after_request(_finish)
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.add_url_rule("/readyz", "readyz", _readyz)
    app.add_url_rule("/metrics", "metrics", _metrics)


def _start() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "-")
    seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule else "unmatched"
    metrics.observe_request(route, request.method, response.status_code, seconds)
    access_log.info(
        "%s %s %s %.1fms",
        request.method,
        route,
        response.status_code,
        seconds * 1000,
        extra={"status": response.status_code, "duration_ms": round(seconds * 1000, 1)},
    )
    return response


def _healthz() -> Response:
    return jsonify({"status": "ok"})


def _readyz() -> tuple[Response, int]:
    problems = {}
    try:
        with database().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as err:
        problems["database"] = type(err).__name__
    try:
        job_queue().ping()
    except Exception as err:
        problems["queue"] = type(err).__name__
    if problems:
        response = jsonify({"status": "unavailable", "problems": problems})
        response.headers["Retry-After"] = "5"
        return response, 503
    return jsonify({"status": "ready"}), 200


def _metrics() -> Response:
    body, content_type = metrics.exposition(database())
    return Response(body, content_type=content_type)
