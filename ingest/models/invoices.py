"""Invoices, their lines (each linked to the meter reads it was computed from) and payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    event,
    false,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ingest.models.accounts import Customer
from ingest.models.base import Base
from ingest.models.fleet import Contract, Machine
from ingest.models.meters import MeterRead

AMOUNT = Numeric(12, 2)

invoice_line_reads = Table(
    "invoice_line_reads",
    Base.metadata,
    Column("line_id", ForeignKey("invoice_lines.id"), primary_key=True),
    Column("read_id", ForeignKey("meter_reads.id"), primary_key=True),
)


class DocumentCounter(Base):
    """The last number used per document kind and year, incremented inside the document's own
    transaction (so numbers have no gaps): invoices, orders, delivery notes."""

    __tablename__ = "document_counters"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int]


class Invoice(Base):
    """A customer's invoice for one billing period."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    issued_on: Mapped[date]
    due_on: Mapped[date]
    period_start: Mapped[date]
    period_end: Mapped[date]
    net: Mapped[Decimal] = mapped_column(AMOUNT)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    vat: Mapped[Decimal] = mapped_column(AMOUNT)
    #: Why there is no VAT (FatturaPA "Natura" and the legal wording), when the rate is zero.
    vat_nature: Mapped[str | None] = mapped_column(String(8))
    vat_note: Mapped[str | None] = mapped_column(String(300))
    gross: Mapped[Decimal] = mapped_column(AMOUNT)
    status: Mapped[str] = mapped_column(String(16), default="open")
    paid_on: Mapped[date | None]
    created_at: Mapped[datetime]
    #: Staff chose "bill to date": the period had not ended when it was billed (said on the
    #: invoice), and the rest of it is billed by a later run.
    to_date: Mapped[bool] = mapped_column(default=False, server_default=false())

    customer: Mapped[Customer] = relationship()
    credit_notes: Mapped[list[CreditNote]] = relationship(
        back_populates="invoice", order_by="CreditNote.id"
    )
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.id"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="invoice", order_by="Payment.paid_on"
    )

    @property
    def paid_total(self) -> Decimal:
        """Money received so far."""
        return sum((p.amount for p in self.payments), Decimal("0.00"))

    @property
    def credited(self) -> Decimal:
        """What credit notes took back (gross)."""
        return sum((c.gross for c in self.credit_notes), Decimal("0.00"))

    @property
    def balance(self) -> Decimal:
        """Still due: positive when underpaid, negative when overpaid."""
        return self.gross - self.credited - self.paid_total

    @property
    def payment_state(self) -> str:
        """``open``, ``partly_paid``, ``paid`` or ``overpaid``: what payments say."""
        if self.balance < 0:
            return "overpaid"
        if self.balance == 0:
            return "paid"
        return "partly_paid" if self.paid_total > 0 else "open"


class InvoiceLine(Base):
    """One machine's charge for a span; ``kind`` is ``period`` or ``true_up``."""

    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("contract_id", "kind", "span_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    span_start: Mapped[date]
    span_end: Mapped[date]
    description: Mapped[str] = mapped_column(String(500))
    start_mono: Mapped[int] = mapped_column(BigInteger)
    start_colour: Mapped[int] = mapped_column(BigInteger)
    end_mono: Mapped[int] = mapped_column(BigInteger)
    end_colour: Mapped[int] = mapped_column(BigInteger)
    pages_mono: Mapped[int] = mapped_column(BigInteger)
    pages_colour: Mapped[int] = mapped_column(BigInteger)
    included_mono: Mapped[int] = mapped_column(BigInteger)
    included_colour: Mapped[int] = mapped_column(BigInteger)
    overage_mono: Mapped[int] = mapped_column(BigInteger)
    overage_colour: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[Decimal] = mapped_column(AMOUNT)
    overage_amount: Mapped[Decimal] = mapped_column(AMOUNT)
    minimum: Mapped[Decimal] = mapped_column(AMOUNT)
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    interpolated: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(String(500), default="")

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    machine: Mapped[Machine] = relationship()
    contract: Mapped[Contract] = relationship()
    reads: Mapped[list[MeterRead]] = relationship(secondary=invoice_line_reads)


class Payment(Base):
    """Money received against an invoice, registered by staff or imported from the bank."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    paid_on: Mapped[date]
    reference: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]

    invoice: Mapped[Invoice] = relationship(back_populates="payments")


class CreditNote(Base):
    """A correction of an issued invoice ("nota di credito", "factura rectificativa").

    Issued invoices are never edited or deleted: money given back is a document of its own,
    numbered without gaps in its own series and linked to the invoice it corrects.
    """

    __tablename__ = "credit_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    issued_on: Mapped[date]
    reason: Mapped[str] = mapped_column(String(500))
    net: Mapped[Decimal] = mapped_column(AMOUNT)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    vat: Mapped[Decimal] = mapped_column(AMOUNT)
    gross: Mapped[Decimal] = mapped_column(AMOUNT)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    invoice: Mapped[Invoice] = relationship(back_populates="credit_notes")
    customer: Mapped[Customer] = relationship()


#: What may still change on an issued invoice: whether (and when) it has been paid.
MUTABLE_INVOICE_FIELDS: Final = frozenset({"status", "paid_on"})
_ISSUED: Final = (Invoice, InvoiceLine, CreditNote)


class IssuedDocumentError(Exception):
    """An attempt to edit or delete an issued invoice, line or credit note."""


@event.listens_for(Session, "before_flush")
def _issued_documents_stay(session: Session, _context: Any, _instances: Any) -> None:
    """Refuse, at the last gate before the database, any edit or deletion of an issued
    document; corrections are credit notes."""
    for row in session.deleted:
        if isinstance(row, _ISSUED):
            raise IssuedDocumentError(f"{type(row).__name__} {row.id} cannot be deleted")
    for row in session.dirty:
        if not isinstance(row, _ISSUED) or not session.is_modified(row):
            continue
        allowed = MUTABLE_INVOICE_FIELDS if isinstance(row, Invoice) else frozenset()
        changed = {
            attr.key
            for attr in inspect(row).attrs
            if attr.history.has_changes()
            and attr.key not in ("lines", "payments", "credit_notes", "reads")
        }
        if changed - allowed:
            raise IssuedDocumentError(
                f"{type(row).__name__} {row.id}: {', '.join(sorted(changed - allowed))} "
                "cannot change once issued"
            )
