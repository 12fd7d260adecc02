"""What the dealer needs to run a fleet of agents: refused agents and signed agent releases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ingest.models.accounts import Customer
from ingest.models.agents import Agent
from ingest.models.base import Base


class AgentRefusal(Base):
    """An enrolled agent the API refuses (disabled, re-keyed): one row per agent, kept current.

    Such an agent keeps its readings and retries for hours; this row is how staff learn that
    a site is waiting on them (``scm-ingest agent list``).
    """

    __tablename__ = "agent_refusals"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(64))
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(BigInteger)

    agent: Mapped[Agent] = relationship()


class AgentRelease(Base):
    """A published agent binary: signed off the ingest host, verified again by every agent."""

    __tablename__ = "agent_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(100))
    #: The file under the instance folder's ``releases/`` (named by its digest).
    filename: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime]
    #: Offered to every customer's agents (otherwise only to the rollout's customers).
    everyone: Mapped[bool] = mapped_column(default=False)


class ReleaseRollout(Base):
    """One customer whose agents are offered a release (a staged rollout, customer by customer)."""

    __tablename__ = "release_rollouts"
    __table_args__ = (UniqueConstraint("release_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("agent_releases.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    since: Mapped[datetime]

    release: Mapped[AgentRelease] = relationship()
    customer: Mapped[Customer] = relationship()
