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
    __table_args__ = (UniqueConstraint("agent_id", "batch_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    batch_uuid: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(BigInteger)
    body_digest: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    received_at: Mapped[datetime]
    reading_count: Mapped[int]
    response_json: Mapped[str] = mapped_column(Text)

    agent: Mapped[Agent] = relationship()
