"""The portal home, statistics, news/offers/documents and the message to the salesperson."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from support.fleet import add_machine, push, utc
from support.smtp import smtp_server
from support.web import add_user, csrf_token, sign_in

from ingest.cli import main
from ingest.db import database
from ingest.domain.accounts import find_customer


@pytest.fixture
def run(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SCM_DATABASE_URL", database_url)
    monkeypatch.setenv("SCM_INSTANCE_PATH", str(tmp_path))
    return lambda *args: CliRunner().invoke(main, list(args))


@pytest.fixture
def portal(app, client, agent, run, tmp_path):
    add_machine(app, "Rossi srl", scm_id="SCM-R1", serial="R-1")
    add_machine(app, "Bianchi spa", scm_id="SCM-B1", serial="B-1")
    for when, total in (
        (utc(2026, 9, 1), 1000),
        (utc(2026, 10, 1), 1500),
        (utc(2026, 11, 1), 2300),
    ):
        push(client, agent, when, total, colour=100, serial="R-1")
    add_user(app, "anna@rossi.example", "Rossi srl")
    offer = tmp_path / "offerta.pdf"
    offer.write_bytes(b"%PDF-1.4 offer")
    assert run("post", "add", "--kind", "news", "--title", "Nuovo portale").exit_code == 0
    assert (
        run(
            "post",
            "add",
            "--kind",
            "offer",
            "--customer",
            "Bianchi spa",
            "--title",
            "Offerta Bianchi",
        ).exit_code
        == 0
    )
    result = run(
        "post",
        "add",
        "--kind",
        "offer",
        "--customer",
        "Rossi srl",
        "--title",
        "Offerta noleggio",
        "--file",
        str(offer),
    )
    assert result.exit_code == 0, result.output
    assert (
        run(
            "customer",
            "create",
            "Rossi srl",
            "--sales-rep-name",
            "Paolo Verdi",
            "--sales-rep-email",
            "paolo.verdi@scm.example",
        ).exit_code
        == 0
    )


def test_home_shows_tiles_news_and_the_salesperson(client, portal):
    sign_in(client, "anna@rossi.example")
    page = client.get("/").get_data(as_text=True)
    assert "Request assistance" in page and "Statistics" in page
    assert "Nuovo portale" in page
    assert "Paolo Verdi" in page


def test_offers_are_per_customer_and_downloadable(client, portal):
    sign_in(client, "anna@rossi.example")
    page = client.get("/offers").get_data(as_text=True)
    assert "Offerta noleggio" in page and "Offerta Bianchi" not in page
    link = page.split('href="/posts/')[1].split('"')[0]
    assert client.get(f"/posts/{link}").data == b"%PDF-1.4 offer"


def test_statistics_pages_per_month(client, portal):
    sign_in(client, "anna@rossi.example")
    page = client.get("/statistics?months=12").get_data(as_text=True)
    september = page.split('data-month="2026-09"')[1].split("</tr>")[0]
    assert 'class="num mono-pages">500<' in september  # 1000 -> 1500 over September
    october = page.split('data-month="2026-10"')[1].split("</tr>")[0]
    assert 'class="num mono-pages">800<' in october


def test_message_to_the_salesperson_goes_by_smtp(client, portal, monkeypatch):
    with smtp_server() as inbox:
        for name, value in inbox.env().items():
            monkeypatch.setenv(name, value)
        sign_in(client, "anna@rossi.example")
        token = csrf_token(client, "/")
        response = client.post(
            "/contact",
            data={
                "csrf_token": token,
                "subject": "Preventivo",
                "message": "Ci serve una seconda MFP.",
            },
            follow_redirects=True,
        )
        assert "Message sent to your salesperson." in response.get_data(as_text=True)
        [message] = inbox.messages
        assert message["To"] == "paolo.verdi@scm.example"
        assert "Rossi srl" in message["Subject"]
        assert "anna@rossi.example" in message.get_content()


def test_referent_fields_are_kept(app, portal):
    with database(app).session() as db:
        assert find_customer(db, "Rossi srl").sales_rep_name == "Paolo Verdi"


@pytest.mark.parametrize("query", ["months=-5", "months=100000", "months=abc", "machine=x"])
def test_bad_statistics_parameters_fall_back_to_defaults(client, portal, query):
    sign_in(client, "anna@rossi.example")
    assert client.get(f"/statistics?{query}").status_code == 200


def test_ids_beyond_any_column_are_not_found(client, portal):
    sign_in(client, "anna@rossi.example")
    for path in (
        "/invoices/99999999999999999999",
        "/tickets/99999999999999999999",
        "/orders/99999999999999999999.pdf",
    ):
        assert client.get(path).status_code == 404, path
