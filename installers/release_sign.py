"""Sign an agent build for release, on the dealer's build machine (never on the ingest host).

    python installers/release_sign.py keygen --key /secure/release.key   # once: prints the key
    python installers/release_sign.py sign dist/scm-agent --version 1.2.0 --key /secure/release.key

``sign`` writes ``dist/scm-agent.release.json`` (version, SHA-256, size, Ed25519 signature), which
``scm-ingest agent release add dist/scm-agent --version 1.2.0`` takes with the file.  The public
key goes into ``shared/agent_release.py`` (``RELEASE_PUBLIC_KEY``) of the builds agents run.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.agent_release import (  # noqa: E402
    Release,
    file_digest,
    parse_release,
    release_message,
    verify_release,
)
from shared.signing import (  # noqa: E402
    generate_private_key,
    load_private_key,
    public_key_text,
    save_private_key,
)


def sign(binary: Path, version: str, key_path: Path) -> Path:
    """Write and return ``BINARY.release.json`` for ``version``."""
    sha256, size = file_digest(binary)
    key = load_private_key(key_path)
    signature = base64.b64encode(key.sign(release_message(version, sha256, size)))
    release = parse_release(Release(version, sha256, size, signature.decode("ascii")).to_dict())
    verify_release(release, public_key_text(key))
    manifest = binary.with_name(binary.name + ".release.json")
    manifest.write_text(json.dumps(release.to_dict(), indent=2) + "\n", encoding="utf-8")
    return manifest


def main() -> int:
    """``keygen`` or ``sign``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="make the release key (0600)")
    keygen.add_argument("--key", type=Path, required=True)
    signer = commands.add_parser("sign", help="sign a build")
    signer.add_argument("binary", type=Path)
    signer.add_argument("--version", required=True)
    signer.add_argument("--key", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "keygen":
        if args.key.exists():
            parser.error(f"{args.key} exists: a release key is made once")
        key = generate_private_key()
        save_private_key(args.key, key)
        print(f"release public key: {public_key_text(key)}")
        return 0
    print(f"wrote {sign(args.binary, args.version, args.key)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
