"""Billing runs and invoices: the database side of ``ingest.domain.billing``.

A run is computed twice: once as a preview staff can read, then again inside the commit's own
transaction (never trusting a stale preview).  Invoice numbers come from a per-year counter
incremented in that same transaction, so a failed run leaves no gap.  Every line keeps links to
the meter reads it used (and through them to the signed batches).  Money received is in
``payments.py``, bank statements in ``bank_statements.py``.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from statistics import median

from sqlalchemy import func, select
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
from ingest.domain.meters import billable_points_around, flagged_reads
from ingest.domain.numbering import next_number
from ingest.domain.vat import VatTreatment, vat_for
from ingest.models import (
    Contract,
    Customer,
    Invoice,
    InvoiceLine,
    Machine,
    MeterRead,
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
    #: Why the line waits for a staff decision (far from the machine's history), if it does.
    held: str | None = None

    @property
    def hold_key(self) -> str:
        """What staff tick to bill the line as it is."""
        return f"line:{self.machine.id}:{self.kind}:{self.amounts.span.start.isoformat()}"

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
    #: Why the invoice total waits for a staff decision, if it does.
    held: str | None = None

    @property
    def hold_key(self) -> str:
        """What staff tick to issue the invoice despite its total."""
        return f"total:{self.customer.id}"

    def holds(self) -> dict[str, str]:
        """Every decision this invoice waits for: key -> reason."""
        found = {line.hold_key: line.held for line in self.lines if line.held}
        if self.held:
            found[self.hold_key] = self.held
        return found

    @property
    def net(self) -> Decimal:
        """Sum of the line totals."""
        return money(sum((line.amounts.total for line in self.lines), Decimal(0)))


@dataclass(frozen=True, slots=True)
class RunPreview:
    """What a billing run for ``month`` would invoice."""

    month: Period
    customers: list[CustomerDraft]
    #: The day billed up to (exclusive) when staff chose "bill to date", else None.
    until: date | None = None

    @property
    def line_count(self) -> int:
        """Lines over all customers."""
        return sum(len(c.lines) for c in self.customers)

    @property
    def last_day(self) -> date | None:
        """The last day billed when billing to date."""
        return self.until - timedelta(days=1) if self.until else None

    def holds(self) -> dict[str, str]:
        """Every decision the run waits for."""
        return {k: v for c in self.customers for k, v in c.holds().items()}


MSG_PERIOD_OPEN = (
    "{month} has not ended yet (it ends on {last}): bill it after that day, "
    'or choose "bill to date" to invoice up to {today}.'
)
MSG_NOTHING_TO_DATE = "Bill to date needs a month that has started."
MSG_HELD = "The run waits for a decision on: {items}."
MSG_LINE_HELD = "{what} is {factor}x this machine's median month ({median})"
MSG_TOTAL_HELD = "net {net} is {factor}x this customer's median invoice ({median})"
#: A line or invoice above this many times its history's median month waits for staff.
HOLD_FACTOR = Decimal(5)
#: How many earlier lines (or invoices) make the history.
HISTORY_LINES = 12


def billing_until(month: Period, today: date, *, to_date: bool) -> date | None:
    """The day a run for ``month`` bills up to (exclusive): None for the whole month.

    A month is billed only once it has ended, unless staff explicitly bill to date: then up to
    and including today, and the invoice says so; the rest of the month follows later.
    """
    if month.end <= today:
        return None
    if not to_date:
        raise DomainError(
            "period_open",
            MSG_PERIOD_OPEN.format(
                month=f"{month.start:%m/%Y}",
                last=f"{month.end - timedelta(days=1):%d/%m/%Y}",
                today=f"{today:%d/%m/%Y}",
            ),
            409,
        )
    if today < month.start:
        raise DomainError("period_open", MSG_NOTHING_TO_DATE, 409)
    return today + timedelta(days=1)


def preview_run(
    session: Session,
    month: Period,
    customer_id: int | None = None,
    *,
    until: date | None = None,
) -> RunPreview:
    """Every contract period (and true-up) that ends with ``month``, not invoiced yet.

    ``until`` bills only up to that day (exclusive): "bill to date" (see ``billing_until``).
    """
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
        _draft_contract(session, contract, month, draft, carried, until)
    customers = [d for d in drafts.values() if d.lines or d.blocked]
    for draft in customers:
        _hold_outliers(session, draft)
    return RunPreview(month, customers, until)


def _draft_contract(
    session: Session,
    contract: Contract,
    month: Period,
    draft: CustomerDraft,
    carried: dict[tuple[int, date], Boundary],
    until: date | None,
) -> None:
    terms = terms_of(contract)
    if contract.end is not None and contract.end < month.start - timedelta(days=366):
        return  # long over: not even a true-up can fall in this month
    period = period_containing(month.end - timedelta(days=1), terms.period)
    if period.end != month.end:
        return  # a quarterly contract is billed in the run of the quarter's last month
    wanted = [("period", period)]
    window = contract_year_ending_in(terms, period) if until is None else None
    if window is not None:
        wanted.append(("true_up", window))
    points = None
    for kind, span in wanted:
        within = _not_invoiced(session, contract, kind, span, terms, until)
        if within is None:
            continue
        waiting = [
            r
            for r in flagged_reads(session, contract.machine)
            if span.start <= r.taken_at.date() <= span.end
        ]
        if waiting:
            draft.blocked.append(
                Blocked(contract.machine, MSG_FLAGGED_WAITING.format(count=len(waiting)))
            )
            return
        if points is None:
            first_day = min(s.start for _, s in wanted)
            points = billable_points_around(session, contract.machine, first_day, period.end)
        try:
            amounts = (
                bill_period(
                    terms,
                    span,
                    points,
                    _carried_start(session, contract, terms, within, carried),
                    within=within,
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


MSG_FLAGGED_WAITING = "{count} flagged meter read(s) waiting for review"


def _not_invoiced(
    session: Session,
    contract: Contract,
    kind: str,
    span: Period,
    terms: ContractTerms,
    until: date | None,
) -> Period | None:
    """The part of ``span`` still to bill for this contract (None: nothing).

    A period billed to date earlier leaves its remaining days; ``until`` cuts what is billed now.
    """
    if kind != "period":
        start = span.start
        done = session.scalar(
            select(InvoiceLine.id).where(
                InvoiceLine.contract_id == contract.id,
                InvoiceLine.kind == kind,
                InvoiceLine.span_start == start,
            )
        )
        return None if done is not None else span
    billed_to = session.scalar(
        select(func.max(InvoiceLine.span_end)).where(
            InvoiceLine.contract_id == contract.id,
            InvoiceLine.kind == "period",
            InvoiceLine.span_start >= span.start,
            InvoiceLine.span_start < span.end,
        )
    )
    start = max(span.start, terms.start)
    if billed_to is not None:
        start = max(start, billed_to + timedelta(days=1))
    end = min(span.end, until) if until is not None else span.end
    return Period(start, end) if start < end else None


def _hold_outliers(session: Session, draft: CustomerDraft) -> None:
    """Hold lines (and invoice totals) far above their history for a staff decision."""
    for index, line in enumerate(draft.lines):
        if line.kind != "period":
            continue
        reason = _line_outlier(session, line)
        if reason:
            draft.lines[index] = DraftLine(
                line.machine, line.contract, line.kind, line.amounts, reason
            )
    history = [
        invoice.net
        for invoice in session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == draft.customer.id)
            .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
            .limit(HISTORY_LINES)
        )
    ]
    factor = _outlier_factor(draft.net, history)
    if factor is not None:
        draft.held = MSG_TOTAL_HELD.format(
            net=draft.net, factor=factor, median=money(Decimal(median(history)))
        )


def _line_outlier(session: Session, line: DraftLine) -> str | None:
    """Pages or amount of a line, per 30 days, against the machine's earlier lines."""
    earlier = session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.machine_id == line.machine.id, InvoiceLine.kind == "period")
        .order_by(InvoiceLine.span_start.desc())
        .limit(HISTORY_LINES)
    ).all()
    if not earlier:
        return None
    a = line.amounts
    for what, now, past in (
        (
            "pages",
            _per_month(a.pages_mono + a.pages_colour, a.span.days),
            [_per_month(r.pages_mono + r.pages_colour, _days(r)) for r in earlier],
        ),
        (
            "amount",
            _per_month(a.total, a.span.days),
            [_per_month(r.amount, _days(r)) for r in earlier],
        ),
    ):
        factor = _outlier_factor(now, past)
        if factor is not None:
            middle = Decimal(median(past))
            shown = money(middle) if what == "amount" else round(middle)
            return MSG_LINE_HELD.format(what=what, factor=factor, median=shown)
    return None


def _days(line: InvoiceLine) -> int:
    return (line.span_end - line.span_start).days + 1


def _per_month(value: Decimal | int, days: int) -> Decimal:
    return Decimal(value) * 30 / max(days, 1)


def _outlier_factor(value: Decimal, history: list[Decimal]) -> Decimal | None:
    """How many times the history's median ``value`` is, when that is above the hold factor."""
    if not history:
        return None
    middle = Decimal(median(history))
    if middle <= 0:
        return None
    factor = value / middle
    return factor.quantize(Decimal("0.1")) if factor > HOLD_FACTOR else None


def _carried_start(
    session: Session,
    contract: Contract,
    terms: ContractTerms,
    within: Period,
    carried: dict[tuple[int, date], Boundary],
) -> Boundary | None:
    """Where the machine's previous period ended (invoiced, or drafted earlier in this run) when
    it ended where this one starts, whatever contract billed it: counters are continued, never
    re-estimated."""
    span_start = max(within.start, terms.start)
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


def commit_run(
    session: Session,
    month: Period,
    *,
    issued_on: date,
    today: date | None = None,
    to_date: bool = False,
    release: Collection[str] = (),
    customer_id: int | None = None,
    vat_rate: Decimal | None = None,
    payment_days: int = DEFAULT_PAYMENT_DAYS,
    dealer_country: str = "IT",
) -> list[Invoice]:
    """Recompute the run and write one invoice per customer with lines; commits once.

    Refused while the month runs (unless ``to_date``) and while lines or totals far from their
    history wait for a decision: ``release`` holds the keys staff chose to bill as they are.
    """
    today = min(today or issued_on, issued_on)
    until = billing_until(month, today, to_date=to_date)
    preview = preview_run(session, month, customer_id, until=until)
    waiting = {k: v for k, v in preview.holds().items() if k not in release}
    if waiting:
        raise DomainError("run_held", MSG_HELD.format(items="; ".join(waiting.values())), 409)
    invoices = []
    for draft in preview.customers:
        if draft.lines:
            invoices.append(
                _write_invoice(
                    session,
                    draft,
                    month,
                    issued_on,
                    _treatment(draft.customer, dealer_country, vat_rate),
                    payment_days,
                    until,
                )
            )
    session.commit()
    return invoices


def _treatment(customer: Customer, dealer_country: str, rate: Decimal | None) -> VatTreatment:
    """The customer's VAT (``ingest.domain.vat``), unless the caller fixes one rate for all."""
    if rate is not None:
        return VatTreatment(rate)
    return vat_for(dealer_country, customer.country, customer.vat_regime, customer.vat_number)


def _write_invoice(
    session: Session,
    draft: CustomerDraft,
    month: Period,
    issued_on: date,
    vat: VatTreatment,
    payment_days: int,
    until: date | None,
) -> Invoice:
    totals = invoice_totals([line.amounts.total for line in draft.lines], vat.rate)
    first_day = min(line.amounts.span.start for line in draft.lines)
    invoice = Invoice(
        number=next_invoice_number(session, issued_on.year),
        customer_id=draft.customer.id,
        issued_on=issued_on,
        due_on=issued_on + timedelta(days=payment_days),
        period_start=min(first_day, month.start),
        period_end=(until or month.end) - timedelta(days=1),
        net=totals.net,
        vat_rate=vat.rate,
        vat=totals.vat,
        vat_nature=vat.nature,
        vat_note=vat.note,
        gross=totals.gross,
        status="open",
        to_date=until is not None,
        created_at=datetime.now(UTC),
    )
    session.add(invoice)
    session.flush()
    for line in draft.lines:
        session.add(_line_row(session, invoice, line))
    session.flush()
    return invoice


@dataclass(frozen=True, slots=True)
class LineChange:
    """One machine's line in a preview beside its line in the last committed run."""

    scm_id: str
    before: InvoiceLine | None
    after: DraftLine | None

    @property
    def pages_delta(self) -> tuple[int, int] | None:
        """B/W and colour pages now minus last time (None when either side is missing)."""
        if self.before is None or self.after is None:
            return None
        a = self.after.amounts
        return a.pages_mono - self.before.pages_mono, a.pages_colour - self.before.pages_colour

    @property
    def amount_delta(self) -> Decimal | None:
        """Amount now minus last time."""
        if self.before is None or self.after is None:
            return None
        return self.after.amounts.total - self.before.amount


@dataclass(frozen=True, slots=True)
class CustomerChange:
    """What a customer's invoice would change against their last committed one."""

    customer: Customer
    last: Invoice | None
    net_after: Decimal
    lines: list[LineChange]


def changes_since_last_run(session: Session, preview: RunPreview) -> list[CustomerChange]:
    """For each customer of the preview: their last invoice, and per machine what changes
    (new machines, machines no longer billed, pages and amounts up or down)."""
    result = []
    for draft in preview.customers:
        last = session.scalar(
            select(Invoice)
            .where(Invoice.customer_id == draft.customer.id)
            .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
            .limit(1)
        )
        before = {
            line.machine.scm_id: line
            for line in (last.lines if last else [])
            if line.kind == "period"
        }
        after = {line.machine.scm_id: line for line in draft.lines if line.kind == "period"}
        lines = [
            LineChange(scm_id, before.get(scm_id), after.get(scm_id))
            for scm_id in sorted(before.keys() | after.keys())
        ]
        result.append(CustomerChange(draft.customer, last, draft.net, lines))
    return result


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
