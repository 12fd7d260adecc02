"""The outbox: events written with the change they report, delivered later by a worker.

``emit`` runs inside the caller's transaction: the event and one ``Delivery`` per subscriber
(each webhook that wants the event, each staff member who reads alerts at once) are committed
together with the alert, or not at all. ``deliver_due`` is the worker's job: it sends what is due,
records every attempt, and backs off exponentially on failure, so a slow or dead mail server or
webhook receiver delays a message but never slows a page nor loses it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.accounts import active_staff
from ingest.domain.errors import DomainError
from ingest.models import (
    Delivery,
    NotificationPreference,
    OutboxMessage,
    User,
    WebhookEndpoint,
)

#: Events a webhook may subscribe to (the alert kinds are in each event's ``data.kind``).
EVENTS: Final = ("alert.opened", "alert.cleared")
MAX_ATTEMPTS: Final = 12
FIRST_RETRY: Final = timedelta(seconds=30)
LONGEST_WAIT: Final = timedelta(hours=6)
SIGNATURE_HEADER: Final = "X-SCM-Signature"
#: A receiver should refuse a signature older than this (replays of a captured delivery).
SIGNATURE_TOLERANCE: Final = timedelta(minutes=5)


class Mailer(Protocol):
    """Delivers a plain-text message or raises."""

    def send(self, to: str, subject: str, text: str) -> None:
        """Deliver one message."""


class WebhookPoster(Protocol):
    """POSTs a body with headers; returns the HTTP status or raises on a network error."""

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """Send one request."""


#: Words an alert e-mail for one reader: (event, payload, user) -> (subject, text).
MailWording = Callable[[str, dict[str, Any], User], tuple[str, str]]


def emit(
    session: Session,
    event: str,
    payload: dict[str, Any],
    now: datetime,
    wording: MailWording | None = None,
) -> OutboxMessage:
    """Write ``event`` and its deliveries in the current transaction (the caller commits)."""
    message = OutboxMessage(event=event, payload=payload, created_at=now)
    session.add(message)
    session.flush()
    for hook in subscribed_webhooks(session, event):
        session.add(
            Delivery(
                message_id=message.id, channel="webhook", webhook_id=hook.id, next_attempt_at=now
            )
        )
    if event.startswith("alert.") and wording is not None:
        for user in staff_reading(session, "immediate"):
            subject, text = wording(event, payload, user)
            queue_mail(session, message, user.email, subject, text, now)
    return message


def queue_mail(
    session: Session, message: OutboxMessage, to: str, subject: str, text: str, now: datetime
) -> Delivery:
    """An e-mail delivery of ``message`` to ``to``, due now."""
    delivery = Delivery(
        message_id=message.id,
        channel="email",
        address=to,
        subject=subject[:250],
        text=text,
        next_attempt_at=now,
    )
    session.add(delivery)
    return delivery


def subscribed_webhooks(session: Session, event: str) -> list[WebhookEndpoint]:
    """Active endpoints that want ``event`` (an empty list of events means every event)."""
    hooks = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
    return [h for h in hooks if not h.events or event in h.events]


def staff_reading(session: Session, mode: str) -> list[User]:
    """Active staff whose alert mail preference is ``mode`` (no row: the default, a digest)."""
    prefs = {p.user_id: p.mode for p in session.scalars(select(NotificationPreference))}
    return [u for u in active_staff(session) if prefs.get(u.id, "digest") == mode]


def add_webhook(
    session: Session, url: str, events: list[str], now: datetime
) -> tuple[WebhookEndpoint, str]:
    """Register a receiver; returns it and its signing secret (shown to staff once)."""
    if not url.startswith(("https://", "http://")) or len(url) > 500:
        raise DomainError("bad_webhook", "the URL must start with https:// (or http://)")
    unknown = set(events) - set(EVENTS)
    if unknown:
        raise DomainError("bad_webhook", f"unknown events: {', '.join(sorted(unknown))}")
    secret = secrets.token_urlsafe(32)
    hook = WebhookEndpoint(url=url, secret=secret, events=list(events), created_at=now)
    session.add(hook)
    session.flush()
    return hook, secret


def webhooks(session: Session) -> list[WebhookEndpoint]:
    """Every receiver, newest first."""
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.created_at.desc())
    return list(session.scalars(query))


def recent_deliveries(session: Session, limit: int = 50) -> list[Delivery]:
    """The delivery log: the latest deliveries with their attempts and last error."""
    return list(session.scalars(select(Delivery).order_by(Delivery.id.desc()).limit(limit)))


# -- signing --------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: datetime) -> bool:
    """What a receiver checks: a well-formed header, a fresh timestamp, the right HMAC."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > SIGNATURE_TOLERANCE.total_seconds():
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# -- delivering -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one run of the worker did."""

    sent: int
    retried: int
    failed: int


def deliver_due(
    session: Session,
    now: datetime,
    *,
    mailer: Mailer | None,
    post: WebhookPoster,
    limit: int = 100,
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DeliveryReport:
    """Send up to ``limit`` due deliveries, committing after each so none is sent twice.

    ``now`` decides what is due; a webhook's signature carries ``wall_clock()``, the moment it
    is really sent, since the receiver checks it against its own clock.
    """
    sent = retried = failed = 0
    due = (
        select(Delivery.id)
        .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    for delivery_id in list(session.scalars(due)):
        delivery = session.get(Delivery, delivery_id, with_for_update={"skip_locked": True})
        if delivery is None or delivery.status != "pending":
            continue
        error, code = _attempt(delivery, wall_clock(), mailer, post)
        delivery.attempts += 1
        delivery.last_status_code = code
        if error is None:
            delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
            sent += 1
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status, delivery.last_error = "failed", error
            failed += 1
        else:
            delivery.last_error = error
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            retried += 1
        session.commit()
    return DeliveryReport(sent, retried, failed)


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential wait after ``attempts`` failures, capped, with up to 20 % jitter."""
    base = min(FIRST_RETRY * (2 ** (attempts - 1)), LONGEST_WAIT)
    jitter = (rng or random.Random()).uniform(0.8, 1.0)  # noqa: S311 - spreading, not secrecy
    return base * jitter


def _attempt(
    delivery: Delivery, sent_at: datetime, mailer: Mailer | None, post: WebhookPoster
) -> tuple[str | None, int | None]:
    """Try once; (None, status) on success, else (what went wrong, status or None)."""
    if delivery.channel == "email":
        if mailer is None:
            return "no SMTP server configured", None
        try:
            mailer.send(delivery.address or "", delivery.subject or "", delivery.text or "")
        except Exception as err:
            return f"{type(err).__name__}: {err}"[:1000], None
        return None, None
    hook = delivery.webhook
    if hook is None or not hook.active:
        return "webhook removed", None
    body = json.dumps(
        {
            "id": delivery.message_id,
            "event": delivery.message.event,
            "created_at": delivery.message.created_at.isoformat(),
            "data": delivery.message.payload,
        },
        sort_keys=True,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-SCM-Event": delivery.message.event,
        "X-SCM-Delivery": str(delivery.id),
        SIGNATURE_HEADER: sign(hook.secret, int(sent_at.timestamp()), body),
    }
    try:
        status = post(hook.url, body, headers)
    except Exception as err:
        return f"{type(err).__name__}: {err}"[:1000], None
    return (None, status) if 200 <= status < 300 else (f"HTTP {status}", status)
