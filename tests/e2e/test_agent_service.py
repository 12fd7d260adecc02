"""Fault tests of the unattended agent over real processes on loopback.

Real parts throughout: snmpsim serving printer captures over UDP, ``scm-ingest serve`` on a
real database, the agent's real spool, client and jobs.  Long outages run on a simulated clock
(the service's jobs take their time from it), never on real waiting; the kill -9 tests run the
real ``scm-agent run`` process and kill it while a batch is in flight.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from support.agent_service import FakeClock, HoldingProxy, scripted_server
from support.processes import console_script, run_agent

from agent.backoff import Backoff
from agent.config import LocalSettings
from agent.discovery import ScanOptions, parse_ranges, scan
from agent.scheduler import build_scheduler
from agent.service import Service
from agent.state import AgentHome
from ingest.models import Agent, DeviceReading, UploadBatch
from ingest.models.agents import AgentStatus
from shared.agent_config import Credential, RemoteConfig

pytestmark = [pytest.mark.e2e, pytest.mark.agent_side]
CASE = "bieniu-brother__hl-2270dw"  # a small capture: 288 reads in the 72 h test
STEP_S = 300  # the simulated clock moves in 5-minute steps: the default upload interval
READS = 40  # ~17 KB of readings of CASE: over a 0.01 MB spool


def db_rows(url: str, query):
    engine = create_engine(url)
    try:
        with Session(engine) as db:
            return list(db.execute(query))
    finally:
        engine.dispose()


def stored_readings(url: str) -> list[tuple[str, object]]:
    return [
        tuple(row) for row in db_rows(url, select(DeviceReading.address, DeviceReading.observed_at))
    ]


def local_settings(snmpsim, **options) -> LocalSettings:
    network = RemoteConfig(targets=(snmpsim.endpoint,), credentials=(Credential(community=CASE),))
    return LocalSettings(network=network, snmp_timeout_s=0.5, **options)


def service(agent_home: Path, settings: LocalSettings, clock: FakeClock) -> Service:
    return Service(
        AgentHome(agent_home), settings, clock=clock, backoff=Backoff(rng=random.Random(4))
    )


def test_72_hours_of_outage_are_delivered_exactly_once(snmpsim, ingest_server, agent_home):
    clock = FakeClock()
    agent = service(agent_home, local_settings(snmpsim), clock)
    ingest_server.stop()
    for step in range(72 * 3600 // STEP_S):  # read every 15 minutes, upload every 5
        agent.read() if step % 3 == 0 else agent.upload()
        clock.advance(STEP_S)
    taken = 72 * 4
    backlog = agent.spool.backlog()
    assert (backlog.readings, backlog.dropped) == (taken, 0)
    attempts = next(agent.spool.pending_batches()).attempts
    assert 20 < attempts < 150, f"{attempts} tries in 72 h: backoff spaces them, never floods"

    ingest_server.start()
    for _ in range(40):  # at most the backoff cap (1 h) plus a few steps
        if agent.upload() and agent.spool.backlog().readings == 0:
            break
        clock.advance(STEP_S)
    agent.close()
    rows = stored_readings(ingest_server.database_url)
    assert len(rows) == taken, "every reading delivered"
    assert len(set(rows)) == taken, "none twice"
    assert all(address == snmpsim.endpoint for address, _ in rows)


@pytest.mark.parametrize("moment", ["before", "after"])
def test_kill_9_during_an_upload_loses_and_duplicates_nothing(
    snmpsim, ingest_server, agent_home, tmp_path, moment
):
    """Killed while the batch is in flight: ``before`` the server saw it, or ``after`` it
    committed but before the agent heard the answer.  A restart re-sends the same frozen bytes."""
    proxy = HoldingProxy(ingest_server.url)
    proxy.hold = moment
    config = write_config(tmp_path, snmpsim, server=proxy.url)
    try:
        first = start_agent(agent_home, config)
        assert proxy.held.wait(60), read_log(first)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        in_flight = proxy.parked[0]
        proxy.hold = None
        proxy.release.set()
        on_server = db_rows(ingest_server.database_url, select(UploadBatch.batch_uuid))
        assert [row[0] for row in on_server] == ([in_flight] if moment == "after" else [])

        second = start_agent(agent_home, config)
        wait_for(lambda: len(stored_readings(ingest_server.database_url)) >= 2, second)
        status = run_agent(agent_home, "status")
        assert status.returncode == 0, status.stdout
        assert "service:      running" in status.stdout
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, read_log(second)
    finally:
        proxy.close()
    rows = stored_readings(ingest_server.database_url)
    assert len(rows) == len(set(rows)) == 2, "the in-flight reading once, plus the new one"
    batches = [
        row[0] for row in db_rows(ingest_server.database_url, select(UploadBatch.batch_uuid))
    ]
    assert batches.count(in_flight) == 1
    stopped = run_agent(agent_home, "status", "--json")
    assert stopped.returncode == 3
    assert json.loads(stopped.stdout)["state"] == "stopped"
    assert json.loads(stopped.stdout)["backlog"]["readings"] == 0


def test_a_full_spool_drops_the_oldest_and_the_heartbeat_reports_it(
    snmpsim, ingest_server, agent_home
):
    clock = FakeClock()
    agent = service(agent_home, local_settings(snmpsim, spool_max_mb=0.01), clock)
    ingest_server.stop()
    observed = []
    for _ in range(READS):
        agent.read()
        observed.append(clock())
        clock.advance(900)
    backlog = agent.spool.backlog()
    assert backlog.dropped > 0
    assert backlog.readings + backlog.dropped == READS
    assert backlog.bytes <= 0.01 * 1024 * 1024

    ingest_server.start()
    assert agent.heartbeat()
    for _ in range(40):
        clock.advance(STEP_S)
        if agent.upload() and agent.spool.backlog().readings == 0:
            break
    agent.close()
    status = db_rows(ingest_server.database_url, select(AgentStatus.dropped_total))
    assert status == [(backlog.dropped,)]
    kept = sorted(when for _, when in stored_readings(ingest_server.database_url))
    # The cap counts cut batches too: the oldest readings went first (the first one, already
    # cut into a batch, with them), and the newest are all there.
    assert kept == observed[backlog.dropped :]
    assert f"dropped {backlog.dropped} readings" in ingest_server.output()


def test_remote_config_is_applied_without_restart_and_kept_for_when_the_server_is_down(
    snmpsim, ingest_server, agent_home
):
    clock = FakeClock()
    settings = LocalSettings(snmp_timeout_s=0.5)
    agent = service(agent_home, settings, clock)
    jobs = build_scheduler(agent)
    jobs.scheduler.start(paused=True)
    try:
        agent_id = AgentHome(agent_home).load_identity().agent_id
        remote = {
            "targets": [snmpsim.endpoint],
            "credentials": [{"version": "2c", "community": CASE}],
            "intervals": {"read_s": 120, "upload_s": 60, "upload_jitter_s": 0},
        }
        ingest_server.cli("agent", "config", "set", agent_id, stdin=json.dumps(remote))
        assert agent.read() == 0, "nothing to read before the configuration arrives"
        assert agent.heartbeat()
        assert agent.config.remote_version == 1
        assert len(stored_readings(ingest_server.database_url)) == 1, "new target read at once"
        jobs.housekeeping()  # what the service's main loop does every second
        assert jobs.scheduler.get_job("read").trigger.interval.total_seconds() == 120
        assert jobs.scheduler.get_job("upload").trigger.interval.total_seconds() == 60
        assert agent.read() == 1, "the dealer's printer is read at once"
    finally:
        jobs.scheduler.shutdown(wait=False)
        agent.close()
    stored = agent_home / "remote-config.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert CASE not in (agent_home / "status.json").read_text()

    ingest_server.stop()
    restarted = service(agent_home, settings, clock)
    try:
        assert restarted.config.remote_version == 1
        assert restarted.read() == 1, "the stored configuration works with the server down"
    finally:
        restarted.close()
    assert db_rows(ingest_server.database_url, select(func.count()).select_from(Agent)) == [(1,)]


# -- helpers for the real ``scm-agent run`` process --------------------------------------------


def write_config(directory: Path, snmpsim, *, server: str) -> Path:
    path = directory / "agent.toml"
    path.write_text(
        f"""
[server]
url = "{server}"
[snmp]
timeout_s = 0.5
[network]
targets = ["{snmpsim.endpoint}"]
[[credentials]]
version = "2c"
community = "{CASE}"
""",
        encoding="utf-8",
    )
    return path


def start_agent(home: Path, config: Path) -> subprocess.Popen[bytes]:
    log = (home.parent / "agent-run.log").open("ab")
    try:
        return subprocess.Popen(
            [console_script("scm-agent"), "run", "--config", str(config)],
            env={**os.environ, "SCM_AGENT_HOME": str(home)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


def read_log(process: subprocess.Popen[bytes]) -> str:
    path = Path(process.args[-1]).parent / "agent-run.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def wait_for(condition, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"condition not met in {timeout} s:\n{read_log(process)}")


def test_discovery_finds_the_printer_and_reads_remember_the_credential(
    snmpsim, ingest_server, agent_home
):
    """The discovery job runs the real sweep engine (on snmpsim's port) and fills the inventory;
    the read job then asks each device with the credential it answered, first."""

    def sweep_snmpsim_port(config):
        options = ScanOptions(
            ranges=parse_ranges(config.ranges),
            credentials=config.credentials,
            port=snmpsim.port,
            timeout=0.5,
            retries=0,
            mdns=False,
        )
        return [(device.address, device.extra) for device in asyncio.run(scan(options)).devices]

    wrong, right = Credential(community="nobody-uses-this"), Credential(community=CASE)
    settings = LocalSettings(
        network=RemoteConfig(ranges=("127.0.0.1",), credentials=(wrong, right)),
        snmp_timeout_s=0.5,
        snmp_retries=0,
    )
    agent = Service(
        AgentHome(agent_home), settings, clock=FakeClock(), discoverer=sweep_snmpsim_port
    )
    try:
        assert agent.discover() == 1
        assert agent.inventory.credential_of(snmpsim.endpoint) == right.fingerprint
        started = time.monotonic()
        assert agent.read() == 1
        assert time.monotonic() - started < 0.5, "no timeout spent on the wrong community"
    finally:
        agent.close()
    devices = json.loads((agent_home / "devices.json").read_text())
    assert devices[0]["address"] == snmpsim.endpoint
    assert CASE not in json.dumps(devices), "the inventory keeps fingerprints, never secrets"
    assert [
        row[0] for row in db_rows(ingest_server.database_url, select(DeviceReading.address))
    ] == [snmpsim.endpoint]


def test_a_remote_config_the_agent_refuses_is_logged_and_the_current_one_kept(
    snmpsim, agent_home, caplog
):
    """A configuration this agent cannot use (from a newer or a broken server): refused,
    logged, and the agent goes on with what it had.  Every answer's X-Request-Id is logged."""
    clock = FakeClock()
    with scripted_server(clock) as server:
        server.script = [(200, {"X-Request-Id": "req-beat-1"})]
        server.payloads = {
            "/api/v1/agents/heartbeat": {"config_version": 7},
            "/api/v1/agents/config": {"version": 7, "config": {"targets": ["192.0.2.9:99999"]}},
        }
        agent = service(agent_home, local_settings(snmpsim, server_url=server.url), clock)
        try:
            with caplog.at_level(logging.INFO):
                assert agent.heartbeat()
            assert "remote configuration refused" in caplog.text and "65535" in caplog.text
            assert "request id req-beat-1" in caplog.text
            assert agent.config.remote_version == 0
            assert "config refused" in agent.last_error
            assert agent.read() == 1, "the local targets are still read"
        finally:
            agent.close()
