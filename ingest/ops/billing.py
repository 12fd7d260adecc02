"""Billing runs, invoices, payments and the ERP exports."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.invoicing import (
    commit_run,
    import_bank_csv,
    invoice_lines_csv,
    invoices_by_customer,
    meter_reads_csv,
    month_period,
    preview_run,
    register_payment,
)
from ingest.downloads import download
from ingest.forms import BankImportForm, BillingForm, PaymentForm
from ingest.models import Invoice
from ingest.ops.blueprint import blueprint


@blueprint.route("/billing", methods=["GET", "POST"])
@staff_required
def billing() -> str:
    """Preview a month's run; commit it from the preview page."""
    form = BillingForm(month=_last_month())
    preview = None
    if form.validate_on_submit():
        preview = preview_run(db_session(), month_period(form.month.data or ""))
    return render_template("ops/billing.html", form=form, preview=preview)


@blueprint.post("/billing/commit")
@staff_required
def billing_commit() -> WerkzeugResponse:
    """Write the invoices of a run (recomputed, never taken from the preview page)."""
    form = BillingForm()
    if not form.validate_on_submit():
        abort(400)
    invoices = commit_run(
        db_session(),
        month_period(form.month.data or ""),
        issued_on=form.issued_on.data or date.today(),
    )
    flash(
        ngettext(
            "%(num)d invoice issued: %(numbers)s.",
            "%(num)d invoices issued: %(numbers)s.",
            len(invoices),
            numbers=", ".join(i.number for i in invoices) or "—",
        ),
        "ok",
    )
    return redirect(url_for("ops.invoices"))


@blueprint.get("/invoices")
@staff_required
def invoices() -> str:
    """Every invoice, with payment registration and bank import."""
    grouped = invoices_by_customer(db_session(), None)
    forms = {
        i.id: PaymentForm(prefix=f"p{i.id}", paid_on=date.today(), amount=i.gross)
        for i in grouped.get("open", [])
    }
    return render_template("ops/invoices.html", grouped=grouped, forms=forms, bank=BankImportForm())


@blueprint.post("/invoices/<int:invoice_id>/payments")
@staff_required
def add_payment(invoice_id: int) -> WerkzeugResponse:
    """Register a payment by hand."""
    session = db_session()
    invoice = session.get(Invoice, invoice_id) or abort(404)
    form = PaymentForm(prefix=f"p{invoice_id}")
    if form.validate_on_submit() and form.amount.data is not None and form.paid_on.data:
        register_payment(
            session, invoice, form.amount.data, form.paid_on.data, reference=form.reference.data
        )
        session.commit()
        flash(_("Payment registered on %(number)s.", number=invoice.number), "ok")
    return redirect(url_for("ops.invoices"))


@blueprint.post("/invoices/bank-import")
@staff_required
def bank_import() -> WerkzeugResponse:
    """Match a bank statement's rows to open invoices."""
    form = BankImportForm()
    if form.validate_on_submit():
        text = form.statement.data.read(2_000_000).decode("utf-8-sig", "replace")
        session = db_session()
        report = import_bank_csv(session, text)
        session.commit()
        flash(
            _(
                "Payments matched: %(count)d; unmatched: %(unmatched)s.",
                count=len(report.matched),
                unmatched="; ".join(report.unmatched) or "—",
            ),
            "ok",
        )
    return redirect(url_for("ops.invoices"))


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


def _last_month() -> str:
    today = date.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year}-{month:02d}"
