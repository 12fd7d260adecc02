"""Staff pages for consumables: open reorders, orders to ship, delivery notes and labels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.documents import labels_pdf
from ingest.domain.orders import (
    NOTE_STATES,
    dispatch,
    mark_delivered,
    ship_order,
    shipping_overview,
)
from ingest.downloads import download
from ingest.forms import DispatchForm, NoteForm, form_errors
from ingest.models import DeliveryNote, Order

blueprint = Blueprint("shipping", __name__, url_prefix="/ops/shipping")


@blueprint.get("/")
@staff_required
def overview() -> str:
    """Open reorders, open orders without a delivery note, and delivery notes in progress."""
    overview = shipping_overview(db_session())
    return render_template(
        "ops/shipping.html",
        reorders=overview.reorders,
        to_ship=overview.to_ship,
        notes=overview.notes,
        states=NOTE_STATES,
        catalogue=overview.catalogue,
        form=NoteForm(),
        dispatch_forms={n.id: DispatchForm(prefix=f"s{n.id}") for n in overview.notes},
    )


@blueprint.post("/orders/<int:order_id>/ship")
@staff_required
def ship(order_id: int) -> WerkzeugResponse:
    """Prepare the delivery note of an order."""
    db = db_session()
    order = db.get(Order, order_id) or abort(404)
    if NoteForm().validate_on_submit():
        note = ship_order(db, order, datetime.now(UTC))
        db.commit()
        flash(
            _(
                "Delivery note %(note)s prepared for %(order)s.",
                note=note.number,
                order=order.number,
            ),
            "ok",
        )
    return redirect(url_for("shipping.overview"))


@blueprint.post("/notes/<int:note_id>/dispatch")
@staff_required
def dispatch_note(note_id: int) -> WerkzeugResponse:
    """The parcel left: labels and locations are final, the carrier is on the DDT."""
    form = DispatchForm(prefix=f"s{note_id}")
    return _note_step(
        note_id, form, lambda db, note, now: dispatch(db, note, now, form.to_request())
    )


@blueprint.post("/notes/<int:note_id>/delivered")
@staff_required
def delivered(note_id: int) -> WerkzeugResponse:
    """The customer received it: the order closes."""
    return _note_step(note_id, NoteForm(), mark_delivered)


def _note_step(
    note_id: int,
    form: FlaskForm,
    step: Callable[[Session, DeliveryNote, datetime], DeliveryNote],
) -> WerkzeugResponse:
    """Apply one step of a delivery note's life (CSRF-checked), then back to the overview."""
    db = db_session()
    note = db.get(DeliveryNote, note_id) or abort(404)
    if form.validate_on_submit():
        step(db, note, datetime.now(UTC))
        db.commit()
        flash(f"{note.number}: {_(NOTE_STATES[note.status])}.", "ok")
    else:
        flash(_("Check the form: %(errors)s", errors=form_errors(form)), "error")
    return redirect(url_for("shipping.overview"))


@blueprint.get("/notes/<int:note_id>/labels.pdf")
@staff_required
def labels(note_id: int) -> Response:
    """One shipping label per consumable of the delivery note."""
    note = db_session().get(DeliveryNote, note_id) or abort(404)
    return download(labels_pdf(note), f"etichette-{note.number}.pdf", "application/pdf")
