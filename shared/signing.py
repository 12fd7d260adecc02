"""Per-agent Ed25519 keys and the signed-request scheme between agent and ingest.

Why this shape (see notes/ingest-protocol.md): the signature covers the exact wire bytes through a
RFC 9530 ``Content-Digest`` plus the request context (method, path, timestamp, agent id, request
id) in one signature base, as RFC 9421 and AWS SigV4 do.  A captured request therefore cannot be
re-pointed at another path, replayed outside the clock window, or given another body.  The private
key never leaves the agent: it is written once with mode 0600 and only the public key travels.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SCHEME: Final = "scm-signature-v1"
HEADER_AGENT: Final = "X-SCM-Agent"
HEADER_TIMESTAMP: Final = "X-SCM-Timestamp"
HEADER_REQUEST_ID: Final = "X-SCM-Request-Id"
HEADER_SIGNATURE: Final = "X-SCM-Signature"
HEADER_DIGEST: Final = "Content-Digest"
#: A request whose timestamp is further than this from the server clock is refused (AWS: 5 min).
CLOCK_WINDOW_S: Final = 300

_DIGEST_RE: Final = re.compile(r"^sha-256=:([A-Za-z0-9+/=]{44}):$")
_TOKEN_RE: Final = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class SignatureError(Exception):
    """A signed request that must be refused; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh agent key."""
    return Ed25519PrivateKey.generate()


def save_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write the key readable by its owner only; the file is created with 0600, never widened."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    tmp.replace(path)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read the agent key written by ``save_private_key``."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("bad_key", f"{path} does not hold an Ed25519 key")
    return key


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The 32 raw public-key bytes in base64: what the agent registers at enrollment."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


@lru_cache(maxsize=20_000)
def load_public_key(text: str) -> Ed25519PublicKey:
    """Parse ``public_key_text`` output; refuses anything that is not 32 bytes of base64.
    Remembered: the ingest verifies every upload with its agent's key."""
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError, binascii.Error) as err:
        raise SignatureError("bad_key", "public key is not 32 bytes of base64") from err


def content_digest(body: bytes) -> str:
    """RFC 9530 ``Content-Digest`` value for the exact bytes on the wire."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def key_fingerprint(public_key: str) -> str:
    """Short, log-safe identifier of a public key (never log the key material itself)."""
    return hashlib.sha256(public_key.encode("ascii")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The signature headers of one request, parsed but not yet trusted."""

    agent_id: str
    timestamp: int
    request_id: str
    digest: str
    signature: bytes

    def base(self, method: str, path: str) -> bytes:
        """The signature base: every field the signature vouches for, one per line."""
        return "\n".join(
            (
                SCHEME,
                f"method: {method.upper()}",
                f"path: {path}",
                f"timestamp: {self.timestamp}",
                f"agent: {self.agent_id}",
                f"request-id: {self.request_id}",
                f"content-digest: {self.digest}",
            )
        ).encode("utf-8")


def sign_request(
    key: Ed25519PrivateKey,
    *,
    method: str,
    path: str,
    body: bytes,
    agent_id: str,
    request_id: str,
    timestamp: int,
) -> dict[str, str]:
    """The headers that make a request verifiable; ``request_id`` is the batch id for uploads."""
    unsigned = SignedRequest(agent_id, timestamp, request_id, content_digest(body), b"")
    signature = key.sign(unsigned.base(method, path))
    return {
        HEADER_AGENT: agent_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_REQUEST_ID: request_id,
        HEADER_DIGEST: unsigned.digest,
        HEADER_SIGNATURE: base64.b64encode(signature).decode("ascii"),
    }


def parse_signed_headers(headers: Mapping[str, str]) -> SignedRequest:
    """Read the signature headers; a missing or malformed one is a ``SignatureError``."""
    values = {}
    for name in (HEADER_AGENT, HEADER_TIMESTAMP, HEADER_REQUEST_ID, HEADER_DIGEST):
        value = headers.get(name)
        if not value:
            raise SignatureError("missing_header", f"missing {name} header")
        values[name] = value.strip()
    for name in (HEADER_AGENT, HEADER_REQUEST_ID):
        if not _TOKEN_RE.match(values[name]):
            raise SignatureError("bad_header", f"malformed {name} header")
    if not _DIGEST_RE.match(values[HEADER_DIGEST]):
        raise SignatureError("bad_header", f"{HEADER_DIGEST} must be sha-256=:<base64>:")
    try:
        timestamp = int(values[HEADER_TIMESTAMP])
        signature = base64.b64decode(headers.get(HEADER_SIGNATURE, ""), validate=True)
    except (ValueError, binascii.Error) as err:
        raise SignatureError("bad_header", "malformed timestamp or signature header") from err
    if len(signature) != 64:
        raise SignatureError("bad_signature", f"missing or malformed {HEADER_SIGNATURE} header")
    return SignedRequest(
        agent_id=values[HEADER_AGENT],
        timestamp=timestamp,
        request_id=values[HEADER_REQUEST_ID],
        digest=values[HEADER_DIGEST],
        signature=signature,
    )


def check_clock(request: SignedRequest, now: float, window: int = CLOCK_WINDOW_S) -> None:
    """Refuse a request signed too far from the server clock: the replay window."""
    if abs(request.timestamp - now) > window:
        raise SignatureError(
            "stale_timestamp",
            f"timestamp is {int(request.timestamp - now)} s off the server clock "
            f"(allowed ±{window} s)",
        )


def verify_request(
    request: SignedRequest, public_key: Ed25519PublicKey, *, method: str, path: str, body: bytes
) -> None:
    """Check the body against its digest, then the signature over the whole base."""
    if content_digest(body) != request.digest:
        raise SignatureError("digest_mismatch", "body does not match its Content-Digest")
    try:
        public_key.verify(request.signature, request.base(method, path))
    except InvalidSignature as err:
        raise SignatureError("bad_signature", "signature does not verify") from err
