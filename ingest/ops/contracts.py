"""A machine's contracts: their history, and dated changes billed from their effective date."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.errors import DomainError
from ingest.domain.machines import change_contract
from ingest.domain.plausibility import ContractBounds
from ingest.error_texts import error_text
from ingest.languages import page_wording
from ingest.models import Machine
from ingest.ops.blueprint import blueprint
from ingest.ops.forms import ContractChangeForm


@blueprint.route("/machines/<int:machine_id>/contracts", methods=["GET", "POST"])
@staff_required
def contracts(machine_id: int) -> str | WerkzeugResponse:
    """Every contract of the machine, oldest first, and the form for new terms from a date."""
    session = db_session()
    machine = session.get(Machine, machine_id) or abort(404)
    form = ContractChangeForm()
    if form.validate_on_submit() and form.effective.data is not None:
        changes = form.to_request()
        if not changes:
            flash(_("Nothing to change: fill in the terms that change."), "error")
        else:
            try:
                contract = change_contract(
                    session,
                    machine,
                    form.effective.data,
                    changes,
                    bounds=ContractBounds.from_env(),
                    confirmed=bool(form.confirm.data),
                )
            except DomainError as err:
                session.rollback()
                flash(error_text(err), "error")
            else:
                session.commit()
                start = page_wording().day(contract.start)
                flash(
                    _("%(machine)s: new terms from %(day)s.", machine=machine.scm_id, day=start),
                    "ok",
                )
                return redirect(url_for("ops.contracts", machine_id=machine.id))
    history = sorted(machine.contracts, key=lambda c: c.start)
    return render_template("ops/contracts.html", machine=machine, history=history, form=form)
