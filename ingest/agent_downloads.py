"""``GET /api/v1/agents/releases/<version>``: an agent downloads the release offered to it.

Signed like every agent request, and only a release rolled out to the agent's customer (or to
everyone) is served.  The file is what the dealer signed; the agent checks size, digest and
signature itself before it runs anything, so this endpoint needs to be available, not trusted.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, send_file

from ingest.agent_refusal_log import note_refusal
from ingest.db import db_session
from ingest.domain.agent_releases import offer_for, release_by_version
from ingest.domain.enrollment import find_agent
from ingest.domain.errors import DomainError
from shared.reading import format_timestamp
from shared.signing import (
    SignatureError,
    check_clock,
    load_public_key,
    parse_signed_headers,
    verify_request,
)

blueprint = Blueprint("agent_downloads", __name__, url_prefix="/api/v1/agents")
RELEASES_FOLDER = "releases"


def releases_store(instance_path: str | Path) -> Path:
    """Where published release files live (the ingest's instance folder)."""
    return Path(instance_path) / RELEASES_FOLDER


@blueprint.get("/releases/<version>")
def download(version: str) -> Response:
    """The release file, to an enrolled agent it is offered to."""
    signed = parse_signed_headers(request.headers)
    check_clock(signed, time.time())
    session = db_session()
    agent = find_agent(session, signed.agent_id)
    verify_request(
        signed, load_public_key(agent.public_key), method="GET", path=request.path, body=b""
    )
    release = release_by_version(session, version)
    offered = offer_for(session, agent)
    if offered is None or offered.version != release.version:
        raise DomainError("not_offered", f"release {version} is not offered to this agent", 404)
    path = releases_store(current_app.instance_path) / release.filename
    return send_file(path, mimetype="application/octet-stream", max_age=0)


@blueprint.errorhandler(SignatureError)
def _signature_error(err: SignatureError) -> tuple[Response, int]:
    note_refusal(err.reason)
    return _error(err.reason, str(err)), 401


@blueprint.errorhandler(DomainError)
def _domain_error(err: DomainError) -> tuple[Response, int]:
    note_refusal(err.code)
    return _error(err.code, err.message), err.status


def _error(code: str, message: str) -> Response:
    """The agent API's error shape, ``server_time`` included."""
    now = format_timestamp(datetime.now(UTC))
    return jsonify({"error": code, "message": message, "server_time": now})
