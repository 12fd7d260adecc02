"""Alerts about the fleet, and the outbox that tells people and systems about them.

An alert is a *thing that is wrong* (an agent silent, a printer jammed), not an event: it opens
once, is seen again on every evaluation while it lasts, and clears. ``open_key`` holds the
alert's key while it is open and NULL once cleared, so a unique index forbids two open alerts for
the same thing on every backend (NULLs never collide).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ingest.models.accounts import Customer, User
from ingest.models.base import Base


class Alert(Base):
    """One problem, from when it was first seen until it cleared."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machines.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(500))
    #: The values the message was built from, so pages can word it in the reader's language.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime] = mapped_column(index=True)
    last_seen_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

    customer: Mapped[Customer] = relationship()


class AlertSettings(Base):
    """A customer's alert thresholds and automatic-ticket rules (defaults when there is no row)."""

    __tablename__ = "alert_settings"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    #: None: derived from the agent's own heartbeat interval.
    agent_silent_minutes: Mapped[int | None]
    device_silent_hours: Mapped[int] = mapped_column(default=24)
    #: Alert kinds that open a service ticket on their own, e.g. ["device_error"].
    auto_ticket_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)


class NotificationPreference(Base):
    """How a staff member hears about alerts: each one at once, a daily digest, or not by mail."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), default="digest")
    last_digest_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class WebhookEndpoint(Base):
    """A URL of the dealer's systems that receives signed events."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    #: The HMAC key; it must be kept (not hashed) to sign each delivery.
    secret: Mapped[str] = mapped_column(String(100))
    #: Event names it wants (e.g. ["alert.opened", "alert.cleared"]); empty means all.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """An event, written in the same transaction as the change it reports."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="message")


class Delivery(Base):
    """One attempt-tracked delivery of a message to one webhook or one mailbox.

    An e-mail carries its own subject and text: they are worded for their reader when the
    event is written (language, digest), not when the worker sends them.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id"))
    address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(250))
    text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None]
    sent_at: Mapped[datetime | None]

    message: Mapped[OutboxMessage] = relationship(back_populates="deliveries")
    webhook: Mapped[WebhookEndpoint | None] = relationship()


class ApiToken(Base):
    """A bearer token for the dealer's ERP and scripts; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
