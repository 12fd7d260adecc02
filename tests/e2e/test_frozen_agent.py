"""The one-file ``scm-agent`` (``installers/build_linux.sh`` builds it and runs these with
``SCM_FROZEN_AGENT`` set; without it they are skipped): it starts fast, reads printers exactly
like the Python agent, runs as a service against a real ingest server, passes SIGTERM through
its launchers (staticx, then PyInstaller's bootloader) and never outlives a killed launcher."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from support.processes import console_script, process_tree

from agent import __version__
from ingest.models import DeviceReading

FROZEN = os.environ.get("SCM_FROZEN_AGENT")
pytestmark = [
    pytest.mark.frozen,
    pytest.mark.e2e,
    pytest.mark.agent_side,
    pytest.mark.skipif(not FROZEN, reason="SCM_FROZEN_AGENT not set (installers/build_linux.sh)"),
]
CASES = ["librenms__sharp", "bieniu-brother__dcp-l3550cdw", "librenms__jetdirect"]
CUSTOMER = "Ufficio Tecnico srl"


def frozen(*args: str, home: Path | None = None, timeout: float = 60):
    env = {**os.environ, **({"SCM_AGENT_HOME": str(home)} if home else {})}
    return subprocess.run(
        [FROZEN, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def test_version_starts_within_a_second():
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        result = frozen("--version")
        timings.append(time.perf_counter() - start)
        assert result.stdout == f"scm-agent {__version__}\n"
    assert min(timings) <= 1.0, timings


@pytest.mark.parametrize("case", CASES)
def test_frozen_read_matches_the_python_agent(snmpsim, case):
    args = ("read", snmpsim.endpoint, "--community", case, "--json")
    built = frozen(*args)
    assert built.returncode == 0, built.stderr
    source = subprocess.run(
        [console_script("scm-agent"), *args], capture_output=True, text=True, check=True
    )
    ours, theirs = json.loads(built.stdout), json.loads(source.stdout)
    ours.pop("observed_at")
    theirs.pop("observed_at")
    assert ours == theirs


@pytest.fixture
def frozen_service(snmpsim, ingest_server, tmp_path):
    """An enrolled frozen agent's home and a ``run`` command line for it."""
    home = tmp_path / "frozen-agent"
    token = ingest_server.cli("token", "create", "--customer", CUSTOMER).strip()
    enrolled = frozen("enroll", "--server", ingest_server.url, "--token", token, home=home)
    assert enrolled.returncode == 0, enrolled.stderr
    config = tmp_path / "agent.toml"
    config.write_text(
        f'[network]\ntargets = ["{snmpsim.endpoint}"]\n'
        f'[[credentials]]\nversion = "2c"\ncommunity = "{CASES[0]}"\n',
        encoding="utf-8",
    )
    return home, [FROZEN, "run", "--config", str(config)]


def start(home: Path, command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        env={**os.environ, "SCM_AGENT_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_frozen_agent_enrolls_runs_uploads_and_stops_cleanly(frozen_service, ingest_server):
    home, command = frozen_service
    process = start(home, command)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and stored(ingest_server.database_url) < 1:
            time.sleep(0.3)
        assert stored(ingest_server.database_url) == 1
        assert "service:      running" in frozen("status", home=home).stdout
        assert len(process_tree(process.pid)) >= 2, "launcher(s) and the Python process"
    finally:
        process.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        output = process.communicate(timeout=60)[0].decode(errors="replace")
    assert time.monotonic() - asked < 5.0
    assert process.returncode == 0, output
    assert "scm-agent service stopped" in output


def test_kill_9_of_the_launcher_takes_the_agent_down(frozen_service):
    home, command = frozen_service
    process = start(home, command)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (home / "status.json").exists():
        time.sleep(0.2)
    family = process_tree(process.pid)
    assert len(family) >= 2
    process.kill()
    process.wait(timeout=10)
    process.stdout.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in family[1:]):
        time.sleep(0.1)
    assert not any(alive(pid) for pid in family[1:]), "no orphan keeps the spool open"
    status = json.loads((home / "status.json").read_text())
    assert status["state"] == "stopped"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stored(url: str) -> int:
    engine = create_engine(url)
    with Session(engine) as db:
        count = db.scalar(select(func.count()).select_from(DeviceReading))
    engine.dispose()
    return int(count or 0)
