"""'Password dimenticata': a one-hour, single-use link by e-mail through a real SMTP server."""

from __future__ import annotations

import re

import pytest
from support.processes import free_tcp_port
from support.web import add_user, csrf_token, sign_in

from ingest.db import database
from ingest.domain.accounts import (
    active_user_by_email,
    get_or_create_customer,
    password_reset_token,
    user_for_reset_token,
)
from ingest.domain.errors import DomainError


@pytest.fixture
def anna(app):
    with database(app).session() as db:
        get_or_create_customer(db, "Rossi srl")
        db.commit()
    add_user(app, "anna@rossi.example", "Rossi srl")


def ask_for_link(client, email):
    return client.post(
        "/password/forgot",
        data={"email": email, "csrf_token": csrf_token(client, "/password/forgot")},
    )


def test_reset_link_by_mail_sets_a_new_password_once(client, anna, inbox):
    response = ask_for_link(client, "Anna@Rossi.example")
    assert response.status_code == 302
    [message] = inbox.messages
    assert message["To"] == "anna@rossi.example"
    link = re.search(r"http://127\.0\.0\.1:8000(/password/reset/\S+)", message.get_content())[1]
    token = csrf_token(client, link)
    done = client.post(
        link,
        data={
            "csrf_token": token,
            "password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    assert done.status_code == 302
    assert sign_in(client, "anna@rossi.example", "a brand new secret").status_code == 302
    assert client.get("/devices").status_code == 200
    assert client.get(link).status_code == 404  # used: the password hash changed


def test_unknown_address_gets_the_same_answer_and_no_mail(client, anna, inbox):
    response = ask_for_link(client, "nobody@rossi.example")
    assert response.status_code == 302
    assert inbox.messages == []


def test_forged_and_expired_links_are_refused(app, client, anna):
    assert client.get("/password/reset/forged-token").status_code == 404
    with database(app).session() as db:
        user = active_user_by_email(db, "anna@rossi.example")
        token = password_reset_token(user, app.config["SECRET_KEY"])
        with pytest.raises(DomainError, match="expired"):
            user_for_reset_token(db, token, app.config["SECRET_KEY"], max_age_s=-1)


def test_mismatched_or_short_passwords_are_refused(app, client, anna):
    with database(app).session() as db:
        token = password_reset_token(
            active_user_by_email(db, "anna@rossi.example"), app.config["SECRET_KEY"]
        )
    link = f"/password/reset/{token}"
    csrf = csrf_token(client, link)
    for password, confirm in (("long enough 1", "long enough 2"), ("short", "short")):
        page = client.post(
            link, data={"csrf_token": csrf, "password": password, "confirm": confirm}
        )
        assert page.status_code == 200  # the form again, with its error
    assert sign_in(client, "anna@rossi.example").status_code == 302


def test_a_dead_mail_server_changes_nothing_in_the_answer(client, anna, monkeypatch):
    monkeypatch.setenv("SCM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SCM_SMTP_PORT", str(free_tcp_port()))  # nobody listens
    known = ask_for_link(client, "anna@rossi.example")
    unknown = ask_for_link(client, "nobody@rossi.example")
    assert known.status_code == unknown.status_code == 302


def test_staff_invite_a_user_who_chooses_a_password_from_the_mail(client, anna, inbox, app):
    add_user(app, "staff@scm.example", staff=True)
    sign_in(client, "staff@scm.example")
    page = client.get("/ops/customers").get_data(as_text=True)
    assert 'data-customer="Rossi srl"' in page and "anna@rossi.example" in page
    customer_id = int(re.search(r"/ops/customers/(\d+)/invite", page).group(1))
    token = csrf_token(client, "/ops/customers")
    response = client.post(
        f"/ops/customers/{customer_id}/invite",
        data={"csrf_token": token, f"i{customer_id}-email": "carla@rossi.example"},
        follow_redirects=True,
    )
    assert "carla@rossi.example invited." in response.get_data(as_text=True)
    [message] = inbox.messages
    assert message["To"] == "carla@rossi.example"
    assert "Rossi srl" in message.get_content() and "7 giorni" in message.get_content()
    link = re.search(r"http://127\.0\.0\.1:8000(/password/reset/\S+)", message.get_content())[1]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/ops/")})
    form_token = csrf_token(client, link)
    client.post(
        link,
        data={
            "csrf_token": form_token,
            "password": "carla's own secret",
            "confirm": "carla's own secret",
        },
    )
    assert sign_in(client, "carla@rossi.example", "carla's own secret").status_code == 302
    assert "Rossi srl" in client.get("/").get_data(as_text=True)


def test_customers_cannot_invite(client, anna):
    sign_in(client, "anna@rossi.example")
    assert client.get("/ops/customers").status_code == 403
    assert client.post("/ops/customers/1/invite", data={}).status_code in (400, 403)
