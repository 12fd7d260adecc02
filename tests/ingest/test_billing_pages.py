"""Portal and ops pages of the registry and billing, through the real forms (with CSRF)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from support.fleet import add_machine, push, utc
from support.ingest import enroll_agent, issue_token
from support.web import add_user, csrf_token, enter_read, sign_in

from ingest.db import database
from ingest.domain.invoicing import commit_run, month_period
from ingest.models import Contract, Invoice, Machine, MeterRead

LATER = datetime(2027, 1, 2, tzinfo=UTC)


@pytest.fixture
def clock():
    """Readings of December 2026 and January 2027 are pushed: the ingest lives after them."""
    return lambda: LATER


@pytest.fixture
def fleet(app, client, agent):
    """Rossi srl (this agent) and Bianchi spa, one machine each with November reads."""
    add_machine(app, "Rossi srl", scm_id="SCM-R1", serial="R-1")
    add_machine(app, "Bianchi spa", scm_id="SCM-B1", serial="B-1")
    other = enroll_agent(client, issue_token(app, "Bianchi spa"))
    for who, serial in ((agent, "R-1"), (other, "B-1")):
        push(client, who, utc(2026, 11, 1), 1000, colour=100, serial=serial)
        push(client, who, utc(2026, 12, 1), 4000, colour=600, serial=serial)
    add_user(app, "anna@rossi.example", "Rossi srl")
    add_user(app, "staff@scm.example", staff=True)
    with database(app).session() as db:
        commit_run(db, month_period("2026-11"), issued_on=date(2026, 12, 2))
        return {m.scm_id: m.id for m in db.scalars(select(Machine))} | {
            i.customer.name: i.id for i in db.scalars(select(Invoice))
        }


def test_customer_sees_own_machines_counters_and_contract(client, fleet):
    sign_in(client, "anna@rossi.example")
    page = client.get("/machines").get_data(as_text=True)
    assert "SCM-R1" in page and "SCM-B1" not in page
    assert "Ufficio Acquisti, primo piano" in page
    assert "B/W 3,400 · colour 600" in page  # total 4000 = 3400 mono + 600 colour
    assert "Monthly" in page


def test_location_change_is_scoped_to_the_customer(client, fleet, session):
    sign_in(client, "anna@rossi.example")
    path = f"/machines/{fleet['SCM-R1']}/location"
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "location": "Reception, piano terra"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Machine, fleet["SCM-R1"]).location == "Reception, piano terra"
    foreign = f"/machines/{fleet['SCM-B1']}/location"
    assert client.get(foreign).status_code == 404
    assert client.post(foreign, data={"csrf_token": token, "location": "x"}).status_code == 404


def test_customer_enters_a_meter_read_in_the_portal(app, client, agent, fleet, session):
    now = datetime.now(UTC)
    machine_id = add_machine(app, "Rossi srl", scm_id="SCM-R9", serial="R-9")
    push(client, agent, now - timedelta(days=20), 1500, colour=200, serial="R-9")
    sign_in(client, "anna@rossi.example")
    token = csrf_token(client, "/meter-reads")

    def enter(day, mono, colour):
        return enter_read(client, machine_id, day, mono, colour)

    assert "Reading for SCM-R9 recorded. Thank you." in enter(now.date(), 1800, 260)
    read = session.scalar(select(MeterRead).where(MeterRead.source == "manual"))
    assert (read.mono, read.colour, read.entered_by_name) == (1800, 260, "anna@rossi.example")
    assert "will be checked by SCM" in enter(now.date(), 10, 0)
    assert "at most 14 days back" in enter((now - timedelta(days=30)).date(), 1900, 270)
    assert "in the future" in enter((now + timedelta(days=3)).date(), 1900, 270)
    assert (
        session.scalar(
            select(func.count()).select_from(MeterRead).where(MeterRead.source == "manual")
        )
        == 2
    )
    other = client.post(f"/machines/{fleet['SCM-B1']}/reads", data={"csrf_token": token})
    assert other.status_code == 404


def test_invoices_are_listed_and_downloaded_only_by_their_customer(client, fleet):
    sign_in(client, "anna@rossi.example")
    page = client.get("/invoices").get_data(as_text=True)
    assert "2026/00000" in page
    assert page.count('data-number="') == 1
    own = client.get(f"/invoices/{fleet['Rossi srl']}.pdf")
    assert own.status_code == 200
    assert own.data.startswith(b"%PDF")
    assert client.get(f"/invoices/{fleet['Bianchi spa']}.pdf").status_code == 404
    assert client.get(f"/invoices/{fleet['Bianchi spa']}").status_code == 404
    detail = client.get(f"/invoices/{fleet['Rossi srl']}").get_data(as_text=True)
    assert "batch " in detail  # each line shows the reads and their signed batches


def test_ops_pages_are_staff_only(client, fleet):
    sign_in(client, "anna@rossi.example")
    for path in (
        "/ops/",
        "/ops/queue",
        "/ops/flags",
        "/ops/billing",
        "/ops/invoices",
        "/ops/exports/meter-reads.csv",
    ):
        assert client.get(path).status_code == 403, path


def test_staff_registers_a_queued_device_as_a_machine(app, client, agent, fleet, session):
    push(client, agent, utc(2026, 11, 3), 500, serial="NEW-1")
    sign_in(client, "staff@scm.example")
    page = client.get("/ops/queue").get_data(as_text=True)
    assert 'data-serial="NEW-1"' in page
    device_id = int(re.search(r"/ops/queue/(\d+)/machine", page)[1])
    token = csrf_token(client, "/ops/queue")
    p = f"d{device_id}-"
    response = client.post(
        f"/ops/queue/{device_id}/machine",
        data={
            "csrf_token": token,
            p + "device_id": str(device_id),
            p + "scm_id": "SCM-NEW",
            p + "serial": "NEW-1",
            p + "site_name": "Magazzino",
            p + "site_address": "Via Po 2",
            p + "location": "Ufficio spedizioni",
            p + "colour": "colour",
            p + "monitored": "y",
            p + "mono_rate": "0.012",
            p + "colour_rate": "0.09",
            p + "period": "monthly",
            p + "start": "2026-11-01",
        },
        follow_redirects=True,
    )
    assert "Machine SCM-NEW registered for Rossi srl." in response.get_data(as_text=True)
    machine = session.scalar(select(Machine).where(Machine.scm_id == "SCM-NEW"))
    assert machine.device_id is not None
    assert machine.site.address == "Via Po 2"
    assert (
        session.scalar(
            select(func.count()).select_from(MeterRead).where(MeterRead.machine_id == machine.id)
        )
        == 1
    )
    contract = session.scalar(select(Contract).where(Contract.machine_id == machine.id))
    assert str(contract.mono_rate).startswith("0.012")


def test_staff_resolves_a_flag_then_bills_and_registers_payment(app, client, agent, fleet, session):
    app.config["SCM_TODAY"] = date(2027, 1, 2)  # December has ended
    push(client, agent, utc(2026, 12, 10), 10, serial="R-1")  # counter reset: flagged
    sign_in(client, "staff@scm.example")
    page = client.get("/ops/flags").get_data(as_text=True)
    read_id = int(re.search(r'data-read="(\d+)"', page)[1])
    # the reads around it, to judge by: 1 December's 3,400 B/W before the reset to 10
    assert re.search(r'class="neighbour">[^<]*: 3[.,]400<', page)
    token = csrf_token(client, "/ops/flags")
    client.post(
        f"/ops/flags/{read_id}",
        data={
            "csrf_token": token,
            f"r{read_id}-action": "offset",
            f"r{read_id}-note": "scheda sostituita",
        },
    )
    session.expire_all()
    assert session.get(MeterRead, read_id).status == "ok"

    push(client, agent, utc(2027, 1, 1), 1010, serial="R-1")
    token = csrf_token(client, "/ops/billing")
    preview = client.post("/ops/billing", data={"csrf_token": token, "month": "2026-12"})
    text = preview.get_data(as_text=True)
    assert "SCM-R1" in text and "Issue invoices" in text
    assert "SCM-B1 not billed: only one usable meter read for this period" in text
    done = client.post(
        "/ops/billing/commit",
        data={"csrf_token": token, "month": "2026-12", "issued_on": "2027-01-02"},
        follow_redirects=True,
    )
    assert "1 invoice(s) issued" in done.get_data(as_text=True)
    invoice = session.scalar(select(Invoice).where(Invoice.issued_on == date(2027, 1, 2)))
    assert invoice.lines[0].pages_mono == 1000 + 4000 - 600 - 3400  # offset continues counters
    token = csrf_token(client, "/ops/invoices")
    client.post(
        f"/ops/invoices/{invoice.id}/payments",
        data={
            "csrf_token": token,
            f"p{invoice.id}-amount": str(invoice.gross),
            f"p{invoice.id}-paid_on": "2027-01-20",
            f"p{invoice.id}-reference": "bonifico",
        },
    )
    session.expire_all()
    assert session.get(Invoice, invoice.id).status == "paid"


def test_bank_statement_upload_and_exports(client, fleet, session):
    sign_in(client, "staff@scm.example")
    invoice = session.get(Invoice, fleet["Rossi srl"])
    statement = (
        f"date,amount,description\n2026-12-20,{invoice.gross},Saldo fattura {invoice.number}\n"
    ).encode()
    token = csrf_token(client, "/ops/invoices")
    response = client.post(
        "/ops/invoices/bank-import",
        data={"csrf_token": token, "statement": (io.BytesIO(statement), "estratto.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "1 row(s) matched, 0 skipped, 0 unreadable." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Invoice, invoice.id).status == "paid"
    export = client.get("/ops/exports/invoice-lines.csv")
    assert export.mimetype == "text/csv"
    assert invoice.number in export.get_data(as_text=True)


def test_the_bank_import_report_speaks_the_staffs_language(client, fleet, session):
    """Outcomes and row messages are stored in English and worded on the page."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "it"
    sign_in(client, "staff@scm.example")
    invoice = session.get(Invoice, fleet["Rossi srl"])
    statement = (
        "date,amount,description\n"
        f"2026-12-20,{invoice.gross},Saldo fattura {invoice.number}\n"
        "2026-12-21,-10,Commissioni\n"
        "ieri,5,Bonifico\n"
    ).encode()
    response = client.post(
        "/ops/invoices/bank-import",
        data={
            "csrf_token": csrf_token(client, "/ops/invoices"),
            "statement": (io.BytesIO(statement), "estratto.csv"),
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert "Importazione estratto conto" in page and "Abbinata" in page
    assert f"riga 2: {invoice.gross} pagati sulla fattura {invoice.number}" in page
    assert "riga 3: -10 è un addebito, non un pagamento" in page
    assert "riga 4: data illeggibile &#39;ieri&#39;" in page
    assert "paid on invoice" not in page and "Outcome" not in page


def statements_of(app, client, path: str) -> int:
    """How many SQL statements one GET of ``path`` runs."""
    seen: list[str] = []
    engine = database(app).engine

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_machines_page_runs_as_many_queries_for_twelve_machines_as_for_one(app, client, agent):
    """A page of cards reads its counters, toner and contracts together, never once per card."""
    add_machine(app, "Rossi srl", scm_id="SCM-R00", serial="R-00")
    push(client, agent, utc(2026, 12, 1), 1000, colour=100, serial="R-00")
    add_user(app, "anna@rossi.example", "Rossi srl")
    sign_in(client, "anna@rossi.example")
    one = statements_of(app, client, "/machines")
    for i in range(1, 12):
        add_machine(app, "Rossi srl", scm_id=f"SCM-R{i:02d}", serial=f"R-{i:02d}")
        push(client, agent, utc(2026, 12, 1), 1000 + i, colour=100, serial=f"R-{i:02d}")
    assert statements_of(app, client, "/machines") == one
    page = client.get("/machines").get_data(as_text=True)
    card = page[page.index('data-scm-id="SCM-R11"') :]
    assert "B/W 911 · colour 100" in card[: card.index("</article>")]
