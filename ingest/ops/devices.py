"""The device queue: devices agents report that no machine claims yet."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.errors import DomainError
from ingest.domain.machines import colour_evidence, unlinked_machines
from ingest.domain.machines import register_machine as register
from ingest.domain.meters import assign_device, unmatched_page
from ingest.domain.pages import page_number
from ingest.domain.plausibility import ContractBounds
from ingest.error_texts import error_text
from ingest.forms import AssignForm, MachineForm, form_errors
from ingest.i18n import N_
from ingest.models import Device, Machine
from ingest.ops.blueprint import blueprint

MSG_TICK_CONFIRM = N_('If the values are right, tick "Confirm values outside the usual bounds".')


@blueprint.get("/queue")
@staff_required
def queue() -> str:
    """Queued devices, each with a form to register it and one to link it to a machine."""
    session = db_session()
    page = unmatched_page(session, page_number(request.args.get("page")))
    devices = page.items
    forms = {d.id: _machine_form_for(d) for d in devices}
    assign = {d.id: _assign_form_for(d) for d in devices}
    evidence = {d.id: colour_evidence(session, d.id) for d in devices}
    return render_template(
        "ops/queue.html",
        devices=devices,
        page=page,
        forms=forms,
        assign=assign,
        evidence=evidence,
    )


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
        SelectChoice(
            str(m.id), f"{m.scm_id} {m.model or ''} " + _("s/n %(serial)s", serial=m.serial)
        )
        for m in unlinked_machines(db_session(), device.customer_id)
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
        flash(_("Check the machine form: %(errors)s", errors=form_errors(form)), "error")
        return redirect(url_for("ops.queue"))
    spec, terms = form.to_request()
    try:
        machine = register(
            session,
            device.customer,
            spec,
            terms,
            device=device,
            bounds=ContractBounds.from_env(),
            confirmed=bool(form.confirm.data),
        )
    except DomainError as err:
        session.rollback()
        flash(error_text(err), "error")
        if err.code == "needs_confirmation":
            flash(_(MSG_TICK_CONFIRM), "warn")
        return redirect(url_for("ops.queue"))
    session.commit()
    flash(
        _(
            "Machine %(scm_id)s registered for %(customer)s.",
            scm_id=machine.scm_id,
            customer=device.customer.name,
        ),
        "ok",
    )
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
        flash(
            _(
                "Device linked to %(scm_id)s; %(count)d meter reads created.",
                scm_id=machine.scm_id,
                count=count,
            ),
            "ok",
        )
    return redirect(url_for("ops.queue"))
