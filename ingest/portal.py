"""Customer portal pages ("Portale SCM").  Every query is scoped to the signed-in user's
customer; staff see every customer.  Views are thin: forms in, a domain call, a template out."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import customer_scope, owned
from ingest.db import db_session
from ingest.documents import credit_note_pdf, invoice_pdf
from ingest.domain.alert_rules import freshness
from ingest.domain.alerts import silence_threshold
from ingest.domain.errors import DomainError
from ingest.domain.fleet import DEVICE_SORTS, devices_overview
from ingest.domain.invoicing import invoices_by_customer
from ingest.domain.machines import (
    MACHINE_SORTS,
    find_machine,
    machine_cards,
    machine_page,
    set_location,
)
from ingest.domain.meters import latest_counters, record_manual_read, typed_read_time
from ingest.domain.pages import list_query
from ingest.domain.read_requests import open_request
from ingest.domain.supplies import slot_forecasts, slot_of
from ingest.downloads import download
from ingest.error_texts import error_text
from ingest.forms import LocationForm, MeterReadForm, form_errors
from ingest.i18n import N_, customer_language
from ingest.languages import document_wording, speak
from ingest.links import request_links
from ingest.models import CreditNote, Invoice, User

blueprint = Blueprint("portal", __name__)
#: What the meter-read page answers (one sentence each, ready for gettext).
MSG_READ_OK = N_("Reading for {scm_id} recorded. Thank you.")
MSG_READ_UNUSUAL = N_("Reading for {scm_id} recorded; it looks unusual and will be checked by SCM.")
MSG_READ_REFUSED = N_("{scm_id}: reading not recorded. {reason}")
MSG_READ_CHECK = N_("{scm_id}: please check the values ({errors}).")


@blueprint.get("/devices")
@login_required
def devices() -> str:
    """Every device agents report, with its latest counters and supply levels."""
    session, now = db_session(), datetime.now(UTC)
    wanted = list_query(request.args, DEVICE_SORTS)
    page = devices_overview(session, customer_scope(), wanted)
    states = {
        row.device.id: freshness(
            row.last_seen_at, now, silence_threshold(session, row.device.customer_id)
        )
        for row in page.items
    }
    return render_template(
        "devices.html",
        rows=page.items,
        page=page,
        sort=wanted.sort,
        states=states,
        show_customer=current_user.is_staff,
    )


@blueprint.get("/machines")
@login_required
def machines() -> str:
    """The "Parco Macchine" page: machines under contract, toner, counters, contract, location."""
    session, now = db_session(), datetime.now(UTC)
    wanted = list_query(request.args, MACHINE_SORTS)
    page = machine_page(session, customer_scope(), now.date(), wanted)
    forecasts = slot_forecasts(session, [card.machine for card in page.items])
    return render_template(
        "machines.html",
        cards=page.items,
        page=page,
        sort=wanted.sort,
        show_customer=current_user.is_staff,
        forecasts=forecasts,
        slot_of=slot_of,
    )


@blueprint.route("/machines/<int:machine_id>/location", methods=["GET", "POST"])
@login_required
def machine_location(machine_id: int) -> str | WerkzeugResponse:
    """Change the "ubicazione": where inside the site the machine stands."""
    session = db_session()
    machine = find_machine(session, machine_id, customer_scope())
    form = LocationForm(location=machine.location)
    if form.validate_on_submit():
        set_location(session, machine, form.location.data or "")
        session.commit()
        flash(_("Location of %(scm_id)s updated.", scm_id=machine.scm_id), "ok")
        return redirect(url_for("portal.machines"))
    return render_template("machine_location.html", machine=machine, form=form)


@blueprint.get("/meter-reads")
@login_required
def meter_reads() -> str:
    """The "Lettura contatori" page: enter reads for the customer's machines."""
    session, today = db_session(), datetime.now(UTC).date()
    cards = machine_cards(session, customer_scope(), today)
    forms = {
        card.machine.id: MeterReadForm(prefix=f"m{card.machine.id}", taken_on=today)
        for card in cards
    }
    return render_template("meter_reads.html", cards=cards, forms=forms)


@blueprint.post("/machines/<int:machine_id>/reads")
@login_required
def add_meter_read(machine_id: int) -> str | WerkzeugResponse:
    """Store a read typed in the portal; a doubtful one is kept and flagged for staff."""
    session = db_session()
    machine = find_machine(session, machine_id, customer_scope())
    form = MeterReadForm(prefix=f"m{machine_id}")
    if not form.validate_on_submit():
        flash(_(MSG_READ_CHECK).format(scm_id=machine.scm_id, errors=form_errors(form)), "error")
        return redirect(url_for("portal.meter_reads"))
    user = session.get(User, current_user.user_id)
    now = datetime.now(UTC)
    try:
        read = record_manual_read(
            session,
            machine,
            taken_at=typed_read_time(session, machine, form.taken_on.data or now.date(), now),
            mono=form.mono.data or 0,
            colour=form.colour.data,
            user=user,
            now=now,
        )
    except DomainError as err:
        flash(_(MSG_READ_REFUSED).format(scm_id=machine.scm_id, reason=error_text(err)), "error")
        return redirect(url_for("portal.meter_reads"))
    session.commit()
    flash(_read_message(machine.scm_id, read.status), "ok" if read.status == "ok" else "warn")
    return redirect(url_for("portal.meter_reads"))


@blueprint.route("/letture/<token>", methods=["GET", "POST"])
def read_request_form(token: str) -> str | tuple[str, int]:
    """The form an e-mailed meter-read request links to (no sign-in: the link is the key)."""
    session = db_session()
    request = open_request(session, request_links(), token, datetime.now(UTC))
    machine = request.machine
    speak(customer_language(machine.customer))
    now = datetime.now(UTC)
    form = MeterReadForm(taken_on=now.date())
    if form.validate_on_submit():
        try:
            read = record_manual_read(
                session,
                machine,
                taken_at=typed_read_time(session, machine, form.taken_on.data or now.date(), now),
                mono=form.mono.data or 0,
                colour=form.colour.data,
                user=None,
                now=now,
                name=(form.name.data or "").strip() or "link",
            )
        except DomainError as err:
            form.taken_on.errors = [*form.taken_on.errors, error_text(err)]
        else:
            session.commit()
            return render_template("read_thanks.html", machine=machine, read=read)
    return render_template(
        "read_request.html",
        machine=machine,
        request=request,
        form=form,
        counters=latest_counters(session, machine),
    )


@blueprint.get("/invoices")
@login_required
def invoices() -> str:
    """The "Fatture" page: open and paid invoices."""
    grouped = invoices_by_customer(db_session(), customer_scope())
    return render_template("invoices.html", grouped=grouped, show_customer=current_user.is_staff)


@blueprint.get("/invoices/<int:invoice_id>")
@login_required
def invoice(invoice_id: int) -> str:
    """One invoice with its lines and the reads behind each."""
    return render_template("invoice.html", invoice=_invoice(invoice_id))


@blueprint.get("/invoices/<int:invoice_id>.pdf")
@login_required
def invoice_download(invoice_id: int) -> Response:
    """The invoice PDF."""
    found = _invoice(invoice_id)
    name = f"fattura-{found.number.replace('/', '-')}.pdf"
    return download(invoice_pdf(found, document_wording(found.customer)), name, "application/pdf")


@blueprint.get("/credit-notes/<int:note_id>.pdf")
@login_required
def credit_note_download(note_id: int) -> Response:
    """A credit note's PDF (shown beside the invoice it corrects)."""
    found = owned(CreditNote, note_id)
    return download(
        credit_note_pdf(found, document_wording(found.customer)),
        f"nota-di-credito-{found.number}.pdf",
        "application/pdf",
    )


def _invoice(invoice_id: int) -> Invoice:
    return owned(Invoice, invoice_id)


def _read_message(scm_id: str, status: str) -> str:
    template = MSG_READ_OK if status == "ok" else MSG_READ_UNUSUAL
    return _(template).format(scm_id=scm_id)
