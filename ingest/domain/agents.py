"""Running agents from the centre: their configuration and their heartbeats.

Staff set an agent's configuration (ranges, printers, SNMP credentials, intervals); each change
bumps a version number.  The agent learns the current version from every heartbeat answer and
fetches the configuration only when it changed.  The configuration is checked with the same
parser the agent uses (``shared.agent_config``), so what the server accepts the agent accepts.

The heartbeat keeps only the latest state per agent; its drop counter is a running total, so a
growing total is what tells support that an agent's spool overflowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ingest.domain.agent_releases import offer_for
from ingest.domain.errors import DomainError
from ingest.models import Agent, Customer
from ingest.models.agents import AgentConfig, AgentNonce, AgentStatus
from shared.agent_config import ConfigError, RemoteConfig, parse_remote_config
from shared.heartbeat import Heartbeat


@dataclass(frozen=True, slots=True)
class HeartbeatResult:
    """What the heartbeat answer needs, and what the caller should log."""

    config_version: int
    newly_dropped: int


@dataclass(frozen=True, slots=True)
class AgentOverview:
    """One line of ``scm-ingest agent list``."""

    agent: Agent
    status: AgentStatus | None
    config_version: int


def agent_by_public_id(session: Session, public_id: str) -> Agent:
    """Any agent (active or not) by its public id, for staff commands."""
    agent = session.scalar(select(Agent).where(Agent.public_id == public_id))
    if agent is None:
        raise DomainError("unknown_agent", f"no agent {public_id!r}", 404)
    return agent


def set_config(session: Session, agent: Agent, data: Any, *, now: datetime) -> AgentConfig:
    """Check ``data`` and store it as the agent's configuration, one version up.

    The ``release`` entry is the rollout's (``agent release rollout``), never set by hand.
    """
    if isinstance(data, dict) and "release" in data:
        raise DomainError("invalid_config", "release: set by scm-ingest agent release rollout")
    try:
        config = parse_remote_config(data)
    except ConfigError as err:
        raise DomainError("invalid_config", str(err)) from err
    row = session.scalar(select(AgentConfig).where(AgentConfig.agent_id == agent.id))
    if row is None:
        row = AgentConfig(agent_id=agent.id, version=0, config_json="{}", updated_at=now)
        session.add(row)
    row.version += 1
    row.config_json = json.dumps(config.to_dict(), sort_keys=True)
    row.updated_at = now
    session.flush()
    return row


def current_config(session: Session, agent: Agent) -> tuple[int, RemoteConfig]:
    """The agent's configuration and its version (0 and defaults when none was set), with the
    release rolled out to it."""
    row = session.scalar(select(AgentConfig).where(AgentConfig.agent_id == agent.id))
    config = RemoteConfig() if row is None else parse_remote_config(json.loads(row.config_json))
    return (0 if row is None else row.version), replace(config, release=offer_for(session, agent))


def config_version(session: Session, agent: Agent) -> int:
    """Only the version number (what every heartbeat answer carries)."""
    version = session.scalar(select(AgentConfig.version).where(AgentConfig.agent_id == agent.id))
    return version or 0


def record_heartbeat(
    session: Session, agent: Agent, beat: Heartbeat, *, now: datetime
) -> HeartbeatResult:
    """Keep the latest heartbeat and commit; reports readings dropped since the previous one."""
    row = session.scalar(select(AgentStatus).where(AgentStatus.agent_id == agent.id))
    previous_drops = row.dropped_total if row is not None else 0
    if row is None:
        row = AgentStatus(agent_id=agent.id)
        session.add(row)
    _copy_heartbeat(row, beat, now)
    agent.last_seen_at = now
    agent.agent_version = beat.agent_version[:64]
    try:
        session.commit()
    except IntegrityError:  # a concurrent first heartbeat of the same agent: keep theirs
        session.rollback()
    # A restarted agent with a new spool counts from zero again: only growth is news.
    newly_dropped = max(0, beat.dropped_total - previous_drops)
    return HeartbeatResult(config_version(session, agent), newly_dropped)


def list_agents(session: Session, customer: Customer | None = None) -> list[AgentOverview]:
    """Every agent (of one customer), with its latest heartbeat and configuration version."""
    query = select(Agent).order_by(Agent.id)
    if customer is not None:
        query = query.where(Agent.customer_id == customer.id)
    statuses = {s.agent_id: s for s in session.scalars(select(AgentStatus))}
    rows = session.execute(select(AgentConfig.agent_id, AgentConfig.version)).all()
    versions: dict[int, int] = dict(rows)
    return [
        AgentOverview(agent, statuses.get(agent.id), versions.get(agent.id, 0))
        for agent in session.scalars(query)
    ]


def _copy_heartbeat(row: AgentStatus, beat: Heartbeat, now: datetime) -> None:
    row.received_at = now
    row.agent_version = beat.agent_version[:64]
    row.started_at = beat.started_at
    row.uptime_s = beat.uptime_s
    row.backlog_readings = beat.backlog_readings
    row.backlog_bytes = beat.backlog_bytes
    row.dropped_total = beat.dropped_total
    row.dead_letters = beat.dead_letters
    row.devices_known = beat.devices_known
    row.devices_read = beat.devices_read
    row.config_version = beat.config_version
    row.last_read_at = beat.last_read_at
    row.last_upload_at = beat.last_upload_at
    row.last_error = beat.last_error[:500] if beat.last_error else None


#: How long a configuration request's nonce is remembered: longer than the signature's clock
#: window, after which the request is refused as stale anyway.
NONCE_MEMORY = timedelta(minutes=15)


def accept_nonce(session: Session, agent: Agent, nonce: str, now: datetime) -> None:
    """Accept each signed configuration request once; a replay of a captured one is refused."""
    session.execute(
        delete(AgentNonce).where(
            AgentNonce.agent_id == agent.id, AgentNonce.seen_at < now - NONCE_MEMORY
        )
    )
    try:
        with session.begin_nested():
            session.add(AgentNonce(agent_id=agent.id, nonce=nonce[:64], seen_at=now))
            session.flush()
    except IntegrityError as err:
        raise DomainError(
            "replayed_request", "this signed request was already answered", 409
        ) from err
    session.commit()
