"""Administration on the web: catalogue, posts with a PDF, customer settings, tokens, webhooks.

Through the real forms with their CSRF tokens; customers are refused every one of these pages.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from support.web import add_user, csrf_token, sign_in

from ingest.domain.accounts import get_or_create_customer
from ingest.domain.api_tokens import token_for
from ingest.models import AlertSettings, ApiToken, Consumable, Customer, Post, WebhookEndpoint

PAGES = ["/ops/catalogue", "/ops/posts", "/ops/integrations"]


@pytest.fixture
def staff(app, client, session):
    get_or_create_customer(session, "Rossi srl")
    session.commit()
    add_user(app, "anna@rossi.example", "Rossi srl")
    add_user(app, "staff@scm.example", staff=True)
    sign_in(client, "staff@scm.example")
    return client


def test_customers_are_refused_the_admin_pages(app, client, session):
    get_or_create_customer(session, "Rossi srl")
    session.commit()
    add_user(app, "anna@rossi.example", "Rossi srl")
    sign_in(client, "anna@rossi.example")
    customer_id = session.scalar(select(Customer.id))
    for path in [*PAGES, f"/ops/customers/{customer_id}/settings"]:
        assert client.get(path).status_code == 403, path


def test_catalogue_add_search_and_change(staff, session):
    form = {
        "code": "TN-217",
        "description": "Toner nero",
        "models": "MX-3070N; MX-3570N",
        "kind": "toner",
        "colour": "black",
        "yield_pages": "40000",
        "price": "120.50",
        "included": "y",
    }
    token = csrf_token(staff, "/ops/catalogue")
    assert staff.post("/ops/catalogue", data={**form, "csrf_token": token}).status_code == 302
    row = session.scalar(select(Consumable))
    assert (row.article_code, str(row.price), row.yield_pages) == ("TN-217", "120.50", 40000)

    page = staff.get("/ops/catalogue?q=mx-3570").get_data(as_text=True)
    assert 'data-code="TN-217"' in page
    assert 'data-code="TN-217"' not in staff.get("/ops/catalogue?q=laser").get_data(as_text=True)
    edit = staff.get(f"/ops/catalogue?edit={row.id}").get_data(as_text=True)
    assert 'value="Toner nero"' in edit

    changed = {**form, "price": "99", "csrf_token": token}
    changed.pop("included")
    staff.post("/ops/catalogue", data=changed)
    session.expire_all()
    row = session.scalar(select(Consumable))
    assert (str(row.price), row.included_in_contract) == ("99.00", False)
    bad = staff.post("/ops/catalogue", data={**form, "price": "-3", "csrf_token": token})
    assert bad.status_code == 200 and session.scalar(select(Consumable)).price == 99


def test_an_offer_with_its_pdf_reaches_only_its_customer(app, staff, client, session):
    customer_id = session.scalar(select(Customer.id))
    token = csrf_token(staff, "/ops/posts")
    pdf = b"%PDF-1.4 offerta"
    response = staff.post(
        "/ops/posts",
        data={
            "csrf_token": token,
            "kind": "offer",
            "customer_id": str(customer_id),
            "title": "Offerta toner 2027",
            "body": "Prezzi bloccati",
            "attachment": (io.BytesIO(pdf), "offerta.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    post = session.scalar(select(Post))
    assert (post.kind, post.filename, post.data) == ("offer", "offerta.pdf", pdf)
    not_pdf = staff.post(
        "/ops/posts",
        data={
            "csrf_token": token,
            "kind": "news",
            "customer_id": "0",
            "title": "x",
            "attachment": (io.BytesIO(b"MZ"), "setup.exe"),
        },
        content_type="multipart/form-data",
    )
    assert "PDF files only" in not_pdf.get_data(as_text=True)
    offer_without_customer = staff.post(
        "/ops/posts", data={"csrf_token": token, "kind": "offer", "customer_id": "0", "title": "x"}
    )
    assert offer_without_customer.status_code == 400

    staff.post("/logout", data={"csrf_token": csrf_token(staff, "/ops/posts")})
    sign_in(client, "anna@rossi.example")
    assert "Offerta toner 2027" in client.get("/offers").get_data(as_text=True)
    assert client.get(f"/posts/{post.id}/file").data == pdf


def test_customer_settings_are_saved_and_checked(staff, session):
    customer = session.scalar(select(Customer))
    path = f"/ops/customers/{customer.id}/settings"
    token = csrf_token(staff, path)
    data = {
        "csrf_token": token,
        "referent_name": "Anna Rossi",
        "referent_email": "anna@rossi.example",
        "sales_rep_name": "Marco",
        "reorder_lead_days": "10",
        "reorder_threshold_percent": "15",
        "agent_silent_minutes": "",
        "device_silent_hours": "12",
        "auto_ticket_kinds": ["device_error", "device_silent"],
    }
    assert staff.post(path, data=data).status_code == 302
    session.expire_all()
    customer = session.get(Customer, customer.id)
    alerts = session.get(AlertSettings, customer.id)
    assert (customer.referent_name, customer.reorder_lead_days) == ("Anna Rossi", 10)
    assert alerts.agent_silent_minutes is None and alerts.device_silent_hours == 12
    assert alerts.auto_ticket_kinds == ["device_error", "device_silent"]
    page = staff.get(path).get_data(as_text=True)
    assert re.search(r'value="device_error"[^>]*checked|checked[^>]*value="device_error"', page)
    refused = staff.post(path, data={**data, "reorder_lead_days": "400"})
    assert refused.status_code == 200
    session.expire_all()
    assert session.get(Customer, customer.id).reorder_lead_days == 10


def test_a_token_is_shown_once_and_works_until_revoked(staff, session):
    token = csrf_token(staff, "/ops/integrations")
    page = staff.post("/ops/integrations/tokens", data={"csrf_token": token, "name": "ERP"})
    secret = re.search(r"<code>(scm_[^<]+)</code>", page.get_data(as_text=True)).group(1)
    assert token_for(session, secret, session.scalar(select(ApiToken)).created_at) is not None
    assert secret not in staff.get("/ops/integrations").get_data(as_text=True)
    assert (
        staff.get("/api/v1/alerts", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    row = session.scalar(select(ApiToken))
    staff.post(f"/ops/integrations/tokens/{row.id}/revoke", data={"csrf_token": token})
    assert (
        staff.get("/api/v1/alerts", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )


def test_webhooks_are_added_with_a_secret_and_paused(staff, session):
    token = csrf_token(staff, "/ops/integrations")
    page = staff.post(
        "/ops/integrations/webhooks",
        data={
            "csrf_token": token,
            "url": "https://erp.scm.example/hook",
            "events": ["alert.opened"],
        },
    ).get_data(as_text=True)
    hook = session.scalar(select(WebhookEndpoint))
    assert hook.events == ["alert.opened"] and f"<code>{hook.secret}</code>" in page
    staff.post(f"/ops/integrations/webhooks/{hook.id}/toggle", data={"csrf_token": token})
    session.expire_all()
    assert session.get(WebhookEndpoint, hook.id).active is False


def test_staff_disable_and_enable_an_agent_and_enrol_a_new_one(app, client, agent, session):
    from sqlalchemy import func

    from ingest.models import Agent, EnrollmentToken

    add_user(app, "staff@scm.example", staff=True)
    sign_in(client, "staff@scm.example")
    page = client.get("/ops/agents").get_data(as_text=True)
    assert f'data-agent="{agent.agent_id}"' in page
    row = session.scalar(select(Agent))
    token = csrf_token(client, "/ops/agents")
    client.post(f"/ops/agents/{row.id}/disable", data={"csrf_token": token})
    batch_id, body = agent.batch()
    assert agent.post(client, batch_id, body).status_code == 401  # refused, its site keeps it
    client.post(f"/ops/agents/{row.id}/enable", data={"csrf_token": token})
    batch_id, body = agent.batch()
    assert agent.post(client, batch_id, body).status_code == 200
    customer_id = row.customer_id
    answer = client.post(f"/ops/agents/enrol/{customer_id}", data={"csrf_token": token})
    assert "scm-enroll-" in answer.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(EnrollmentToken)) == 2
