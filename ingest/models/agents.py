"""Agents, the one-time tokens that enroll them, and the batches they upload."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ingest.models.accounts import Customer
from ingest.models.base import Base


class Agent(Base):
    """One enrolled agent: its public key is the only credential it ever presents."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    hostname: Mapped[str | None] = mapped_column(String(255))
    agent_version: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    active: Mapped[bool] = mapped_column(default=True)

    customer: Mapped[Customer] = relationship()


class EnrollmentToken(Base):
    """A one-time secret; only its SHA-256 is stored, so a database leak enrolls nobody."""

    __tablename__ = "enrollment_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))

    customer: Mapped[Customer] = relationship()
    agent: Mapped[Agent | None] = relationship()


class UploadBatch(Base):
    """One accepted upload; the stored answer makes a re-send idempotent."""

    __tablename__ = "upload_batches"
    # The unique key leads with ``agent_id``: it serves an agent's batches, no index of its own.
    __table_args__ = (UniqueConstraint("agent_id", "batch_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    batch_uuid: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(BigInteger)
    body_digest: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    received_at: Mapped[datetime]
    reading_count: Mapped[int]
    response_json: Mapped[str] = mapped_column(Text)

    agent: Mapped[Agent] = relationship()


class AgentConfig(Base):
    """The configuration staff set for one agent; ``version`` grows by one at every change.

    ``config_json`` holds SNMP credentials: it is served only to the agent that signs for it and
    shown to people redacted (``scm-ingest agent config show``), never logged.
    """

    __tablename__ = "agent_configs"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), unique=True)
    version: Mapped[int]
    config_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]

    agent: Mapped[Agent] = relationship()


class AgentStatus(Base):
    """The latest heartbeat of one agent (one row per agent, overwritten at each heartbeat).

    Only the latest state is kept: a heartbeat every few minutes from every agent for years would
    be a large table nobody reads, and the drop counter is a running total, so nothing is lost.
    """

    __tablename__ = "agent_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), unique=True)
    received_at: Mapped[datetime]
    agent_version: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    uptime_s: Mapped[int] = mapped_column(BigInteger)
    backlog_readings: Mapped[int] = mapped_column(BigInteger)
    backlog_bytes: Mapped[int] = mapped_column(BigInteger)
    dropped_total: Mapped[int] = mapped_column(BigInteger)
    dead_letters: Mapped[int]
    devices_known: Mapped[int]
    devices_read: Mapped[int]
    config_version: Mapped[int]
    last_read_at: Mapped[datetime | None]
    last_upload_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))

    agent: Mapped[Agent] = relationship()


class AgentNonce(Base):
    """A request id an agent signed a configuration request with: each is accepted once, so a
    captured request cannot fetch the configuration (and its SNMP secrets) again."""

    __tablename__ = "agent_nonces"
    __table_args__ = (UniqueConstraint("agent_id", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(index=True)
