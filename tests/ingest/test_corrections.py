"""Corrections: issued invoices never change; credit notes (own gap-free series, linked, PDF,
FatturaPA TD04) correct them; contract changes are dated and billed from their effective day."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from a38 import fattura as fpa
from a38.validation import Validation
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select
from support.fleet import DEALER, add_machine, push, utc
from support.web import add_user, csrf_token, sign_in

from ingest.cli import main
from ingest.domain.corrections import issue_credit_note
from ingest.domain.einvoice import DEALER_ENV, DealerIdentity, EInvoiceError, invoice_xml
from ingest.domain.errors import DomainError
from ingest.domain.invoicing import commit_run, month_period
from ingest.domain.machines import change_contract
from ingest.models import Contract, CreditNote, Customer, Invoice, Machine
from ingest.models.invoices import IssuedDocumentError

NOW = datetime(2026, 12, 5, 10, tzinfo=UTC)

LATER = datetime(2027, 1, 2, tzinfo=UTC)


@pytest.fixture
def clock():
    """Readings of December 2026 and January 2027 are pushed: the ingest lives after them."""
    return lambda: LATER


@pytest.fixture
def issued(app, client, agent, session):
    """Two invoices of Rossi srl (November, then the 1e9-fee-like December) with fiscal data."""
    add_machine(app, contract={"fixed_fee": "25"})
    for month, total in ((11, 1000), (12, 4000)):
        push(client, agent, utc(2026, month, 1), total)
    push(client, agent, utc(2027, 1, 1), 5000)
    customer = session.scalar(select(Customer))
    customer.vat_number, customer.sdi_code = "IT01234567890", "ABC1234"
    customer.street, customer.postcode, customer.city = "Via Roma 1", "20100", "Milano"
    session.commit()
    first = commit_run(session, month_period("2026-11"), issued_on=date(2026, 12, 2))[0]
    second = commit_run(session, month_period("2026-12"), issued_on=date(2027, 1, 2))[0]
    return first, second


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda i: setattr(i, "net", Decimal(1)), "net"),
        (lambda i: setattr(i, "number", "2026/000099"), "number"),
        (lambda i: setattr(i.lines[0], "amount", Decimal(1)), "amount"),
    ],
)
def test_an_issued_invoice_is_never_edited(session, issued, change, field):
    change(issued[0])
    with pytest.raises(IssuedDocumentError, match=field):
        session.flush()
    session.rollback()


def test_an_issued_invoice_is_never_deleted(session, issued):
    session.delete(issued[0])
    with pytest.raises(IssuedDocumentError, match="cannot be deleted"):
        session.flush()
    session.rollback()


@pytest.mark.parametrize(
    ("net", "reason", "refused"),
    [
        (None, "Canone errato", None),
        (Decimal("10.00"), "Sconto concordato", None),
        (Decimal("0"), "zero", "more than zero"),
        (Decimal("1000"), "too much", "has only 55.00"),
        (None, "  ", "Say why"),
    ],
)
def test_credit_notes_correct_an_invoice(session, issued, net, reason, refused):
    invoice = issued[0]
    if refused:
        with pytest.raises(DomainError, match=refused):
            issue_credit_note(
                session, invoice, reason=reason, issued_on=NOW.date(), now=NOW, net=net
            )
        return
    note = issue_credit_note(
        session, invoice, reason=reason, issued_on=NOW.date(), now=NOW, net=net
    )
    session.commit()
    assert note.number == "NC-2026-00001"
    assert note.invoice is invoice and note.customer_id == invoice.customer_id
    assert note.net == (net or invoice.net)
    assert note.vat == (note.net * invoice.vat_rate).quantize(Decimal("0.01"))
    assert invoice.balance == invoice.gross - note.gross
    assert invoice.status == ("credited" if net is None else "open")


def test_credit_notes_number_without_gaps_and_never_exceed_the_invoice(session, issued):
    first, second = issued
    numbers = [
        issue_credit_note(s, inv, reason="r", issued_on=day, now=NOW, net=Decimal("5")).number
        for s, inv, day in (
            (session, first, date(2026, 12, 5)),
            (session, second, date(2027, 1, 5)),
            (session, first, date(2027, 1, 6)),
        )
    ]
    assert numbers == ["NC-2026-00001", "NC-2027-00001", "NC-2027-00002"]
    with pytest.raises(DomainError, match="left to credit"):
        issue_credit_note(
            session, first, reason="r", issued_on=NOW.date(), now=NOW, net=Decimal("45.01")
        )


def test_the_portal_shows_the_credit_note_beside_the_invoice(app, client, session, issued):
    invoice = issued[1]
    note = issue_credit_note(
        session, invoice, reason="Canone errato", issued_on=date(2027, 1, 5), now=NOW
    )
    session.commit()
    add_user(app, "anna@rossi.example", "Rossi srl")
    sign_in(client, "anna@rossi.example")
    page = client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert f'data-number="{note.number}"' in page and "Canone errato" in page
    assert note.number in client.get("/invoices").get_data(as_text=True)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "it"  # an Italian reader's PDF
    pdf = client.get(f"/credit-notes/{note.id}.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert f"Nota di credito n. {note.number}" in text
    assert f"Rettifica della fattura n. {invoice.number}" in text
    add_machine(app, "Bianchi spa", scm_id="SCM-B1", serial="B-1")
    add_user(app, "bruno@bianchi.example", "Bianchi spa")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, "bruno@bianchi.example")
    assert client.get(f"/credit-notes/{note.id}.pdf").status_code == 404


def test_staff_issue_a_credit_note_from_the_invoices_page(app, client, session, issued):
    app.config["SCM_TODAY"] = date(2027, 1, 10)
    invoice = issued[0]
    add_user(app, "staff@scm.example", staff=True)
    sign_in(client, "staff@scm.example")
    page = client.post(
        f"/ops/invoices/{invoice.id}/credit-notes",
        data={
            "csrf_token": csrf_token(client, "/ops/invoices"),
            f"c{invoice.id}-amount": "5,00",
            f"c{invoice.id}-reason": "Sconto",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"Credit note NC-2027-00001 issued for invoice {invoice.number}." in page
    assert session.scalar(select(CreditNote)).net == Decimal("5.00")


def parsed(data: bytes) -> fpa.Fattura:
    document = fpa.auto_from_etree(ET.fromstring(data))
    validation = Validation()
    document.validate(validation)
    assert validation.errors == []
    return document


def test_fatturapa_xml_of_an_invoice_and_a_credit_note(session, issued):
    invoice = issued[0]
    dealer = DealerIdentity.from_env(DEALER)
    document = parsed(invoice_xml(invoice, dealer))
    header, [body] = document.fattura_elettronica_header, document.fattura_elettronica_body
    assert header.dati_trasmissione.formato_trasmissione == "FPR12"
    assert header.dati_trasmissione.codice_destinatario == "ABC1234"
    assert header.cedente_prestatore.dati_anagrafici.id_fiscale_iva.id_codice == "09876543210"
    assert header.cessionario_committente.dati_anagrafici.id_fiscale_iva.id_codice == "01234567890"
    general = body.dati_generali.dati_generali_documento
    assert (general.tipo_documento, general.numero) == ("TD01", invoice.number)
    assert general.importo_totale_documento == invoice.gross
    [summary] = body.dati_beni_servizi.dati_riepilogo
    assert (summary.imponibile_importo, summary.imposta) == (invoice.net, invoice.vat)

    from ingest.domain.einvoice import credit_note_xml

    note = issue_credit_note(
        session, invoice, reason="Canone errato", issued_on=NOW.date(), now=NOW
    )
    credit = parsed(credit_note_xml(note, dealer)).fattura_elettronica_body[0]
    assert credit.dati_generali.dati_generali_documento.tipo_documento == "TD04"
    [linked] = credit.dati_generali.dati_fatture_collegate
    assert linked.id_documento == invoice.number


@pytest.mark.parametrize(
    ("dealer_env", "customer_change", "message"),
    [
        ({**DEALER, "SCM_DEALER_VAT_NUMBER": ""}, {}, "SCM_DEALER_VAT_NUMBER"),
        (DEALER, {"sdi_code": None}, "SDI code or PEC"),
        (DEALER, {"vat_number": None}, "VAT number or tax code"),
        (DEALER, {"sdi_code": None, "pec": "rossi@pec.example"}, None),
        (DEALER, {"vat_number": None, "tax_code": "RSSMRA80A01F205X"}, None),
    ],
)
def test_missing_fiscal_data_is_named(session, issued, dealer_env, customer_change, message):
    customer = issued[0].customer
    for name, value in customer_change.items():
        setattr(customer, name, value)
    if message is None:
        assert parsed(invoice_xml(issued[0], DealerIdentity.from_env(dealer_env)))
        return
    with pytest.raises(EInvoiceError, match=message):
        invoice_xml(issued[0], DealerIdentity.from_env(dealer_env))


@pytest.fixture
def run(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SCM_DATABASE_URL", database_url)
    monkeypatch.setenv("SCM_INSTANCE_PATH", str(tmp_path))
    for name in DEALER_ENV.values():
        monkeypatch.delenv(name, raising=False)

    def invoke(*args):
        return CliRunner().invoke(main, list(args))

    return invoke


def test_invoice_xml_and_credit_note_commands(run, issued, tmp_path, monkeypatch):
    invoice = issued[0]
    out = tmp_path / "fattura.xml"
    missing = run("invoice", "xml", invoice.number, "--out", str(out))
    assert missing.exit_code == 1 and "SCM_DEALER_NAME" in missing.output
    for name, value in DEALER.items():
        monkeypatch.setenv(name, value)
    done = run("invoice", "xml", invoice.number, "--out", str(out))
    assert done.exit_code == 0, done.output
    assert parsed(out.read_bytes()).fattura_elettronica_body[0].dati_generali
    note = run(
        "invoice",
        "credit-note",
        invoice.number,
        "--reason",
        "Canone errato",
        "--issued-on",
        "2027-01-10",
        "--out",
        str(tmp_path / "nc.pdf"),
    )
    assert note.exit_code == 0, note.output
    number = re.search(r"credit note (NC-\d{4}-\d{5})", note.output)[1]
    assert run("invoice", "xml", number, "--out", str(tmp_path / "nc.xml")).exit_code == 0
    assert (tmp_path / "nc.pdf").read_bytes().startswith(b"%PDF")
    assert run("invoice", "xml", "2026/999999", "--out", str(out)).exit_code == 1


def test_staff_download_the_xml(app, client, issued, monkeypatch):
    add_user(app, "staff@scm.example", staff=True)
    sign_in(client, "staff@scm.example")
    invoice = issued[0]
    refused = client.get(f"/ops/invoices/{invoice.id}.xml", follow_redirects=True)
    assert (
        "No electronic invoice: the dealer&#39;s fiscal identity is incomplete"
        in refused.get_data(as_text=True)
    )
    for name, value in DEALER.items():
        monkeypatch.setenv(name, value)
    response = client.get(f"/ops/invoices/{invoice.id}.xml")
    assert response.headers["Content-Type"].startswith("application/xml")
    assert parsed(response.data)


def test_a_contract_change_is_billed_from_its_effective_day(app, client, agent, session):
    machine_id = add_machine(app, contract={"fixed_fee": "30"})
    for day, total in ((1, 0), (16, 1500), (30, 3000)):
        push(client, agent, utc(2026, 11, day), total)
    push(client, agent, utc(2026, 12, 1), 3100)
    machine = session.get(Machine, machine_id)
    change_contract(session, machine, date(2026, 11, 16), {"mono_rate": "0.02"})
    session.commit()
    [invoice] = commit_run(session, month_period("2026-11"), issued_on=date(2026, 12, 2))
    before, after = sorted(invoice.lines, key=lambda line: line.span_start)
    assert (before.span_end, after.span_start) == (date(2026, 11, 15), date(2026, 11, 16))
    assert (before.pages_mono, after.pages_mono) == (1500, 1600)
    assert (before.overage_amount, after.overage_amount) == (Decimal("15.00"), Decimal("32.00"))
    assert before.fee + after.fee == Decimal("30.00")
    contracts = session.scalars(select(Contract).order_by(Contract.start)).all()
    assert [c.mono_rate for c in contracts] == [Decimal("0.01"), Decimal("0.02")]
    with pytest.raises(DomainError, match="invoiced up to 2026-11-30"):
        change_contract(session, machine, date(2026, 11, 20), {"mono_rate": "0.03"})
    with pytest.raises(DomainError, match="Please confirm"):
        change_contract(session, machine, date(2026, 12, 10), {"fixed_fee": "1e9"})
    session.rollback()
    assert session.scalar(select(Contract).where(Contract.start == date(2026, 11, 16))).end is None


def test_contract_change_command(run, app, session):
    add_machine(app)
    result = run(
        "contract", "change", "--machine", "SCM-0001", "--effective", "2026-06-01",
        "--mono-rate", "0.008",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "from 2026-06-01: mono_rate" in result.output
    big = run(
        "contract",
        "change",
        "--machine",
        "SCM-0001",
        "--effective",
        "2026-07-01",
        "--fixed-fee",
        "1e9",
    )
    assert big.exit_code == 1 and "Please confirm" in big.output
    session.expire_all()
    assert [c.start for c in session.scalars(select(Contract).order_by(Contract.start))] == [
        date(2026, 1, 1),
        date(2026, 6, 1),
    ]
    nothing = run("contract", "change", "--machine", "SCM-0001", "--effective", "2026-07-01")
    assert nothing.exit_code == 2
    assert session.scalar(select(Invoice)) is None
