"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from support.processes import free_tcp_port


@dataclass
class Inbox:
    """Messages received, parsed."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def env(self) -> dict[str, str]:
        """The environment that points the ingest at this server."""
        return {
            "SCM_SMTP_HOST": "127.0.0.1",
            "SCM_SMTP_PORT": str(self.port),
            "SCM_SMTP_FROM": "SCM <letture@scm.example>",
        }


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    """Run an SMTP server on 127.0.0.1 for the duration of the block."""
    inbox = Inbox(port=free_tcp_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
