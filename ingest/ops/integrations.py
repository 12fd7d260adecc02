"""The dealer's systems: read-API tokens, webhooks and the delivery log."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.api_tokens import create_api_token, list_api_tokens, revoke_api_token
from ingest.domain.outbox import add_webhook, recent_deliveries, webhooks
from ingest.forms import NoteForm, form_errors
from ingest.models import WebhookEndpoint
from ingest.ops.blueprint import blueprint
from ingest.ops.forms import TokenForm, WebhookForm


def _page(secret: str | None = None, what: str | None = None) -> str:
    """The page; a new secret is shown in this one answer only (never flashed into a cookie)."""
    session = db_session()
    return render_template(
        "ops/integrations.html",
        tokens=list_api_tokens(session),
        hooks=webhooks(session),
        deliveries=recent_deliveries(session),
        token_form=TokenForm(formdata=None),
        hook_form=WebhookForm(formdata=None),
        action_form=NoteForm(formdata=None),
        secret=secret,
        secret_for=what,
    )


@blueprint.get("/integrations")
@staff_required
def integrations() -> str:
    """Tokens, webhooks and the latest deliveries."""
    return _page()


@blueprint.post("/integrations/tokens")
@staff_required
def create_token() -> str | WerkzeugResponse:
    """Create a token and show it once."""
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("Give the token a name."), "error")
        return redirect(url_for("ops.integrations"))
    session = db_session()
    row, secret = create_api_token(session, form.name.data or "", datetime.now(UTC))
    session.commit()
    return _page(secret, row.name)


@blueprint.post("/integrations/tokens/<int:token_id>/revoke")
@staff_required
def revoke_token(token_id: int) -> WerkzeugResponse:
    """Stop a token working at once."""
    if not NoteForm().validate_on_submit():
        abort(400)
    session = db_session()
    row = revoke_api_token(session, token_id, datetime.now(UTC))
    session.commit()
    flash(_("Token %(name)s revoked.", name=row.name), "ok")
    return redirect(url_for("ops.integrations"))


@blueprint.post("/integrations/webhooks")
@staff_required
def create_webhook() -> str | WerkzeugResponse:
    """Register a receiver and show its signing secret once."""
    form = WebhookForm()
    if not form.validate_on_submit():
        flash(_("Check the webhook: %(errors)s", errors=form_errors(form)), "error")
        return redirect(url_for("ops.integrations"))
    session = db_session()
    hook, secret = add_webhook(
        session, form.url.data or "", list(form.events.data or []), datetime.now(UTC)
    )
    session.commit()
    return _page(secret, hook.url)


@blueprint.post("/integrations/webhooks/<int:hook_id>/toggle")
@staff_required
def toggle_webhook(hook_id: int) -> WerkzeugResponse:
    """Pause or resume a receiver."""
    if not NoteForm().validate_on_submit():
        abort(400)
    session = db_session()
    hook = session.get(WebhookEndpoint, hook_id) or abort(404)
    hook.active = not hook.active
    session.commit()
    return redirect(url_for("ops.integrations"))
