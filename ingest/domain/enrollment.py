"""One-time enrollment tokens and the agents they create.

A token is shown once (``scm-ingest token create``) and only its SHA-256 is stored.  Enrolling
with a used token fails, except when the same key presents it again: that is an agent retrying
after a lost answer, and it gets the same agent id back instead of a burnt token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from ingest.domain.bulk import DatabaseMemory, core
from ingest.domain.errors import DomainError
from ingest.models import Agent, Customer, EnrollmentToken

DEFAULT_TOKEN_TTL = timedelta(days=7)
TOKEN_PREFIX = "scm-enroll-"  # noqa: S105 - a visible prefix, not a secret


def hash_token(token: str) -> str:
    """What is stored and looked up in place of the token itself."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def create_token(
    session: Session,
    customer: Customer,
    *,
    ttl: timedelta = DEFAULT_TOKEN_TTL,
    now: datetime | None = None,
) -> str:
    """A new one-time token for ``customer``; the clear text exists only in the return value."""
    now = now or datetime.now(UTC)
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    session.add(
        EnrollmentToken(
            token_hash=hash_token(token),
            customer_id=customer.id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return token


def enroll_agent(
    session: Session,
    *,
    token: str,
    public_key: str,
    hostname: str | None,
    agent_version: str | None,
    now: datetime,
) -> tuple[Agent, bool]:
    """The agent for this token and key, and whether it was created now (False: a retry)."""
    row = session.scalar(
        select(EnrollmentToken).where(EnrollmentToken.token_hash == hash_token(token))
    )
    if row is None:
        raise DomainError("invalid_token", "unknown enrollment token", 401)
    if row.used_at is not None:
        if row.agent is not None and row.agent.public_key == public_key:
            return row.agent, False
        raise DomainError("token_used", "this enrollment token was already used", 401)
    if row.expires_at < now:
        raise DomainError("token_expired", "this enrollment token has expired", 401)
    if session.scalar(select(Agent).where(Agent.public_key == public_key)) is not None:
        raise DomainError("key_in_use", "this public key is already enrolled", 409)
    agent = Agent(
        public_id="agt_" + secrets.token_hex(8),
        customer_id=row.customer_id,
        public_key=public_key,
        hostname=(hostname or "")[:255] or None,
        agent_version=(agent_version or "")[:64] or None,
        enrolled_at=now,
        last_seq=0,
        active=True,
    )
    session.add(agent)
    session.flush()
    row.used_at = now
    row.agent_id = agent.id
    return agent, True


@dataclass(frozen=True, slots=True)
class SigningAgent:
    """What a signed request needs of its agent: who it is, whose it is, the key it signs with."""

    id: int
    public_id: str
    customer_id: int
    public_key: str


def signing_agent(session: Session, public_id: str) -> SigningAgent:
    """An active agent by the id it signs with, as plain values: each upload's agent is looked up
    here once per process (``uploading_agent``); loading an ORM object for it cost more than the
    query (requests that change the agent use ``find_agent``)."""
    row = core(session).execute(_signing_agent_statement(), {"public_id": public_id}).first()
    _refuse_unless_active(row)
    return SigningAgent(row.id, row.public_id, row.customer_id, row.public_key)


def uploading_agent(session: Session, public_id: str) -> SigningAgent:
    """``signing_agent``, remembered by this process from the agent's first upload on: what it
    holds never changes (a new key is a new agent, and an agent stays its customer's).  Whether
    the agent is still active is the upload's own claim to check, in the statement that stores
    the batch (``intake._claim``), so disabling an agent refuses its very next batch, and every
    other upload costs no lookup (measured: 0.8 ms of the service's and the database's CPU a
    batch, 6 %)."""
    known = _UPLOADING.of(session)
    agent = known.get(public_id)
    if agent is None:
        agent = signing_agent(session, public_id)
        if len(known) >= _UPLOADING_LIMIT:
            known.clear()
        known[public_id] = agent
    return agent


def refuse_unless_still_active(session: Session, agent: SigningAgent | Agent) -> None:
    """Refuse, as ``signing_agent`` would, an agent that is no longer enrolled with this key or
    has been disabled, and forget it, so its next upload is refused before its body is read."""
    row = session.execute(
        select(Agent.active).where(Agent.id == agent.id, Agent.public_key == agent.public_key)
    ).first()
    if row is None or not row.active:
        _UPLOADING.of(session).pop(agent.public_id, None)
    _refuse_unless_active(row)


#: The agents each database's uploads came from (a few hundred bytes each; forgotten whole
#: past the limit, which ``shared.signing.load_public_key``'s cache matches).
_UPLOADING: Final = DatabaseMemory[dict[str, SigningAgent]](dict)
_UPLOADING_LIMIT: Final = 20_000


def find_agent(session: Session, public_id: str) -> Agent:
    """An active agent by the id it signs with, as the ORM object a request may change."""
    agent = session.scalar(_agent_by_public_id(), {"public_id": public_id})
    _refuse_unless_active(agent)
    return agent


def _refuse_unless_active(agent: Any) -> None:
    """Unknown or disabled agents are refused alike (an unknown id tells nothing more)."""
    if agent is None or not agent.active:
        raise DomainError("unknown_agent", "unknown or disabled agent", 401)


@lru_cache(maxsize=1)
def _signing_agent_statement() -> Select[Any]:
    """Built once (building it and its cache key cost more than the query)."""
    columns = ("id", "public_id", "customer_id", "public_key", "active")
    table = Agent.__table__
    return select(*(table.c[name] for name in columns)).where(
        table.c.public_id == bindparam("public_id")
    )


@lru_cache(maxsize=1)
def _agent_by_public_id() -> Select[tuple[Agent]]:
    return select(Agent).where(Agent.public_id == bindparam("public_id"))
