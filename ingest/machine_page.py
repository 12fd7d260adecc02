"""One machine's page (customers see their own, staff any): state, counters and supplies over
time with the toner forecast, reads, accessories and contracts; its charts as SVG images."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ingest import charts
from ingest.auth import customer_scope
from ingest.db import db_session
from ingest.domain.machine_detail import (
    SupplyHistory,
    counter_history,
    machine_freshness,
    recent_reads,
    supply_history,
)
from ingest.domain.machines import find_machine
from ingest.domain.meters import latest_counters
from ingest.languages import page_wording
from ingest.models import Machine

blueprint = Blueprint("machine", __name__, url_prefix="/machines")


def _machine(machine_id: int) -> Machine:
    return find_machine(db_session(), machine_id, customer_scope())


@blueprint.get("/<int:machine_id>")
@login_required
def detail(machine_id: int) -> str:
    """The machine's page."""
    session, now = db_session(), datetime.now(UTC)
    machine = _machine(machine_id)
    state, last_read = machine_freshness(session, machine, now)
    supplies = supply_history(session, machine, now)
    return render_template(
        "machine.html",
        machine=machine,
        state=state,
        last_read=last_read,
        now=now,
        counters=latest_counters(session, machine),
        supplies=supplies,
        reads=recent_reads(session, machine),
        contracts=sorted(machine.contracts, key=lambda c: c.start, reverse=True),
        is_staff=current_user.is_staff,
        supply_name=_supply_name,
    )


@blueprint.get("/<int:machine_id>/counters.svg")
@login_required
def counters_chart(machine_id: int) -> Response:
    """B/W and colour counters, a point a day."""
    machine = _machine(machine_id)
    days = counter_history(db_session(), machine, datetime.now(UTC))
    series = {
        _("B/W"): [charts.TimePoint(_noon(d.day), d.mono) for d in days],
        _("Colour"): [charts.TimePoint(_noon(d.day), d.colour) for d in days]
        if machine.colour
        else [],
    }
    return Response(charts.over_time(series), headers=charts.SVG_HEADERS)


@blueprint.get("/<int:machine_id>/supplies.svg")
@login_required
def supplies_chart(machine_id: int) -> Response:
    """Each supply's level a day, and a dashed forecast line to empty."""
    machine = _machine(machine_id)
    series: dict[str, list[charts.TimePoint]] = {}
    dashed = set()
    for slot in supply_history(db_session(), machine, datetime.now(UTC)):
        label = _supply_name(slot)
        series[label] = [charts.TimePoint(at, level) for at, level in slot.points]
        forecast = slot.forecast.forecast if slot.forecast else None
        if slot.points and forecast is not None and forecast.days_to_empty is not None:
            last_at, last_level = slot.points[-1]
            end = last_at + timedelta(days=max(0.0, min(forecast.days_to_empty, 365)))
            name = f"{label} →"
            series[name] = [charts.TimePoint(last_at, last_level), charts.TimePoint(end, 0)]
            dashed.add(name)
    svg = charts.over_time(series, y_range=(0, 100), dashed=frozenset(dashed))
    return Response(svg, headers=charts.SVG_HEADERS)


def _supply_name(slot: SupplyHistory) -> str:
    """The slot's kind and colour in the page's language (``Toner nero``)."""
    if slot.forecast is None:
        return slot.label
    words = page_wording()
    colour = words.label("colour", slot.forecast.colour) if slot.forecast.colour else ""
    return f"{words.label('supply', slot.forecast.kind)} {colour}".strip()


def _noon(day: object) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)  # type: ignore[arg-type]
