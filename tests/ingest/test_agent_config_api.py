"""Remote configuration and heartbeat: signed like batches, secrets only to their agent."""

from __future__ import annotations

import json
import logging
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from support.ingest import agent_request_headers as signed
from support.ingest import enroll_agent, issue_token

from ingest.cli import main
from ingest.db import database
from ingest.domain.agents import agent_by_public_id, set_config
from ingest.models.agents import AgentStatus
from shared.heartbeat import Heartbeat
from shared.reading import utc_now
from shared.signing import generate_private_key

CONFIG_PATH = "/api/v1/agents/config"
HEARTBEAT_PATH = "/api/v1/agents/heartbeat"
SECRET = "dealer-community-s3cret"
CONFIG = {
    "ranges": ["192.0.2.0/24"],
    "targets": ["192.0.2.10"],
    "credentials": [{"version": "2c", "community": SECRET}],
    "intervals": {"read_s": 600},
}


def get_config(client, agent, **options):
    return client.get(CONFIG_PATH, headers=signed(agent, "GET", CONFIG_PATH, **options))


def beat(**changes) -> dict:
    data = Heartbeat(
        agent_version="0.1.0",
        started_at=utc_now(),
        uptime_s=60,
        backlog_readings=3,
        backlog_batches=1,
        backlog_bytes=1200,
        dropped_total=0,
        dead_letters=0,
        devices_known=4,
        devices_read=3,
        config_version=0,
        last_error="read: 192.0.2.9:161 did not answer",
    ).to_dict()
    return {**data, **changes}


def post_heartbeat(client, agent, data):
    body = json.dumps(data).encode()
    headers = signed(agent, "POST", HEARTBEAT_PATH, body)
    return client.post(HEARTBEAT_PATH, data=body, headers=headers, content_type="application/json")


def store_config(app, agent, data=CONFIG):
    with database(app).session() as session:
        row = set_config(session, agent_by_public_id(session, agent.agent_id), data, now=utc_now())
        session.commit()
        return row.version


def test_an_agent_without_configuration_gets_version_0_and_defaults(client, agent):
    response = get_config(client, agent)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["version"] == 0
    assert response.get_json()["config"] == {
        "ranges": [],
        "targets": [],
        "credentials": [],
        "intervals": {},
    }


def test_the_configuration_reaches_its_agent_and_versions_grow(app, client, agent):
    assert store_config(app, agent) == 1
    assert store_config(app, agent, {**CONFIG, "ranges": []}) == 2
    answer = get_config(client, agent).get_json()
    assert answer["version"] == 2
    assert answer["config"]["credentials"] == [{"version": "2c", "community": SECRET}]
    assert answer["config"]["intervals"] == {"read_s": 600}


def test_another_agent_never_sees_it(app, client, agent):
    store_config(app, agent)
    other = enroll_agent(client, issue_token(app, "Bianchi srl"))
    answer = get_config(client, other).get_json()
    assert answer["version"] == 0
    assert SECRET not in json.dumps(answer)


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"key": generate_private_key()}, "bad_signature"),
        ({"timestamp": int(time.time()) - 3600}, "stale_timestamp"),
    ],
)
def test_forged_or_stale_config_requests_are_refused(app, client, agent, options, reason):
    store_config(app, agent)
    response = get_config(client, agent, **options)
    assert response.status_code == 401
    assert response.get_json()["error"] == reason
    assert SECRET not in response.get_data(as_text=True)


def test_a_signature_for_post_does_not_open_the_get(client, agent):
    headers = signed(agent, "POST", CONFIG_PATH)
    response = client.get(CONFIG_PATH, headers=headers)
    assert response.status_code == 401


def test_heartbeat_is_kept_and_answers_the_config_version(app, client, agent, session):
    store_config(app, agent)
    response = post_heartbeat(client, agent, beat())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["config_version"] == 1
    status = session.scalar(select(AgentStatus))
    assert (status.backlog_readings, status.devices_known, status.devices_read) == (3, 4, 3)
    assert status.last_error == "read: 192.0.2.9:161 did not answer"


def test_drops_are_reported_once_as_they_grow(client, agent, session, caplog):
    caplog.set_level(logging.WARNING, logger="ingest.api")
    post_heartbeat(client, agent, beat(dropped_total=0))
    post_heartbeat(client, agent, beat(dropped_total=25))
    post_heartbeat(client, agent, beat(dropped_total=25))
    drops = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert drops == [f"agent {agent.agent_id} dropped 25 readings (spool full; 25 dropped in all)"]
    assert session.scalar(select(AgentStatus.dropped_total)) == 25


@pytest.mark.parametrize(
    "changes", [{"uptime_s": -1}, {"started_at": "yesterday"}, {"agent_version": None}]
)
def test_malformed_heartbeats_are_refused(client, agent, changes):
    response = post_heartbeat(client, agent, beat(**changes))
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_heartbeat"


def test_unsigned_heartbeat_is_refused(client):
    response = client.post(HEARTBEAT_PATH, json=beat())
    assert response.status_code == 401


@pytest.fixture
def run(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SCM_DATABASE_URL", database_url)
    monkeypatch.setenv("SCM_INSTANCE_PATH", str(tmp_path))

    def invoke(*args, stdin=None):
        return CliRunner().invoke(main, list(args), input=stdin)

    return invoke


def test_staff_set_and_show_a_config_with_secrets_redacted(run, client, agent):
    result = run("agent", "config", "set", agent.agent_id, stdin=json.dumps(CONFIG))
    assert result.exit_code == 0, result.output
    assert "configuration version 1" in result.output
    shown = run("agent", "config", "show", agent.agent_id)
    assert shown.exit_code == 0
    assert SECRET not in shown.output
    assert "v2c community" in shown.output
    revealed = run("agent", "config", "show", agent.agent_id, "--reveal")
    assert SECRET in revealed.output
    assert get_config(client, agent).get_json()["version"] == 1


def test_an_invalid_config_is_refused_by_the_cli(run, agent):
    bad = {**CONFIG, "intervals": {"read_s": 1}}
    result = run("agent", "config", "set", agent.agent_id, stdin=json.dumps(bad))
    assert result.exit_code == 1
    assert "read_s" in result.output
    assert run("agent", "config", "set", "agt_nobody", stdin="{}").exit_code == 1
    port = {**CONFIG, "targets": ["192.0.2.10:99999"]}
    result = run("agent", "config", "set", agent.agent_id, stdin=json.dumps(port))
    assert result.exit_code == 1 and "65535" in result.output


def test_agent_list_shows_the_latest_heartbeat(run, client, agent):
    post_heartbeat(client, agent, beat(dropped_total=4))
    result = run("agent", "list")
    assert result.exit_code == 0, (result.output, result.exception)
    assert agent.agent_id in result.output
    assert "backlog 3" in result.output
    assert "dropped 4" in result.output
