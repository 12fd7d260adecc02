"""SIGTERM at random moments under CPU load: every stop within 5 s, no reading lost or doubled.

A bounded number of rounds here (``SCM_SIGTERM_ROUNDS``, default 6); the 1,000-stop soak
is ``bench/agent_sigterm_soak.py``.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from support.processes import agent_toml
from support.sigterm_soak import cpu_load, deliver_rest, soak

from ingest.models import DeviceReading

pytestmark = [pytest.mark.e2e, pytest.mark.agent_side]
CASE = "bieniu-brother__hl-2270dw"


def test_sigterm_at_random_moments_stops_quickly_and_loses_nothing(
    snmpsim, ingest_server, agent_home, tmp_path
):
    config = agent_toml(tmp_path, snmpsim.endpoint, CASE, "[snmp]\ntimeout_s = 0.5\n")
    rounds = int(os.environ.get("SCM_SIGTERM_ROUNDS", "6"))
    with cpu_load():
        result = soak(agent_home, config, rounds)
    assert not result.slow, result.slow[0]
    assert not result.bad_exits, result.bad_exits[0]
    assert result.spooled > 0, "some rounds got as far as a read"
    deliver_rest(agent_home)
    engine = create_engine(ingest_server.database_url)
    with Session(engine) as db:
        stored = db.scalar(select(func.count()).select_from(DeviceReading))
    engine.dispose()
    assert stored == result.spooled, result.summary()
