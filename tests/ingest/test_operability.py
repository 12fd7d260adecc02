"""Behind a load balancer: liveness, readiness, 503 with Retry-After, request ids, metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from support.ingest import reading

from ingest.app import create_app
from ingest.config import Settings
from ingest.db import database


@pytest.fixture
def broken_app(tmp_path: Path):
    """The service with its database gone (a SQLite file in a folder that does not exist)."""
    url = f"sqlite:///{tmp_path / 'missing' / 'gone.sqlite'}"
    application = create_app(
        Settings(database_url=url, instance_path=tmp_path, secret_key="b" * 40), {"TESTING": True}
    )
    yield application
    database(application).dispose()


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_database_outage_is_503_with_retry_after_never_a_page(broken_app, agent):
    client = broken_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the page below is read in English
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "database" in ready.get_json()["problems"]
    batch_id, body = agent.batch(reading())
    response = agent.post(client, batch_id, body)
    assert response.status_code == 503  # the agent keeps its readings and retries
    assert response.headers["Retry-After"] == "5"
    answer = response.get_json()
    assert (answer["error"], answer["retry_after"]) == ("unavailable", 5)
    token = URLSafeTimedSerializer("b" * 40, salt="password-reset").dumps({"u": 1, "h": "x"})
    page = client.get(f"/password/reset/{token}")  # a public page that reads the database
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "unavailable" in page.get_data(as_text=True)


def test_every_answer_carries_a_request_id_and_keeps_a_sane_given_one(client):
    generated = client.get("/healthz").headers["X-Request-Id"]
    assert len(generated) == 32
    given = client.get("/healthz", headers={"X-Request-Id": "agent-1234-abcd"})
    assert given.headers["X-Request-Id"] == "agent-1234-abcd"
    hostile = client.get("/healthz", headers={"X-Request-Id": "<script>" + "x" * 100})
    assert len(hostile.headers["X-Request-Id"]) == 32  # replaced, not echoed


def test_unknown_api_urls_answer_the_documented_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert client.get("/api/v1/batches").get_json()["error"] == "method_not_allowed"


def test_metrics_count_batches_readings_and_the_queue(client, agent):
    batch_id, body = agent.batch(reading(), reading(serial="SN-0002"))
    assert agent.post(client, batch_id, body).status_code == 200
    text = client.get("/metrics").get_data(as_text=True)
    assert 'scm_batches_total{outcome="stored"}' in text
    assert 'scm_readings_total{outcome="accepted"}' in text
    assert "scm_jobs_pending 0.0" in text
    assert 'scm_alerts_open{kind="agent_silent"} 0.0' in text
    assert 'scm_http_requests_total{method="POST",route="/api/v1/batches",status="200"}' in text
