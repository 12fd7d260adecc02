"""Billing runs, invoices and payments: the database side of ``ingest.domain.billing``.

A run is computed twice: once as a preview staff can read, then again inside the commit's own
transaction (never trusting a stale preview).  Invoice numbers come from a per-year counter
incremented in that same transaction, so a failed run leaves no gap.  Every line keeps links to
the meter reads it used (and through them to the signed batches).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.billing import (
    BillingProblemError,
    Boundary,
    ContractTerms,
    LineAmounts,
    Period,
    add_months,
    at_midnight,
    bill_period,
    contract_year_ending_in,
    invoice_totals,
    money,
    period_containing,
    true_up,
)
from ingest.domain.errors import DomainError
from ingest.domain.meters import billable_points, flagged_reads
from ingest.domain.numbering import next_number
from ingest.models import (
    Contract,
    Customer,
    Invoice,
    InvoiceLine,
    Machine,
    MeterRead,
    Payment,
)

DEFAULT_VAT_RATE = Decimal("0.22")
DEFAULT_PAYMENT_DAYS = 30
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def month_period(text: str) -> Period:
    """``YYYY-MM`` as a calendar-month period; the unit a billing run is asked for."""
    match = _MONTH_RE.match(text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise DomainError("bad_period", f"expected YYYY-MM, got {text!r}")
    start = date(int(match[1]), int(match[2]), 1)
    return Period(start, add_months(start, 1))


def terms_of(contract: Contract) -> ContractTerms:
    """The stored contract as billing terms."""
    return ContractTerms(
        mono_rate=contract.mono_rate,
        colour_rate=contract.colour_rate,
        start=contract.start,
        end=contract.end,
        included_mono=contract.included_mono,
        included_colour=contract.included_colour,
        fixed_fee=contract.fixed_fee,
        minimum_charge=contract.minimum_charge,
        period=contract.period,
        interpolate=contract.interpolate,
        true_up=contract.true_up,
    )


@dataclass(frozen=True, slots=True)
class DraftLine:
    """A line a run would invoice."""

    machine: Machine
    contract: Contract
    kind: str
    amounts: LineAmounts

    @property
    def description(self) -> str:
        """What the invoice says about this line."""
        what = "Conguaglio copie" if self.kind == "true_up" else "Costo copia"
        span = self.amounts.span
        return (
            f"{what} {self.machine.scm_id} {self.machine.model or ''} "
            f"s/n {self.machine.serial}, {span.start:%d/%m/%Y}-"
            f"{span.end - timedelta(days=1):%d/%m/%Y}"
        ).replace("  ", " ")


@dataclass(frozen=True, slots=True)
class Blocked:
    """A machine the run cannot bill yet, and why (staff must act first)."""

    machine: Machine
    reason: str


@dataclass
class CustomerDraft:
    """One customer's part of a run: the future invoice."""

    customer: Customer
    lines: list[DraftLine] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        """Sum of the line totals."""
        return money(sum((line.amounts.total for line in self.lines), Decimal(0)))


@dataclass(frozen=True, slots=True)
class RunPreview:
    """What a billing run for ``month`` would invoice."""

    month: Period
    customers: list[CustomerDraft]

    @property
    def line_count(self) -> int:
        """Lines over all customers."""
        return sum(len(c.lines) for c in self.customers)


def preview_run(session: Session, month: Period, customer_id: int | None = None) -> RunPreview:
    """Every contract period (and true-up) that ends with ``month``, not invoiced yet."""
    drafts: dict[int, CustomerDraft] = {}
    carried: dict[tuple[int, date], Boundary] = {}  # (machine, span end) -> end counters
    query = (
        select(Contract).join(Machine).order_by(Machine.customer_id, Machine.scm_id, Contract.start)
    )
    if customer_id is not None:
        query = query.where(Machine.customer_id == customer_id)
    for contract in session.scalars(query):
        machine = contract.machine
        draft = drafts.setdefault(machine.customer_id, CustomerDraft(machine.customer))
        _draft_contract(session, contract, month, draft, carried)
    customers = [d for d in drafts.values() if d.lines or d.blocked]
    return RunPreview(month, customers)


def _draft_contract(
    session: Session,
    contract: Contract,
    month: Period,
    draft: CustomerDraft,
    carried: dict[tuple[int, date], Boundary],
) -> None:
    terms = terms_of(contract)
    if contract.end is not None and contract.end < month.start - timedelta(days=366):
        return  # long over: not even a true-up can fall in this month
    period = period_containing(month.end - timedelta(days=1), terms.period)
    if period.end != month.end:
        return  # a quarterly contract is billed in the run of the quarter's last month
    wanted = [("period", period)]
    window = contract_year_ending_in(terms, period)
    if window is not None:
        wanted.append(("true_up", window))
    points = None
    for kind, span in wanted:
        if _already_invoiced(session, contract, kind, span, terms):
            continue
        waiting = [
            r
            for r in flagged_reads(session, contract.machine)
            if span.start <= r.taken_at.date() <= span.end
        ]
        if waiting:
            draft.blocked.append(
                Blocked(
                    contract.machine, f"{len(waiting)} flagged meter read(s) waiting for review"
                )
            )
            return
        points = points if points is not None else billable_points(session, contract.machine)
        try:
            amounts = (
                bill_period(
                    terms, span, points, _carried_start(session, contract, terms, span, carried)
                )
                if kind == "period"
                else true_up(terms, span, points)
            )
        except BillingProblemError as err:
            draft.blocked.append(Blocked(contract.machine, str(err)))
            continue
        if amounts is not None:
            draft.lines.append(DraftLine(contract.machine, contract, kind, amounts))
            if kind == "period":
                carried[(contract.machine_id, amounts.span.end)] = amounts.end


def _carried_start(
    session: Session,
    contract: Contract,
    terms: ContractTerms,
    period: Period,
    carried: dict[tuple[int, date], Boundary],
) -> Boundary | None:
    """Where the machine's previous period ended (invoiced, or drafted earlier in this run) when
    it ended where this one starts, whatever contract billed it: counters are continued, never
    re-estimated."""
    span_start = max(period.start, terms.start)
    if (contract.machine_id, span_start) in carried:
        return carried[(contract.machine_id, span_start)]
    previous = session.scalar(
        select(InvoiceLine)
        .where(
            InvoiceLine.machine_id == contract.machine_id,
            InvoiceLine.kind == "period",
            InvoiceLine.span_end == span_start - timedelta(days=1),
        )
        .order_by(InvoiceLine.id.desc())
        .limit(1)
    )
    if previous is None:
        return None
    end_reads = tuple(
        r.id for r in previous.reads if r.taken_at >= at_midnight(span_start) - timedelta(days=45)
    )
    return Boundary(
        at_midnight(span_start),
        previous.end_mono,
        previous.end_colour,
        end_reads,
        interpolated=False,
    )


def _already_invoiced(
    session: Session, contract: Contract, kind: str, span: Period, terms: ContractTerms
) -> bool:
    start = max(span.start, terms.start) if kind == "period" else span.start
    return (
        session.scalar(
            select(InvoiceLine.id).where(
                InvoiceLine.contract_id == contract.id,
                InvoiceLine.kind == kind,
                InvoiceLine.span_start == start,
            )
        )
        is not None
    )


def commit_run(
    session: Session,
    month: Period,
    *,
    issued_on: date,
    customer_id: int | None = None,
    vat_rate: Decimal = DEFAULT_VAT_RATE,
    payment_days: int = DEFAULT_PAYMENT_DAYS,
) -> list[Invoice]:
    """Recompute the run and write one invoice per customer with lines; commits once."""
    invoices = []
    for draft in preview_run(session, month, customer_id).customers:
        if draft.lines:
            invoices.append(
                _write_invoice(session, draft, month, issued_on, vat_rate, payment_days)
            )
    session.commit()
    return invoices


def _write_invoice(
    session: Session,
    draft: CustomerDraft,
    month: Period,
    issued_on: date,
    vat_rate: Decimal,
    payment_days: int,
) -> Invoice:
    totals = invoice_totals([line.amounts.total for line in draft.lines], vat_rate)
    invoice = Invoice(
        number=next_invoice_number(session, issued_on.year),
        customer_id=draft.customer.id,
        issued_on=issued_on,
        due_on=issued_on + timedelta(days=payment_days),
        period_start=month.start,
        period_end=month.end - timedelta(days=1),
        net=totals.net,
        vat_rate=vat_rate,
        vat=totals.vat,
        gross=totals.gross,
        status="open",
        created_at=datetime.now(UTC),
    )
    session.add(invoice)
    session.flush()
    for line in draft.lines:
        session.add(_line_row(session, invoice, line))
    session.flush()
    return invoice


def _line_row(session: Session, invoice: Invoice, line: DraftLine) -> InvoiceLine:
    a = line.amounts
    reads = list(session.scalars(select(MeterRead).where(MeterRead.id.in_(a.read_ids))))
    return InvoiceLine(
        invoice_id=invoice.id,
        machine_id=line.machine.id,
        contract_id=line.contract.id,
        kind=line.kind,
        span_start=a.span.start,
        span_end=a.span.end - timedelta(days=1),
        description=line.description[:500],
        start_mono=a.start.mono,
        start_colour=a.start.colour,
        end_mono=a.end.mono,
        end_colour=a.end.colour,
        pages_mono=a.pages_mono,
        pages_colour=a.pages_colour,
        included_mono=a.included_mono,
        included_colour=a.included_colour,
        overage_mono=a.overage_mono,
        overage_colour=a.overage_colour,
        fee=a.fee,
        overage_amount=a.overage_amount,
        minimum=a.minimum,
        amount=a.total,
        interpolated=a.start.interpolated or a.end.interpolated,
        notes="; ".join(a.notes)[:500],
        reads=reads,
    )


def next_invoice_number(session: Session, year: int) -> str:
    """``YYYY/NNNNNN``, without gaps (see ``ingest.domain.numbering``)."""
    return next_number(session, "invoice", year)


def register_payment(
    session: Session,
    invoice: Invoice,
    amount: Decimal,
    paid_on: date,
    *,
    reference: str | None = None,
    source: str = "manual",
) -> Payment:
    """Record money received; the invoice is paid once payments cover its gross total."""
    if amount <= 0:
        raise DomainError("bad_amount", "a payment must be positive")
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
    paid = sum((p.amount for p in invoice.payments), Decimal(0))
    if paid >= invoice.gross and invoice.status != "paid":
        invoice.status, invoice.paid_on = "paid", paid_on
    return payment


@dataclass
class BankImport:
    """What an import of a bank statement did."""

    matched: list[tuple[str, Decimal]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)


_INVOICE_NUMBER_RE = re.compile(r"\b(\d{4})/(\d{1,6})\b")


def import_bank_csv(session: Session, text: str) -> BankImport:
    """Match statement rows (date, amount, description) to invoices by the number they quote.

    Columns are found by header name (``date``/``data``, ``amount``/``importo``,
    ``description``/``causale``); amounts may use a decimal comma.  Rows that quote no known
    invoice are reported, never guessed.
    """
    report = BankImport()
    try:
        rows = list(csv.DictReader(io.StringIO(text), delimiter=_delimiter(text)))
    except csv.Error as err:
        report.unmatched.append(f"unreadable file: {err}")
        return report
    for number, row in enumerate(rows, start=2):
        fields = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        try:
            paid_on = date.fromisoformat(_pick(fields, "date", "data"))
            amount = parse_amount(_pick(fields, "amount", "importo"))
        except (ValueError, InvalidOperation):
            report.unmatched.append(f"row {number}: unreadable date or amount")
            continue
        description = _pick(fields, "description", "causale", "descrizione")
        invoice = _quoted_invoice(session, description)
        if invoice is None or amount <= 0:
            report.unmatched.append(f"row {number}: no open invoice quoted in {description!r}")
            continue
        if _already_imported(session, invoice, amount, paid_on, description):
            report.unmatched.append(f"row {number}: already imported")
            continue
        register_payment(
            session, invoice, amount, paid_on, reference=description, source="bank_csv"
        )
        report.matched.append((invoice.number, money(amount)))
    return report


def _already_imported(
    session: Session, invoice: Invoice, amount: Decimal, paid_on: date, reference: str
) -> bool:
    """The same statement row imported before (importing a file twice pays nothing twice)."""
    return (
        session.scalar(
            select(Payment.id).where(
                Payment.invoice_id == invoice.id,
                Payment.amount == money(amount),
                Payment.paid_on == paid_on,
                Payment.reference == (reference[:300] or None),
                Payment.source == "bank_csv",
            )
        )
        is not None
    )


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


def _delimiter(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return ";" if first.count(";") > first.count(",") else ","


def _pick(fields: dict[str, str], *names: str) -> str:
    return next((fields[n] for n in names if n in fields), "")


def _quoted_invoice(session: Session, description: str) -> Invoice | None:
    for year, serial in _INVOICE_NUMBER_RE.findall(description):
        invoice = session.scalar(
            select(Invoice).where(Invoice.number == f"{year}/{int(serial):06d}")
        )
        if invoice is not None and invoice.status == "open":
            return invoice
    return None


def meter_reads_csv(session: Session, customer_id: int | None = None) -> str:
    """Every meter read with its provenance, for the dealer's ERP."""
    query = (
        select(MeterRead, Machine)
        .join(Machine, Machine.id == MeterRead.machine_id)
        .order_by(Machine.scm_id, MeterRead.taken_at)
    )
    if customer_id is not None:
        query = query.where(Machine.customer_id == customer_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "read_id",
            "scm_id",
            "serial",
            "taken_at",
            "source",
            "mono",
            "colour",
            "offset_mono",
            "offset_colour",
            "status",
            "flags",
            "batch_id",
            "signature_verified",
            "entered_by",
        ]
    )
    for read, machine in session.execute(query):
        writer.writerow(
            [
                read.id,
                machine.scm_id,
                machine.serial,
                read.taken_at.isoformat(),
                read.source,
                read.mono,
                read.colour,
                read.offset_mono,
                read.offset_colour,
                read.status,
                read.flags,
                read.batch.batch_uuid if read.batch else "",
                read.signature_verified,
                read.entered_by_name or "",
            ]
        )
    return out.getvalue()


def invoice_lines_csv(session: Session, customer_id: int | None = None) -> str:
    """Every invoice line with the reads it came from, for the dealer's ERP."""
    query = select(InvoiceLine).join(Invoice).order_by(Invoice.number, InvoiceLine.id)
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "invoice",
            "issued_on",
            "customer",
            "scm_id",
            "kind",
            "span_start",
            "span_end",
            "pages_mono",
            "pages_colour",
            "included_mono",
            "included_colour",
            "amount",
            "interpolated",
            "read_ids",
        ]
    )
    for line in session.scalars(query):
        writer.writerow(
            [
                line.invoice.number,
                line.invoice.issued_on.isoformat(),
                line.invoice.customer.name,
                line.machine.scm_id,
                line.kind,
                line.span_start.isoformat(),
                line.span_end.isoformat(),
                line.pages_mono,
                line.pages_colour,
                line.included_mono,
                line.included_colour,
                f"{line.amount:.2f}",
                line.interpolated,
                " ".join(str(r.id) for r in line.reads),
            ]
        )
    return out.getvalue()


def invoices_by_customer(session: Session, customer_id: int | None) -> dict[str, list[Invoice]]:
    """Invoices grouped open/paid, newest first (the portal's "Fatture")."""
    query = select(Invoice).order_by(Invoice.issued_on.desc(), Invoice.number.desc())
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    grouped: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in session.scalars(query):
        grouped[invoice.status].append(invoice)
    return grouped
