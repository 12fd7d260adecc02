"""Agents the API refuses: recorded so the dealer learns that a site is waiting on them.

A disabled or re-keyed agent keeps every reading and retries for hours (the agent's side of
issue 14); without this record the only trace would be a warning in the server log.  One row
per enrolled agent, kept current (first and last refusal, how many); an agent id nobody
enrolled is not recorded, so forged requests cannot grow the table.  Re-enabling the agent
clears its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.models import Agent, AgentRefusal

#: The refusal codes that concern the agent itself rather than one request.
AGENT_REFUSALS: Final = frozenset({"unknown_agent", "bad_signature", "bad_key"})


@dataclass(frozen=True, slots=True)
class Refusal:
    """What staff see about one refused agent."""

    reason: str
    first_at: datetime
    last_at: datetime
    count: int


def record_refusal(
    session: Session, agent_public_id: str, reason: str, now: datetime
) -> AgentRefusal | None:
    """Note that ``agent_public_id`` was refused for ``reason`` at ``now`` (not committed).

    Returns None (and records nothing) for a reason that does not concern the agent or an id
    no agent was ever enrolled with.
    """
    if reason not in AGENT_REFUSALS:
        return None
    agent = session.scalar(select(Agent).where(Agent.public_id == agent_public_id[:64]))
    if agent is None:
        return None
    row = session.scalar(select(AgentRefusal).where(AgentRefusal.agent_id == agent.id))
    if row is None:
        row = AgentRefusal(agent_id=agent.id, reason=reason, first_at=now, last_at=now, count=0)
        session.add(row)
    row.reason, row.last_at, row.count = reason, now, row.count + 1
    session.flush()
    return row


def refusals(session: Session) -> dict[int, Refusal]:
    """Every recorded refusal by agent row id."""
    return {
        row.agent_id: Refusal(row.reason, row.first_at, row.last_at, row.count)
        for row in session.scalars(select(AgentRefusal))
    }


def set_agent_active(session: Session, agent: Agent, active: bool) -> None:
    """Enable or disable an agent; enabling clears its refusal record (not committed)."""
    agent.active = active
    if active:
        row = session.scalar(select(AgentRefusal).where(AgentRefusal.agent_id == agent.id))
        if row is not None:
            session.delete(row)
    session.flush()
