"""The portal home ("Home Page" of the manual) and its smaller sections: statistics, news,
offers, documents ("Infobox") and the message to the salesperson."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from ingest import charts
from ingest.auth import customer_scope
from ingest.db import db_session
from ingest.domain.billing import Period
from ingest.domain.statistics import fleet_pages, last_months, ticket_counts
from ingest.domain.tickets import STATUSES
from ingest.downloads import download
from ingest.forms import ContactForm, StatisticsForm
from ingest.i18n import DEFAULT_LANGUAGE, N_, wording
from ingest.languages import page_wording
from ingest.mail import mailer_from_env, try_send
from ingest.models import Customer, Invoice, Machine, Order, Post, Ticket

blueprint = Blueprint("home", __name__)
POST_KINDS = {"news": N_("News"), "offer": N_("Offers"), "document": N_("Infobox")}


@blueprint.get("/")
@login_required
def index() -> str | WerkzeugResponse:
    """Tiles with what matters now; staff go to their own dashboard."""
    if current_user.is_staff:
        return redirect(url_for("ops.dashboard"))
    db, scope = db_session(), customer_scope()
    counts = {
        "machines": db.scalar(
            select(func.count()).select_from(Machine).where(Machine.customer_id == scope)
        ),
        "open_invoices": db.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.customer_id == scope, Invoice.status == "open")
        ),
        "open_orders": db.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.customer_id == scope, Order.status == "open")
        ),
        "open_tickets": db.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.customer_id == scope, Ticket.status != "done")
        ),
    }
    news = _posts("news", scope, limit=3)
    return render_template(
        "home.html",
        counts=counts,
        news=news,
        customer=db.get(Customer, scope),
        contact=ContactForm(),
    )


@dataclass(frozen=True, slots=True)
class _StatisticsQuery:
    form: StatisticsForm
    customer_id: int | None
    machine_id: int | None
    months: list[Period]


def _statistics_query() -> _StatisticsQuery:
    """The filters of the statistics page and its charts (machine, months), checked."""
    db, scope = db_session(), customer_scope()
    form = StatisticsForm(request.args)
    machines = db.scalars(
        select(Machine).where(Machine.customer_id == scope)
        if scope is not None
        else select(Machine)
    ).all()
    form.machine.choices = [SelectChoice("0", _("All machines"))] + [
        SelectChoice(str(m.id), f"{m.scm_id} {m.model or ''}") for m in machines
    ]
    valid = form.validate()  # anything else (months=-5, machine=abc) falls back to defaults
    machine_id = form.machine.data if valid and form.machine.data else None
    if machine_id is not None and machine_id not in {m.id for m in machines}:
        abort(404)
    months = last_months(datetime.now(UTC).date(), form.months.data if valid else 6)
    return _StatisticsQuery(form, scope, machine_id, months)


@blueprint.get("/statistics")
@login_required
def statistics() -> str:
    """The "Statistiche" page: pages B/W and colour and tickets per month, per machine or all,
    as charts and as the tables behind them."""
    query, db = _statistics_query(), db_session()
    return render_template(
        "statistics.html",
        form=query.form,
        pages=fleet_pages(db, query.customer_id, query.months, query.machine_id),
        tickets=ticket_counts(db, query.customer_id, query.months, query.machine_id),
        statuses=STATUSES,
        chart_args={k: v for k, v in request.args.items() if k in ("machine", "months")},
    )


@blueprint.get("/statistics/pages.svg")
@login_required
def pages_chart() -> Response:
    """B/W and colour pages per month: the numbers the invoices use."""
    query, words = _statistics_query(), page_wording()
    pages = fleet_pages(db_session(), query.customer_id, query.months, query.machine_id)
    svg = charts.monthly_pages(
        [words.month(p.month) for p in pages],
        [p.mono for p in pages],
        [p.colour for p in pages],
        (_("B/W"), _("Colour")),
    )
    return Response(svg, headers=charts.SVG_HEADERS)


@blueprint.get("/statistics/tickets.svg")
@login_required
def tickets_chart() -> Response:
    """Assistance tickets opened per month, by their status now."""
    query, words = _statistics_query(), page_wording()
    counts = ticket_counts(db_session(), query.customer_id, query.months, query.machine_id)
    series = {
        _(label): [counts[month][key] for month in counts]
        for key, (label, _colour) in STATUSES.items()
    }
    svg = charts.counts_per_month([words.month(m) for m in counts], series)
    return Response(svg, headers=charts.SVG_HEADERS)


@blueprint.get("/<any(news, offers, infobox):section>")
@login_required
def posts(section: str) -> str:
    """News for everyone, offers and documents for this customer."""
    kind = {"news": "news", "offers": "offer", "infobox": "document"}[section]
    return render_template(
        "posts.html", title=_(POST_KINDS[kind]), posts=_posts(kind, customer_scope())
    )


@blueprint.get("/posts/<int:post_id>/file")
@login_required
def post_file(post_id: int) -> Response:
    """A post's attachment (an offer or a signed contract as PDF)."""
    post = db_session().get(Post, post_id)
    scope = customer_scope()
    if (
        post is None
        or post.data is None
        or (scope is not None and post.customer_id not in (None, scope))
    ):
        abort(404)
    return download(post.data, post.filename or "document")


@blueprint.post("/contact")
@login_required
def contact() -> WerkzeugResponse:
    """Send a message to the customer's salesperson from the portal."""
    db, scope = db_session(), customer_scope()
    customer = db.get(Customer, scope) if scope is not None else None
    form = ContactForm()
    if customer is None or not customer.sales_rep_email:
        flash(_("No salesperson is set for your account yet: please call SCM."), "error")
    elif form.validate_on_submit() and try_send(
        mailer_from_env(), customer.sales_rep_email, *_contact_mail(customer, form)
    ):
        flash(_("Message sent to your salesperson."), "ok")
    else:
        flash(_("The message could not be sent: please check it and try again later."), "error")
    return redirect(url_for("home.index"))


def _contact_mail(customer: Customer, form: ContactForm) -> tuple[str, str]:
    """Subject and body of a message to the salesperson, in the dealer's language."""
    words = wording(DEFAULT_LANGUAGE)
    subject = words.gettext(
        "[SCM portal] %(customer)s: %(subject)s", customer=customer.name, subject=form.subject.data
    )
    body = words.gettext(
        "From %(email)s (%(customer)s):\n\n%(message)s\n",
        email=current_user.email,
        customer=customer.name,
        message=form.message.data,
    )
    return subject, body


def _posts(kind: str, scope: int | None, limit: int = 50) -> list[Post]:
    query = select(Post).where(Post.kind == kind)
    if scope is not None:
        query = query.where(
            or_(Post.customer_id == scope, Post.customer_id.is_(None))
            if kind == "news"
            else Post.customer_id == scope
        )
    return list(db_session().scalars(query.order_by(Post.published_at.desc()).limit(limit)))
