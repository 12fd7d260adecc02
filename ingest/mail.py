"""Outgoing e-mail over SMTP, configured from the environment.

Domain code asks for a ``Mailer`` (anything with ``send``); the SMTP implementation lives here
so tests can run the real thing against an SMTP server on loopback.  The password is never
logged.  Settings: ``SCM_SMTP_HOST`` (no host: mail is disabled), ``SCM_SMTP_PORT`` (25),
``SCM_SMTP_USER``/``SCM_SMTP_PASSWORD``, ``SCM_SMTP_FROM``, ``SCM_SMTP_SECURITY``
(``none``, ``starttls`` or ``ssl``).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Final, Protocol

log = logging.getLogger(__name__)


class Mailer(Protocol):
    """Something that delivers a plain-text message."""

    def send(self, to: str, subject: str, text: str) -> None:
        """Deliver one message or raise."""


#: The From of every mail when ``SCM_SMTP_FROM`` is unset.  A module constant: a slots
#: dataclass's class attribute is a member descriptor, not the default (that bug put
#: "<member 'sender' of 'SmtpSettings' objects>" in every From header).
DEFAULT_SENDER: Final = "SCM <noreply@scm.example>"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to submit mail."""

    host: str
    port: int = 25
    sender: str = DEFAULT_SENDER
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: str = "none"
    timeout_s: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings | None:
        """The settings in the environment, or None when no SMTP host is configured."""
        env = os.environ if env is None else env
        host = env.get("SCM_SMTP_HOST")
        if not host:
            return None
        security = env.get("SCM_SMTP_SECURITY", "none").lower()
        if security not in ("none", "starttls", "ssl"):
            raise ValueError("SCM_SMTP_SECURITY must be none, starttls or ssl")
        default_port = {"none": 25, "starttls": 587, "ssl": 465}[security]
        return cls(
            host=host,
            port=int(env.get("SCM_SMTP_PORT", default_port)),
            sender=env.get("SCM_SMTP_FROM") or DEFAULT_SENDER,
            username=env.get("SCM_SMTP_USER"),
            password=env.get("SCM_SMTP_PASSWORD"),
            security=security,
        )


class SmtpMailer:
    """Submits each message over its own SMTP connection (requests are rare and small)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, to: str, subject: str, text: str) -> None:
        """Send a UTF-8 plain-text message to ``to``."""
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = " ".join(subject.split())[:250]  # no CR/LF: one header line
        message.set_content(text)
        s = self.settings
        context = ssl.create_default_context()
        smtp_class = smtplib.SMTP_SSL if s.security == "ssl" else smtplib.SMTP
        kwargs = {"context": context} if s.security == "ssl" else {}
        with smtp_class(s.host, s.port, timeout=s.timeout_s, **kwargs) as smtp:
            if s.security == "starttls":
                smtp.starttls(context=context)
            if s.username:
                smtp.login(s.username, s.password or "")
            smtp.send_message(message)
        log.info("mail %r sent to %s", subject, to)


def mailer_from_env() -> SmtpMailer | None:
    """The SMTP mailer the environment configures, or None when mail is not set up."""
    settings = SmtpSettings.from_env()
    return SmtpMailer(settings) if settings is not None else None


def try_send(mailer: Mailer | None, to: str, subject: str, text: str) -> bool:
    """Send if mail is configured; a failure is logged, never raised (the caller's work is
    already stored, and a page must not answer differently because a mail server is down)."""
    if mailer is None:
        log.warning("no SMTP server configured: mail %r to %s not sent", subject, to)
        return False
    try:
        mailer.send(to, subject, text)
    except (OSError, smtplib.SMTPException, ValueError) as err:
        log.warning("mail %r to %s not sent: %s", subject, to, err)
        return False
    return True
