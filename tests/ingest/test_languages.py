"""Every page in Italian and Spanish with no English left, the language chosen in the right
order, numbers, money and dates by locale, sign-in with the customer code, and the catalogs
complete and compiled."""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

import pytest
from flask import render_template_string
from pypdf import PdfReader
from sqlalchemy import select
from support.fleet import add_consumable, add_machine, push, utc
from support.ingest import enroll_agent, issue_token
from support.web import add_user, csrf_token, sign_in

from ingest.db import database
from ingest.domain.invoicing import commit_run, month_period
from ingest.domain.orders import CartItem, Shipping, dispatch, place_customer_order, ship_order
from ingest.domain.read_requests import RequestLinks, open_requests_for_period
from ingest.domain.tickets import TicketRequest, open_ticket, ticket_mail_text
from ingest.i18n import translations, wording
from ingest.languages import page_translations, speak
from ingest.models import (
    Consumable,
    Customer,
    DeliveryNote,
    Invoice,
    Machine,
    Order,
    Post,
    Ticket,
    User,
)
from ingest.stored_texts import worded

T0 = utc(2026, 11, 2, 9)


@pytest.fixture
def world(app, client, agent):
    """One customer with something on every page: machines with counters and toner, an
    invoice, automatic and own orders, a shipped delivery note, a ticket, posts, a flagged
    read, a queued device and an open meter-read request; plus a staff user."""
    ids = {
        "machine": add_machine(app, "Rossi srl", scm_id="SCM-R1", serial="R-1"),
        "unmonitored": add_machine(app, "Rossi srl", scm_id="SCM-R2", serial="R-2"),
    }
    cyan = add_consumable(app, "TN-C", colour="cyan", price="99.90", included=False)
    black = add_consumable(app, "TN-K")
    with database(app).session() as db:  # the dealer's catalogue speaks Italian
        db.get(Consumable, cyan).description = "Cartuccia ciano"
        db.get(Consumable, black).description = "Cartuccia nera"
        db.commit()
    for day, level in enumerate((60, 50, 40, 30, 8)):
        push(client, agent, T0 + timedelta(days=day), 1000 + day, black=level, serial="R-1")
    push(client, agent, utc(2026, 12, 1), 4600, colour=700, serial="R-1", black=90)
    push(client, agent, utc(2026, 12, 2), 10, serial="R-1", black=90)  # backwards: flagged
    push(client, agent, utc(2026, 12, 2), 50, serial="UNKNOWN-9")  # a device to assign
    other = enroll_agent(client, issue_token(app, "Bianchi spa"))
    push(client, other, T0, 100, serial="B-9")
    add_user(app, "anna@rossi.example", "Rossi srl")
    add_user(app, "staff@scm.example", staff=True)
    with database(app).session() as db:
        commit_run(db, month_period("2026-11"), issued_on=date(2026, 12, 2))
        customer = db.scalar(select(Customer).where(Customer.name == "Rossi srl"))
        customer.sales_rep_name, customer.sales_rep_email = "Marco Verdi", "marco@scm.example"
        anna = db.scalar(select(User).where(User.email == "anna@rossi.example"))
        machine = db.get(Machine, ids["machine"])
        own = place_customer_order(
            db,
            customer,
            anna,
            [CartItem(machine.id, cyan, 1)],
            Shipping("Anna", "9-13", "Via Roma 1", "bank_transfer", customer_reference="PO-1"),
            T0,
        )
        note = ship_order(db, db.scalar(select(Order).where(Order.source == "auto")), T0)
        dispatch(db, note, T0 + timedelta(hours=2))
        request = TicketRequest(machine.id, "Carta inceppata", "Vassoio 2", "Anna")
        ticket = open_ticket(db, customer.id, anna, request, [], T0)
        for kind in ("news", "offer", "document"):
            db.add(Post(kind=kind, customer_id=customer.id, title="Titolo", published_at=T0))
        [read_request, *_] = open_requests_for_period(db, date(2026, 12, 31), utc(2026, 12, 20))
        db.commit()
        links = RequestLinks("http://127.0.0.1", app.config["SECRET_KEY"])
        ids |= {
            "cyan": cyan,
            "invoice": db.scalar(select(Invoice.id)),
            "order": own.id,
            "note": note.id,
            "ticket": ticket.id,
            "customer": customer.id,
            "link": links.url(read_request).removeprefix("http://127.0.0.1"),
        }
    return ids


def customer_pages(ids: dict) -> list[str]:
    return [
        "/",
        "/machines",
        f"/machines/{ids['machine']}",
        f"/machines/{ids['machine']}/location",
        "/devices",
        "/meter-reads",
        "/invoices",
        f"/invoices/{ids['invoice']}",
        "/orders",
        f"/orders/{ids['order']}",
        f"/orders/new?machine={ids['machine']}",
        "/orders/checkout",
        "/deliveries",
        f"/deliveries/{ids['note']}",
        "/tickets/",
        "/tickets/new",
        f"/tickets/{ids['ticket']}",
        "/statistics",
        "/news",
        "/offers",
        "/infobox",
    ]


STAFF_PAGES = [
    "/ops/",
    "/ops/queue",
    "/ops/flags",
    "/ops/billing",
    "/ops/invoices",
    "/ops/read-requests",
    "/ops/customers",
    "/ops/shipping/",
    "/ops/catalogue",
    "/ops/posts",
    "/ops/tickets",
    "/ops/tickets/new",
    "/ops/integrations",
    "/ops/agents",
    "/ops/demo-mail",
    "/machines",
    "/orders",
    "/deliveries",
    "/tickets/",
    "/invoices",
]


@cache
def english_words(language: str) -> dict[str, re.Pattern[str]]:
    """What betrays English on a page in ``language``: the literal parts of every msgid whose
    translation differs from it (placeholders cut out), as whole words, unless the language
    itself uses them somewhere (Italian says "Home Page" and "Vedi Tickets")."""
    catalog = {
        msgid: msgstr
        for msgid, msgstr in translations(language)._catalog.items()
        if isinstance(msgid, str) and msgid
    }
    own_words = " ".join(catalog.values())
    found = {}
    for msgid, msgstr in catalog.items():
        if msgid == msgstr:
            continue
        for part in re.split(r"%\([a-z_]+\)[sd]|%%|\n", msgid):
            clean = part.strip(" .,:;()[]·-–/#")
            pattern = re.compile(rf"(?<![\w@.-]){re.escape(clean)}(?![\w@-])")
            if re.search("[A-Za-z]{3}", clean) and not pattern.search(own_words):
                found[clean] = pattern
    return found


def visible_text(page: str) -> str:
    """The text a person reads: no tags, scripts, attribute values or URLs."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    titles = " ".join(re.findall(r'(?:placeholder|title|aria-label)="([^"]*)"', body))
    return html.unescape(re.sub(r"<[^>]+>", " ", body) + " " + titles)


def english_left(page: str, language: str) -> list[str]:
    text = visible_text(page)
    return sorted(words for words, p in english_words(language).items() if p.search(text))


def browser(app, language: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = f"{language},en;q=0.5"
    return client


@pytest.mark.parametrize("language", ["it", "es"])
def test_every_page_speaks_the_browsers_language(app, world, language, tmp_path, monkeypatch):
    import mailbox
    from email.message import EmailMessage

    box = mailbox.Maildir(tmp_path / "mail")  # the demo's mail page, with one message in it
    mail = EmailMessage()
    mail["To"], mail["Subject"] = "anna@rossi.example", "Lettura contatori"
    mail.set_content("Buongiorno")
    box.add(mail)
    monkeypatch.setenv("SCM_DEMO_MAILDIR", str(tmp_path / "mail"))
    customer, staff, visitor = (
        browser(app, language),
        browser(app, language),
        browser(app, language),
    )
    sign_in(customer, "anna@rossi.example")
    sign_in(staff, "staff@scm.example")
    article = world["cyan"]
    customer.post(  # something in the cart, so that the checkout page shows
        f"/orders/cart/{world['machine']}/{article}",
        data={"csrf_token": csrf_token(customer, "/orders/new"), f"c{article}-quantity": "1"},
    )
    visits = [(customer, path) for path in customer_pages(world)]
    visits += [(staff, path) for path in STAFF_PAGES]
    visits += [(staff, f"/ops/customers/{world['customer']}/settings")]
    visits += [(staff, f"/ops/tickets/new?customer_id={world['customer']}")]
    visits += [(staff, f"/ops/machines/{world['machine']}/contracts")]
    visits += [(visitor, path) for path in ("/login", "/password/forgot", world["link"])]
    problems = {}
    for who, path in visits:
        response = who.get(path)
        assert response.status_code == 200, (path, response.status_code)
        page = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in page, path
        if left := english_left(page, language):
            problems[path] = left
    assert problems == {}


def test_the_english_detector_finds_english(app, world):
    """The detector is not blind: the English page, read as if it were Italian, is caught."""
    english = browser(app, "en")
    sign_in(english, "anna@rossi.example")
    left = english_left(english.get("/orders").get_data(as_text=True), "it")
    assert {"Orders", "Gross", "Discount", "Payment", "Sign out"} <= set(left)
    assert english_left("<p>Toner nero, Home Page</p>", "it") == []


def test_the_manuals_words_are_the_labels(app, world):
    italian, spanish = browser(app, "it"), browser(app, "es")
    sign_in(italian, "anna@rossi.example")
    sign_in(spanish, "anna@rossi.example")
    home = italian.get("/").get_data(as_text=True)
    for words in (
        "Parco Macchine",
        "Lettura contatori",
        "Fatture",
        "Bolle di consegna",
        "Ordini",
        "Statistiche",
        "Richiesta assistenza",
        "Vedi Tickets",
        "Offerte",
        "Infobox",
        "Novità",
        "Il vostro Referente Commerciale",
    ):
        assert words in home, words
    home = spanish.get("/").get_data(as_text=True)
    for words in ("Equipos", "Introducción de lecturas", "Incidencias", "Pedidos", "Facturas"):
        assert words in home, words
    cart = spanish.get(f"/orders/new?machine={world['machine']}").get_data(as_text=True)
    assert "Cesta" in cart and "Añadir a la cesta" in cart


def test_money_numbers_and_dates_follow_the_locale(app, world):
    italian, spanish, english = browser(app, "it"), browser(app, "es"), browser(app, "en")
    for client in (italian, spanish, english):
        sign_in(client, "anna@rossi.example")
    page = italian.get(f"/orders/{world['order']}").get_data(as_text=True)
    assert "99,90\xa0€" in page and "02/11/2026" in page
    assert "€ 99" not in page and "99.90" not in page
    assert "121,88\xa0€" in spanish.get(f"/orders/{world['order']}").get_data(as_text=True)
    assert "€121.88" in english.get(f"/orders/{world['order']}").get_data(as_text=True)
    machines = italian.get("/machines").get_data(as_text=True)
    assert "0,0100\xa0€" in machines and "0,0800\xa0€" in machines  # rates keep their decimals
    assert re.search(r"B/N \d{1,3}(\.\d{3})+ · colore \d", machines)  # counters, grouped
    assert "2/11/2026" in spanish.get("/orders").get_data(as_text=True)
    assert "11/2/2026" in english.get("/orders").get_data(as_text=True)


def test_rates_keep_their_precision_and_money_has_cents():
    words = wording("it")
    assert words.rate(Decimal("0.00900")) == "0,0090\xa0€"
    assert words.rate(Decimal("0.012345")) == "0,012345\xa0€"
    assert words.money(Decimal("49.06")) == "49,06\xa0€"
    assert words.money(Decimal("1234.56")) == "1.234,56\xa0€"
    assert wording("en").money(Decimal("1234.56")) == "€1,234.56"
    assert words.day(date(2026, 11, 28)) == "28/11/2026"
    assert wording("es").day(date(2026, 11, 28)) == "28/11/2026"
    assert wording("en").day(date(2026, 11, 28)) == "11/28/2026"


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("it", "20/11/2026", date(2026, 11, 20)),
        ("es", "20/11/2026", date(2026, 11, 20)),
        ("en", "11/20/2026", date(2026, 11, 20)),
        ("it", "2026-11-20", date(2026, 11, 20)),
    ],
)
def test_dates_are_typed_the_local_way(language, typed, expected):
    assert wording(language).parse_day(typed) == expected


@pytest.mark.parametrize("typed", ["31/02/2026", "domani", "20/13/2026", " "])
def test_a_date_that_is_not_one_is_refused(typed):
    with pytest.raises(ValueError):
        wording("it").parse_day(typed)


def test_meter_read_form_shows_and_accepts_the_local_date(app, world, session):
    italian = browser(app, "it")
    sign_in(italian, "anna@rossi.example")
    page = italian.get("/meter-reads").get_data(as_text=True)
    assert 'placeholder="31/12/2026"' in page
    token = csrf_token(italian, "/meter-reads")
    machine = world["unmonitored"]

    def enter(day: str, mono: int) -> str:
        fields = {"taken_on": day, "mono": str(mono), "colour": "0"}
        data = {"csrf_token": token, **{f"m{machine}-{k}": v for k, v in fields.items()}}
        response = italian.post(f"/machines/{machine}/reads", data=data, follow_redirects=True)
        return response.get_data(as_text=True)

    assert "Lettura di SCM-R2 registrata" in enter(f"{date.today():%d/%m/%Y}", 500)
    assert "Data non valida: scrivetela come 31/12/2026." in enter("13/13/2026", 600)
    assert "Data non valida" in enter("  ", 600)  # blanks are no date


def test_language_order_user_then_customer_then_browser(app, world, session):
    client = browser(app, "es")
    sign_in(client, "anna@rossi.example")
    assert '<html lang="es">' in client.get("/machines").get_data(as_text=True)
    session.get(Customer, world["customer"]).language = "it"  # staff set the customer's
    session.commit()
    sign_in(client, "anna@rossi.example")
    assert "Parco Macchine" in client.get("/machines").get_data(as_text=True)
    token = csrf_token(client, "/machines")
    client.post("/language", data={"csrf_token": token, "language": "en", "next": "/orders"})
    page = client.get("/orders").get_data(as_text=True)
    assert '<html lang="en">' in page and "Gross" in page
    user = session.scalar(select(User).where(User.email == "anna@rossi.example"))
    session.refresh(user)
    assert user.language == "en"
    fresh = browser(app, "es")  # the choice is the user's, not the browser's
    sign_in(fresh, "anna@rossi.example")
    assert '<html lang="en">' in fresh.get("/").get_data(as_text=True)


def test_no_browser_preference_means_italian(app, world):
    client = app.test_client()
    assert '<html lang="it">' in client.get("/login").get_data(as_text=True)
    client.post(
        "/language",
        data={"csrf_token": csrf_token(client), "language": "es", "next": "/login"},
    )
    assert "Acceder" in client.get("/login").get_data(as_text=True)  # before signing in
    bad = client.post("/language", data={"csrf_token": csrf_token(client), "language": "xx"})
    assert bad.status_code == 302
    assert "Acceder" in client.get("/login").get_data(as_text=True)


def test_the_meter_read_link_speaks_the_customers_language(app, world, session):
    session.get(Customer, world["customer"]).language = "es"
    session.commit()
    page = browser(app, "it").get(world["link"]).get_data(as_text=True)
    assert '<html lang="es">' in page and "Introducción de lecturas" in page


def test_sign_in_with_the_customer_code(app, world, session):
    customer = session.get(Customer, world["customer"])
    assert re.fullmatch(r"\d{5}", customer.code)
    client = browser(app, "it")
    response = sign_in(client, customer.code)
    assert response.status_code == 302
    assert "Parco Macchine" in client.get("/").get_data(as_text=True)
    wrong = browser(app, "it")
    page = sign_in(wrong, customer.code, "wrong password!").get_data(as_text=True)
    assert "Codice utente, e-mail o password errati." in page
    assert sign_in(wrong, "99999").status_code == 200  # no such code: the same answer
    assert "Codice utente o e-mail" in wrong.get("/login").get_data(as_text=True)


def test_staff_set_a_customers_code_and_language(app, world, session):
    staff = browser(app, "it")
    sign_in(staff, "staff@scm.example")

    def settings(customer_id: int, code: str, language: str):
        path = f"/ops/customers/{customer_id}/settings"
        form = {"reorder_lead_days": "7", "reorder_threshold_percent": "10"}
        form |= {"device_silent_hours": "24", "code": code, "language": language}
        return staff.post(path, data={"csrf_token": csrf_token(staff, path), **form})

    assert "Lingua" in staff.get(f"/ops/customers/{world['customer']}/settings").get_data(
        as_text=True
    )
    assert settings(world["customer"], "RS-77", "es").status_code == 302
    session.expire_all()
    customer = session.get(Customer, world["customer"])
    assert (customer.code, customer.language) == ("RS-77", "es")
    client = browser(app, "it")
    sign_in(client, "rs-77")  # codes compare case-insensitively
    assert '<html lang="es">' in client.get("/").get_data(as_text=True)
    other = session.scalar(select(Customer).where(Customer.name == "Bianchi spa"))
    taken = settings(other.id, "RS-77", "")
    assert taken.status_code == 409
    assert "Questo codice appartiene a un altro cliente." in taken.get_data(as_text=True)
    assert settings(other.id, "a@b", "").status_code == 400  # would read as an e-mail
    assert settings(other.id, "BI-1", "xx").status_code == 200  # not a choice: the form says
    session.expire_all()
    assert session.get(Customer, other.id).code not in ("RS-77", "a@b", "BI-1")


def test_invitation_mail_in_the_customers_language(app, world, session, inbox):
    session.get(Customer, world["customer"]).language = "es"
    session.commit()
    staff = browser(app, "it")
    sign_in(staff, "staff@scm.example")
    token = csrf_token(staff, "/ops/customers")
    prefix = f"i{world['customer']}"
    staff.post(
        f"/ops/customers/{world['customer']}/invite",
        data={"csrf_token": token, f"{prefix}-email": "luis@rossi.example"},
    )
    [message] = inbox.messages
    assert message["Subject"] == "Área de Clientes: su acceso"
    body = message.get_content()
    assert "número de cliente" in body and "7 días" in body


def test_ticket_notice_to_the_desk_names_priority_and_team_in_words(app, world, session):
    ticket = session.get(Ticket, world["ticket"])
    subject, body = ticket_mail_text(ticket, wording("it"))
    assert subject == f"[{ticket.number}] Carta inceppata"
    assert "priorità Normale" in body and "Team Printing" in body
    assert "normal" not in body and "printing," not in body


def test_domain_errors_are_worded_in_the_page_language(app, world):
    client = browser(app, "es")
    response = client.get("/password/reset/not-a-token")
    assert response.status_code == 404
    assert "este enlace no es válido" in response.get_data(as_text=True)


def test_delivery_note_pdf_in_spanish(app, world, session):
    session.get(Customer, world["customer"]).language = "es"
    session.commit()
    staff = browser(app, "it")  # staff fetch it: the customer's language, not theirs
    sign_in(staff, "staff@scm.example")
    data = staff.get(f"/deliveries/{world['note']}.pdf").data
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    for words in ("Albarán de entrega", "Remitente", "Destinatario", "Motivo del transporte"):
        assert words in text, words
    for words in ("Documento di trasporto", "Causale", "Cedente"):
        assert words not in text, words
    note = session.get(DeliveryNote, world["note"])
    labels = staff.get(f"/ops/shipping/notes/{note.id}/labels.pdf").data
    label_text = PdfReader(io.BytesIO(labels)).pages[0].extract_text()
    assert "ID SCM SCM-R1" in label_text and "Ubicación:" in label_text
    assert "n.º de serie R-1" in label_text


def test_billing_notes_are_worded_for_the_reader():
    stored = "interpolated at start and end; partial period: 15 of 30 days; hand-written"
    assert worded(stored, wording("it")) == (
        "interpolata all'inizio e alla fine; periodo parziale: 15 giorni su 30; hand-written"
    )
    assert worded("true-up 01/01/2026-31/12/2026", wording("es")) == (
        "regularización 01/01/2026-31/12/2026"
    )
    assert worded(stored, wording("en")) == stored
    assert worded(None, wording("it")) == ""
    assert worded("level 8% at or below 10%", wording("it")) == "livello 8% pari o inferiore al 10%"
    assert worded("forecast empty in 3.5 days (lead time 7 days)", wording("es")) == (
        "agotamiento previsto en 3.5 días (antelación 7 días)"
    )


def test_a_page_that_turns_to_the_customers_language_forgets_the_catalog_it_used(app):
    """Templates speak the page's language; ``speak`` (the meter-read link) changes it."""
    heading = "{{ _('Meter reading') }}"
    with app.test_request_context(headers={"Accept-Language": "it"}):
        assert render_template_string(heading) == "Lettura contatori"
        assert page_translations().ugettext("Meter reading") == "Lettura contatori"
        speak("es")
        assert render_template_string(heading) == "Introducción de lecturas"
