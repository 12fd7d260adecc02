"""Dealer staff pages ("ops"): device queue, flagged reads, billing runs, invoices, exports.

Staff only (403 for customers).  Views stay thin: forms in, a domain call, a template out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from ingest.app import db_session
from ingest.domain.accounts import invite_mail_text, invite_user, password_reset_token
from ingest.domain.errors import DomainError
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
from ingest.domain.machines import add_contract, create_machine, get_or_create_site
from ingest.domain.meters import assign_device, flagged_reads, resolve, unmatched_page
from ingest.domain.pages import page_number
from ingest.domain.read_requests import (
    due_reminders,
    open_requests_for_period,
    send_requests,
)
from ingest.downloads import download
from ingest.forms import (
    AssignForm,
    BankImportForm,
    BillingForm,
    InviteForm,
    MachineForm,
    PaymentForm,
    ReadRequestForm,
    ResolveForm,
)
from ingest.mail import SmtpMailer, mailer_from_env, try_send
from ingest.models import (
    Customer,
    Device,
    Invoice,
    Machine,
    MeterRead,
    MeterReadRequest,
    Reorder,
    User,
)
from ingest.portal import request_links

blueprint = Blueprint("ops", __name__, url_prefix="/ops")
View = TypeVar("View", bound=Callable[..., Any])


def staff_required(view: View) -> View:
    """Signed in and dealer staff."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@blueprint.get("/")
@staff_required
def dashboard() -> str:
    """What needs a person today."""
    session = db_session()
    counts = {
        "queue": unmatched_page(session, 1).total,
        "flags": len(flagged_reads(session)),
        "open_invoices": session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.status == "open")
        ),
        "open_requests": session.scalar(
            select(func.count())
            .select_from(MeterReadRequest)
            .where(MeterReadRequest.closed_at.is_(None))
        ),
        "machines": session.scalar(select(func.count()).select_from(Machine)),
        "reorders": session.scalar(
            select(func.count()).select_from(Reorder).where(Reorder.status == "open")
        ),
    }
    return render_template("ops/dashboard.html", counts=counts)


@blueprint.get("/queue")
@staff_required
def queue() -> str:
    """Devices reported by agents that no machine claims yet."""
    page = unmatched_page(db_session(), page_number(request.args.get("page")))
    devices = page.items
    forms = {d.id: _machine_form_for(d) for d in devices}
    assign = {d.id: _assign_form_for(d) for d in devices}
    return render_template("ops/queue.html", devices=devices, page=page, forms=forms, assign=assign)


def _machine_form_for(device: Device) -> MachineForm:
    return MachineForm(
        prefix=f"d{device.id}",
        device_id=str(device.id),
        serial=device.serial,
        manufacturer=device.manufacturer,
        model=device.model,
        site_name="Sede",
        start=date.today(),
    )


def _assign_form_for(device: Device) -> AssignForm:
    form = AssignForm(prefix=f"a{device.id}")
    form.machine_id.choices = [
        SelectChoice(str(m.id), f"{m.scm_id} {m.model or ''} s/n {m.serial}")
        for m in db_session().scalars(
            select(Machine).where(
                Machine.customer_id == device.customer_id, Machine.device_id.is_(None)
            )
        )
    ]
    return form


@blueprint.post("/queue/<int:device_id>/machine")
@staff_required
def register_machine(device_id: int) -> WerkzeugResponse:
    """Register a queued device as a machine under contract."""
    session = db_session()
    device = session.get(Device, device_id) or abort(404)
    form = MachineForm(prefix=f"d{device_id}")
    if not form.validate_on_submit():
        flash(f"Check the machine form: {form.errors}", "error")
        return redirect(url_for("ops.queue"))
    customer = device.customer
    site = get_or_create_site(
        session, customer, form.site_name.data or "Sede", form.site_address.data or ""
    )
    machine = create_machine(
        session,
        customer,
        scm_id=form.scm_id.data or "",
        serial=form.serial.data or "",
        manufacturer=form.manufacturer.data,
        model=form.model.data,
        location=form.location.data,
        site=site,
        colour=form.colour.data,
        monitored=form.monitored.data,
    )
    if machine.device_id is None:
        assign_device(session, device, machine)
    add_contract(
        session,
        machine,
        mono_rate=form.mono_rate.data or 0,
        colour_rate=form.colour_rate.data or 0,
        start=form.start.data or date.today(),
        end=form.end.data,
        included_mono=form.included_mono.data or 0,
        included_colour=form.included_colour.data or 0,
        fixed_fee=form.fixed_fee.data or 0,
        minimum_charge=form.minimum_charge.data or 0,
        period=form.period.data or "monthly",
        interpolate=form.interpolate.data,
        true_up=form.true_up.data,
    )
    session.commit()
    flash(f"Machine {machine.scm_id} registered for {customer.name}.", "ok")
    return redirect(url_for("ops.queue"))


@blueprint.post("/queue/<int:device_id>/assign")
@staff_required
def assign(device_id: int) -> WerkzeugResponse:
    """Link a queued device to an existing machine (its readings become meter reads)."""
    session = db_session()
    device = session.get(Device, device_id) or abort(404)
    form = _assign_form_for(device)
    if form.validate_on_submit():
        machine = session.get(Machine, form.machine_id.data) or abort(404)
        count = assign_device(session, device, machine)
        session.commit()
        flash(f"Device linked to {machine.scm_id}; {count} meter reads created.", "ok")
    return redirect(url_for("ops.queue"))


@blueprint.get("/flags")
@staff_required
def flags() -> str:
    """Meter reads waiting for a decision."""
    reads = flagged_reads(db_session())
    forms = {r.id: ResolveForm(prefix=f"r{r.id}") for r in reads}
    return render_template("ops/flags.html", reads=reads, forms=forms)


@blueprint.post("/flags/<int:read_id>")
@staff_required
def resolve_flag(read_id: int) -> WerkzeugResponse:
    """Accept, offset or reject a flagged read."""
    session = db_session()
    read = session.get(MeterRead, read_id) or abort(404)
    form = ResolveForm(prefix=f"r{read_id}")
    if form.validate_on_submit():
        staff = session.get(User, int(current_user.id))
        resolve(session, read, form.action.data or "", by=staff, note=form.note.data or "")
        session.commit()
        flash(f"Read #{read_id}: {form.action.data}.", "ok")
    return redirect(url_for("ops.flags"))


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
        f"{len(invoices)} invoice(s) issued: {', '.join(i.number for i in invoices) or 'none'}.",
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
        flash(f"Payment registered on {invoice.number}.", "ok")
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
            f"{len(report.matched)} payment(s) matched; unmatched: "
            f"{'; '.join(report.unmatched) or 'none'}.",
            "ok",
        )
    return redirect(url_for("ops.invoices"))


@blueprint.route("/read-requests", methods=["GET", "POST"])
@staff_required
def read_requests() -> str | WerkzeugResponse:
    """Send meter-read requests for a closing period, and due reminders."""
    form = ReadRequestForm()
    if form.validate_on_submit() and form.period_end.data:
        session, now = db_session(), datetime.now(UTC)
        created = open_requests_for_period(
            session, form.period_end.data, now, form.silent_days.data or 7
        )
        sent = send_requests(session, created, _mailer(), request_links(), now)
        reminded = send_requests(
            session, due_reminders(session, now), _mailer(), request_links(), now, reminder=True
        )
        session.commit()
        flash(
            f"{len(created)} request(s) created, {sent} e-mail(s) sent, {reminded} reminder(s).",
            "ok",
        )
        return redirect(url_for("ops.read_requests"))
    pending = (
        db_session()
        .scalars(
            select(MeterReadRequest).order_by(
                MeterReadRequest.period_end.desc(), MeterReadRequest.id
            )
        )
        .all()
    )
    return render_template("ops/read_requests.html", form=form, requests=pending)


@blueprint.get("/exports/meter-reads.csv")
@staff_required
def export_meter_reads() -> Response:
    """All meter reads with provenance, for the ERP."""
    return _csv(meter_reads_csv(db_session()), "meter-reads.csv")


@blueprint.get("/exports/invoice-lines.csv")
@staff_required
def export_invoice_lines() -> Response:
    """All invoice lines with their reads, for the ERP."""
    return _csv(invoice_lines_csv(db_session()), "invoice-lines.csv")


def _csv(text: str, name: str) -> Response:
    return download(text, name, "text/csv")


def _mailer() -> SmtpMailer:
    mailer = mailer_from_env()
    if mailer is None:
        raise DomainError("mail_disabled", "no SMTP server configured (SCM_SMTP_HOST)", 503)
    return mailer


def _last_month() -> str:
    today = date.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year}-{month:02d}"


@blueprint.get("/customers")
@staff_required
def customers() -> str:
    """Customers with their contacts, users and machines; staff invite new portal users here."""
    db = db_session()
    rows = [
        (
            customer,
            db.scalars(
                select(User).where(User.customer_id == customer.id).order_by(User.email)
            ).all(),
            db.scalar(
                select(func.count()).select_from(Machine).where(Machine.customer_id == customer.id)
            ),
        )
        for customer in db.scalars(select(Customer).order_by(Customer.name))
    ]
    forms = {customer.id: InviteForm(prefix=f"i{customer.id}") for customer, _, _ in rows}
    return render_template("ops/customers.html", rows=rows, forms=forms)


@blueprint.post("/customers/<int:customer_id>/invite")
@staff_required
def invite(customer_id: int) -> WerkzeugResponse:
    """Create a portal user and e-mail a link to choose a password (valid 7 days)."""
    db = db_session()
    customer = db.get(Customer, customer_id) or abort(404)
    form = InviteForm(prefix=f"i{customer_id}")
    if form.validate_on_submit():
        user = invite_user(db, customer, form.email.data or "")
        db.commit()
        link = invitation_link(user)
        sent = try_send(
            mailer_from_env(),
            user.email,
            "Portale SCM: il Suo accesso",
            invite_mail_text(user, customer, link),
        )
        flash(
            f"{user.email} invited" + ("." if sent else f": mail not sent, give them {link}"),
            "ok" if sent else "warn",
        )
    return redirect(url_for("ops.customers"))


def invitation_link(user: User) -> str:
    """The link an invited user opens to choose a password."""
    token = password_reset_token(user, current_app.config["SECRET_KEY"], invite=True)
    return f"{current_app.config['SCM_PUBLIC_URL']}/password/reset/{token}"
