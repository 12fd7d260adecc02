"""Customer portal pages.  Every query is scoped to the signed-in user's customer; staff see all."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from ingest.app import db_session
from ingest.domain.fleet import devices_overview

blueprint = Blueprint("portal", __name__)


@blueprint.get("/devices")
@login_required
def devices() -> str:
    """Every device with its latest counters and supply levels."""
    rows = devices_overview(db_session(), customer_scope())
    return render_template("devices.html", rows=rows, show_customer=current_user.is_staff)


def customer_scope() -> int | None:
    """The customer whose data the user may see; None means every customer (staff only)."""
    if current_user.is_staff:
        return None
    if current_user.customer_id is None:
        abort(403)
    customer_id: int = current_user.customer_id
    return customer_id
