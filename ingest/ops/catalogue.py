"""The consumables catalogue: articles, prices and the models they fit."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.catalogue import catalogue as articles
from ingest.domain.catalogue import upsert_consumable
from ingest.models import Consumable
from ingest.ops.blueprint import blueprint
from ingest.ops.forms import ArticleForm


@blueprint.route("/catalogue", methods=["GET", "POST"])
@staff_required
def catalogue() -> str | WerkzeugResponse:
    """Search the catalogue; add an article, or change one (same code) from its row."""
    session = db_session()
    form = ArticleForm()
    if form.validate_on_submit():
        row = upsert_consumable(session, form.to_request())
        session.commit()
        flash(_("Article %(code)s saved.", code=row.article_code), "ok")
        return redirect(url_for("ops.catalogue"))
    editing = request.args.get("edit", type=int)
    if editing and request.method == "GET":
        found = session.get(Consumable, editing)
        if found is not None:
            form = ArticleForm(
                code=found.article_code,
                description=found.description,
                manufacturer=found.manufacturer,
                models=found.models,
                kind=found.kind,
                colour=found.colour,
                yield_pages=found.yield_pages,
                price=found.price,
                included=found.included_in_contract,
            )
    query = request.args.get("q", "")[:100]
    return render_template(
        "ops/catalogue.html", form=form, articles=articles(session, query), query=query
    )
