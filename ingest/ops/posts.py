"""News, offers and Infobox documents published in the portal, with their PDFs."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.posts import MAX_FILE_BYTES, PostRequest, all_posts, publish, withdraw
from ingest.domain.staff_overview import all_customers
from ingest.forms import NoteForm
from ingest.models import Customer
from ingest.ops.blueprint import blueprint
from ingest.ops.forms import PostForm


@blueprint.route("/posts", methods=["GET", "POST"])
@staff_required
def posts() -> str | WerkzeugResponse:
    """Publish a post; the list shows what customers see, newest first."""
    session = db_session()
    form = PostForm()
    form.set_customers(all_customers(session))
    if form.validate_on_submit():
        customer = session.get(Customer, form.customer_id.data) if form.customer_id.data else None
        upload = form.attachment.data
        data = upload.read(MAX_FILE_BYTES + 1) if upload and upload.filename else None
        request = PostRequest(
            kind=form.kind.data or "news",
            title=form.title.data or "",
            body=form.body.data or "",
            customer=customer,
            filename=upload.filename if data is not None else None,
            data=data,
        )
        post = publish(session, request, datetime.now(UTC))
        session.commit()
        flash(_("Published: %(title)s.", title=post.title), "ok")
        return redirect(url_for("ops.posts"))
    return render_template(
        "ops/posts.html", form=form, posts=all_posts(session), withdraw_form=NoteForm()
    )


@blueprint.post("/posts/<int:post_id>/withdraw")
@staff_required
def withdraw_post(post_id: int) -> WerkzeugResponse:
    """Take a post off the portal."""
    if not NoteForm().validate_on_submit():
        abort(400)
    session = db_session()
    withdraw(session, post_id)
    session.commit()
    flash(_("Post withdrawn."), "ok")
    return redirect(url_for("ops.posts"))
