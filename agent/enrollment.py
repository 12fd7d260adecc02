"""Enrollment: make this agent's key pair and register the public half with a one-time token.

The key is written (0600) *before* the request, and reused if an earlier attempt lost the
server's answer: the server then recognises the same token with the same key and answers with
the same agent id, so a retry never burns the token.
"""

from __future__ import annotations

from agent.ingest_client import IngestClient
from agent.state import AgentHome, Identity
from shared.signing import generate_private_key, save_private_key


class AlreadyEnrolledError(RuntimeError):
    """Enrolling again would orphan the agent's identity; it takes an explicit --force."""


def enroll(home: AgentHome, client: IngestClient, token: str, *, force: bool = False) -> Identity:
    """Enroll with ``client``'s server and store the identity in ``home``."""
    if home.is_enrolled() and not force:
        current = home.load_identity()
        raise AlreadyEnrolledError(
            f"already enrolled as agent {current.agent_id} with {current.server} "
            "(use --force to enroll again with a new key)"
        )
    home.ensure()
    if force or not home.key_path.is_file():
        save_private_key(home.key_path, generate_private_key())
    answer = client.enroll(home.load_key(), token)
    identity = Identity(
        server=client.server,
        agent_id=str(answer["agent_id"]),
        customer=str(answer.get("customer", "")),
        enrolled_at=str(answer.get("server_time", "")),
    )
    home.save_identity(identity)
    return identity
