"""Rate limits on the forms that guess secrets (sign-in, password reset), by Flask-Limiter.

Keyed by client address *and* the e-mail tried, so one office behind a NAT does not lock
itself out, and one account cannot be brute-forced from many addresses faster than the
per-account limit.  Storage: ``SCM_RATELIMIT_STORAGE`` (e.g. ``redis://127.0.0.1:6379``) so
several workers share counts; in-memory by default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

#: Failed sign-ins per client address and account; per account from anywhere; per address
#: across accounts (one host trying many accounts).  Successful sign-ins do not count.
SIGN_IN_LIMIT = "10 per 15 minutes"
ACCOUNT_LIMIT = "30 per 15 minutes"
ADDRESS_LIMIT = "50 per 15 minutes"
RESET_LIMIT = "5 per hour"

limiter = Limiter(key_func=get_remote_address, default_limits=[])


#: Where the APIs live: their callers sign (agents) or carry a token (read clients), and no
#: limit applies there, so their requests skip the limiter's checks (``_api_request``).
API_PREFIX: Final = "/api/"


def init_app(app: Flask) -> None:
    """Attach the limiter with the configured storage."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(os.environ))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


@limiter.request_filter
def _api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def storage_uri(env: Mapping[str, str]) -> str:
    """Where counts live: ``SCM_RATELIMIT_STORAGE``, else the job broker's Redis (every web
    worker and host then shares one count), else this process's memory (one worker only)."""
    explicit = env.get("SCM_RATELIMIT_STORAGE")
    if explicit:
        return explicit
    broker = env.get("SCM_JOB_BROKER", "")
    return broker if broker.startswith(("redis://", "rediss://")) else "memory://"


def account_key() -> str:
    """The e-mail being tried (case-folded): limits attempts on one account from anywhere."""
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def address_and_account_key() -> str:
    """Client address plus the e-mail tried."""
    return f"{get_remote_address()}|{account_key()}"
