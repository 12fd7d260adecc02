"""Settings from the environment, resolved once when the application is created.

Twelve-factor style: the same code runs the demo (SQLite in the instance folder), the tests and
production (PostgreSQL), and only environment variables differ.  The secret key is never logged;
when none is given a random one is generated once and kept (0600) in the instance folder so
sessions survive a restart.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ENV_DATABASE_URL: Final = "SCM_DATABASE_URL"
ENV_INSTANCE_PATH: Final = "SCM_INSTANCE_PATH"
ENV_PUBLIC_URL: Final = "SCM_PUBLIC_URL"
ENV_SECRET_KEY: Final = "SCM_SECRET_KEY"  # noqa: S105 - the variable's name, not a secret
ENV_JOB_BROKER: Final = "SCM_JOB_BROKER"
DEFAULT_INSTANCE: Final = Path.cwd() / "instance"


@dataclass(frozen=True, slots=True)
class Settings:
    """What the application needs to start."""

    database_url: str
    instance_path: Path
    secret_key: str
    #: Where people reach the portal: the base of links in e-mails.
    public_url: str = "http://127.0.0.1:8000"
    #: Where follow-up jobs go (``redis://...``); None runs them in-process (``ingest.jobs``).
    job_broker: str | None = None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    instance = Path(env.get(ENV_INSTANCE_PATH) or DEFAULT_INSTANCE).resolve()
    database_url = env.get(ENV_DATABASE_URL) or f"sqlite:///{instance / 'ingest.sqlite'}"
    secret = env.get(ENV_SECRET_KEY) or _persistent_secret(instance / "secret_key")
    public_url = env.get(ENV_PUBLIC_URL) or "http://127.0.0.1:8000"
    return Settings(
        database_url=database_url,
        instance_path=instance,
        secret_key=secret,
        public_url=public_url.rstrip("/"),
        job_broker=env.get(ENV_JOB_BROKER) or None,
    )


def _persistent_secret(path: Path) -> str:
    """A random key made on first start and reused after; readable by the service user only."""
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value)
    return value
