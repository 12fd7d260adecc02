"""An agent whose computer clock is wrong stamps readings with the server's time, and says so.

``scm-agent push`` runs under faketime (30 days fast, 400 days slow) against a real ingest
server, and so does ``scm-agent run``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from support.processes import agent_toml, console_script, start_agent_run

from ingest.models import DeviceReading

pytestmark = [pytest.mark.e2e, pytest.mark.agent_side]
CASE = "bieniu-brother__hl-2270dw"
SLACK = timedelta(minutes=5)
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
NEEDS_FAKETIME = pytest.mark.skipif(
    not LIBFAKETIME.exists() and not os.environ.get("SCM_REQUIRE_FAKETIME"),
    reason="needs libfaketime (apt install faketime); CI installs it",
)


def faketime_env(offset: str) -> dict[str, str]:
    """Environment that makes a process see its clock ``offset`` away (threads included)."""
    return {
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME": offset,
        "FAKETIME_DONT_RESET": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }


def readings(url: str) -> list[DeviceReading]:
    engine = create_engine(url)
    try:
        with Session(engine) as db:
            return list(db.scalars(select(DeviceReading).order_by(DeviceReading.id)))
    finally:
        engine.dispose()


@NEEDS_FAKETIME
@pytest.mark.parametrize("skew", ["+30d", "-400d"])
def test_push_with_a_wrong_computer_clock_stamps_server_time(
    snmpsim, ingest_server, agent_home, skew
):
    done = subprocess.run(
        [console_script("scm-agent"), "push", "--target", f"{snmpsim.endpoint}/{CASE}"],
        env={**os.environ, "SCM_AGENT_HOME": str(agent_home), **faketime_env(skew)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (stored,) = readings(ingest_server.database_url)
    assert abs(stored.observed_at - datetime.now(UTC)) < SLACK, stored.observed_at
    assert stored.payload["clock"] == "server"


@NEEDS_FAKETIME
def test_the_service_stamps_with_the_server_clock(snmpsim, ingest_server, agent_home, tmp_path):
    config = agent_toml(tmp_path, snmpsim.endpoint, CASE)
    # libfaketime preloaded directly: the faketime wrapper would not pass SIGTERM on
    agent = start_agent_run(agent_home, config, faketime_env("+30d"))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not readings(ingest_server.database_url):
            time.sleep(0.3)
    finally:
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0
    (stored,) = readings(ingest_server.database_url)
    assert abs(stored.observed_at - datetime.now(UTC)) < SLACK
    assert stored.payload["clock"] == "server"
