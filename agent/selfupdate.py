"""Signed self-update of the one-file agent, with rollback.

The dealer's rollout puts a release in the agent's remote configuration.  The agent then:

1. downloads it (a signed request; only a release offered to it is served) into its home;
2. checks size, SHA-256 and the Ed25519 signature against the release key built into the
   agent (``shared.agent_release``), so a compromised server cannot make it run anything;
3. stages it beside the running binary and runs ``--version`` on it (a build that cannot even
   start on this machine is never swapped in);
4. keeps the running binary as ``<name>.previous`` and swaps the new one in with one atomic
   rename, notes the update in ``update.json`` and exits with :data:`EXIT_RESTART`: the service
   manager (systemd ``Restart=always``, the Windows service recovery) starts the new binary;
5. the new version confirms itself with its first accepted heartbeat (``update.json`` and the
   previous binary go); if none comes within :data:`CONFIRM_S`, or it keeps failing to start,
   the previous binary is put back, the version is remembered as failed (never offered again
   to this agent's installer) and the agent restarts into the old version.

Only a frozen Linux build updates itself: an agent installed from source (pip) is the package
manager's to update, and the Windows service's update path is not built yet.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from agent import __version__
from shared.agent_release import (
    Release,
    ReleaseError,
    file_digest,
    verify_release,
    version_key,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from agent.ingest_client import IngestClient

#: The exit status asking the service manager for a restart (EX_TEMPFAIL).
EXIT_RESTART: Final = 75
#: How long a new version has to get a heartbeat through before it is rolled back.
CONFIRM_S: Final = float(os.environ.get("SCM_AGENT_UPDATE_CONFIRM_S", "600"))
MAX_STARTS: Final = 3
PENDING_FILE: Final = "update.json"
FAILED_FILE: Final = "update-failed.json"
SMOKE_TIMEOUT_S: Final = 60.0

log = logging.getLogger(__name__)


def running_binary() -> Path | None:
    """The file to replace: the staticx or PyInstaller one-file binary; None from source, and
    on Windows, where a running .exe cannot be renamed over (not built yet there)."""
    if not getattr(sys, "frozen", False) or sys.platform == "win32":
        return None
    return Path(os.environ.get("STATICX_PROG_PATH") or sys.executable).resolve()


class Updater:
    """The update state kept in the agent's home."""

    def __init__(self, home: Path, binary: Path | None = None) -> None:
        self.home = home
        self.binary = binary if binary is not None else running_binary()
        self.pending_path = home / PENDING_FILE
        self.failed_path = home / FAILED_FILE
        self.restart_requested = False

    @property
    def previous(self) -> Path | None:
        """Where the binary in use before an update is kept until the new one is confirmed."""
        return (
            None if self.binary is None else self.binary.with_name(self.binary.name + ".previous")
        )

    # -- the old version: take an offer ---------------------------------------------------------

    def wants(self, release: Release | None) -> bool:
        """True for a newer release this agent can install and has not seen fail."""
        if release is None or self.binary is None or self.pending_path.exists():
            return False
        if version_key(release.version) <= version_key(__version__):
            return False
        return release.version not in self._failed()

    def install(
        self, release: Release, client: IngestClient, key: Ed25519PrivateKey, agent_id: str
    ) -> bool:
        """Download, verify, stage, smoke-test and swap in ``release``; True when swapped."""
        assert self.binary is not None and self.previous is not None
        from agent.ingest_client import IngestError

        download = self.home / f"scm-agent-{release.version}.download"
        try:
            client.fetch_release(key, agent_id, release.version, download, release.size)
            _check_file(download, release)
            staged = self.binary.with_name(f".{self.binary.name}.new")
            shutil.copyfile(download, staged)
            staged.chmod(0o755)
            _smoke_test(staged, release.version)
        except (OSError, ReleaseError, IngestError, subprocess.SubprocessError) as err:
            log.error("release %s not installed: %s", release.version, err)
            self._remember_failure(release.version)
            return False
        finally:
            download.unlink(missing_ok=True)
        shutil.copy2(self.binary, self.previous)
        deadline = time.time() + CONFIRM_S
        self._write_pending({"from": __version__, "to": release.version, "deadline": deadline})
        staged.replace(self.binary)  # one atomic rename: the old binary or the new, never half
        log.warning("release %s installed over %s: restarting", release.version, __version__)
        self.restart_requested = True
        return True

    # -- the new version: confirm or roll back ----------------------------------------------

    def on_start(self) -> None:
        """At service start: count the new version's starts; too many without a confirmation
        (it crashes before its first heartbeat) roll it back."""
        pending = self._pending()
        if pending is None:
            return
        if pending.get("to") != __version__:  # the old version runs again: nothing to confirm
            self.pending_path.unlink(missing_ok=True)
            return
        pending["starts"] = int(pending.get("starts", 0)) + 1
        self._write_pending(pending)
        if pending["starts"] > MAX_STARTS:
            self.roll_back(f"started {pending['starts']} times without a heartbeat")

    def confirmed(self) -> None:
        """A heartbeat got through: the new version stays."""
        pending = self._pending()
        if pending is None or pending.get("to") != __version__:
            return
        self.pending_path.unlink(missing_ok=True)
        if self.previous is not None:
            self.previous.unlink(missing_ok=True)
        log.info("release %s confirmed by a heartbeat", __version__)

    def overdue(self, now: float) -> bool:
        """True when the new version is still unconfirmed past its deadline."""
        pending = self._pending()
        return (
            pending is not None
            and pending.get("to") == __version__
            and now > float(pending.get("deadline", 0))
        )

    def roll_back(self, reason: str) -> None:
        """Put the previous binary back, remember this version as failed, ask for a restart."""
        log.error("release %s rolled back: %s", __version__, reason)
        self._remember_failure(__version__)
        if self.binary is not None and self.previous is not None and self.previous.exists():
            self.previous.replace(self.binary)
        self.pending_path.unlink(missing_ok=True)
        self.restart_requested = True

    # -- state files --------------------------------------------------------------------------

    def _pending(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.pending_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write_pending(self, data: dict[str, Any]) -> None:
        tmp = self.pending_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data) + "\n", encoding="utf-8")
        tmp.replace(self.pending_path)

    def _failed(self) -> set[str]:
        try:
            data = json.loads(self.failed_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return set()
        return {str(v) for v in data} if isinstance(data, list) else set()

    def _remember_failure(self, version: str) -> None:
        failed = sorted(self._failed() | {version})
        self.failed_path.write_text(json.dumps(failed) + "\n", encoding="utf-8")


def _check_file(path: Path, release: Release) -> None:
    """Size, digest and signature, or ReleaseError."""
    if file_digest(path) != (release.sha256, release.size):
        raise ReleaseError(f"release {release.version}: the download is not the signed file")
    verify_release(release)


def _smoke_test(binary: Path, version: str) -> None:
    """The staged binary must start here and say it is ``version``."""
    env = dict(os.environ)  # the library path PyInstaller set for us is not the new build's
    if "LD_LIBRARY_PATH_ORIG" in env:
        env["LD_LIBRARY_PATH"] = env["LD_LIBRARY_PATH_ORIG"]
    else:
        env.pop("LD_LIBRARY_PATH", None)
    done = subprocess.run(
        [str(binary), "--version"],
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_S,
        env=env,
        check=False,
    )
    if done.returncode != 0 or done.stdout.strip() != f"scm-agent {version}":
        raise ReleaseError(f"release {version} does not start here: {done.stdout!r}")
