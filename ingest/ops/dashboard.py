"""The staff home page: what is silent, broken or running out, and what waits for a person."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, render_template
from flask_babel import gettext as _

from ingest import charts
from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.dashboard import age_of, dispatcher_view, fleet_volume
from ingest.domain.supplies import consumables_for
from ingest.forms import NoteForm
from ingest.languages import page_wording
from ingest.ops.blueprint import blueprint
from ingest.ops.forms import ChooseArticleForm


@blueprint.get("/")
@staff_required
def dashboard() -> str:
    """Alerts by kind with their age, low toner, reorders to finish, flags, tickets, volume."""
    session, now = db_session(), datetime.now(UTC)
    view = dispatcher_view(session, now.date())
    choose = {}
    for reorder in view.reorders_to_complete:
        form = ChooseArticleForm(prefix=f"r{reorder.id}")
        form.set_articles(consumables_for(session, reorder.machine))
        choose[reorder.id] = form
    return render_template(
        "ops/dashboard.html",
        view=view,
        now=now,
        age_of=_age_words,
        choose=choose,
        dismiss=NoteForm(formdata=None),
    )


@blueprint.get("/charts/volume.svg")
@staff_required
def volume_chart() -> Response:
    """B/W and colour pages invoiced per month, the whole fleet."""
    months = fleet_volume(db_session(), datetime.now(UTC).date())
    svg = charts.monthly_pages(
        [m.month.strftime("%m/%Y") for m in months],
        [m.mono for m in months],
        [m.colour for m in months],
        (_("B/W"), _("Colour")),
    )
    return Response(svg, headers=charts.SVG_HEADERS)


def _age_words(moment: datetime, now: datetime) -> str:
    """The age of an alert or ticket in the page's language."""
    age = age_of(moment, now)
    return page_wording().age(age.count, age.unit)
