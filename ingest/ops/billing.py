"""Billing runs, invoices, payments, credit notes and the ERP exports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.bank_statements import (
    ROW_MATCHED,
    ROW_SKIPPED,
    ROW_UNREADABLE,
    decode_statement,
    import_bank_csv,
)
from ingest.domain.corrections import creditable_net, issue_credit_note
from ingest.domain.einvoice import (
    DealerIdentity,
    EInvoiceError,
    credit_note_xml,
    invoice_xml,
    xml_file_name,
)
from ingest.domain.errors import DomainError
from ingest.domain.invoicing import (
    billing_until,
    changes_since_last_run,
    commit_run,
    invoice_lines_csv,
    invoices_by_customer,
    meter_reads_csv,
    month_period,
    preview_run,
)
from ingest.domain.payments import payment_amount, register_payment
from ingest.downloads import download
from ingest.error_texts import error_text
from ingest.forms import BankImportForm, BillingForm, CreditNoteForm, PaymentForm, form_errors
from ingest.i18n import N_
from ingest.models import CreditNote, Invoice, User
from ingest.ops.blueprint import blueprint

#: What the billing pages say (one sentence each, ready for gettext).
MSG_ISSUED = N_("{count} invoice(s) issued: {numbers}.")
MSG_NONE_ISSUED = N_("No invoice issued: nothing left to bill for this month.")
MSG_IMPORT = N_("{matched} row(s) matched, {skipped} skipped, {unreadable} unreadable.")
MSG_CREDITED = N_("Credit note {number} issued for invoice {invoice}.")
MSG_NO_XML = N_("No electronic invoice: {reason}.")
MSG_ON_INVOICE = "{number}: {reason}"


@blueprint.route("/billing", methods=["GET", "POST"])
@staff_required
def billing() -> str:
    """Preview a month's run beside the last committed one; commit it from the preview."""
    form = BillingForm(month=_last_month())
    preview, changes = None, []
    if form.validate_on_submit():
        session, today = db_session(), _today()
        month = month_period(form.month.data or "")
        try:
            until = billing_until(month, today, to_date=bool(form.to_date.data))
        except DomainError as err:
            flash(error_text(err), "warn")
        else:
            preview = preview_run(session, month, until=until)
            changes = changes_since_last_run(session, preview)
    return render_template("ops/billing.html", form=form, preview=preview, changes=changes)


@blueprint.post("/billing/commit")
@staff_required
def billing_commit() -> WerkzeugResponse:
    """Write the invoices of a run (recomputed, never taken from the preview page)."""
    form = BillingForm()
    if not form.validate_on_submit():
        abort(400)
    today = _today()
    try:
        invoices = commit_run(
            db_session(),
            month_period(form.month.data or ""),
            issued_on=form.issued_on.data or today,
            today=today,
            to_date=bool(form.to_date.data),
            release=request.form.getlist("release"),
        )
    except DomainError as err:
        flash(error_text(err), "error")
        return redirect(url_for("ops.billing"))
    if invoices:
        numbers = ", ".join(i.number for i in invoices)
        flash(MSG_ISSUED.format(count=len(invoices), numbers=numbers), "ok")
    else:
        flash(_(MSG_NONE_ISSUED), "warn")
    return redirect(url_for("ops.invoices"))


@blueprint.get("/invoices")
@staff_required
def invoices() -> str:
    """Every invoice, with payment registration, credit notes and bank import."""
    grouped = invoices_by_customer(db_session(), None)
    today = _today()
    every = [i for group in grouped.values() for i in group]
    forms = {
        i.id: PaymentForm(prefix=f"p{i.id}", paid_on=today, amount=str(i.balance))
        for i in every
        if i.balance > 0
    }
    credit = {i.id: CreditNoteForm(prefix=f"c{i.id}") for i in every if creditable_net(i) > 0}
    return render_template(
        "ops/invoices.html", grouped=grouped, forms=forms, credit=credit, bank=BankImportForm()
    )


@blueprint.post("/invoices/<int:invoice_id>/payments")
@staff_required
def add_payment(invoice_id: int) -> WerkzeugResponse:
    """Register a payment by hand; a wrong amount is said, an over- or under-payment too."""
    session = db_session()
    invoice = session.get(Invoice, invoice_id) or abort(404)
    form = PaymentForm(prefix=f"p{invoice_id}")
    if not form.validate_on_submit() or form.paid_on.data is None:
        flash(form_errors(form), "error")
        return redirect(url_for("ops.invoices"))
    try:
        amount = payment_amount(form.amount.data or "")
        outcome = register_payment(
            session, invoice, amount, form.paid_on.data, reference=form.reference.data
        )
    except DomainError as err:
        flash(MSG_ON_INVOICE.format(number=invoice.number, reason=error_text(err)), "error")
        return redirect(url_for("ops.invoices"))
    session.commit()
    flash(outcome.message, "ok" if invoice.balance == 0 else "warn")
    return redirect(url_for("ops.invoices"))


@blueprint.post("/invoices/<int:invoice_id>/credit-notes")
@staff_required
def add_credit_note(invoice_id: int) -> WerkzeugResponse:
    """Correct an issued invoice with a credit note (the invoice itself never changes)."""
    session = db_session()
    invoice = session.get(Invoice, invoice_id) or abort(404)
    form = CreditNoteForm(prefix=f"c{invoice_id}")
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(url_for("ops.invoices"))
    now = datetime.now(UTC)
    try:
        net = payment_amount(form.amount.data) if (form.amount.data or "").strip() else None
        note = issue_credit_note(
            session,
            invoice,
            reason=form.reason.data or "",
            issued_on=_today(),
            now=now,
            net=net,
            by=session.get(User, current_user.user_id),
        )
    except DomainError as err:
        flash(MSG_ON_INVOICE.format(number=invoice.number, reason=error_text(err)), "error")
        return redirect(url_for("ops.invoices"))
    session.commit()
    flash(MSG_CREDITED.format(number=note.number, invoice=invoice.number), "ok")
    return redirect(url_for("ops.invoices"))


@blueprint.get("/invoices/<int:invoice_id>.xml")
@staff_required
def invoice_xml_download(invoice_id: int) -> Response | WerkzeugResponse:
    """The invoice as FatturaPA XML, for the dealer's SDI intermediary."""
    invoice = db_session().get(Invoice, invoice_id) or abort(404)
    return _xml(lambda dealer: invoice_xml(invoice, dealer), invoice.number)


@blueprint.get("/credit-notes/<int:note_id>.xml")
@staff_required
def credit_note_xml_download(note_id: int) -> Response | WerkzeugResponse:
    """A credit note as FatturaPA XML (TD04)."""
    note = db_session().get(CreditNote, note_id) or abort(404)
    return _xml(lambda dealer: credit_note_xml(note, dealer), note.number)


def _xml(build: Callable[[DealerIdentity], bytes], number: str) -> Response | WerkzeugResponse:
    try:
        dealer = DealerIdentity.from_env()
        data = build(dealer)
    except EInvoiceError as err:
        flash(MSG_NO_XML.format(reason=err), "error")
        return redirect(url_for("ops.invoices"))
    return download(data, xml_file_name(dealer, number), "application/xml")


@blueprint.post("/invoices/bank-import")
@staff_required
def bank_import() -> str | WerkzeugResponse:
    """Match a bank statement's rows to open invoices; the page lists what each row did."""
    form = BankImportForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(url_for("ops.invoices"))
    text = decode_statement(form.statement.data.read(2_000_000))
    session = db_session()
    report = import_bank_csv(session, text)
    session.commit()
    flash(
        _(MSG_IMPORT).format(
            matched=report.count(ROW_MATCHED),
            skipped=report.count(ROW_SKIPPED),
            unreadable=report.count(ROW_UNREADABLE),
        ),
        "ok" if report.rows and not report.problem else "warn",
    )
    return render_template("ops/bank_import.html", report=report)


@blueprint.get("/exports/meter-reads.csv")
@staff_required
def export_meter_reads() -> Response:
    """All meter reads with provenance, for the ERP."""
    return download(meter_reads_csv(db_session()), "meter-reads.csv", "text/csv")


@blueprint.get("/exports/invoice-lines.csv")
@staff_required
def export_invoice_lines() -> Response:
    """All invoice lines with their reads, for the ERP."""
    return download(invoice_lines_csv(db_session()), "invoice-lines.csv", "text/csv")


def _today() -> date:
    """Today for the billing rules: the clock, or ``SCM_TODAY`` where a test pins the date."""
    pinned = current_app.config.get("SCM_TODAY")
    return pinned if isinstance(pinned, date) else datetime.now(UTC).date()


def _last_month() -> str:
    today = _today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year}-{month:02d}"
