"""Customers, their portal users, and invitations ("abilitare altri utenti")."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.accounts import invite_mail_text, invite_user
from ingest.domain.customer_settings import settings_of, update_settings
from ingest.domain.staff_overview import customers_overview
from ingest.forms import InviteForm
from ingest.links import password_link
from ingest.mail import mailer_from_env, try_send
from ingest.models import Customer
from ingest.ops.blueprint import blueprint
from ingest.ops.forms import CustomerSettingsForm


@blueprint.get("/customers")
@staff_required
def customers() -> str:
    """Customers with their contacts, users and machines; staff invite new portal users here."""
    rows = customers_overview(db_session())
    forms = {row.customer.id: InviteForm(prefix=f"i{row.customer.id}") for row in rows}
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
        link = password_link(user, invite=True)
        sent = try_send(mailer_from_env(), user.email, *invite_mail_text(user, customer, link))
        if sent:
            flash(_("%(email)s invited.", email=user.email), "ok")
        else:
            flash(
                _(
                    "%(email)s invited: mail not sent, give them %(link)s",
                    email=user.email,
                    link=link,
                ),
                "warn",
            )
    return redirect(url_for("ops.customers"))


@blueprint.route("/customers/<int:customer_id>/settings", methods=["GET", "POST"])
@staff_required
def customer_settings(customer_id: int) -> str | WerkzeugResponse:
    """Contacts, reorder rule, alert thresholds and automatic tickets of one customer."""
    session = db_session()
    customer = session.get(Customer, customer_id) or abort(404)
    form = CustomerSettingsForm.of(settings_of(session, customer))
    if form.validate_on_submit():
        update_settings(session, customer, form.to_request())
        session.commit()
        flash(_("Settings of %(customer)s saved.", customer=customer.name), "ok")
        return redirect(url_for("ops.customers"))
    return render_template("ops/customer_settings.html", customer=customer, form=form)
