"""The outbox's real transports: SMTP from the environment, webhooks over HTTPS with requests.

The domain (``ingest.domain.outbox``) decides what is due and records each attempt; this module
only moves bytes, so the worker job and the tests call the same ``deliver`` with real transports.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import requests
from sqlalchemy.orm import Session

from ingest.domain.outbox import DeliveryReport, deliver_due
from ingest.mail import mailer_from_env

WEBHOOK_TIMEOUT_S: Final = 10.0


def post_webhook(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST one signed event; redirects are not followed (a webhook URL is exact)."""
    response = requests.post(
        url, data=body, headers=headers, timeout=WEBHOOK_TIMEOUT_S, allow_redirects=False
    )
    return response.status_code


def deliver(session: Session, now: datetime) -> DeliveryReport:
    """The worker's delivery job: due e-mails and webhooks, with the configured transports."""
    return deliver_due(session, now, mailer=mailer_from_env(), post=post_webhook)
