"""Sessions that can be taken back, sign-in limits that count failures only, e-mailed links
that expire, and configuration requests that cannot be replayed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from support.ingest import agent_request_headers
from support.web import PASSWORD, add_user, csrf_token, sign_in

from ingest.db import database
from ingest.domain.accounts import get_or_create_customer, set_password
from ingest.domain.errors import DomainError
from ingest.domain.read_requests import LINK_VALID, RequestLinks, open_request
from ingest.models import MeterReadRequest, User


@pytest.fixture
def anna(app, session):
    get_or_create_customer(session, "Rossi srl")
    session.commit()
    add_user(app, "anna@rossi.example", "Rossi srl")
    return "anna@rossi.example"


def test_signing_out_ends_every_copy_of_the_session(app, client, anna):
    sign_in(client, anna)
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)  # a copied cookie
    assert other.get("/machines").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/machines")})
    assert other.get("/machines").status_code == 302  # back to the sign-in page


def test_a_new_password_or_a_disabled_account_ends_the_sessions(app, client, anna, session):
    sign_in(client, anna)
    user = session.scalar(select(User).where(User.email == anna))
    set_password(session, user, "another long password")
    session.commit()
    assert client.get("/machines").status_code == 302
    sign_in(client, anna, "another long password")
    assert client.get("/machines").status_code == 200
    user.active = False
    session.commit()
    assert client.get("/machines").status_code == 302


def test_successful_sign_ins_never_lock_an_account(app, client, anna):
    for _ in range(12):  # more than the per-address-and-account limit of failures
        response = sign_in(client, anna)
        assert response.status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/machines")})


def test_one_address_trying_many_accounts_is_stopped(app, client, anna):
    answers = [
        client.post(
            "/login",
            data={
                "email": f"guess{n}@rossi.example",
                "password": "wrong",
                "csrf_token": csrf_token(client),
            },
        ).status_code
        for n in range(55)
    ]
    assert answers[:50] == [200] * 50  # the form again, with its message
    assert 429 in answers[50:]


def test_read_request_links_expire(app, session, anna):
    from support.fleet import add_machine

    machine_id = add_machine(app)
    request = MeterReadRequest(
        machine_id=machine_id,
        period_end=date(2026, 10, 31),
        created_at=datetime(2026, 10, 25, tzinfo=UTC),
    )
    session.add(request)
    session.commit()
    links = RequestLinks("https://portale.scm.example", app.config["SECRET_KEY"])
    token = links.url(request).rsplit("/", 1)[1]
    late = datetime.combine(request.period_end + LINK_VALID, datetime.min.time(), tzinfo=UTC)
    assert open_request(session, links, token, late).id == request.id
    with pytest.raises(DomainError) as refused:
        open_request(session, links, token, late + timedelta(days=1))
    assert refused.value.code == "link_expired" and refused.value.status == 410


def test_a_configuration_request_is_answered_once(client, agent):
    path = "/api/v1/agents/config"
    headers = agent_request_headers(agent, "GET", path)
    assert client.get(path, headers=headers).status_code == 200
    replay = client.get(path, headers=headers)
    assert replay.status_code == 409 and replay.get_json()["error"] == "replayed_request"
    assert client.get(path, headers=agent_request_headers(agent, "GET", path)).status_code == 200


def test_the_session_cookie_carries_no_password_and_expires(app, client, anna):
    sign_in(client, anna)
    assert app.config["PERMANENT_SESSION_LIFETIME"] <= timedelta(hours=12)
    cookie = client.get_cookie("session")
    assert cookie.expires is not None and PASSWORD not in cookie.value
    with database(app).session() as db:
        assert db.scalar(select(User.session_version).where(User.email == anna)) == 0
