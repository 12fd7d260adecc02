"""Corrections of issued invoices: credit notes ("nota di credito", "factura rectificativa").

An issued invoice is never edited or deleted (the models refuse it); what was billed wrongly is
given back by a credit note, numbered in its own gap-free series and linked to the invoice.  A
note may credit the whole invoice or part of its net amount; together they never exceed it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.billing import money
from ingest.domain.errors import DomainError
from ingest.domain.numbering import next_number
from ingest.models import CreditNote, Invoice, User

MSG_NO_REASON = "Say why the invoice is corrected (the reason is printed on the credit note)."
MSG_NOT_POSITIVE = "A credit note gives back more than zero (got {amount})."
MSG_TOO_MUCH = "Invoice {number} has only {left} (net) left to credit; {amount} asked."
MSG_NO_DOCUMENT = "No document numbered {number}."
MSG_BEFORE_INVOICE = "A credit note cannot be dated before the invoice it corrects ({day})."


def creditable_net(invoice: Invoice) -> Decimal:
    """The part of the invoice's net amount no credit note has given back yet."""
    return invoice.net - sum((note.net for note in invoice.credit_notes), Decimal("0.00"))


def issue_credit_note(
    session: Session,
    invoice: Invoice,
    *,
    reason: str,
    issued_on: date,
    now: datetime,
    net: Decimal | None = None,
    by: User | None = None,
) -> CreditNote:
    """Credit ``net`` (default: everything still creditable) of ``invoice``, with the invoice's
    VAT rate; the caller commits.  A fully credited unpaid invoice is no longer due."""
    if not reason.strip():
        raise DomainError("bad_credit_note", MSG_NO_REASON)
    if issued_on < invoice.issued_on:
        raise DomainError(
            "bad_credit_note", MSG_BEFORE_INVOICE.format(day=f"{invoice.issued_on:%d/%m/%Y}")
        )
    left = creditable_net(invoice)
    amount = money(left if net is None else net)
    if amount <= 0:
        raise DomainError("bad_credit_note", MSG_NOT_POSITIVE.format(amount=amount))
    if amount > left:
        raise DomainError(
            "bad_credit_note",
            MSG_TOO_MUCH.format(number=invoice.number, left=left, amount=amount),
            409,
        )
    vat = money(amount * invoice.vat_rate)
    note = CreditNote(
        number=next_number(session, "credit_note", issued_on.year),
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        issued_on=issued_on,
        reason=" ".join(reason.split())[:500],
        net=amount,
        vat_rate=invoice.vat_rate,
        vat=vat,
        gross=amount + vat,
        created_at=now,
        created_by_id=by.id if by else None,
    )
    session.add(note)
    session.flush()
    session.refresh(invoice)
    if invoice.status == "open" and invoice.balance <= 0:
        invoice.status = "paid" if invoice.paid_total > 0 else "credited"
        invoice.paid_on = issued_on if invoice.paid_total > 0 else None
    return note


def credit_notes_of(session: Session, customer_id: int | None) -> list[CreditNote]:
    """Credit notes, newest first (one customer's, or all for staff)."""
    query = select(CreditNote).order_by(CreditNote.issued_on.desc(), CreditNote.id.desc())
    if customer_id is not None:
        query = query.where(CreditNote.customer_id == customer_id)
    return list(session.scalars(query))


def find_document(
    session: Session, model: type[Invoice] | type[CreditNote], number: str
) -> Invoice | CreditNote:
    """An invoice or credit note by its number; a clear error when there is none."""
    found = session.scalar(select(model).where(model.number == number.strip()))
    if found is None:
        raise DomainError("not_found", MSG_NO_DOCUMENT.format(number=number), 404)
    return found
