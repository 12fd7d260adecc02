"""Assistance tickets: opened on one's own machine with attachments, notified by real SMTP,
followed through the status colours, never visible to another customer."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from support.fleet import add_machine
from support.smtp import smtp_server
from support.web import add_user, csrf_token, sign_in
from werkzeug.test import EnvironBuilder

from ingest.models import MeterRead, Ticket


@pytest.fixture
def desk(monkeypatch):
    with smtp_server() as server:
        for name, value in {**server.env(), "SCM_TICKETS_TO": "assistenza@scm.example"}.items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def people(app):
    ids = {
        "rossi": add_machine(app, "Rossi srl", scm_id="SCM-R1", serial="R-1"),
        "bianchi": add_machine(app, "Bianchi spa", scm_id="SCM-B1", serial="B-1"),
    }
    add_user(app, "anna@rossi.example", "Rossi srl")
    add_user(app, "bruno@bianchi.example", "Bianchi spa")
    add_user(app, "staff@scm.example", staff=True)
    return ids


def open_ticket(client, machine_id, **extra):
    token = csrf_token(client, "/tickets/new")
    data = {
        "csrf_token": token,
        "machine_id": str(machine_id),
        "subject": "Inceppamento",
        "description": "Carta inceppata nel cassetto 2, codice J-102.",
        "contact_name": "Anna Rossi",
        "phone": "02 1234",
        "office_hours": "9-13",
        "priority": "high",
        "team": "printing",
        **extra,
    }
    builder = EnvironBuilder(
        path="/tickets/new", method="POST", data=data, content_type="multipart/form-data"
    )
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        builder.close()
        environ["wsgi.input"].close()  # the multipart spool: a real file above 500 KB


def test_customer_opens_a_ticket_with_attachment_and_counters(client, people, desk, session):
    sign_in(client, "anna@rossi.example")
    response = open_ticket(
        client,
        people["rossi"],
        mono="15000",
        colour="300",
        attachments=[(io.BytesIO(b"%PDF-1.4 sample"), "../../prova stampa.pdf")],
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    number = re.search(r"Ticket (TK-\d{4}-\d{5}) created", page)[1]
    ticket = session.scalar(select(Ticket))
    assert ticket.number == number
    assert ticket.status == "requested"
    [attached] = ticket.attachments
    assert attached.filename == "prova stampa.pdf"
    download = client.get(f"/tickets/{ticket.id}/attachments/{attached.id}")
    assert download.data == b"%PDF-1.4 sample"
    assert download.headers["Content-Disposition"].startswith("attachment")
    read = session.scalar(select(MeterRead))
    assert (read.mono, read.source) == (15000, "manual")
    [notice] = desk.messages
    assert notice["To"] == "assistenza@scm.example"
    assert notice["Subject"] == f"[{number}] Inceppamento"
    assert "SCM-R1" in notice.get_content() and "Anna Rossi" in notice.get_content()


def test_tickets_are_private_to_the_customer(client, people, session):
    sign_in(client, "anna@rossi.example")
    assert open_ticket(client, people["bianchi"]).status_code == 200  # not a choice: refused
    assert session.scalar(select(Ticket)) is None
    open_ticket(client, people["rossi"])
    ticket = session.scalar(select(Ticket))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets/")})
    sign_in(client, "bruno@bianchi.example")
    assert client.get(f"/tickets/{ticket.id}").status_code == 404
    assert ticket.number not in client.get("/tickets/").get_data(as_text=True)


def test_staff_moves_the_ticket_and_the_customer_sees_the_colour(client, people, session):
    sign_in(client, "anna@rossi.example")
    open_ticket(client, people["rossi"])
    ticket = session.scalar(select(Ticket))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets/")})
    sign_in(client, "staff@scm.example")
    token = csrf_token(client, f"/tickets/{ticket.id}")
    client.post(
        f"/tickets/{ticket.id}",
        data={"csrf_token": token, "status": "in_progress", "note": "tecnico assegnato: Marco"},
    )
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets/")})
    sign_in(client, "anna@rossi.example")
    listing = client.get("/tickets/").get_data(as_text=True)
    assert 'class="ticket-status blue">In progress' in listing
    detail = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "tecnico assegnato: Marco" in detail
    token = csrf_token(client, "/tickets/")
    client.post(f"/tickets/{ticket.id}", data={"csrf_token": token, "status": "done"})
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == "in_progress"  # customers cannot


def test_too_many_or_too_big_attachments_are_refused(client, people, session):
    sign_in(client, "anna@rossi.example")
    big = [(io.BytesIO(b"x" * (5 * 1024 * 1024 + 10)), "huge.jpg")]
    response = open_ticket(client, people["rossi"], attachments=big)
    assert response.status_code == 400
    assert "over 5 MB" in response.get_data(as_text=True)
    assert session.scalar(select(Ticket)) is None


def test_an_oversized_upload_gets_a_page_not_a_crash(app, client, people, session):
    app.config["MAX_CONTENT_LENGTH"] = 4096  # the real limit is 16 MiB; same code path
    sign_in(client, "anna@rossi.example")
    response = open_ticket(client, people["rossi"], attachments=[(io.BytesIO(b"x" * 8192), "a")])
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert session.scalar(select(Ticket)) is None


def test_attachment_names_with_accents_download_intact(client, people, session):
    sign_in(client, "anna@rossi.example")
    open_ticket(
        client,
        people["rossi"],
        attachments=[(io.BytesIO(b"jpeg"), 'foto perché "€".jpg')],
        subject="Riga\nBcc: intruso@example.com",
    )
    ticket = session.scalar(select(Ticket))
    [attached] = ticket.attachments
    response = client.get(f"/tickets/{ticket.id}/attachments/{attached.id}")
    assert response.status_code == 200
    assert response.data == b"jpeg"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
