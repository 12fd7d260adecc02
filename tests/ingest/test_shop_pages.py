"""Consumable pages: forecast JSON, the customer order flow, orders and delivery notes, and
the staff shipping page, each scoped to the signed-in customer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from support.fleet import add_consumable, add_machine, push, utc
from support.ingest import enroll_agent, issue_token
from support.web import add_user, csrf_token, sign_in

from ingest.models import DeliveryNote, Order

T0 = utc(2026, 11, 2, 9)


@pytest.fixture
def shop(app, client, agent):
    ids = {
        "rossi": add_machine(app, "Rossi srl", scm_id="SCM-R1", serial="R-1"),
        "bianchi": add_machine(app, "Bianchi spa", scm_id="SCM-B1", serial="B-1"),
        "paid": add_consumable(app, "TN-C", colour="cyan", price="99.90", included=False),
        "free": add_consumable(app, "TN-K"),
    }
    for day, level in enumerate((60, 50, 40, 30)):
        push(client, agent, T0 + timedelta(days=day), 1000 + day, black=level, serial="R-1")
    other = enroll_agent(client, issue_token(app, "Bianchi spa"))
    for day, level in enumerate((40, 20, 5)):
        push(client, other, T0 + timedelta(days=day), 1000 + day, black=level, serial="B-1")
    add_user(app, "anna@rossi.example", "Rossi srl")
    add_user(app, "staff@scm.example", staff=True)
    return ids


def test_forecast_json_for_own_machine_only(client, shop):
    sign_in(client, "anna@rossi.example")
    data = client.get(f"/machines/{shop['rossi']}/forecast.json").get_json()
    assert data["machine"] == "SCM-R1"
    [toner] = [s for s in data["supplies"] if s["kind"] == "toner"]
    assert toner["basis"] == "level_vs_time"
    assert toner["level_percent"] == 30
    assert toner["days_to_empty"] > 0
    assert client.get(f"/machines/{shop['bianchi']}/forecast.json").status_code == 404


def test_machines_page_shows_when_toner_runs_out(client, shop):
    sign_in(client, "anna@rossi.example")
    page = client.get("/machines").get_data(as_text=True)
    assert re.search(r"Toner black: empty in about \d+ days", page)


def test_customer_orders_through_cart_and_shipping_data(client, shop, session):
    sign_in(client, "anna@rossi.example")
    page = client.get(f"/orders/new?machine={shop['rossi']}&q=tn").get_data(as_text=True)
    assert 'data-article="TN-C"' in page and 'data-article="TN-K"' in page
    token = csrf_token(client, f"/orders/new?machine={shop['rossi']}")
    client.post(
        f"/orders/cart/{shop['rossi']}/{shop['paid']}",
        data={"csrf_token": token, f"c{shop['paid']}-quantity": "2"},
    )
    assert (
        client.post(
            f"/orders/cart/{shop['bianchi']}/{shop['paid']}", data={"csrf_token": token}
        ).status_code
        == 404
    )
    checkout = client.get("/orders/checkout").get_data(as_text=True)
    assert "2 × TN-C" in checkout
    response = client.post(
        "/orders/checkout",
        data={
            "csrf_token": token,
            "contact": "Anna Rossi",
            "hours": "9-13",
            "phone": "02 123",
            "ship_to": "Via Roma 1, Milano",
            "payment_method": "bank_transfer",
            "customer_reference": "PO-2026-77",
            "notes": "Citofono 3",
        },
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert re.search(r"Order ORD-2026-\d{5} placed", text)
    assert "€199.80" in text and "€243.76" in text  # net and total with 22 % VAT
    order = session.scalar(select(Order).where(Order.source == "customer"))
    assert order.customer_reference == "PO-2026-77"
    assert client.get("/orders/checkout", follow_redirects=True).request.path == "/orders/new"


def test_orders_and_delivery_notes_are_scoped(client, shop, session):
    sign_in(client, "anna@rossi.example")
    page = client.get("/orders").get_data(as_text=True)
    orders = {o.customer.name: o for o in session.scalars(select(Order))}
    assert set(orders) == {"Rossi srl", "Bianchi spa"}  # 10 %/day with 30 % left; 5 % left
    assert page.count('data-number="ORD-') == 1
    assert orders["Rossi srl"].number in page
    bianchi_order = orders["Bianchi spa"]
    assert client.get(f"/orders/{bianchi_order.id}").status_code == 404
    assert client.get(f"/orders/{bianchi_order.id}.pdf").status_code == 404


def test_staff_ships_an_automatic_order_and_prints_labels(client, shop, session):
    sign_in(client, "staff@scm.example")
    page = client.get("/ops/shipping/").get_data(as_text=True)
    assert 'data-slot="toner:black"' in page
    order = session.scalar(select(Order).order_by(Order.id))
    token = csrf_token(client, "/ops/shipping/")
    client.post(f"/ops/shipping/orders/{order.id}/ship", data={"csrf_token": token})
    note = session.scalar(select(DeliveryNote))
    assert note.status == "preparing"
    labels = client.get(f"/ops/shipping/notes/{note.id}/labels.pdf")
    assert labels.data.startswith(b"%PDF")
    client.post(f"/ops/shipping/notes/{note.id}/dispatch", data={"csrf_token": token})
    session.expire_all()
    assert session.get(DeliveryNote, note.id).status == "shipped"
    client.post(f"/ops/shipping/notes/{note.id}/delivered", data={"csrf_token": token})
    session.expire_all()
    assert session.get(DeliveryNote, note.id).order.status == "closed"
    deliveries = client.get("/deliveries").get_data(as_text=True)
    assert note.number in deliveries and "Legend" in deliveries


def test_customers_cannot_open_the_shipping_page(client, shop):
    sign_in(client, "anna@rossi.example")
    assert client.get("/ops/shipping/").status_code == 403
