"""Where the agent keeps what must survive a restart: its identity, its key and its spool.

One directory holds it all so an installer can give it to the service account alone:
``agent.key`` (Ed25519, mode 0600, never leaves the machine), ``identity.json`` (server URL and
the agent id the server gave at enrollment) and ``spool.sqlite`` (the outbox).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ENV_HOME: Final = "SCM_AGENT_HOME"
KEY_FILE: Final = "agent.key"
IDENTITY_FILE: Final = "identity.json"
SPOOL_FILE: Final = "spool.sqlite"


class NotEnrolledError(RuntimeError):
    """The agent has no identity yet: run ``scm-agent enroll`` first."""


def default_home() -> Path:
    """The state directory: $SCM_AGENT_HOME, else the platform's place for service data."""
    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME])
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "SCM Agent"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/scm-agent")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "scm-agent"


@dataclass(frozen=True, slots=True)
class Identity:
    """What enrollment gave this agent."""

    server: str
    agent_id: str
    customer: str
    enrolled_at: str


@dataclass(frozen=True, slots=True)
class AgentHome:
    """The agent's state directory and the files in it."""

    path: Path

    @property
    def key_path(self) -> Path:
        """The private key file."""
        return self.path / KEY_FILE

    @property
    def identity_path(self) -> Path:
        """The enrollment record."""
        return self.path / IDENTITY_FILE

    @property
    def spool_path(self) -> Path:
        """The SQLite outbox."""
        return self.path / SPOOL_FILE

    def ensure(self) -> None:
        """Create the directory, private to the service account."""
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)

    def is_enrolled(self) -> bool:
        """True once enrollment has written both the key and the identity."""
        return self.identity_path.is_file() and self.key_path.is_file()

    def load_identity(self) -> Identity:
        """Read the enrollment record; NotEnrolledError where there is none."""
        if not self.is_enrolled():
            raise NotEnrolledError(
                f"this agent is not enrolled (no {self.identity_path}): run scm-agent enroll"
            )
        data = json.loads(self.identity_path.read_text(encoding="utf-8"))
        return Identity(**{name: str(data[name]) for name in Identity.__slots__})

    def load_key(self) -> Ed25519PrivateKey:
        """The agent's private key (the crypto stack is loaded here, not for ``status``)."""
        from shared.signing import load_private_key

        return load_private_key(self.key_path)

    def save_identity(self, identity: Identity) -> None:
        """Write the enrollment record atomically (a crash leaves the old file or the new one)."""
        self.ensure()
        tmp = self.identity_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(identity), indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.identity_path)
