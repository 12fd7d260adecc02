"""The agent API: enrollment and batch upload.  A thin layer: HTTP in, domain call, JSON out.

Checks run cheapest first and nothing is stored until all of them pass (see
notes/ingest-protocol.md): size limit, signature headers, clock window, agent, digest and
signature, idempotency, then the body itself.  Every answer is JSON with ``server_time`` so an
agent can correct its clock; errors are ``{"error": code, "message": text}``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ingest import metrics
from ingest.agent_refusal_log import note_refusal
from ingest.db import db_session
from ingest.domain.agents import accept_nonce, current_config, record_heartbeat
from ingest.domain.enrollment import enroll_agent, find_agent, uploading_agent
from ingest.domain.errors import DomainError
from ingest.domain.intake import store_batch
from ingest.jobs.queue import job_queue
from ingest.models import Agent
from shared.batch import MAX_BODY_BYTES, BatchError, decode_batch, parse_json
from shared.heartbeat import Heartbeat, HeartbeatError
from shared.reading import ReadingError, check_text, format_timestamp
from shared.signing import (
    HEADER_REQUEST_ID,
    HEADER_SIGNATURE,
    SignatureError,
    check_clock,
    key_fingerprint,
    load_public_key,
    parse_signed_headers,
    verify_request,
)

ENROLL_AGENT_ID = "enroll"
#: A batch that lost a race (deadlock, a device two batches created at once) is tried again.
STORE_ATTEMPTS: Final = 3
#: Seconds an agent should wait after a 503 (database or queue unavailable).
RETRY_AFTER_S: Final = 5
T = TypeVar("T")
blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


@blueprint.before_request
def _limit_body() -> None:
    """Agents' bodies are capped at the batch limit, lower than the pages' (attachments)."""
    request.max_content_length = MAX_BODY_BYTES


log = logging.getLogger(__name__)


@blueprint.post("/agents/enroll")
def enroll() -> tuple[Response, int]:
    """Register an agent's public key with a one-time token; the request is signed by that key."""
    signed = parse_signed_headers(request.headers)
    if signed.agent_id != ENROLL_AGENT_ID:
        raise SignatureError("bad_header", f"enrollment is signed as agent {ENROLL_AGENT_ID!r}")
    check_clock(signed, time.time())
    body = request.get_data(cache=False)
    data = _json_object(body)
    token, public_key = data.get("token"), data.get("public_key")
    if not isinstance(token, str) or not isinstance(public_key, str):
        raise DomainError("malformed_request", "token and public_key are required strings")
    for value in (token, public_key):
        _text(value, len(value))
    verify_request(signed, load_public_key(public_key), method="POST", path=request.path, body=body)
    session = db_session()
    agent, created = enroll_agent(
        session,
        token=token,
        public_key=public_key,
        hostname=_text(data.get("hostname"), 255),
        agent_version=_text(data.get("agent_version"), 64),
        now=datetime.now(UTC),
    )
    session.commit()
    log.info(
        "agent %s %s for customer %s (key %s)",
        agent.public_id,
        "enrolled" if created else "re-confirmed",
        agent.customer_id,
        key_fingerprint(public_key),
    )
    payload = {"agent_id": agent.public_id, "customer": agent.customer.name}
    return _answer(payload), 201 if created else 200


@blueprint.post("/batches")
def batches() -> tuple[Response, int]:
    """Accept one signed, gzip-compressed batch of readings, exactly once."""
    signed = parse_signed_headers(request.headers)
    check_clock(signed, time.time())
    session = db_session()
    agent = uploading_agent(session, signed.agent_id)
    body = request.get_data(cache=False)
    verify_request(
        signed, load_public_key(agent.public_key), method="POST", path=request.path, body=body
    )
    batch = decode_batch(body)
    if batch.batch_id != signed.request_id or batch.agent_id != agent.public_id:
        raise DomainError(
            "header_mismatch", "batch_id/agent_id in the body differ from the signed headers"
        )
    result = _retrying(
        session,
        lambda: store_batch(
            session,
            agent,
            batch,
            digest=signed.digest,
            signature=request.headers.get(HEADER_SIGNATURE, ""),
            received_at=ingest_now(),
        ),
    )
    job_queue().committed(result.jobs)
    if not result.duplicate:
        metrics.batch_stored(result.response)
        log.info(
            "batch %s seq %s from %s: %s readings",
            batch.batch_id,
            batch.seq,
            agent.public_id,
            len(batch.readings),
        )
    return _answer(result.response), 200


def ingest_now() -> datetime:
    """The ingest's clock: ``SCM_CLOCK`` (a callable, for tests that replay dated fleets) or
    the system clock.  It dates receipt and judges readings dated in the future."""
    clock = current_app.config.get("SCM_CLOCK")
    return clock() if clock else datetime.now(UTC)


def _retrying(session: Any, store: Callable[[], T]) -> T:
    """Run ``store`` again after a lost race (deadlock, unique key, SQLite busy); the last
    failure goes to the 503 handler, so the agent keeps the batch and retries later."""
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            return store()
        except (IntegrityError, OperationalError):
            session.rollback()
            if attempt == STORE_ATTEMPTS:
                raise
            log.info("batch store lost a race (attempt %s); retrying", attempt)
            time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter only
    raise AssertionError("unreachable")


@blueprint.errorhandler(SignatureError)
def _signature_error(err: SignatureError) -> tuple[Response, int]:
    log.warning("refused request to %s: %s", request.path, err.reason)
    metrics.refused(request.path, err.reason)
    note_refusal(err.reason)
    return _error(err.reason, str(err)), 401


@blueprint.errorhandler(DomainError)
def _domain_error(err: DomainError) -> tuple[Response, int]:
    log.warning("refused request to %s: %s", request.path, err.code)
    metrics.refused(request.path, err.code)
    if err.status == 503:  # transient: the agent keeps the batch and tries again
        return unavailable(err.message)
    note_refusal(err.code)
    return _error(err.code, err.message), err.status


@blueprint.errorhandler(BatchError)
def _batch_error(err: BatchError) -> tuple[Response, int]:
    log.warning("refused batch: %s", err.reason)
    metrics.refused(request.path, err.reason)
    return _error(err.reason, str(err)), 413 if err.reason == "too_large" else 400


@blueprint.errorhandler(DBAPIError)
def _database_error(err: DBAPIError) -> tuple[Response, int]:
    """A value the database refused is the sender's fault (400); anything else about the
    database is transient for the agent: 503 with Retry-After, and it keeps its readings."""
    _rollback()
    if isinstance(err, DataError):
        log.warning("database refused a value on %s: %s", request.path, err.orig)
        return _error("invalid_value", "a value is out of range for storage"), 400
    log.error("database unavailable on %s: %s", request.path, type(err.orig).__name__)
    metrics.refused(request.path, "unavailable")
    return unavailable("the database is unavailable or busy: retry later")


@blueprint.errorhandler(Exception)
def _unexpected(err: Exception) -> tuple[Response, int]:
    """Still the documented JSON: an agent never sees an HTML page."""
    if isinstance(err, HTTPException):
        return http_error(err)
    _rollback()
    log.exception("unexpected error on %s", request.path)
    return _error("internal_error", "unexpected error: retry later"), 500


def unavailable(message: str) -> tuple[Response, int]:
    """503 with ``Retry-After`` in the header and in the JSON."""
    response = _answer({"error": "unavailable", "message": message, "retry_after": RETRY_AFTER_S})
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response, 503


def _rollback() -> None:
    try:
        db_session().rollback()
    except DBAPIError:  # the connection is gone: closing at teardown is enough
        log.debug("rollback failed after a database error")


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(_err: RequestEntityTooLarge) -> tuple[Response, int]:
    return _error("too_large", "request body is over the size limit"), 413


@blueprint.errorhandler(HTTPException)
def http_error(err: HTTPException) -> tuple[Response, int]:
    """Any HTTP error (404, 405...) as the documented JSON."""
    return _error(err.name.lower().replace(" ", "_"), err.description or ""), err.code or 500


def _answer(payload: dict[str, Any]) -> Response:
    return jsonify({**payload, "server_time": format_timestamp(datetime.now(UTC))})


def _error(code: str, message: str) -> Response:
    return _answer({"error": code, "message": message})


def _json_object(body: bytes) -> dict[str, Any]:
    """A JSON object, parsed with bounded nesting (enroll parses before any signature check)."""
    try:
        data = parse_json(body)
    except BatchError as err:
        raise DomainError("malformed_request", str(err)) from err
    if not isinstance(data, dict):
        raise DomainError("malformed_request", "body must be a JSON object")
    return data


def _text(value: Any, limit: int) -> str | None:
    """An optional descriptive string, cut to its column; refused if no database can store it."""
    if not isinstance(value, str):
        return None
    try:
        check_text(value, "text")
    except ReadingError as err:
        raise DomainError("malformed_request", str(err)) from err
    return value[:limit]


# -- agent service: remote configuration and heartbeat (issue 4) -------------------------------


@blueprint.get("/agents/config")
def agent_config() -> tuple[Response, int]:
    """The agent's configuration (credentials included) to the agent that signs for it only.

    The request is signed like a batch over an empty body; nothing here is ever logged but the
    version number, because the answer holds SNMP secrets.
    """
    agent = _signed_agent("GET")
    # The request id is in the signature: bound to it, a captured request cannot be replayed.
    accept_nonce(db_session(), agent, request.headers.get(HEADER_REQUEST_ID, ""), datetime.now(UTC))
    version, config = current_config(db_session(), agent)
    return _answer({"version": version, "config": config.to_dict()}), 200


@blueprint.post("/agents/heartbeat")
def agent_heartbeat() -> tuple[Response, int]:
    """Keep the agent's latest state; answer with the configuration version to fetch."""
    agent = _signed_agent("POST")
    try:
        beat = Heartbeat.from_dict(_json_object(request.get_data(cache=True)))
    except HeartbeatError as err:
        raise DomainError("malformed_heartbeat", str(err)) from err
    result = record_heartbeat(db_session(), agent, beat, now=datetime.now(UTC))
    if result.newly_dropped:
        log.warning(
            "agent %s dropped %s readings (spool full; %s dropped in all)",
            agent.public_id,
            result.newly_dropped,
            beat.dropped_total,
        )
    return _answer({"config_version": result.config_version}), 200


def _signed_agent(method: str) -> Agent:
    """The enrolled agent that signed this request, after the same checks as a batch upload."""
    signed = parse_signed_headers(request.headers)
    check_clock(signed, time.time())
    agent = find_agent(db_session(), signed.agent_id)
    body = request.get_data(cache=True)
    verify_request(
        signed, load_public_key(agent.public_key), method=method, path=request.path, body=body
    )
    return agent
