"""Supply history at intake: cartridge changes, automatic reorders, orders, DDT and labels."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from support.fleet import add_consumable, add_machine, push, utc

from ingest.db import database
from ingest.documents import delivery_note_pdf, labels_pdf, order_pdf
from ingest.domain.errors import DomainError
from ingest.domain.machines import set_location
from ingest.domain.orders import (
    CartItem,
    Shipping,
    dispatch,
    mark_delivered,
    order_totals,
    place_customer_order,
    ship_order,
    totals_of,
)
from ingest.domain.supplies import consumables_for, machine_forecasts
from ingest.models import CartridgeChange, Customer, Machine, Order, Reorder
from shared.reading import Supply

T0 = utc(2026, 11, 2, 9)


def text_of(data: bytes) -> str:
    """The PDF's text, no-break spaces (Babel's, before the euro) as spaces."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\xa0", " ")


def falling_toner(client, agent, levels, start=T0):
    for day, level in enumerate(levels):
        push(client, agent, start + timedelta(days=day), 1000 + 100 * day, black=level)


def reorders(session):
    session.expire_all()
    return list(session.scalars(select(Reorder).order_by(Reorder.id)))


def test_falling_toner_gives_one_reorder_then_the_change_closes_it(app, client, agent, session):
    add_machine(app)
    add_consumable(app, "TN-100K")
    falling_toner(client, agent, [60, 40])
    assert reorders(session) == []
    falling_toner(client, agent, [20], start=T0 + timedelta(days=2))  # 20 %/day: 1 day left
    [reorder] = reorders(session)
    assert reorder.status == "open"
    assert reorder.reason.startswith("forecast empty in")
    assert reorder.consumable.article_code == "TN-100K"
    falling_toner(client, agent, [9, 4], start=T0 + timedelta(days=3))
    assert len(reorders(session)) == 1  # never two open for the slot
    falling_toner(client, agent, [97], start=T0 + timedelta(days=5))
    [closed] = reorders(session)
    assert closed.status == "closed"
    change = session.get(CartridgeChange, closed.closed_by_change_id)
    assert (change.replaced_at_percent, change.new_percent) == (4, 97)
    falling_toner(client, agent, [95], start=T0 + timedelta(days=6))
    assert len(reorders(session)) == 1


def test_reorder_becomes_an_order_line_free_when_included(app, client, agent, session):
    add_machine(app)
    add_consumable(app, "TN-100K", included=True)
    falling_toner(client, agent, [50, 30, 10])
    [order] = session.scalars(select(Order)).all()
    assert order.source == "auto"
    assert order.number.startswith("ORD-2026-")
    [line] = order.lines
    assert line.consumable.article_code == "TN-100K"
    assert line.unit_price == Decimal("0.00")
    assert order.ship_to == "Via Roma 1, 20100 Milano"


def test_threshold_and_waste_toner_and_unknown_article(app, client, agent, session):
    add_machine(app)
    waste = Supply.from_raw("waste_toner", None, "Waste Toner Box", 8, 100)
    push(client, agent, T0, 1000, black=70, extra_supplies=(waste,))
    [reorder] = reorders(session)
    assert reorder.kind == "waste_toner"
    assert reorder.reason == "level 8% at or below 10%"
    assert reorder.consumable_id is None
    line = session.scalar(select(Order)).lines[0]
    assert "article to be chosen" in line.description


def test_customer_lead_time_and_threshold_are_per_customer(app, client, agent, session):
    add_machine(app)
    with database(app).session() as db:
        customer = db.scalar(select(Customer))
        customer.reorder_threshold_percent = 30
        db.commit()
    push(client, agent, T0, 1000, black=25)
    assert reorders(session)[0].reason == "level 25% at or below 30%"


def test_forecast_per_machine_for_pages_and_the_api(app, client, agent, session):
    machine_id = add_machine(app)
    falling_toner(client, agent, [90, 88, 86, 84])
    machine = session.get(Machine, machine_id)
    [slot] = machine_forecasts(session, machine, T0 + timedelta(days=3))
    assert slot.kind == "toner"
    assert slot.forecast.days_to_empty == pytest.approx(42)
    assert not slot.open_reorder


def test_shipping_makes_a_ddt_and_labels_with_the_current_location(app, client, agent, session):
    machine_id = add_machine(app)
    add_consumable(app, "TN-100K")
    falling_toner(client, agent, [50, 30, 10])
    order = session.scalar(select(Order))
    note = ship_order(session, order, T0 + timedelta(days=3))
    assert note.number == "DDT-2026-00001"
    assert note.status == "preparing"
    labels = text_of(labels_pdf(note))
    for expected in (
        "ID SCM SCM-0001",
        "Acme Laser 1 - matricola SN-0001",
        "TN-100K",
        "Ufficio Acquisti, primo piano",
        "Rossi srl",
        "Via Roma 1, 20100 Milano",
        f"{note.number}/L{note.lines[0].id}/P1",
    ):
        assert expected in labels, expected
    machine = session.get(Machine, machine_id)
    set_location(session, machine, "Reception, piano terra")
    assert "Reception, piano terra" in text_of(labels_pdf(note))  # not dispatched: follows
    dispatch(session, note, T0 + timedelta(days=3, hours=2))
    set_location(session, machine, "Magazzino")
    assert "Reception, piano terra" in text_of(labels_pdf(note))  # dispatched: frozen
    ddt = text_of(delivery_note_pdf(note))
    for expected in (  # what an Italian DDT carries
        f"Documento di trasporto {note.number} del 05/11/2026",
        "Cedente\nSCM srl",
        "Cessionario\nRossi srl",
        "Destinazione: ",
        "Causale del trasporto: Fornitura in contratto di servizio",
        "TN-100K",
        "Numero colli: 1",
        "Aspetto dei beni: Scatole",
        "Trasporto a cura del: Cedente",
        "Porto: Porto franco",
        "Data e ora inizio trasporto: 05/11/2026 12:00",  # 11:00 UTC, shown in Rome
        "Firma del conducente",
        "Firma del destinatario",
    ):
        assert expected in ddt, expected
    mark_delivered(session, note, T0 + timedelta(days=4))
    assert order.status == "closed"
    with pytest.raises(DomainError):
        dispatch(session, note, T0 + timedelta(days=5))


def test_customer_order_with_cart_totals_and_pdf(app, session):
    machine_id = add_machine(app)
    paid = add_consumable(app, "TN-200C", colour="cyan", price="120.50", included=False)
    add_consumable(app, "TN-OTHER", models="Another Model")
    machine = session.get(Machine, machine_id)
    assert [c.article_code for c in consumables_for(session, machine, "tn-2")] == ["TN-200C"]
    customer = session.scalar(select(Customer))
    shipping = Shipping(
        contact="Anna Rossi",
        hours="9-13",
        ship_to="Via Roma 1, Milano",
        payment_method="bank_transfer",
        customer_reference="PO-77",
        notes="Citofono 3",
    )
    order = place_customer_order(
        session, customer, None, [CartItem(machine_id, paid, 2)], shipping, T0
    )
    totals = totals_of(order)
    assert (totals.gross, totals.net, totals.vat, totals.total) == (
        Decimal("241.00"),
        Decimal("241.00"),
        Decimal("53.02"),
        Decimal("294.02"),
    )
    text = text_of(order_pdf(order))
    for expected in (order.number, "TN-200C", "PO-77", "241,00", "294,02 EUR", "Citofono 3"):
        assert expected in text, expected
    assert "Pagamento: Bonifico bancario" in text and "bank_transfer" not in text


def test_cart_refuses_foreign_machines_and_unfit_articles(app, session):
    machine_id = add_machine(app)
    other_machine = add_machine(app, "Bianchi spa", scm_id="SCM-B", serial="B-1")
    unfit = add_consumable(app, "TN-OTHER", models="Another Model")
    fit = add_consumable(app, "TN-100K")
    customer = session.scalar(select(Customer).where(Customer.name == "Rossi srl"))
    shipping = Shipping("Anna", "9-13", "Via Roma 1", "bank_transfer")
    for item in (
        CartItem(other_machine, fit, 1),
        CartItem(machine_id, unfit, 1),
        CartItem(machine_id, fit, 0),
    ):
        with pytest.raises(DomainError):
            place_customer_order(session, customer, None, [item], shipping, T0)
    with pytest.raises(DomainError, match="empty"):
        place_customer_order(session, customer, None, [], shipping, T0)
    assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_order_totals_with_discount():
    totals = order_totals(
        [(3, Decimal("10.00")), (1, Decimal("5.55"))], Decimal("10"), Decimal("0.22")
    )
    assert totals.gross == Decimal("35.55")
    assert totals.discount == Decimal("3.56")
    assert totals.net == Decimal("31.99")
    assert totals.vat == Decimal("7.04")
    assert totals.total == Decimal("39.03")


def test_a_late_reading_does_not_reopen_a_closed_reorder(app, client, agent, session):
    add_machine(app)
    falling_toner(client, agent, [40, 30, 20, 8])
    falling_toner(client, agent, [100], start=T0 + timedelta(days=6))
    assert [r.status for r in reorders(session)] == ["closed"]
    falling_toner(client, agent, [6], start=T0 + timedelta(days=5))  # spooled, arrives late
    assert [r.status for r in reorders(session)] == ["closed"]
