"""Signed self-update of the one-file agent, end to end with two locally built versions.

``installers/build_linux.sh`` builds ``dist/scm-agent`` and a second build of the same sources
one version up (``SCM_FROZEN_AGENT_NEXT``).  The dealer signs the newer one with a release key
made here (its public half given to the agent as ``SCM_AGENT_RELEASE_PUBLIC_KEY``), publishes
it and rolls it out to the customer; the installed agent, run by a small supervisor standing in
for systemd's ``Restart=always``, downloads, verifies, swaps and restarts, and the new version
confirms itself with a heartbeat.  When the new version cannot get a heartbeat through in
time, the previous binary comes back and the failed version is not tried again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ingest.models import Agent

CURRENT = os.environ.get("SCM_FROZEN_AGENT")
NEXT = os.environ.get("SCM_FROZEN_AGENT_NEXT")
pytestmark = [
    pytest.mark.frozen,
    pytest.mark.e2e,
    pytest.mark.agent_side,
    pytest.mark.skipif(not (CURRENT and NEXT), reason="needs both builds (build_linux.sh)"),
]
ROOT = Path(__file__).parents[2]
CUSTOMER = "Ufficio Tecnico srl"
CASE = "librenms__sharp"
RESTART = 75


def version_of(binary: Path) -> str:
    return subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]


class Supervisor:
    """Runs ``binary run`` again whenever it exits asking for a restart (like systemd)."""

    def __init__(self, command: list[str], env: dict[str, str], on_restart: Callable[[], None]):
        self.command, self.env, self.on_restart = command, env, on_restart
        self.exits: list[int] = []
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stopping and len(self.exits) < 6:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            code = self.process.wait()
            self.exits.append(code)
            if code != RESTART:
                return
            self.on_restart()

    def stop(self) -> None:
        self.stopping = True
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.thread.join(timeout=60)


@pytest.fixture
def installed(ingest_server, snmpsim, tmp_path, monkeypatch):
    """The current build installed in tmp/opt, enrolled, a release key, and the next build
    signed with it and published."""
    key = tmp_path / "release.key"
    made = subprocess.run(
        [sys.executable, str(ROOT / "installers" / "release_sign.py"), "keygen", "--key", str(key)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    monkeypatch.setenv("SCM_AGENT_RELEASE_PUBLIC_KEY", made.stdout.split()[-1])
    binary = tmp_path / "opt" / "scm-agent"
    binary.parent.mkdir()
    shutil.copy2(CURRENT, binary)
    home = tmp_path / "home"
    env = {**os.environ, "SCM_AGENT_HOME": str(home)}
    token = ingest_server.cli("token", "create", "--customer", CUSTOMER).strip()
    subprocess.run(
        [str(binary), "enroll", "--server", ingest_server.url, "--token", token],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    config = tmp_path / "agent.toml"
    config.write_text(
        f'[network]\ntargets = ["{snmpsim.endpoint}"]\n[[credentials]]\nversion = "2c"\n'
        f'community = "{CASE}"\n[schedule]\nheartbeat_s = 30\n',
        encoding="utf-8",
    )
    release = tmp_path / "release" / "scm-agent"
    release.parent.mkdir()
    shutil.copy2(NEXT, release)
    version = version_of(release)
    subprocess.run(
        [sys.executable, str(ROOT / "installers" / "release_sign.py"), "sign", str(release),
         "--version", version, "--key", str(key)],
        check=True, capture_output=True,
    )  # fmt: skip
    ingest_server.cli("agent", "release", "add", str(release), "--version", version)
    return binary, home, env, [str(binary), "run", "--config", str(config)], version


def server_version(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with Session(engine) as db:
            return db.scalar(select(Agent.agent_version))
    finally:
        engine.dispose()


def wait_until(condition: Callable[[], bool], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def test_a_rolled_out_release_is_verified_swapped_and_confirmed(installed, ingest_server):
    binary, home, env, command, version = installed
    old = version_of(binary)
    ingest_server.cli("agent", "release", "rollout", version, "--customer", CUSTOMER)
    supervisor = Supervisor(command, env, on_restart=lambda: None)
    try:
        assert wait_until(lambda: server_version(ingest_server.database_url) == version)
        assert wait_until(lambda: not (home / "update.json").exists(), 30)
    finally:
        supervisor.stop()
    assert supervisor.exits[0] == RESTART, supervisor.exits
    assert version_of(binary) == version != old
    assert not binary.with_name("scm-agent.previous").exists(), "confirmed: backup removed"
    assert f"{version}  " in ingest_server.cli("agent", "release", "list")


def test_a_release_that_gets_no_heartbeat_through_is_rolled_back(installed, ingest_server):
    binary, home, env, command, version = installed
    old = version_of(binary)
    env = {**env, "SCM_AGENT_UPDATE_CONFIRM_S": "5"}
    ingest_server.cli("agent", "release", "rollout", version, "--everyone")
    stopped = threading.Event()

    def first_restart() -> None:  # the new version will find the server gone
        if not stopped.is_set():
            stopped.set()
            ingest_server.stop()

    supervisor = Supervisor(command, env, on_restart=first_restart)
    try:
        assert wait_until(lambda: len(supervisor.exits) >= 2, 180), supervisor.exits
        ingest_server.start()
        assert wait_until(lambda: server_version(ingest_server.database_url) == old)
    finally:
        supervisor.stop()
    assert supervisor.exits[:2] == [RESTART, RESTART], supervisor.exits
    assert version_of(binary) == old, "the previous binary is back"
    assert json.loads((home / "update-failed.json").read_text()) == [version]
    assert not (home / "update.json").exists()
