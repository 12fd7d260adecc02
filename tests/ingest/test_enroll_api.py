"""POST /api/v1/agents/enroll: one-time tokens, proof of key possession, clear refusals."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from support.ingest import ENROLL_PATH, enroll_body, issue_token, post_enroll, signed_headers

from ingest.models import Agent, EnrollmentToken
from shared.signing import generate_private_key


def agent_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Agent))


def test_enroll_creates_an_agent_for_the_token_customer(client, token, session):
    response = post_enroll(client, token, generate_private_key())
    assert response.status_code == 201
    body = response.get_json()
    assert body["agent_id"].startswith("agt_")
    assert body["customer"] == "Rossi srl"
    assert "server_time" in body
    stored = session.scalar(select(Agent))
    assert stored.public_id == body["agent_id"]
    assert stored.hostname == "test-host"


def test_token_is_stored_only_as_a_hash(client, token, session):
    post_enroll(client, token, generate_private_key())
    row = session.scalar(select(EnrollmentToken))
    assert token not in row.token_hash
    assert len(row.token_hash) == 64
    assert row.used_at is not None


def test_same_token_same_key_is_a_retry_not_a_new_agent(client, token, session):
    key = generate_private_key()
    first = post_enroll(client, token, key).get_json()
    again = post_enroll(client, token, key)
    assert again.status_code == 200
    assert again.get_json()["agent_id"] == first["agent_id"]
    assert agent_count(session) == 1


def test_token_reused_by_another_key_is_refused(client, token, session):
    post_enroll(client, token, generate_private_key())
    response = post_enroll(client, token, generate_private_key())
    assert response.status_code == 401
    assert response.get_json()["error"] == "token_used"
    assert agent_count(session) == 1


def test_unknown_token_is_refused(client, session):
    response = post_enroll(client, "scm-enroll-made-up", generate_private_key())
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert agent_count(session) == 0


def test_expired_token_is_refused(app, client, session):
    token = issue_token(app)
    session.execute(
        update(EnrollmentToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    session.commit()
    response = post_enroll(client, token, generate_private_key())
    assert response.status_code == 401
    assert response.get_json()["error"] == "token_expired"
    assert agent_count(session) == 0


def test_request_signed_by_another_key_than_the_one_registered_is_refused(client, token, session):
    key, other = generate_private_key(), generate_private_key()
    body = enroll_body(token, key)
    headers = signed_headers(other, ENROLL_PATH, body, agent_id="enroll", request_id="r-1")
    response = client.post(ENROLL_PATH, data=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "bad_signature"
    assert agent_count(session) == 0


def test_stale_enrollment_is_refused(client, token, session):
    key = generate_private_key()
    body = enroll_body(token, key)
    headers = signed_headers(
        key,
        ENROLL_PATH,
        body,
        agent_id="enroll",
        request_id="r-1",
        timestamp=int(time.time()) - 3600,
    )
    response = client.post(ENROLL_PATH, data=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "stale_timestamp"
    assert agent_count(session) == 0


def test_malformed_json_is_a_400(client, session):
    key = generate_private_key()
    body = b"{not json"
    headers = signed_headers(key, ENROLL_PATH, body, agent_id="enroll", request_id="r-1")
    response = client.post(ENROLL_PATH, data=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_request"
    assert agent_count(session) == 0


def test_unsigned_enrollment_is_refused(client, token, session):
    body = enroll_body(token, generate_private_key())
    response = client.post(ENROLL_PATH, data=body, content_type="application/json")
    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_header"
    assert agent_count(session) == 0
