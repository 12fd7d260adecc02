"""The scheduler layer and the status command, on a real agent home (no server needed)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from support.agent_service import FakeClock

from agent.cli import main
from agent.config import LocalSettings
from agent.scheduler import RETRY_JOB, build_scheduler, run_until_stopped
from agent.service import Service
from agent.state import AgentHome, Identity
from agent.winservice import HAVE_PYWIN32, control
from shared.agent_config import Intervals, RemoteConfig
from shared.signing import generate_private_key, save_private_key


@pytest.fixture
def home(tmp_path, monkeypatch):
    agent_home = AgentHome(tmp_path / "agent")
    agent_home.ensure()
    save_private_key(agent_home.key_path, generate_private_key())
    agent_home.save_identity(
        Identity(server="http://127.0.0.1:9", agent_id="agt_jobs", customer="C", enrolled_at="")
    )
    monkeypatch.setenv("SCM_AGENT_HOME", str(agent_home.path))
    return agent_home


@pytest.fixture
def service(home):
    agent = Service(home, LocalSettings(), clock=FakeClock())
    yield agent
    agent.close()


@pytest.fixture
def jobs(service):
    agent_jobs = build_scheduler(service, now=datetime.now(UTC) + timedelta(days=1))
    agent_jobs.scheduler.start(paused=True)
    yield agent_jobs
    agent_jobs.scheduler.shutdown(wait=False)


@pytest.fixture
def scheduler(jobs):
    return jobs.scheduler


def interval(scheduler, job_id):
    return scheduler.get_job(job_id).trigger.interval.total_seconds()


def test_jobs_run_at_the_documented_intervals_with_jitter(scheduler):
    assert {job.id for job in scheduler.get_jobs()} == {"heartbeat", "upload", "read", "discovery"}
    assert [interval(scheduler, j) for j in ("discovery", "read", "upload", "heartbeat")] == [
        86400,
        900,
        300,
        900,
    ]
    assert scheduler.get_job("upload").trigger.jitter == 60
    assert scheduler.get_job("read").trigger.jitter == 45


def test_a_new_configuration_reschedules_without_restart(service, jobs, scheduler):
    service.apply(RemoteConfig(intervals=Intervals(read_s=120, upload_s=30, upload_jitter_s=5)), 2)
    assert interval(scheduler, "read") == 900, "applied by the thread that owns the scheduler"
    jobs.housekeeping()
    assert interval(scheduler, "read") == 120
    assert interval(scheduler, "upload") == 30
    assert scheduler.get_job("upload").trigger.jitter == 5
    assert interval(scheduler, "heartbeat") == 900


def test_a_backoff_earlier_than_the_next_upload_gets_a_retry_job(service, jobs, scheduler):
    retry_at = datetime.now(UTC) + timedelta(seconds=42)
    service.uploader.backoff.not_before = retry_at
    jobs.notes.put(None)  # what a finished job leaves
    jobs.housekeeping()
    assert scheduler.get_job(RETRY_JOB).next_run_time == retry_at
    status = json.loads(service.status_file.path.read_text())
    assert set(status["next_runs"]) >= {"read", "upload", "heartbeat", "discovery", RETRY_JOB}


def test_a_failing_job_is_recorded_never_raised(service):
    service.spool.close()  # any failure inside a job
    assert service.upload() is None
    assert "upload: ProgrammingError" in service.last_error


def test_stop_while_jobs_run_ends_cleanly_and_is_recorded(service, home):
    """Regression: a job finishing during shutdown must not deadlock the stop."""
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    run_until_stopped(service, stop, handle_signals=False)
    status = json.loads((home.path / "status.json").read_text())
    assert status["state"] == "stopped"


def test_status_before_any_run(home, capsys):
    assert main(["status"]) == 3
    assert "has not run here yet" in capsys.readouterr().out


def test_status_of_a_stopped_service_shows_backlog_and_last_error(service, home, capsys):
    service.record("upload", ok=False, error="HTTP 503 overloaded: try later")
    service.close()
    assert main(["status"]) == 3
    out = capsys.readouterr().out
    assert "service:      not running" in out
    assert "last upload:" in out
    assert "0 readings in the spool" in out
    assert "HTTP 503 overloaded" in out


def test_run_with_a_bad_config_is_one_line(home, tmp_path, capsys):
    bad = tmp_path / "agent.toml"
    bad.write_text("[schedule]\nread_s = 1\n", encoding="utf-8")
    assert main(["run", "--config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("scm-agent: error:")
    assert "read_s" in err


def test_the_windows_service_module_imports_here_and_refuses_cleanly(capsys):
    assert not HAVE_PYWIN32
    assert control("install") == 1
    assert main(["service", "install"]) == 1
    assert "Windows" in capsys.readouterr().err
