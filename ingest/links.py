"""Absolute links that leave the site in e-mails: the public base URL plus a signed token.

One place builds them, so every mail points at ``SCM_PUBLIC_URL`` and signs with the app's key.
"""

from __future__ import annotations

from flask import current_app

from ingest.domain.accounts import password_reset_token
from ingest.domain.read_requests import RequestLinks
from ingest.models import User


def public_url(path: str) -> str:
    """``path`` on the public site."""
    return f"{current_app.config['SCM_PUBLIC_URL']}{path}"


def request_links() -> RequestLinks:
    """Signed links for meter-read requests."""
    return RequestLinks(current_app.config["SCM_PUBLIC_URL"], current_app.config["SECRET_KEY"])


def password_link(user: User, *, invite: bool = False) -> str:
    """The link to choose a password: a one-hour reset, or a seven-day invitation."""
    token = password_reset_token(user, current_app.config["SECRET_KEY"], invite=invite)
    return public_url(f"/password/reset/{token}")
