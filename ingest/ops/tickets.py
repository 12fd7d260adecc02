"""The dispatcher's tickets: filters, an assignee and the age of each; staff open tickets too."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.accounts import active_staff
from ingest.domain.machines import machines_of
from ingest.domain.staff_overview import all_customers
from ingest.domain.tickets import (
    STATUSES,
    TEAMS,
    TicketFilter,
    age_days,
    assign,
    open_ticket,
    tickets_of,
)
from ingest.models import Customer, Ticket, User
from ingest.ops.blueprint import blueprint
from ingest.ops.forms import AssignTicketForm, StaffTicketForm, TicketFilterForm


@blueprint.get("/tickets")
@staff_required
def tickets() -> str:
    """Tickets narrowed by status, team, customer and assignee; open ones by default."""
    session = db_session()
    staff = active_staff(session)
    customers = all_customers(session)
    filters = TicketFilterForm(request.args)
    filters.set_choices(customers, staff)
    wanted = filters.to_request() if filters.validate() else TicketFilter(open_only=True)
    rows = tickets_of(session, None, wanted)
    assign_forms = {t.id: _assign_form(t, staff) for t in rows}
    now = datetime.now(UTC)
    return render_template(
        "ops/tickets.html",
        filters=filters,
        tickets=rows,
        ages={t.id: age_days(t, now) for t in rows},
        assign_forms=assign_forms,
        statuses=STATUSES,
        teams=TEAMS,
        customers=customers,
    )


def _assign_form(ticket: Ticket, staff: list[User]) -> AssignTicketForm:
    form = AssignTicketForm(prefix=f"t{ticket.id}", assignee_id=ticket.assignee_id or 0)
    form.assignee_id.choices = [SelectChoice("0", "—")] + [
        SelectChoice(str(u.id), u.email) for u in staff
    ]
    return form


@blueprint.post("/tickets/<int:ticket_id>/assign")
@staff_required
def assign_ticket(ticket_id: int) -> WerkzeugResponse:
    """Give a ticket to a staff member (or to nobody)."""
    session = db_session()
    ticket = session.get(Ticket, ticket_id) or abort(404)
    form = _assign_form(ticket, active_staff(session))
    if form.validate_on_submit():
        assignee = session.get(User, form.assignee_id.data) if form.assignee_id.data else None
        me = session.get(User, current_user.user_id)
        assign(session, ticket, assignee, me, datetime.now(UTC))
        session.commit()
        flash(f"{ticket.number}: {assignee.email if assignee else '—'}.", "ok")
    return redirect(request.referrer or url_for("ops.tickets"))


@blueprint.route("/tickets/new", methods=["GET", "POST"])
@staff_required
def new_ticket() -> str | WerkzeugResponse:
    """Open a ticket for a customer (a phone call to the desk): choose the customer, then the
    machine among that customer's."""
    session = db_session()
    customer_id = request.args.get("customer_id", type=int)
    customer = session.get(Customer, customer_id) if customer_id else None
    if customer is None:
        return render_template("ops/ticket_customer.html", customers=all_customers(session))
    form = StaffTicketForm()
    form.machine_id.choices = [
        SelectChoice(str(m.id), f"{m.serial} · {m.scm_id} · {m.model or ''} · {m.location or ''}")
        for m in machines_of(session, customer.id)
    ]
    if form.validate_on_submit():
        me = session.get(User, current_user.user_id)
        ticket = open_ticket(session, customer.id, me, form.to_request(), [], datetime.now(UTC))
        session.commit()
        flash(
            _(
                "[%(number)s] ticket opened for %(customer)s.",
                number=ticket.number,
                customer=customer.name,
            ),
            "ok",
        )
        return redirect(url_for("tickets.show", ticket_id=ticket.id))
    return render_template("ops/ticket_new.html", form=form, customer=customer, teams=TEAMS)
