"""The staff home page: what needs a person today."""

from __future__ import annotations

from flask import render_template

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.staff_overview import dashboard_counts
from ingest.ops.blueprint import blueprint


@blueprint.get("/")
@staff_required
def dashboard() -> str:
    """Counts of what waits: queued devices, flagged reads, open invoices, requests, reorders."""
    return render_template("ops/dashboard.html", counts=dashboard_counts(db_session()))
