"""Meter-read requests: e-mailed through a real SMTP server, answered through the form link."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from support.fleet import add_machine, push, utc
from support.smtp import smtp_server

from ingest.db import database
from ingest.domain.read_requests import (
    RequestLinks,
    due_reminders,
    open_requests_for_period,
    send_requests,
)
from ingest.mail import SmtpMailer, SmtpSettings
from ingest.models import Machine, MeterRead, MeterReadRequest

PERIOD_END = date(2026, 11, 30)
NOW = utc(2026, 11, 27, 9)


@pytest.fixture
def inbox():
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailer(inbox):
    return SmtpMailer(SmtpSettings.from_env(inbox.env()))


@pytest.fixture
def links(app):
    return RequestLinks("http://127.0.0.1:5000", app.config["SECRET_KEY"])


def unmonitored(app, scm_id="SCM-U1", serial="U-1"):
    machine_id = add_machine(app, scm_id=scm_id, serial=serial, colour=False)
    with database(app).session() as db:
        db.get(Machine, machine_id).monitored = False
        db.commit()
    return machine_id


def test_unmonitored_and_silent_machines_get_one_mail_per_customer(
    app, client, agent, session, inbox, mailer, links
):
    unmonitored(app, "SCM-U1", "U-1")
    unmonitored(app, "SCM-U2", "U-2")
    add_machine(app, scm_id="SCM-LIVE", serial="LIVE-1")
    push(client, agent, NOW - timedelta(days=1), 1000, serial="LIVE-1")  # fresh: no request
    add_machine(app, scm_id="SCM-QUIET", serial="QUIET-1")
    push(client, agent, NOW - timedelta(days=20), 1000, serial="QUIET-1")  # silent 20 days
    requests = open_requests_for_period(session, PERIOD_END, NOW)
    assert sorted(r.machine.scm_id for r in requests) == ["SCM-QUIET", "SCM-U1", "SCM-U2"]
    assert send_requests(session, requests, mailer, links, NOW) == 1
    session.commit()
    [message] = inbox.messages
    assert message["To"] == "referente@scm-u1.example"
    assert message["Subject"] == "Richiesta lettura contatori al 30/11/2026"
    body = message.get_content()
    assert "SCM-U1" in body and "SCM-U2" in body and "SCM-QUIET" in body
    assert "SCM-LIVE" not in body
    assert len(re.findall(r"http://127\.0\.0\.1:5000/letture/\S+", body)) == 3
    assert open_requests_for_period(session, PERIOD_END, NOW) == []  # never twice


def test_form_link_records_the_read_and_closes_the_request(
    app, client, session, inbox, mailer, links
):
    machine_id = unmonitored(app)
    requests = open_requests_for_period(session, PERIOD_END, NOW)
    send_requests(session, requests, mailer, links, NOW)
    session.commit()
    link = re.search(r"http://127\.0\.0\.1:5000(/letture/\S+)", inbox.messages[0].get_content())[1]
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "SCM-U1" in html
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)[1]
    response = client.post(
        link,
        data={
            "csrf_token": token,
            "taken_on": datetime.now(UTC).date().isoformat(),
            "mono": "4321",
            "colour": "0",
            "name": "Anna Rossi",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Thank you" in response.get_data(as_text=True)
    session.expire_all()
    read = session.scalar(select(MeterRead).where(MeterRead.machine_id == machine_id))
    assert (read.mono, read.source, read.entered_by_name) == (4321, "manual", "Anna Rossi")
    request = session.scalar(select(MeterReadRequest))
    assert request.closed_at is not None
    assert request.closing_read_id == read.id
    assert client.get(link).status_code == 410


def test_forged_link_is_a_404(client):
    assert client.get("/letture/not-a-real-token").status_code == 404


def test_reminders_until_answered_and_at_most_three(app, session, inbox, mailer, links):
    unmonitored(app)
    requests = open_requests_for_period(session, PERIOD_END, NOW)
    send_requests(session, requests, mailer, links, NOW)
    assert due_reminders(session, NOW + timedelta(days=1)) == []
    moment = NOW
    for _ in range(5):
        moment += timedelta(days=3)
        send_requests(session, due_reminders(session, moment), mailer, links, moment, reminder=True)
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects.count("Promemoria: lettura contatori al 30/11/2026") == 3
    assert len(subjects) == 4
