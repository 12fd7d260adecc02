"""Assistance pages: open a ticket on a machine, follow its status ("Vedi Tickets")."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from ingest.auth import customer_scope, owned
from ingest.db import db_session
from ingest.domain.machines import machine_cards
from ingest.domain.tickets import (
    MAX_ATTACHMENT_BYTES,
    STATUSES,
    TEAMS,
    TicketRequest,
    Upload,
    change_status,
    open_ticket_with_read,
    ticket_mail_text,
    tickets_of,
)
from ingest.downloads import download
from ingest.forms import TicketForm, TicketStatusForm
from ingest.i18n import DEFAULT_LANGUAGE, N_, wording
from ingest.mail import mailer_from_env, try_send
from ingest.models import Ticket, TicketAttachment, User

blueprint = Blueprint("tickets", __name__, url_prefix="/tickets")
#: Where new tickets are announced (the dealer's dispatch desk).
ENV_TICKETS_TO = "SCM_TICKETS_TO"
#: What the page says after a ticket is opened: only what happened, one sentence each.
MSG_CREATED = N_("Ticket {number} created.")
MSG_DESK_NOTIFIED = N_("The SCM assistance desk has been notified by e-mail.")
MSG_READ_STORED = N_("The counters were recorded as meter read #{read_id}.")
MSG_READ_NOT_STORED = N_("The counters were not recorded as a meter read: {reason}")


@blueprint.get("/")
@login_required
def index() -> str:
    """Every ticket with its status colour."""
    tickets = tickets_of(db_session(), customer_scope())
    return render_template(
        "tickets.html", tickets=tickets, statuses=STATUSES, show_customer=current_user.is_staff
    )


@blueprint.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | WerkzeugResponse:
    """The "Richiesta assistenza" form: machine by serial, the problem, attached files."""
    scope = customer_scope()
    if scope is None:
        abort(403)  # staff open tickets on a customer's behalf from its account, not here
    db = db_session()
    form = TicketForm(contact_name=current_user.email)
    form.machine_id.choices = [
        SelectChoice(
            str(c.machine.id),
            f"{c.machine.serial} · {c.machine.scm_id} · "
            f"{c.machine.model or ''} · {c.machine.location or ''}",
        )
        for c in machine_cards(db, scope, datetime.now(UTC).date())
    ]
    if form.validate_on_submit():
        uploads = [
            Upload(f.filename or "file", f.mimetype or "", f.read(MAX_ATTACHMENT_BYTES + 1))
            for f in form.attachments.data or []
            if f and f.filename
        ]
        request_data = TicketRequest(
            machine_id=form.machine_id.data,
            subject=form.subject.data or "",
            description=form.description.data or "",
            contact_name=form.contact_name.data or "",
            phone=form.phone.data or "",
            office_hours=form.office_hours.data or "",
            priority=form.priority.data or "normal",
            team=form.team.data or "printing",
            mono=form.mono.data,
            colour=form.colour.data,
        )
        user = db.get(User, current_user.user_id)
        opened = open_ticket_with_read(db, scope, user, request_data, uploads, datetime.now(UTC))
        db.commit()
        ticket = opened.ticket
        flash(_(MSG_CREATED).format(number=ticket.number), "ok")
        if _notify(ticket):
            flash(_(MSG_DESK_NOTIFIED), "ok")
        if opened.read is not None:
            flash(_(MSG_READ_STORED).format(read_id=opened.read.id), "ok")
        elif opened.read_problem:
            flash(_(MSG_READ_NOT_STORED).format(reason=opened.read_problem), "warn")
        return redirect(url_for("tickets.show", ticket_id=ticket.id))
    return render_template("ticket_new.html", form=form, teams=TEAMS)


@blueprint.route("/<int:ticket_id>", methods=["GET", "POST"])
@login_required
def show(ticket_id: int) -> str | WerkzeugResponse:
    """One ticket with its history; staff change its status here."""
    db = db_session()
    ticket = _ticket(ticket_id)
    form = TicketStatusForm(status=ticket.status) if current_user.is_staff else None
    if form is not None and form.validate_on_submit():
        staff = db.get(User, current_user.user_id)
        change_status(
            db, ticket, form.status.data or "", staff, form.note.data or "", datetime.now(UTC)
        )
        db.commit()
        flash(f"{ticket.number}: {_(STATUSES[ticket.status][0])}.", "ok")
        return redirect(url_for("tickets.show", ticket_id=ticket.id))
    return render_template("ticket.html", ticket=ticket, statuses=STATUSES, teams=TEAMS, form=form)


@blueprint.get("/<int:ticket_id>/attachments/<int:attachment_id>")
@login_required
def attachment(ticket_id: int, attachment_id: int) -> Response:
    """An attached file, always as a download (never rendered inline)."""
    ticket = _ticket(ticket_id)
    found = db_session().get(TicketAttachment, attachment_id)
    if found is None or found.ticket_id != ticket.id:
        abort(404)
    return download(found.data, found.filename)


def _ticket(ticket_id: int) -> Ticket:
    return owned(Ticket, ticket_id)


def _notify(ticket: Ticket) -> bool:
    """Tell the dealer's desk; True only when a mail really went out (the page must not claim
    a notice nobody got).  A mail failure never loses the ticket: it is already stored."""
    to = os.environ.get(ENV_TICKETS_TO)
    if not to:
        return False
    return try_send(mailer_from_env(), to, *ticket_mail_text(ticket, wording(DEFAULT_LANGUAGE)))
