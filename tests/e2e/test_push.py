"""snmpsim -> ``scm-agent push`` -> ``scm-ingest serve`` -> rows in the database, over real UDP
and HTTP on loopback; and the spool's promise when the server is away."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from support.processes import console_script, run_agent

from agent.ingest_client import IngestClient
from agent.spool import Spool
from agent.state import AgentHome
from agent.uploader import flush
from ingest.models import Agent, Device, DeviceReading, SupplyLevel, UploadBatch

FIXTURES = Path(__file__).parents[1] / "fixtures" / "printers"
CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))
pytestmark = pytest.mark.e2e


def counts(url: str) -> tuple[int, int, int]:
    engine = create_engine(url)
    with Session(engine) as db:
        result = tuple(
            db.scalar(select(func.count()).select_from(m))
            for m in (UploadBatch, Device, DeviceReading)
        )
    engine.dispose()
    return result


def targets(snmpsim, cases) -> list[str]:
    return [arg for case in cases for arg in ("--target", f"{snmpsim.endpoint}/{case}")]


def test_enroll_keeps_the_private_key_private(agent_home):
    key = agent_home / "agent.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    identity = json.loads((agent_home / "identity.json").read_text())
    assert identity["agent_id"].startswith("agt_")
    assert "PRIVATE" not in (agent_home / "identity.json").read_text()


def test_push_of_the_whole_fleet_lands_in_the_database(snmpsim, ingest_server, agent_home):
    result = run_agent(agent_home, "push", *targets(snmpsim, CASES))
    assert result.returncode == 0, result.stderr
    assert f"read {len(CASES)}/{len(CASES)} devices" in result.stdout
    batches, devices, readings = counts(ingest_server.database_url)
    assert readings == len(CASES)
    assert batches >= 1
    engine = create_engine(ingest_server.database_url)
    with Session(engine) as db:
        for case in CASES:
            expected = json.loads((FIXTURES / f"{case}.expected.json").read_text())
            serial = expected.get("serial")
            if not serial:
                continue
            device = db.scalar(select(Device).where(Device.serial == serial))
            assert device is not None, case
            latest = db.scalar(select(DeviceReading).where(DeviceReading.device_id == device.id))
            assert latest.address == f"{snmpsim.endpoint}"
            assert latest.payload["device"]["serial"] == serial
        assert db.scalar(select(func.count()).select_from(SupplyLevel)) > len(CASES)
        assert db.scalar(select(Agent)).last_seq == batches
    engine.dispose()
    assert devices <= len(CASES)


def test_ingest_down_keeps_readings_then_delivers_them_exactly_once(
    snmpsim, ingest_server, agent_home
):
    some = CASES[:3]
    ingest_server.stop()
    down = run_agent(agent_home, "push", *targets(snmpsim, some))
    assert down.returncode == 3, down.stderr
    assert "3 readings waiting in the spool" in down.stdout
    assert counts(ingest_server.database_url) == (0, 0, 0)
    down_again = run_agent(agent_home, "push", *targets(snmpsim, some[:1]))
    assert down_again.returncode == 3
    assert "4 readings waiting" in down_again.stdout

    ingest_server.start()
    back = run_agent(agent_home, "push")
    assert back.returncode == 0, back.stderr
    assert "uploaded 4 readings" in back.stdout
    assert "0 readings waiting" in back.stdout
    assert counts(ingest_server.database_url)[2] == 4
    nothing_left = run_agent(agent_home, "push")
    assert "uploaded 0 readings" in nothing_left.stdout
    assert counts(ingest_server.database_url)[2] == 4


def test_lost_acknowledgement_resends_the_same_batch_as_a_duplicate(
    snmpsim, ingest_server, agent_home
):
    """The server stored the batch but the agent died before it recorded the answer."""
    run_agent(agent_home, "push", *targets(snmpsim, CASES[:1]))  # proves the setup works
    home = AgentHome(agent_home)
    identity = home.load_identity()
    key = home.load_key()
    client = IngestClient(identity.server)
    from shared.reading import Reading

    with Spool(home.spool_path) as spool:
        reading = json.loads(
            run_agent(
                agent_home, "read", snmpsim.endpoint, "--community", CASES[1], "--json"
            ).stdout
        )
        spool.add([Reading.from_dict(reading)])
        pending = spool.next_batch(identity.agent_id)
        first = client.post_batch(key, identity.agent_id, pending.batch_id, pending.body)
        assert first.verdict == "accepted"
        assert first.body["duplicate"] is False
        # ...crash: acknowledge() never ran; the next flush sends the same bytes again.
        report = flush(spool, client, key, identity.agent_id)
        assert report.sent_batches == 1
        assert report.duplicates == 1
        assert spool.backlog().readings == 0
    client.close()
    assert counts(ingest_server.database_url)[2] == 2


def test_unreadable_target_is_reported_and_the_rest_still_uploads(
    snmpsim, ingest_server, agent_home
):
    dead = "127.0.0.1:9/public"
    result = run_agent(
        agent_home,
        "push",
        "--timeout",
        "0.3",
        "--retries",
        "0",
        "--target",
        dead,
        *targets(snmpsim, CASES[:1]),
    )
    assert result.returncode == 4
    assert "127.0.0.1:9" in result.stderr
    assert counts(ingest_server.database_url)[2] == 1


def test_push_before_enrollment_is_a_clear_error(tmp_path):
    result = run_agent(tmp_path / "nobody", "push", "--target", "127.0.0.1:9/public")
    assert result.returncode == 1
    assert "not enrolled" in result.stderr
    assert "Traceback" not in result.stderr


def test_push_obeys_the_spool_cap_of_agent_toml(snmpsim, ingest_server, agent_home, tmp_path):
    config = tmp_path / "agent.toml"
    config.write_text("[spool]\nmax_mb = 0.01\n", encoding="utf-8")
    ingest_server.stop()
    many = targets(snmpsim, ["librenms__sharp"] * 40)
    done = subprocess.run(
        [console_script("scm-agent"), "push", *many],
        env={**os.environ, "SCM_AGENT_HOME": str(agent_home), "SCM_AGENT_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    with Spool(AgentHome(agent_home).spool_path) as spool:
        backlog = spool.backlog()
        assert spool.stored_bytes() <= 0.01 * 1024 * 1024
    # Every reading taken is spooled or counted as dropped (on a loaded machine a simulated
    # printer may not answer in time: it is then not read, which is not the cap's doing).
    read = re.search(r"read (\d+)/40 devices", done.stdout)
    assert read, done.stdout
    assert backlog.dropped > 0 and backlog.readings + backlog.dropped == int(read.group(1))
