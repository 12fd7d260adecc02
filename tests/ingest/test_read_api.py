"""The read API for ERPs: bearer tokens from the CLI, paged JSON lists, a generated OpenAPI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from support.fleet import add_machine
from support.ingest import reading

from ingest.cli import main
from ingest.domain.alerts import evaluate_alerts
from ingest.models import Agent, ApiToken


@pytest.fixture
def api_token(database_url, tmp_path, monkeypatch, app) -> str:
    """A token made the way staff make one: ``scm-ingest api-token create``."""
    monkeypatch.setenv("SCM_DATABASE_URL", database_url)
    monkeypatch.setenv("SCM_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["api-token", "create", "--name", "ERP"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def get(client, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, headers=headers)


def silent_agent_alert(client, agent, session):
    batch_id, body = agent.batch(reading())
    assert agent.post(client, batch_id, body).status_code == 200
    evaluate_alerts(session, session.scalar(select(Agent)).last_seen_at + timedelta(hours=3))


def test_the_token_is_printed_once_and_only_its_hash_is_kept(api_token, session):
    assert api_token.startswith("scm_") and len(api_token) > 40
    row = session.scalar(select(ApiToken))
    assert row.name == "ERP" and api_token not in row.token_hash


@pytest.mark.parametrize("header", [None, "Bearer scm_wrong", "Basic dXNlcjpwYXNz", "Bearer "])
def test_without_a_valid_token_the_answer_is_401_json(client, header):
    response = client.get("/api/v1/alerts", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_open_alerts_as_json_with_the_documented_fields(client, agent, session, api_token):
    silent_agent_alert(client, agent, session)
    response = get(client, "/api/v1/alerts?state=open", api_token)
    assert response.status_code == 200
    [alert] = response.get_json()
    assert alert["kind"] == "agent_silent" and alert["customer"] == "Rossi srl"
    assert {"id", "severity", "opened_at", "last_seen_at", "message", "agent_id"} <= set(alert)
    assert json.loads(response.headers["X-Pagination"])["total"] == 1
    assert get(client, "/api/v1/alerts?state=cleared", api_token).get_json() == []


def test_bad_parameters_are_a_4xx_json_error(client, api_token):
    response = get(client, "/api/v1/alerts?state=sideways", api_token)
    assert response.status_code == 422
    assert response.get_json()["error"] == "unprocessable_entity"
    assert "state" in response.get_json()["message"]


def test_lists_are_paged(app, client, api_token):
    for n in range(5):
        add_machine(app, scm_id=f"SCM-{n:04d}", serial=f"SN-{n:04d}")
    first = get(client, "/api/v1/machines?page=1&page_size=2", api_token)
    third = get(client, "/api/v1/machines?page=3&page_size=2", api_token)
    assert [m["scm_id"] for m in first.get_json()] == ["SCM-0000", "SCM-0001"]
    assert [m["scm_id"] for m in third.get_json()] == ["SCM-0004"]
    assert json.loads(first.headers["X-Pagination"])["total_pages"] == 3
    assert get(client, "/api/v1/customers", api_token).get_json()[0]["name"] == "Rossi srl"


def test_a_revoked_token_stops_working(client, session, api_token):
    assert get(client, "/api/v1/invoices", api_token).status_code == 200
    CliRunner().invoke(main, ["api-token", "revoke", str(session.scalar(select(ApiToken)).id)])
    assert get(client, "/api/v1/invoices", api_token).status_code == 401


def test_the_openapi_document_is_generated_from_the_views(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("alerts", "customers", "machines", "meter-reads", "invoices", "reorders"):
        assert f"/api/v1/{path}" in spec["paths"], path
    alert = spec["components"]["schemas"]["Alert"]["properties"]
    assert alert["kind"]["enum"][0] == "agent_silent"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_portal_pages_keep_their_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
