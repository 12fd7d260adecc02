"""Every kind of mail the ingest sends has a From header a mail client can parse (issue 12: with
``SCM_SMTP_FROM`` unset every mail said ``From: <member 'sender' of 'SmtpSettings' objects>``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from support.fleet import add_machine
from support.smtp import smtp_server
from support.web import add_user, csrf_token, sign_in
from test_tickets import open_ticket

from ingest.db import database
from ingest.domain.read_requests import RequestLinks, open_requests_for_period, send_requests
from ingest.mail import DEFAULT_SENDER, SmtpSettings, mailer_from_env
from ingest.models import Customer, Machine


@pytest.fixture
def inbox(monkeypatch):
    with smtp_server() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("SCM_SMTP_FROM")  # the default sender is what is under test
        monkeypatch.setenv("SCM_TICKETS_TO", "assistenza@scm.example")
        yield server


@pytest.fixture
def rossi(app):
    machine_id = add_machine(app, "Rossi srl", scm_id="SCM-R1", serial="R-1")
    with database(app).session() as db:
        customer = db.scalar(select(Customer).where(Customer.name == "Rossi srl"))
        customer.sales_rep_email = "paolo.verdi@scm.example"
        db.get(Machine, machine_id).monitored = False
        db.commit()
    add_user(app, "anna@rossi.example", "Rossi srl")
    add_user(app, "staff@scm.example", staff=True)
    return machine_id


def post(client, path, page, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def password_reset(app, client, rossi):
    post(client, "/password/forgot", "/password/forgot", email="anna@rossi.example")


def invitation(app, client, rossi):
    sign_in(client, "staff@scm.example")
    with database(app).session() as db:
        customer_id = db.scalar(select(Customer.id).where(Customer.name == "Rossi srl"))
    post(client, f"/ops/customers/{customer_id}/invite", "/ops/customers", **{
        f"i{customer_id}-email": "carla@rossi.example"
    })  # fmt: skip


def salesperson(app, client, rossi):
    sign_in(client, "anna@rossi.example")
    post(client, "/contact", "/", subject="Preventivo", message="Una seconda MFP.")


def ticket(app, client, rossi):
    sign_in(client, "anna@rossi.example")
    open_ticket(client, rossi)


def read_request(app, client, rossi):
    now = datetime.now(UTC)
    with database(app).session() as db:
        created = open_requests_for_period(db, now.date(), now)
        links = RequestLinks("http://127.0.0.1", app.config["SECRET_KEY"])
        send_requests(db, created, mailer_from_env(), links, now)
        db.commit()


@pytest.mark.parametrize(
    "send",
    [password_reset, invitation, salesperson, ticket, read_request],
    ids=lambda f: f.__name__,
)
def test_every_kind_of_mail_has_a_parseable_default_sender(app, client, rossi, inbox, send):
    send(app, client, rossi)
    assert inbox.messages, "no mail went out"
    for message in inbox.messages:
        [sender] = message["From"].addresses
        assert (sender.display_name, sender.addr_spec) == ("SCM", "noreply@scm.example")
        assert "member" not in str(message["From"])


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SCM_SMTP_HOST": "127.0.0.1"}, DEFAULT_SENDER),
        ({"SCM_SMTP_HOST": "127.0.0.1", "SCM_SMTP_FROM": ""}, DEFAULT_SENDER),
        (
            {"SCM_SMTP_HOST": "127.0.0.1", "SCM_SMTP_FROM": "Letture <l@x.example>"},
            "Letture <l@x.example>",
        ),
    ],
)
def test_the_sender_setting(env, expected):
    settings = SmtpSettings.from_env(env)
    assert settings.sender == expected
    assert re.fullmatch(r"[^<>]+ <[^@<>]+@[^@<>]+>", settings.sender)
