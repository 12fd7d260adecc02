"""Alerts over the database with a controllable clock, their tickets, e-mails and webhooks.

Readings arrive through the real signed API; evaluation takes ``now`` as a parameter, so a day
of silence is one argument, not one day. Mail goes to a real SMTP server on loopback and webhooks
to a real HTTP receiver on loopback that checks the signature.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select
from support.fleet import add_machine
from support.ingest import reading
from support.processes import free_tcp_port
from support.smtp import smtp_server

from ingest.domain.accounts import create_user
from ingest.domain.alerts import evaluate_alerts, open_alerts, send_digests
from ingest.domain.outbox import MAX_ATTEMPTS, verify
from ingest.models import (
    Agent,
    Alert,
    AlertSettings,
    Delivery,
    NotificationPreference,
    Ticket,
    TicketEvent,
    WebhookEndpoint,
)
from ingest.notifications import deliver
from shared.reading import Alert as PrinterAlert


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def kinds(session) -> list[str]:
    session.expire_all()
    return sorted(a.kind for a in open_alerts(session))


def post_reading(client, agent, **kw):
    batch_id, body = agent.batch(reading(**kw))
    response = agent.post(client, batch_id, body)
    assert response.status_code == 200, response.get_json()


def test_a_silent_agent_opens_one_alert_after_its_threshold_and_clears_when_heard(
    app, client, agent, session
):
    post_reading(client, agent)
    heard = session.scalar(select(Agent)).last_seen_at
    evaluate_alerts(session, heard + timedelta(minutes=44))
    assert kinds(session) == []
    evaluate_alerts(session, heard + timedelta(minutes=46))
    evaluate_alerts(session, heard + timedelta(minutes=50))
    evaluate_alerts(session, heard + timedelta(minutes=50))
    assert kinds(session) == ["agent_silent"]
    [alert] = open_alerts(session)
    assert alert.opened_at == heard + timedelta(minutes=46)
    assert alert.last_seen_at == heard + timedelta(minutes=50)

    post_reading(client, agent)  # the agent is back
    evaluate_alerts(session, now_utc())
    assert kinds(session) == []
    session.expire_all()
    cleared = session.get(Alert, alert.id)
    assert cleared.cleared_at is not None and cleared.open_key is None
    assert session.scalar(select(func.count()).select_from(Alert)) == 1


def test_a_printer_that_stops_reporting_while_its_agent_lives_is_silent(
    app, client, agent, session
):
    add_machine(app, serial="SN-0001")
    add_machine(app, scm_id="SCM-0002", serial="SN-0002")
    old = now_utc() - timedelta(hours=30)
    post_reading(client, agent, serial="SN-0002", mac="00:11:22:33:44:66", observed_at=old)
    post_reading(client, agent, serial="SN-0001")  # the agent is alive, reads the other one
    evaluate_alerts(session, now_utc())
    [alert] = open_alerts(session)
    assert alert.kind == "device_silent" and "SCM-0002" in alert.message

    post_reading(client, agent, serial="SN-0002", mac="00:11:22:33:44:66")
    evaluate_alerts(session, now_utc())
    assert kinds(session) == []


def test_a_printer_alert_opens_and_clears_as_the_printer_reports_it(app, client, agent, session):
    jam = (PrinterAlert("critical", "jammed", "Paper jam"),)
    batch_id, body = agent.batch(reading(), reading_with(jam))
    assert agent.post(client, batch_id, body).status_code == 200
    evaluate_alerts(session, now_utc())
    assert kinds(session) == ["device_error"]
    post_reading(client, agent)  # the latest reading has no alert any more
    evaluate_alerts(session, now_utc())
    assert kinds(session) == []


def reading_with(alerts):
    from msgspec.structs import replace

    return replace(reading(), alerts=alerts)


def test_automatic_ticket_is_opened_once_and_noted_when_the_alert_clears(
    app, client, agent, session
):
    machine_id = add_machine(app)
    customer_id = session.scalar(select(Agent)).customer_id
    session.add(
        AlertSettings(
            customer_id=customer_id,
            agent_silent_minutes=None,
            device_silent_hours=24,
            auto_ticket_kinds=["device_error"],
        )
    )
    session.commit()
    jam = (PrinterAlert("critical", "doorOpen", "Cover open"),)
    batch_id, body = agent.batch(reading_with(jam))
    assert agent.post(client, batch_id, body).status_code == 200
    for _ in range(3):
        evaluate_alerts(session, now_utc())
    [ticket] = session.scalars(select(Ticket)).all()
    assert ticket.machine_id == machine_id and "Cover open" in ticket.subject
    [alert] = open_alerts(session)
    assert alert.ticket_id == ticket.id

    post_reading(client, agent)
    evaluate_alerts(session, now_utc())
    notes = [e.note for e in session.scalars(select(TicketEvent).order_by(TicketEvent.id))]
    assert notes[-1].startswith("Alert cleared")
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1


@contextmanager
def webhook_receiver(secret: str, answers: list[int]) -> Iterator[list[dict]]:
    """An HTTP server on loopback that verifies each signature and answers from ``answers``."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ok = verify(secret, self.headers["X-SCM-Signature"], body, datetime.now(UTC))
            received.append({"valid": ok, "event": self.headers["X-SCM-Event"], **json.loads(body)})
            self.send_response(answers.pop(0) if answers else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", free_tcp_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        received.append({"url": f"http://127.0.0.1:{server.server_port}/hook"})
        yield received
    finally:
        server.shutdown()
        server.server_close()


def test_webhooks_are_signed_retried_with_backoff_and_logged(app, client, agent, session):
    secret = "s3cret-for-the-erp"
    with webhook_receiver(secret, answers=[500]) as received:
        url = received.pop(0)["url"]
        session.add(WebhookEndpoint(url=url, secret=secret, events=[], created_at=now_utc()))
        session.commit()
        post_reading(client, agent)
        heard = session.scalar(select(Agent)).last_seen_at
        late = heard + timedelta(hours=2)
        evaluate_alerts(session, late)

        first = deliver(session, late)
        assert (first.sent, first.retried) == (0, 1)  # the receiver answered 500
        [delivery] = session.scalars(select(Delivery)).all()
        assert delivery.last_status_code == 500 and delivery.next_attempt_at > late
        assert deliver(session, late).sent == 0  # not due yet: backing off
        second = deliver(session, delivery.next_attempt_at)
        assert second.sent == 1
    assert [r["valid"] for r in received] == [True, True]
    assert received[-1]["event"] == "alert.opened"
    assert received[-1]["data"]["kind"] == "agent_silent"
    session.expire_all()
    assert session.get(Delivery, delivery.id).attempts == 2


def test_a_receiver_refuses_a_forged_or_stale_signature():
    body = b'{"x": 1}'
    from ingest.domain.outbox import sign

    now = datetime.now(UTC)
    header = sign("k", int(now.timestamp()), body)
    assert verify("k", header, body, now)
    assert not verify("other", header, body, now)
    assert not verify("k", header, body + b" ", now)
    assert not verify("k", header, body, now + timedelta(minutes=10))
    assert not verify("k", "garbage", body, now)


def test_a_failing_mail_server_delays_alert_mail_and_loses_nothing(
    app, client, agent, session, monkeypatch
):
    staff = create_user(session, "turno@scm.example", "x" * 12, customer=None, staff=True)
    session.add(NotificationPreference(user_id=staff.id, mode="immediate"))
    session.commit()
    post_reading(client, agent)
    late = session.scalar(select(Agent)).last_seen_at + timedelta(hours=2)
    evaluate_alerts(session, late)

    dead_port = free_tcp_port()  # nothing listens there
    monkeypatch.setenv("SCM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SCM_SMTP_PORT", str(dead_port))
    report = deliver(session, late)
    assert (report.sent, report.retried) == (0, 1)

    with smtp_server() as inbox:
        monkeypatch.setenv("SCM_SMTP_PORT", str(inbox.port))
        assert deliver(session, late + timedelta(hours=7)).sent == 1
    [mail] = inbox.messages
    assert mail["To"] == "turno@scm.example" and "Agente silente" in mail["Subject"]  # Italian


def test_a_delivery_gives_up_after_its_last_attempt(app, client, agent, session):
    session.add(
        WebhookEndpoint(url="http://127.0.0.1:9/", secret="k", events=[], created_at=now_utc())
    )
    session.commit()
    post_reading(client, agent)
    when = session.scalar(select(Agent)).last_seen_at + timedelta(hours=2)
    evaluate_alerts(session, when)
    for _ in range(MAX_ATTEMPTS):
        when += timedelta(days=1)
        deliver(session, when)
    session.expire_all()
    [delivery] = session.scalars(select(Delivery)).all()
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)


def test_the_daily_digest_is_queued_once_a_day(app, client, agent, session):
    create_user(session, "capo@scm.example", "x" * 12, customer=None, staff=True)
    session.commit()
    post_reading(client, agent)
    late = session.scalar(select(Agent)).last_seen_at + timedelta(hours=2)
    evaluate_alerts(session, late)
    assert send_digests(session, late) == 1
    assert send_digests(session, late + timedelta(hours=1)) == 0
    assert send_digests(session, late + timedelta(days=1, minutes=1)) == 1
    mails = session.scalars(select(Delivery).where(Delivery.channel == "email")).all()
    assert [m.address for m in mails] == ["capo@scm.example"] * 2
    assert "Agente silente" in (mails[0].text or "")  # the reader's language: Italian


@pytest.fixture(autouse=True)
def _no_smtp(monkeypatch):
    monkeypatch.delenv("SCM_SMTP_HOST", raising=False)


def test_a_customer_who_orders_toner_itself_gets_no_reorder_but_staff_get_supply_low(
    app, client, agent, session
):
    from support.fleet import add_machine, push

    from ingest.models import Customer, Reorder

    add_machine(app)
    customer = session.scalar(select(Customer))
    customer.auto_reorder = False
    session.commit()
    start = now_utc() - timedelta(days=10)
    for day, level in enumerate((40, 30, 20, 10, 5)):
        push(client, agent, start + timedelta(days=day * 2), 1000 + 300 * day, black=level)
    assert session.scalar(select(func.count()).select_from(Reorder)) == 0
    evaluate_alerts(session, now_utc())
    assert "supply_low" in kinds(session)
