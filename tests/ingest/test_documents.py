"""Invoice PDF: the text a PDF reader extracts shows the customer, lines, reads and totals, in
the customer's language (Italian by default, Spanish when staff set it)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader
from support.fleet import add_machine, push, utc

from ingest.documents import invoice_pdf, pdf_text
from ingest.domain.invoicing import commit_run, month_period
from ingest.i18n import wording
from ingest.models import Customer

LATER = datetime(2027, 1, 2, tzinfo=UTC)


@pytest.fixture
def clock():
    """Readings of December 2026 and January 2027 are pushed: the ingest lives after them."""
    return lambda: LATER


def pdf_text_of(data: bytes) -> str:
    """The PDF's text with no-break spaces as spaces (Babel puts one before the euro)."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\xa0", " ")


def test_invoice_pdf_shows_totals_lines_and_reads(app, client, agent, session):
    add_machine(app, contract={"included_mono": 1000, "fixed_fee": "30"})
    push(client, agent, utc(2026, 11, 1), 12_000, colour=2000)
    push(client, agent, utc(2026, 12, 1), 15_500, colour=2500)
    [invoice] = commit_run(session, month_period("2026-11"), issued_on=date(2026, 12, 2))
    data = invoice_pdf(invoice)
    assert data.startswith(b"%PDF-")
    text = pdf_text_of(data)
    assert f"Fattura n. {invoice.number} del 02/12/2026" in text
    assert "Rossi srl" in text
    assert "SCM-0001" in text
    assert "3.000" in text  # mono pages
    assert "500" in text  # colour pages
    assert "90,00 EUR" in text  # 30 + 2000*0.01 + 500*0.08 = 90
    assert "19,80 EUR" in text  # VAT 22 %
    assert "109,80 EUR" in text
    assert "IVA 22%" in text
    assert "Totale fattura" in text
    assert "Pagina 1/1" in text
    read_ids = sorted(r.id for r in invoice.lines[0].reads)
    assert all(f"#{i}" in text for i in read_ids)


def test_invoice_pdf_in_spanish_for_a_spanish_customer(app, client, agent, session):
    add_machine(app, contract={"included_mono": 1000, "fixed_fee": "30"})
    push(client, agent, utc(2026, 11, 1), 12_000, colour=2000)
    push(client, agent, utc(2026, 12, 1), 15_500, colour=2500)
    [invoice] = commit_run(session, month_period("2026-11"), issued_on=date(2026, 12, 2))
    session.get(Customer, invoice.customer_id).language = "es"
    session.flush()
    text = pdf_text_of(invoice_pdf(invoice))
    assert f"Factura n.º {invoice.number} del 2/12/2026" in text
    assert "Total factura" in text and "Base imponible" in text
    assert "Vencimiento:" in text and "Página 1/1" in text
    assert "109,80 EUR" in text
    for italian in ("Fattura", "Totale", "Scadenza", "Imponibile", "Pagina"):
        assert italian not in text
    english = pdf_text_of(invoice_pdf(invoice, wording("en")))
    assert "Invoice total" in english and "€109.80" not in english and "EUR109.80" in english


def test_many_lines_flow_onto_more_pages(app, client, agent, session):
    for i in range(30):
        add_machine(app, scm_id=f"SCM-{i:04d}", serial=f"S-{i}")
        push(client, agent, utc(2026, 11, 1), 100, serial=f"S-{i}")
        push(client, agent, utc(2026, 12, 1), 200 + i, serial=f"S-{i}")
    [invoice] = commit_run(session, month_period("2026-11"), issued_on=date(2026, 12, 2))
    reader = PdfReader(io.BytesIO(invoice_pdf(invoice)))
    assert len(reader.pages) > 1
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert all(f"SCM-{i:04d}" in text for i in range(30))


def test_text_outside_latin1_does_not_break_the_pdf():
    assert pdf_text("Costo € – ok") == "Costo EUR ? ok"
    assert pdf_text(wording("it").money(Decimal("1234.5"))) == "1.234,50\xa0EUR"
