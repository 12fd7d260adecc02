"""Bearer tokens for the dealer's ERP and scripts.

A token is shown once, when it is created; only its SHA-256 is stored, so a copy of the database
does not open the API. Tokens are long random strings, so a plain hash (not a slow password hash)
is enough and keeps every API request cheap.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.errors import DomainError
from ingest.models import ApiToken

PREFIX: Final = "scm_"
#: ``last_used_at`` is written at most this often, so reads do not turn into writes.
TOUCH_EVERY: Final = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A new token named ``name``; returns the row and the secret (shown once, never stored)."""
    clean = " ".join(name.split())[:100]
    if not clean:
        raise DomainError("bad_token", "a token needs a name")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=clean, token_hash=_digest(secret), created_at=now)
    session.add(row)
    session.flush()
    return row, secret


def token_for(session: Session, presented: str, now: datetime) -> ApiToken | None:
    """The live token ``presented`` is, or None (unknown, revoked or malformed)."""
    if not presented.startswith(PREFIX) or len(presented) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(presented)))
    if row is None or row.revoked_at is not None:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
        session.commit()
    return row


def revoke_api_token(session: Session, token_id: int, now: datetime) -> ApiToken:
    """Stop a token working at once."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise DomainError("not_found", "no such token", 404)
    row.revoked_at = row.revoked_at or now
    return row


def list_api_tokens(session: Session) -> list[ApiToken]:
    """Every token, newest first (names and dates only: the secrets are not kept)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))
