"""Customer pages for consumables: orders ("Ordini"), the order flow (machine -> article ->
cart -> shipping data -> confirm) and delivery notes ("Bolle di consegna")."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import customer_scope, owned
from ingest.db import db_session
from ingest.documents import delivery_note_pdf, order_pdf
from ingest.domain.machines import find_machine, machine_cards
from ingest.domain.orders import (
    NOTE_STATES,
    CartItem,
    Shipping,
    notes_of,
    orders_of,
    place_customer_order,
    totals_of,
    unit_price,
)
from ingest.domain.supplies import consumables_for, machine_forecasts
from ingest.downloads import download
from ingest.forms import AddToCartForm, ShippingForm
from ingest.languages import document_wording
from ingest.models import Consumable, Customer, DeliveryNote, Machine, Order, User

blueprint = Blueprint("shop", __name__)
CART_KEY = "cart"


@blueprint.get("/machines/<int:machine_id>/forecast.json")
@login_required
def forecast_json(machine_id: int) -> Response:
    """The supply forecast of one machine, as JSON (for dashboards and integrations)."""
    db = db_session()
    machine = find_machine(db, machine_id, customer_scope())
    now = datetime.now(UTC)
    slots = [
        {
            "slot": s.slot,
            "kind": s.kind,
            "colour": s.colour,
            "description": s.description,
            "basis": s.forecast.basis,
            "level_percent": s.forecast.level,
            "state": s.forecast.state,
            "days_to_empty": _round(s.forecast.days_to_empty),
            "days_range": [_round(s.forecast.days_low), _round(s.forecast.days_high)],
            "pages_to_empty": s.forecast.pages_to_empty,
            "reorder_open": s.open_reorder,
        }
        for s in machine_forecasts(db, machine, now)
    ]
    return jsonify({"machine": machine.scm_id, "generated_at": now.isoformat(), "supplies": slots})


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@blueprint.get("/orders")
@login_required
def orders() -> str:
    """Open and closed orders with their totals."""
    rows = [(o, totals_of(o)) for o in orders_of(db_session(), customer_scope())]
    return render_template("orders.html", rows=rows, show_customer=current_user.is_staff)


@blueprint.get("/orders/<int:order_id>")
@login_required
def order(order_id: int) -> str:
    """One order."""
    found = _order(order_id)
    return render_template("order.html", order=found, totals=totals_of(found))


@blueprint.get("/orders/<int:order_id>.pdf")
@login_required
def order_download(order_id: int) -> Response:
    """The order as PDF."""
    found = _order(order_id)
    return _pdf(order_pdf(found, document_wording(found.customer)), f"ordine-{found.number}.pdf")


@blueprint.get("/orders/new")
@login_required
def new_order() -> str:
    """Step 1-2: pick a machine, search its consumables, add them to the cart."""
    db = db_session()
    cards = machine_cards(db, customer_scope(), datetime.now(UTC).date())
    machine_id = request.args.get("machine", type=int)
    machine = find_machine(db, machine_id, customer_scope()) if machine_id else None
    query = request.args.get("q", "")[:80]
    articles = consumables_for(db, machine, query) if machine else []
    forms = {a.id: AddToCartForm(prefix=f"c{a.id}", quantity=1) for a in articles}
    return render_template(
        "order_new.html",
        cards=cards,
        machine=machine,
        query=query,
        articles=articles,
        forms=forms,
        cart=_cart_lines(),
        unit_price=unit_price,
    )


@blueprint.post("/orders/cart/<int:machine_id>/<int:consumable_id>")
@login_required
def add_to_cart(machine_id: int, consumable_id: int) -> WerkzeugResponse:
    """Add an article for a machine to the cart (kept in the signed session cookie)."""
    db = db_session()
    machine = find_machine(db, machine_id, customer_scope())
    article = db.get(Consumable, consumable_id) or abort(404)
    form = AddToCartForm(prefix=f"c{consumable_id}")
    if form.validate_on_submit():
        cart = list(session.get(CART_KEY, []))
        cart.append(
            {"machine": machine.id, "consumable": article.id, "quantity": form.quantity.data or 1}
        )
        session[CART_KEY] = cart[-50:]
        flash(_("%(article)s added to the cart.", article=article.article_code), "ok")
    return redirect(url_for("shop.new_order", machine=machine.id))


@blueprint.route("/orders/checkout", methods=["GET", "POST"])
@login_required
def checkout() -> str | WerkzeugResponse:
    """Step 3: shipping data, then the order is placed."""
    db = db_session()
    scope = customer_scope()
    lines = _cart_lines()
    if not lines:
        flash(_("The cart is empty."), "error")
        return redirect(url_for("shop.new_order"))
    customer = db.get(Customer, scope) if scope is not None else lines[0][0].customer
    site = lines[0][0].site
    form = ShippingForm(
        contact=customer.referent_name if customer else None,
        phone=customer.referent_phone if customer else None,
        ship_to=site.address if site else None,
    )
    if form.validate_on_submit() and customer is not None:
        shipping = Shipping(
            contact=form.contact.data or "",
            hours=form.hours.data or "",
            ship_to=form.ship_to.data or "",
            payment_method=form.payment_method.data or "",
            phone=form.phone.data or "",
            customer_reference=form.customer_reference.data or "",
            notes=form.notes.data or "",
        )
        cart = [CartItem(m.id, c.id, q) for m, c, q in lines]
        user = db.get(User, current_user.user_id)
        placed = place_customer_order(db, customer, user, cart, shipping, datetime.now(UTC))
        db.commit()
        session.pop(CART_KEY, None)
        flash(_("Order %(number)s placed. Thank you.", number=placed.number), "ok")
        return redirect(url_for("shop.order", order_id=placed.id))
    return render_template("order_checkout.html", form=form, cart=lines, unit_price=unit_price)


@blueprint.post("/orders/cart/clear")
@login_required
def clear_cart() -> WerkzeugResponse:
    """Empty the cart."""
    session.pop(CART_KEY, None)
    return redirect(url_for("shop.new_order"))


def _cart_lines() -> list[tuple[Machine, Consumable, int]]:
    """The cart's items that still resolve to this user's machines and existing articles."""
    db, scope, lines = db_session(), customer_scope(), []
    for item in session.get(CART_KEY, []):
        machine = db.get(Machine, int(item.get("machine", 0)))
        article = db.get(Consumable, int(item.get("consumable", 0)))
        if machine and article and (scope is None or machine.customer_id == scope):
            lines.append((machine, article, int(item.get("quantity", 1))))
    return lines


@blueprint.get("/deliveries")
@login_required
def deliveries() -> str:
    """Delivery notes with the status legend."""
    notes = notes_of(db_session(), customer_scope())
    return render_template(
        "deliveries.html", notes=notes, states=NOTE_STATES, show_customer=current_user.is_staff
    )


@blueprint.get("/deliveries/<int:note_id>")
@login_required
def delivery(note_id: int) -> str:
    """One delivery note: number, lines with description, quantity, price."""
    return render_template("delivery.html", note=_note(note_id), states=NOTE_STATES)


@blueprint.get("/deliveries/<int:note_id>.pdf")
@login_required
def delivery_download(note_id: int) -> Response:
    """The delivery note as PDF."""
    note = _note(note_id)
    return _pdf(delivery_note_pdf(note, document_wording(note.customer)), f"ddt-{note.number}.pdf")


def _order(order_id: int) -> Order:
    return owned(Order, order_id)


def _note(note_id: int) -> DeliveryNote:
    return owned(DeliveryNote, note_id)


def _pdf(data: bytes, name: str) -> Response:
    return download(data, name, "application/pdf")
