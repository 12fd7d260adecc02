"""The demo's mailbox: what the ingest "sent" to the SMTP sink the demo runs (demo only).

Shown only when ``SCM_DEMO_MAILDIR`` names the sink's Maildir; anywhere else the page is 404.
"""

from __future__ import annotations

import email.policy
import mailbox
import os
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Final

from flask import abort, render_template

from ingest.auth import staff_required
from ingest.ops.blueprint import blueprint

ENV_DEMO_MAILDIR: Final = "SCM_DEMO_MAILDIR"
SHOWN: Final = 100


@dataclass(frozen=True, slots=True)
class SentMail:
    """One message as the sink received it."""

    date: datetime | None  # shown in the page's format; None when the header is missing
    to: str
    subject: str
    text: str


def _read(folder: Path) -> list[SentMail]:
    box = mailbox.Maildir(folder, factory=None, create=False)
    mails = []
    for key in sorted(
        box.keys(),
        key=lambda k: (folder / "new" / k).stat().st_mtime if (folder / "new" / k).exists() else 0,
        reverse=True,
    )[:SHOWN]:
        raw = box.get_bytes(key)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        mails.append(
            SentMail(
                getattr(message["Date"], "datetime", None),
                str(message["To"] or ""),
                str(message["Subject"] or ""),
                body.get_content() if body is not None else "",
            )
        )
    return mails


@blueprint.get("/demo-mail")
@staff_required
def demo_mail() -> str:
    """The messages the demo's SMTP sink received, newest first."""
    folder = os.environ.get(ENV_DEMO_MAILDIR)
    if not folder or not Path(folder).is_dir():
        abort(404)
    return render_template("ops/demo_mail.html", mails=_read(Path(folder)))
