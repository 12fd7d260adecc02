"""A signed agent release: what the dealer publishes and what every agent checks before running it.

The dealer signs a build on a machine that is not the ingest host (``installers/release_sign.py``
keeps the Ed25519 release key there); the ingest stores the binary with its manifest and offers
it to agents through their remote configuration; the agent downloads it, and runs it only if the
size, the SHA-256 and the signature over ``version + digest + size`` all match the public key
built into the agent.  A compromised ingest can therefore withhold a release but never make an
agent run code the dealer did not sign.

``RELEASE_PUBLIC_KEY`` is the dealer's key; ``SCM_AGENT_RELEASE_PUBLIC_KEY`` replaces it for
test rigs and private builds (whoever sets a service's environment already controls the host).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

RELEASE_PUBLIC_KEY: Final = "em5YOu1WbSu2zwN+x/UsIhKiga83iny/WntrDTAAuF4="
ENV_PUBLIC_KEY: Final = "SCM_AGENT_RELEASE_PUBLIC_KEY"
MAX_RELEASE_BYTES: Final = 200 * 1024 * 1024
_VERSION: Final = re.compile(r"^\d{1,4}(\.\d{1,4}){1,3}$")
_SHA256: Final = re.compile(r"^[0-9a-f]{64}$")


class ReleaseError(ValueError):
    """A release manifest or file that must not be installed; the message says why."""


@dataclass(frozen=True, slots=True)
class Release:
    """One release's manifest: the version and what its file must be."""

    version: str
    sha256: str
    size: int
    signature: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the manifest file and the configuration's ``release`` entry)."""
        return {
            "version": self.version,
            "sha256": self.sha256,
            "size": self.size,
            "signature": self.signature,
        }


def release_message(version: str, sha256: str, size: int) -> bytes:
    """The exact bytes the release key signs."""
    return f"scm-agent-release\n{version}\n{sha256}\n{size}\n".encode("ascii")


def version_key(version: str) -> tuple[int, ...]:
    """``"1.2.10"`` as ``(1, 2, 10)``, so versions compare as numbers."""
    return tuple(int(part) for part in version.split("."))


def parse_release(data: Any, where: str = "release") -> Release:
    """Check an untrusted manifest (JSON from a file, the server or the configuration)."""
    if not isinstance(data, dict) or set(data) != {"version", "sha256", "size", "signature"}:
        raise ReleaseError(f"{where}: expected version, sha256, size and signature")
    version, sha256, size, signature = (
        data["version"],
        data["sha256"],
        data["size"],
        data["signature"],
    )
    if not isinstance(version, str) or not _VERSION.match(version):
        raise ReleaseError(f"{where}.version: numbers and dots, like 1.2.3")
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise ReleaseError(f"{where}.sha256: 64 lower-case hex digits")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_RELEASE_BYTES:
        raise ReleaseError(f"{where}.size: a positive number of bytes, at most 200 MB")
    if not isinstance(signature, str) or len(signature) > 100:
        raise ReleaseError(f"{where}.signature: base64 text")
    return Release(version, sha256, size, signature)


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in pieces (a build is tens of MB)."""
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def release_public_key() -> str:
    """The key releases must be signed with (the built-in one unless the environment says)."""
    return os.environ.get(ENV_PUBLIC_KEY) or RELEASE_PUBLIC_KEY


def verify_release(release: Release, public_key: str | None = None) -> None:
    """Raise :class:`ReleaseError` unless the release key signed this manifest."""
    from cryptography.exceptions import InvalidSignature  # not for reading a configuration

    from shared.signing import SignatureError, load_public_key

    try:
        key = load_public_key(public_key or release_public_key())
        key.verify(
            base64.b64decode(release.signature, validate=True),
            release_message(release.version, release.sha256, release.size),
        )
    except (SignatureError, ValueError, binascii.Error, InvalidSignature) as err:
        raise ReleaseError(f"release {release.version}: signature does not verify") from err
