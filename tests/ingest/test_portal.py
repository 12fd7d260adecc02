"""Portal pages: sign-in with CSRF, and a customer never sees another customer's devices."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support.ingest import enroll_agent, issue_token, reading
from support.web import PASSWORD, add_user, csrf_token, sign_in

from ingest.db import database
from ingest.domain.accounts import get_or_create_customer
from ingest.models import User


@pytest.fixture
def two_customers(app, client):
    """Rossi srl and Bianchi spa, one printer each, one portal user each, and one staff user."""
    for name, serial in (("Rossi srl", "ROSSI-001"), ("Bianchi spa", "BIANCHI-002")):
        agent = enroll_agent(client, issue_token(app, name))
        batch_id, body = agent.batch(reading(serial, total=4242, mac=None))
        assert agent.post(client, batch_id, body).status_code == 200
    add_user(app, "anna@rossi.example", "Rossi srl")
    add_user(app, "bruno@bianchi.example", "Bianchi spa")
    add_user(app, "staff@scm.example", staff=True)


def test_devices_page_needs_a_signed_in_user(client):
    response = client.get("/devices")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_customer_sees_only_its_own_devices(client, two_customers):
    assert sign_in(client, "anna@rossi.example").status_code == 302
    page = client.get("/devices").get_data(as_text=True)
    assert "ROSSI-001" in page
    assert "4,242" in page
    assert "BIANCHI-002" not in page


def test_staff_sees_every_customer(client, two_customers):
    sign_in(client, "staff@scm.example")
    page = client.get("/devices").get_data(as_text=True)
    assert "ROSSI-001" in page
    assert "BIANCHI-002" in page
    assert "Bianchi spa" in page


def test_wrong_password_is_refused_with_one_message(client, two_customers):
    wrong_pw = sign_in(client, "anna@rossi.example", "nope-nope-nope").get_data(as_text=True)
    no_user = sign_in(client, "nobody@rossi.example").get_data(as_text=True)
    assert "Wrong customer code, e-mail or password." in wrong_pw
    assert "Wrong customer code, e-mail or password." in no_user
    assert client.get("/devices").status_code == 302


def test_login_without_csrf_token_is_refused(client, two_customers):
    response = client.post("/login", data={"email": "anna@rossi.example", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/devices").status_code == 302


def test_logout_is_a_post_with_csrf(client, two_customers):
    sign_in(client, "anna@rossi.example")
    assert client.post("/logout").status_code == 400
    assert client.get("/devices").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/devices")})
    assert client.get("/devices").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_login_never_redirects_off_site(client, two_customers, target):
    token = csrf_token(client)
    response = client.post(
        f"/login?next={target}",
        data={"email": "anna@rossi.example", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"  # home, never the foreign target


def test_local_next_is_honoured(client, two_customers):
    token = csrf_token(client)
    response = client.post(
        "/login?next=/devices?x=1",
        data={"email": "anna@rossi.example", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/devices?x=1"


def test_passwords_are_stored_hashed(app, two_customers):
    with database(app).session() as db:
        user = db.scalar(select(User).where(User.email == "anna@rossi.example"))
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_pages_send_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_customer_names_are_normalised(app):
    with database(app).session() as db:
        a = get_or_create_customer(db, "  Rossi   srl ")
        b = get_or_create_customer(db, "Rossi srl")
        assert a.id == b.id


def test_repeated_wrong_passwords_are_slowed_down(client, two_customers):
    for _ in range(10):
        assert sign_in(client, "anna@rossi.example", "wrong password!!").status_code == 200
    blocked = sign_in(client, "anna@rossi.example", PASSWORD)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    other = sign_in(client, "bruno@bianchi.example")  # another account is not locked out
    assert other.status_code == 302
