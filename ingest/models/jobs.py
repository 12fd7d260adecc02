"""The job outbox: follow-up work written in the same transaction as what caused it.

A row here is the durable record that a job must run (the transactional-outbox pattern): the
queue broker only carries "run job N" messages, so a lost message or a broker outage delays a
job but never loses it; the worker re-sends rows still pending (``ingest.jobs.outbox``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ingest.models.base import Base


class Job(Base):
    """One unit of follow-up work; ``done_at`` is set once it ran to the end."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_pending", "done_at", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: A job that must exist once (a scheduled run: "partitions@2026-11-28T10"): unique.
    unique_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime]
    run_after: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]
