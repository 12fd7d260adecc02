"""Orders of consumables and their delivery notes ("DDT"), with gap-free numbers.

Automatic reorders of one customer site gather in one open automatic order until it ships;
customers place their own orders from a cart (the Spanish "Introducción de pedidos").
Shipping an order makes a delivery note; dispatching it freezes each line's machine location
(labels printed before dispatch always show the machine's current location).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.billing import money
from ingest.domain.catalogue import fits
from ingest.domain.errors import DomainError
from ingest.domain.numbering import next_number
from ingest.i18n import LABELS
from ingest.models import (
    Consumable,
    Customer,
    DeliveryNote,
    DeliveryNoteLine,
    Machine,
    Order,
    OrderLine,
    Reorder,
    User,
)

VAT_RATE = Decimal("0.22")
PAYMENT_METHODS = ("bank_transfer", "direct_debit", "on_invoice")
#: Delivery-note status -> its words (msgids, translated where they are shown).
NOTE_STATES = LABELS["note_status"]
MAX_QUANTITY = 99
MAX_PACKAGES = 999
CARRIED_BY = ("sender", "carrier", "recipient")
FREIGHT_TERMS = ("paid", "forward")


@dataclass(frozen=True, slots=True)
class OrderTotals:
    """Gross, discount, net, VAT and total of an order ("Bruto, Dto, Neto, IVA")."""

    gross: Decimal
    discount: Decimal
    net: Decimal
    vat: Decimal
    total: Decimal


def order_totals(
    lines: list[tuple[int, Decimal]], discount_percent: Decimal, vat_rate: Decimal
) -> OrderTotals:
    """Totals from (quantity, unit price) pairs; discount then VAT, each rounded to the cent."""
    gross = money(sum((Decimal(q) * price for q, price in lines), Decimal(0)))
    discount = money(gross * discount_percent / 100)
    net = gross - discount
    vat = money(net * vat_rate)
    return OrderTotals(gross, discount, net, vat, net + vat)


def totals_of(order: Order) -> OrderTotals:
    """The totals of a stored order."""
    return order_totals(
        [(line.quantity, line.unit_price) for line in order.lines],
        order.discount_percent,
        order.vat_rate,
    )


def unit_price(consumable: Consumable | None) -> Decimal:
    """What the customer pays per piece: nothing when the contract includes it."""
    if consumable is None or consumable.included_in_contract:
        return Decimal("0.00")
    return consumable.price


def add_auto_order_line(
    session: Session,
    machine: Machine,
    reorder: Reorder,
    consumable: Consumable | None,
    supply_description: str | None,
    now: datetime,
) -> OrderLine:
    """Put a reorder on the site's open automatic order (created if there is none)."""
    order = session.scalar(
        select(Order)
        .where(
            Order.customer_id == machine.customer_id,
            Order.site_id == machine.site_id,
            Order.source == "auto",
            Order.status == "open",
        )
        .where(~Order.id.in_(select(DeliveryNote.order_id)))
    )
    if order is None:
        customer = machine.customer
        order = Order(
            number=next_number(session, "order", now.year),
            customer_id=customer.id,
            site_id=machine.site_id,
            source="auto",
            status="open",
            contact=customer.referent_name,
            phone=customer.referent_phone,
            ship_to=machine.site.address if machine.site else customer.billing_address,
            vat_rate=VAT_RATE,
            discount_percent=Decimal(0),
            created_at=now,
        )
        session.add(order)
        session.flush()
    description = (
        consumable.description
        if consumable
        else f"{supply_description or reorder.kind} for {machine.model or ''} "
        "(article to be chosen)"
    )
    line = OrderLine(
        order_id=order.id,
        machine_id=machine.id,
        consumable_id=consumable.id if consumable else None,
        reorder_id=reorder.id,
        description=description[:300],
        quantity=1,
        unit_price=unit_price(consumable),
    )
    session.add(line)
    session.flush()
    return line


@dataclass(frozen=True, slots=True)
class CartItem:
    """One line of a customer's cart."""

    machine_id: int
    consumable_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Shipping:
    """Shipping data of a customer order ("Contacto, Horario, Dirección, Forma de pago...")."""

    contact: str
    hours: str
    ship_to: str
    payment_method: str
    phone: str = ""
    customer_reference: str = ""
    notes: str = ""


def place_customer_order(
    session: Session,
    customer: Customer,
    user: User | None,
    cart: list[CartItem],
    shipping: Shipping,
    now: datetime,
) -> Order:
    """Turn a cart into an order; every item must be a machine of this customer and an
    article that fits it."""
    if not cart:
        raise DomainError("empty_cart", "the cart is empty")
    if not shipping.contact.strip() or not shipping.hours.strip():
        raise DomainError("bad_shipping", "contact and office hours are required")
    if shipping.payment_method not in PAYMENT_METHODS:
        raise DomainError("bad_shipping", "unknown payment method")
    lines = [_cart_line(session, customer, item) for item in cart]
    order = Order(
        number=next_number(session, "order", now.year),
        customer_id=customer.id,
        site_id=lines[0][0].site_id,
        source="customer",
        status="open",
        contact=shipping.contact.strip(),
        phone=shipping.phone.strip() or None,
        hours=shipping.hours.strip(),
        ship_to=shipping.ship_to.strip() or None,
        payment_method=shipping.payment_method,
        customer_reference=shipping.customer_reference.strip()[:64] or None,
        notes=shipping.notes.strip() or None,
        vat_rate=VAT_RATE,
        discount_percent=Decimal(0),
        created_at=now,
        created_by_id=user.id if user else None,
    )
    session.add(order)
    session.flush()
    for (machine, consumable), item in zip(lines, cart, strict=True):
        session.add(
            OrderLine(
                order_id=order.id,
                machine_id=machine.id,
                consumable_id=consumable.id,
                description=consumable.description,
                quantity=item.quantity,
                unit_price=unit_price(consumable),
            )
        )
    session.flush()
    session.refresh(order)
    return order


def _cart_line(session: Session, customer: Customer, item: CartItem) -> tuple[Machine, Consumable]:
    machine = session.get(Machine, item.machine_id)
    consumable = session.get(Consumable, item.consumable_id)
    if machine is None or machine.customer_id != customer.id or consumable is None:
        raise DomainError("bad_cart", "an item of the cart is not available", 404)
    if not 1 <= item.quantity <= MAX_QUANTITY:
        raise DomainError("bad_cart", f"quantity must be between 1 and {MAX_QUANTITY}")
    if not fits(consumable, machine):
        raise DomainError("bad_cart", f"{consumable.article_code} does not fit {machine.scm_id}")
    return machine, consumable


def ship_order(session: Session, order: Order, now: datetime) -> DeliveryNote:
    """A delivery note for everything on the order (one note per order)."""
    existing = session.scalar(select(DeliveryNote).where(DeliveryNote.order_id == order.id))
    if existing is not None:
        return existing
    free = all(line.unit_price == 0 for line in order.lines)
    note = DeliveryNote(
        number=next_number(session, "ddt", now.year),
        order_id=order.id,
        customer_id=order.customer_id,
        status="preparing",
        created_at=now,
        transport_reason="contract_supply" if free else "sale",
        packages=sum(line.quantity for line in order.lines),
        goods_appearance="boxes",
    )
    session.add(note)
    session.flush()
    for line in order.lines:
        session.add(
            DeliveryNoteLine(
                note_id=note.id,
                order_line_id=line.id,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
        )
    session.flush()
    session.refresh(note)
    return note


@dataclass(frozen=True, slots=True)
class Transport:
    """How a DDT's goods travel: who carries them ("a cura del"), the carrier, the parcels and
    the freight terms ("porto"); None keeps what the note already says."""

    carried_by: str = "sender"
    carrier_name: str | None = None
    packages: int | None = None
    freight: str = "paid"


def dispatch(
    session: Session, note: DeliveryNote, now: datetime, transport: Transport | None = None
) -> DeliveryNote:
    """The parcel leaves: labels are final, each line keeps the location it was labelled for,
    and the note records who carries it; its transport starts now ("inizio trasporto")."""
    if note.status != "preparing":
        raise DomainError("already_shipped", f"{note.number} was already shipped", 409)
    transport = transport or Transport()
    if transport.carried_by not in CARRIED_BY or transport.freight not in FREIGHT_TERMS:
        raise DomainError("bad_transport", "unknown carrier kind or freight terms")
    if transport.carried_by == "carrier" and not (transport.carrier_name or "").strip():
        raise DomainError("carrier_needed", "name the carrier who takes the goods")
    if transport.packages is not None and not 1 <= transport.packages <= MAX_PACKAGES:
        raise DomainError("bad_packages", f"parcels must be between 1 and {MAX_PACKAGES}")
    note.carried_by, note.freight = transport.carried_by, transport.freight
    note.carrier_name = (transport.carrier_name or "").strip() or None
    note.packages = transport.packages or note.packages
    for line in note.lines:
        line.shipped_location = line.order_line.machine.location
    note.status, note.shipped_at = "shipped", now
    session.flush()
    return note


def mark_delivered(session: Session, note: DeliveryNote, now: datetime) -> DeliveryNote:
    """Delivered: the note and its order are done."""
    if note.status != "shipped":
        raise DomainError("not_shipped", f"{note.number} has not been shipped yet", 409)
    note.status, note.delivered_at = "delivered", now
    note.order.status, note.order.closed_at = "closed", now
    session.flush()
    return note


def label_location(line: DeliveryNoteLine) -> str:
    """Where the label sends the consumable: frozen once shipped, else the current location."""
    if line.shipped_location is not None:
        return line.shipped_location
    return line.order_line.machine.location or ""


def orders_of(session: Session, customer_id: int | None) -> list[Order]:
    """Orders newest first (one customer's, or all for staff)."""
    query = select(Order).order_by(Order.created_at.desc(), Order.id.desc())
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    return list(session.scalars(query))


def notes_of(session: Session, customer_id: int | None) -> list[DeliveryNote]:
    """Delivery notes newest first."""
    query = select(DeliveryNote).order_by(DeliveryNote.created_at.desc(), DeliveryNote.id.desc())
    if customer_id is not None:
        query = query.where(DeliveryNote.customer_id == customer_id)
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class ShippingOverview:
    """What the warehouse works from: open reorders, orders to ship, notes on their way."""

    reorders: list[Reorder]
    to_ship: list[Order]
    notes: list[DeliveryNote]
    catalogue: list[Consumable]


def shipping_overview(session: Session) -> ShippingOverview:
    """Open reorders, open orders without a delivery note, delivery notes not yet delivered."""
    with_note = set(session.scalars(select(DeliveryNote.order_id)))
    return ShippingOverview(
        reorders=list(
            session.scalars(
                select(Reorder).where(Reorder.status == "open").order_by(Reorder.created_at)
            )
        ),
        to_ship=[
            o for o in orders_of(session, None) if o.status == "open" and o.id not in with_note
        ],
        notes=list(
            session.scalars(
                select(DeliveryNote)
                .where(DeliveryNote.status != "delivered")
                .order_by(DeliveryNote.created_at)
            )
        ),
        catalogue=list(session.scalars(select(Consumable).order_by(Consumable.article_code))),
    )
