"""Meter reads that need staff: flagged reads and read requests before a period closes."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.errors import DomainError
from ingest.domain.meters import flagged_reads, neighbouring_reads, resolve
from ingest.domain.read_requests import (
    all_requests,
    due_reminders,
    open_requests_for_period,
    send_requests,
)
from ingest.forms import ReadRequestForm, ResolveForm, choice_label
from ingest.links import request_links
from ingest.mail import SmtpMailer, mailer_from_env
from ingest.models import MeterRead, User
from ingest.ops.blueprint import blueprint


@blueprint.get("/flags")
@staff_required
def flags() -> str:
    """Meter reads waiting for a decision."""
    session = db_session()
    reads = flagged_reads(session)
    forms = {r.id: ResolveForm(prefix=f"r{r.id}") for r in reads}
    neighbours = {r.id: neighbouring_reads(session, r) for r in reads}
    return render_template("ops/flags.html", reads=reads, forms=forms, neighbours=neighbours)


@blueprint.post("/flags/<int:read_id>")
@staff_required
def resolve_flag(read_id: int) -> WerkzeugResponse:
    """Accept, offset or reject a flagged read."""
    session = db_session()
    read = session.get(MeterRead, read_id) or abort(404)
    form = ResolveForm(prefix=f"r{read_id}")
    if form.validate_on_submit():
        staff = session.get(User, current_user.user_id)
        resolve(session, read, form.action.data or "", by=staff, note=form.note.data or "")
        session.commit()
        flash(
            _("Read #%(id)d: %(decision)s.", id=read_id, decision=choice_label(form.action)), "ok"
        )
    return redirect(url_for("ops.flags"))


@blueprint.route("/read-requests", methods=["GET", "POST"])
@staff_required
def read_requests() -> str | WerkzeugResponse:
    """Send meter-read requests for a closing period, and due reminders."""
    form = ReadRequestForm()
    if form.validate_on_submit() and form.period_end.data:
        session, now = db_session(), datetime.now(UTC)
        created = open_requests_for_period(
            session, form.period_end.data, now, form.silent_days.data or 7
        )
        sent = send_requests(session, created, _mailer(), request_links(), now)
        reminded = send_requests(
            session, due_reminders(session, now), _mailer(), request_links(), now, reminder=True
        )
        session.commit()
        flash(
            _(
                "Requests created: %(created)d; e-mails sent: %(sent)d; reminders: %(reminded)d.",
                created=len(created),
                sent=sent,
                reminded=reminded,
            ),
            "ok",
        )
        return redirect(url_for("ops.read_requests"))
    return render_template("ops/read_requests.html", form=form, requests=all_requests(db_session()))


def _mailer() -> SmtpMailer:
    mailer = mailer_from_env()
    if mailer is None:
        raise DomainError("mail_disabled", "no SMTP server configured (SCM_SMTP_HOST)", 503)
    return mailer
