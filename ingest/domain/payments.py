"""Payments against invoices: amounts typed by staff, money received, what is still due.

Any amount received is recorded as it is: an under- or over-payment is kept and said, never
rounded away (``Invoice.balance``), and the invoice is paid once nothing is due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from ingest.domain.billing import money
from ingest.domain.errors import DomainError
from ingest.models import Invoice, Payment

MSG_AMOUNT_EMPTY = "Enter the amount received."
MSG_AMOUNT_NOT_NUMBER = "The amount {text} is not a number: write it like 172,63 or 1.234,56."
MSG_AMOUNT_NOT_POSITIVE = "A payment must be more than zero (got {amount})."
MSG_PAID = "Payment of {amount} registered on {number}: the invoice is paid."
MSG_UNDERPAID = "Payment of {amount} registered on {number}: {due} is still due."
MSG_OVERPAID = (
    "Payment of {amount} registered on {number}: {excess} more than was due; "
    "the overpayment is recorded on the invoice."
)
MSG_CREDITED = "Payment of {amount} registered on {number}, which credit notes fully cancel."


def payment_amount(text: str) -> Decimal:
    """An amount typed by staff, or a clear reason why it is not one."""
    if not text or not text.strip():
        raise DomainError("bad_amount", MSG_AMOUNT_EMPTY)
    try:
        amount = parse_amount(text)
    except (InvalidOperation, ValueError) as err:
        raise DomainError("bad_amount", MSG_AMOUNT_NOT_NUMBER.format(text=repr(text))) from err
    if amount <= 0:
        raise DomainError("bad_amount", MSG_AMOUNT_NOT_POSITIVE.format(amount=amount))
    return money(amount)


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """A registered payment and where the invoice stands after it."""

    payment: Payment
    invoice: Invoice

    @property
    def message(self) -> str:
        """What staff are told: paid, still due, or overpaid by how much."""
        invoice, amount = self.invoice, self.payment.amount
        if invoice.credited >= invoice.gross:
            return MSG_CREDITED.format(amount=amount, number=invoice.number)
        if invoice.balance > 0:
            return MSG_UNDERPAID.format(amount=amount, number=invoice.number, due=invoice.balance)
        if invoice.balance < 0:
            return MSG_OVERPAID.format(
                amount=amount, number=invoice.number, excess=-invoice.balance
            )
        return MSG_PAID.format(amount=amount, number=invoice.number)


def register_payment(
    session: Session,
    invoice: Invoice,
    amount: Decimal,
    paid_on: date,
    *,
    reference: str | None = None,
    source: str = "manual",
) -> PaymentOutcome:
    """Record money received, whatever the amount: an under- or over-payment is kept as such
    (``Invoice.balance`` says which) and the invoice is paid once nothing is due."""
    if amount <= 0:
        raise DomainError("bad_amount", MSG_AMOUNT_NOT_POSITIVE.format(amount=amount))
    payment = Payment(
        invoice_id=invoice.id,
        amount=money(amount),
        paid_on=paid_on,
        reference=(reference or "")[:300] or None,
        source=source,
        created_at=datetime.now(UTC),
    )
    session.add(payment)
    session.flush()
    session.refresh(invoice)
    if invoice.balance <= 0 and invoice.status != "paid":
        invoice.status, invoice.paid_on = "paid", paid_on
    return PaymentOutcome(payment, invoice)


def parse_amount(text: str) -> Decimal:
    """``1.234,56``, ``1,234.56``, ``1234,56`` or ``€ 1234.56``: the last separator is decimal.
    Accounting negatives, ``(12,50)`` and ``12,50-``, are negative."""
    stripped = text.strip()
    if (stripped.startswith("(") and stripped.endswith(")")) or stripped.endswith("-"):
        return -abs(parse_amount(stripped.strip("()-")))
    clean = re.sub(r"[^\d,.\-]", "", text)
    decimal_at = max(clean.rfind(","), clean.rfind("."))
    if decimal_at >= 0 and len(clean) - decimal_at - 1 in (1, 2):
        clean = re.sub(r"[,.]", "", clean[:decimal_at]) + "." + clean[decimal_at + 1 :]
    else:
        clean = re.sub(r"[,.]", "", clean)
    return Decimal(clean)
