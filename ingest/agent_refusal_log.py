"""The API's refusal path, recording refused agents (``ingest.domain.agent_refusals``).

Kept out of ``ingest.api`` so the API module only calls :func:`note_refusal` from its error
handlers.  Recording must never turn a clean 401 into a 500: a database problem here is
logged and the refusal answered as usual.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import request
from sqlalchemy.exc import SQLAlchemyError

from ingest.db import db_session
from ingest.domain.agent_refusals import AGENT_REFUSALS, record_refusal
from shared.signing import HEADER_AGENT

log = logging.getLogger(__name__)


def note_refusal(reason: str) -> None:
    """Record the signing agent of the current request as refused for ``reason``."""
    agent_id = request.headers.get(HEADER_AGENT, "")
    if reason not in AGENT_REFUSALS or not agent_id:
        return
    session = db_session()
    try:
        session.rollback()
        if record_refusal(session, agent_id, reason, datetime.now(UTC)) is not None:
            session.commit()
    except SQLAlchemyError as err:
        session.rollback()
        log.warning("could not record the refusal of agent %s: %s", agent_id[:64], err)
