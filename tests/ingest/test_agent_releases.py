"""Signed agent releases: publish, staged rollout per customer, download; refused agents.

The release key is made here; its public half is what the agent and the ingest trust
(``SCM_AGENT_RELEASE_PUBLIC_KEY``), the private half signs off this process's "ingest host".
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
from support.ingest import agent_request_headers as signed
from support.ingest import enroll_agent, issue_token

from ingest.agent_downloads import releases_store
from ingest.db import database
from ingest.domain.accounts import find_customer
from ingest.domain.agent_refusals import record_refusal, refusals, set_agent_active
from ingest.domain.agent_releases import add_release, roll_out
from ingest.domain.agents import agent_by_public_id, current_config, set_config
from ingest.domain.errors import DomainError
from shared.agent_release import release_message
from shared.signing import generate_private_key, public_key_text

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CONFIG_PATH = "/api/v1/agents/config"
BINARY = b"\x7fELF pretend agent build " * 1000


@pytest.fixture
def release_key(monkeypatch):
    key = generate_private_key()
    monkeypatch.setenv("SCM_AGENT_RELEASE_PUBLIC_KEY", public_key_text(key))
    return key


def get_config(client, agent):
    return client.get(CONFIG_PATH, headers=signed(agent, "GET", CONFIG_PATH))


def manifest(key, version="0.2.0", data=BINARY) -> dict:
    sha = hashlib.sha256(data).hexdigest()
    signature = base64.b64encode(key.sign(release_message(version, sha, len(data)))).decode()
    return {"version": version, "sha256": sha, "size": len(data), "signature": signature}


@pytest.fixture
def build(tmp_path):
    path = tmp_path / "scm-agent"
    path.write_bytes(BINARY)
    return path


def publish(app, build, data, customer: str | None = "Rossi srl"):
    with database(app).session() as session:
        add_release(session, build, data, releases_store(app.instance_path), NOW)
        target = find_customer(session, customer) if customer else None
        roll_out(session, data["version"], target, NOW)
        session.commit()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"signature": base64.b64encode(b"x" * 64).decode()}, "invalid_release"),
        ({"size": len(BINARY) + 1}, "invalid_release"),
        ({"version": "one"}, "invalid_release"),
    ],
)
def test_a_release_that_is_not_what_the_key_signed_is_refused(
    app, build, release_key, change, code
):
    data = {**manifest(release_key), **change}
    with database(app).session() as session, pytest.raises(DomainError) as err:
        add_release(session, build, data, releases_store(app.instance_path), NOW)
    assert err.value.code == code


def test_a_release_signed_by_another_key_is_refused(app, build, release_key):
    with database(app).session() as session, pytest.raises(DomainError):
        add_release(
            session, build, manifest(generate_private_key()), releases_store(app.instance_path), NOW
        )


def test_rollout_reaches_only_that_customers_agents_through_their_config(
    app, client, agent, build, release_key
):
    other = enroll_agent(client, issue_token(app, "Bianchi spa"))
    assert get_config(client, agent).get_json()["version"] == 0
    publish(app, build, manifest(release_key))
    mine, theirs = get_config(client, agent).get_json(), get_config(client, other).get_json()
    assert mine["version"] == 1, "the version moved: the agent fetches at its next heartbeat"
    assert mine["config"]["release"]["version"] == "0.2.0"
    assert "release" not in theirs["config"]


def test_the_offered_agent_downloads_the_signed_file_others_do_not(
    app, client, agent, build, release_key
):
    other = enroll_agent(client, issue_token(app, "Bianchi spa"))
    publish(app, build, manifest(release_key))
    path = "/api/v1/agents/releases/0.2.0"
    answer = client.get(path, headers=signed(agent, "GET", path))
    assert answer.status_code == 200 and answer.data == BINARY
    answer.close()
    assert client.get(path, headers=signed(other, "GET", path)).status_code == 404
    assert client.get(path).status_code == 401
    wrong_key = signed(agent, "GET", path, key=generate_private_key())
    assert client.get(path, headers=wrong_key).get_json()["error"] == "bad_signature"


def test_the_newest_rolled_out_release_wins_and_release_is_not_set_by_hand(
    app, agent, build, release_key, tmp_path
):
    publish(app, build, manifest(release_key, "0.2.0"))
    newer = tmp_path / "newer"
    newer.write_bytes(BINARY + b"!")
    publish(app, newer, manifest(release_key, "0.10.0", BINARY + b"!"), customer=None)
    with database(app).session() as session:
        row = agent_by_public_id(session, agent.agent_id)
        assert current_config(session, row)[1].release.version == "0.10.0"
        with pytest.raises(DomainError):
            set_config(session, row, {"release": manifest(release_key)}, now=NOW)


def test_refusals_are_recorded_for_enrolled_agents_only_and_cleared_on_enable(app, client, agent):
    with database(app).session() as session:
        row = agent_by_public_id(session, agent.agent_id)
        set_agent_active(session, row, False)
        session.commit()
    assert get_config(client, agent).status_code == 401
    assert get_config(client, agent).status_code == 401
    with database(app).session() as session:
        row = agent_by_public_id(session, agent.agent_id)
        (refusal,) = refusals(session).values()
        assert (refusal.reason, refusal.count) == ("unknown_agent", 2)
        assert record_refusal(session, "agt_never_enrolled", "unknown_agent", NOW) is None
        assert record_refusal(session, agent.agent_id, "stale_timestamp", NOW) is None
        set_agent_active(session, row, True)
        session.commit()
        assert refusals(session) == {}
    assert get_config(client, agent).status_code == 200


def test_the_signing_tool_writes_a_manifest_the_ingest_accepts(app, build, tmp_path, monkeypatch):
    import subprocess
    import sys
    from pathlib import Path

    tool = Path(__file__).parents[2] / "installers" / "release_sign.py"
    key = tmp_path / "release.key"
    made = subprocess.run(
        [sys.executable, str(tool), "keygen", "--key", str(key)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    monkeypatch.setenv("SCM_AGENT_RELEASE_PUBLIC_KEY", made.stdout.split()[-1])
    subprocess.run(
        [sys.executable, str(tool), "sign", str(build), "--version", "0.3.0", "--key", str(key)],
        check=True, capture_output=True,
    )  # fmt: skip
    data = json.loads(build.with_name("scm-agent.release.json").read_text())
    with database(app).session() as session:
        row = add_release(session, build, data, releases_store(app.instance_path), NOW)
        assert row.version == "0.3.0"
