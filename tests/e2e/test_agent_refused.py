"""A revoked agent keeps its backlog, says so, and resumes on its own when re-enabled.

Real parts: snmpsim over UDP, ``scm-ingest serve`` on a real database, the staff CLI, the
agent's real spool and HTTP client; the agent's jobs run on a simulated clock.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from support.agent_service import FakeClock
from support.processes import run_agent

from agent.backoff import Backoff
from agent.config import LocalSettings
from agent.service import Service
from agent.spool import Spool
from agent.state import AgentHome
from ingest.models import DeviceReading
from shared.agent_config import Credential, RemoteConfig
from shared.reading import Counters, Device, Reading, utc_now

pytestmark = [pytest.mark.e2e, pytest.mark.agent_side]
CASE = "bieniu-brother__hl-2270dw"


def stored(url: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with Session(engine) as db:
            return list(db.execute(select(DeviceReading.address, DeviceReading.observed_at)))
    finally:
        engine.dispose()


def test_a_disabled_agent_keeps_everything_and_resumes_when_enabled(
    snmpsim, ingest_server, agent_home
):
    clock = FakeClock()
    settings = LocalSettings(
        network=RemoteConfig(
            targets=(snmpsim.endpoint,), credentials=(Credential(community=CASE),)
        ),
        snmp_timeout_s=0.5,
    )
    agent = Service(
        AgentHome(agent_home), settings, clock=clock, backoff=Backoff(rng=random.Random(1))
    )
    assert agent.heartbeat() and agent.read() == 1
    assert len(stored(ingest_server.database_url)) == 1

    ingest_server.cli("agent", "disable", agent.agent_id)
    for _ in range(6):  # 1.5 h of reads every 15 minutes while refused
        clock.advance(900)
        agent.read()
        agent.heartbeat()
    backlog = agent.spool.backlog()
    assert (backlog.readings, backlog.dead_letters) == (6, 0), "nothing discarded"
    assert agent.refused is not None and "unknown_agent" in agent.refused["reason"]
    assert agent.uploader.backoff.not_before - clock() > timedelta(minutes=30)
    status = run_agent(agent_home, "status")
    assert "REFUSED" in status.stdout and "every reading is kept" in status.stdout
    listing = ingest_server.cli("agent", "list")
    assert f"{agent.agent_id}" in listing and "REFUSED unknown_agent" in listing

    ingest_server.cli("agent", "enable", agent.agent_id)
    clock.advance(900)
    assert agent.heartbeat(), "the next heartbeat gets through"
    assert agent.spool.backlog().readings == 0, "and the backlog goes at once"
    assert agent.refused is None
    agent.close()
    rows = stored(ingest_server.database_url)
    assert len(rows) == len(set(rows)) == 7
    assert "REFUSED" not in ingest_server.cli("agent", "list")
    assert json.loads(run_agent(agent_home, "status", "--json").stdout)["refused"] is None


def test_spool_requeue_brings_back_batches_an_older_agent_dead_lettered(
    snmpsim, ingest_server, agent_home
):
    pushed = run_agent(agent_home, "push", "--target", f"{snmpsim.endpoint}/{CASE}")
    assert pushed.returncode == 0, pushed.stderr
    with Spool(AgentHome(agent_home).spool_path) as spool:  # what an older agent did on a 401
        spool.add(
            [
                Reading(
                    address="192.0.2.7:161",
                    observed_at=utc_now(),
                    device=Device(),
                    counters=Counters(),
                    supplies=(),
                    alerts=(),
                )
            ]
        )
        cut = spool.next_batch(json.loads((agent_home / "identity.json").read_text())["agent_id"])
        spool.reject(cut.batch_id, 401, "HTTP 401 unknown_agent")
    requeued = run_agent(agent_home, "spool", "requeue")
    assert requeued.returncode == 0 and "requeued 1 batches" in requeued.stdout
    again = run_agent(agent_home, "push")
    assert again.returncode == 0, again.stderr
    assert len(stored(ingest_server.database_url)) == 2
