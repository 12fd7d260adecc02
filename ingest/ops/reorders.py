"""Reorders the rule opened without an article: staff choose one, or dismiss the reorder."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.reorder_desk import choose_article, dismiss_reorder
from ingest.domain.supplies import consumables_for
from ingest.forms import NoteForm
from ingest.models import Consumable, Reorder
from ingest.ops.blueprint import blueprint
from ingest.ops.forms import ChooseArticleForm


@blueprint.post("/reorders/<int:reorder_id>/article")
@staff_required
def choose_reorder_article(reorder_id: int) -> WerkzeugResponse:
    """Give the reorder its article (and its order line the article's price)."""
    session = db_session()
    reorder = session.get(Reorder, reorder_id) or abort(404)
    form = ChooseArticleForm(prefix=f"r{reorder_id}")
    form.set_articles(consumables_for(session, reorder.machine))
    if form.validate_on_submit():
        article = session.get(Consumable, form.consumable_id.data) or abort(404)
        choose_article(session, reorder, article)
        session.commit()
        shipped = _(
            "%(machine)s: %(article)s will be shipped.",
            machine=reorder.machine.scm_id,
            article=article.article_code,
        )
        flash(shipped, "ok")
    return redirect(url_for("ops.dashboard"))


@blueprint.post("/reorders/<int:reorder_id>/dismiss")
@staff_required
def dismiss(reorder_id: int) -> WerkzeugResponse:
    """Close the reorder without shipping anything."""
    if not NoteForm().validate_on_submit():
        abort(400)
    session = db_session()
    reorder = session.get(Reorder, reorder_id) or abort(404)
    dismiss_reorder(session, reorder, datetime.now(UTC))
    session.commit()
    flash(_("%(machine)s: reorder dismissed.", machine=reorder.machine.scm_id), "ok")
    return redirect(url_for("ops.dashboard"))
