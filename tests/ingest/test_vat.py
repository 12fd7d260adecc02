"""VAT per customer: the dealer's country's rate at home, none with the legal note otherwise."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ingest.domain.vat import vat_for


@pytest.mark.parametrize(
    ("dealer", "country", "regime", "vat_number", "rate", "nature", "note"),
    [
        ("IT", "IT", "standard", "IT01234567890", "0.22", None, None),
        ("ES", "ES", "standard", "ESB12345678", "0.21", None, None),
        ("IT", "ES", "standard", "ESB12345678", "0", "N3.2", "art. 196 Direttiva 2006/112/CE"),
        ("IT", "ES", "standard", None, "0.22", None, None),  # a private person: Italian VAT
        ("IT", "CH", "standard", "CHE-123", "0.22", None, None),  # outside the EU: not this rule
        ("IT", "IT", "reverse_charge", "IT01234567890", "0", "N6.9", "art. 17 c. 6 DPR 633/72"),
        ("IT", "IT", "exempt", None, "0", "N4", "art. 10 DPR 633/72"),
        ("ES", "ES", "exempt", None, "0", "N4", "art. 20 Ley 37/1992"),
        ("ES", "IT", "standard", "IT01234567890", "0", "N3.2", "Directiva 2006/112/CE"),
    ],
)
def test_vat_for(dealer, country, regime, vat_number, rate, nature, note):
    treatment = vat_for(dealer, country, regime, vat_number)
    assert treatment.rate == Decimal(rate)
    assert treatment.nature == nature
    assert (treatment.note is None) if note is None else (note in treatment.note)


LATER = datetime(2027, 1, 2, tzinfo=UTC)


@pytest.fixture
def clock():
    """December readings are pushed: the ingest lives after them."""
    return lambda: LATER


@pytest.mark.parametrize(
    ("country", "regime", "vat", "nature", "words"),
    [
        ("IT", "standard", "0.22", None, None),
        ("ES", "standard", "0", "N3.2", "2006/112/CE"),
        ("IT", "reverse_charge", "0", "N6.9", "Inversione contabile"),
    ],
)
def test_the_invoice_carries_the_customers_vat_and_says_why_there_is_none(
    app, client, agent, session, monkeypatch, country, regime, vat, nature, words
):
    import io
    from datetime import date

    from pypdf import PdfReader
    from sqlalchemy import select
    from support.fleet import DEALER, add_machine, push, utc

    from ingest.documents import credit_note_pdf, invoice_pdf
    from ingest.domain.corrections import issue_credit_note
    from ingest.domain.einvoice import DealerIdentity, credit_note_xml, invoice_xml
    from ingest.domain.invoicing import commit_run, month_period
    from ingest.models import Customer

    monkeypatch.setenv("SCM_DEALER_IBAN", "IT60 X054 2811 1010 0000 0123 456")
    add_machine(app, contract={"fixed_fee": "25"})
    push(client, agent, utc(2026, 11, 1), 1000)
    push(client, agent, utc(2026, 12, 1), 4000)
    customer = session.scalar(select(Customer))
    customer.country, customer.vat_regime = country, regime
    customer.vat_number = "ESB12345678" if country == "ES" else "IT01234567890"
    customer.tax_code, customer.sdi_code = "01234567890", "ABC1234"
    customer.street, customer.postcode, customer.city = "Via Roma 1", "20100", "Milano"
    session.commit()
    [invoice] = commit_run(session, month_period("2026-11"), issued_on=date(2026, 12, 2))
    assert (invoice.vat_rate, invoice.vat_nature) == (Decimal(vat), nature)
    assert invoice.gross == invoice.net + invoice.vat
    reader = PdfReader(io.BytesIO(invoice_pdf(invoice)))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "IT60 X054 2811 1010 0000 0123 456" in text and "ABC1234" in text
    assert (words is None and invoice.vat_note is None) or words in text
    dealer = DealerIdentity.from_env(DEALER)
    xml = invoice_xml(invoice, dealer).decode()
    assert (f"<Natura>{nature}</Natura>" in xml) if nature else ("<Natura>" not in xml)
    # A credit note of that invoice gives back VAT as the invoice charged it, and says why
    # there is none as the invoice did (FatturaPA refuses a 0 % line without its Natura).
    note = issue_credit_note(
        session, invoice, reason="Rimborso", issued_on=date(2026, 12, 5), now=LATER,
        net=Decimal("10"),
    )  # fmt: skip
    assert note.vat == (Decimal("10") * Decimal(vat)).quantize(Decimal("0.01"))
    credit_xml = credit_note_xml(note, dealer).decode()
    assert (f"<Natura>{nature}</Natura>" in credit_xml) if nature else "<Natura>" not in credit_xml
    reader = PdfReader(io.BytesIO(credit_note_pdf(note)))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert (words is None and "Inversione" not in text) or words in text
