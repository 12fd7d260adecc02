"""The manual's walk through the portal in a real browser, in the browser's language: sign in,
Parco Macchine, Lettura contatori, Richiesta assistenza, Ordini in Italian; Equipos,
Introducción de lecturas, Incidencias, Pedidos in Spanish; and a switch to English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from pypdf import PdfReader
from support.browser import CHROMIUM_FLAGS, chromium_path

pytestmark = pytest.mark.e2e
PASSWORD = "a long portal password"
CUSTOMER = "Ufficio Tecnico srl"  # created by the ingest_server fixture
EMAIL = "referente@ufficio.example"


@pytest.fixture
def browser_for(tmp_path) -> Iterator:
    """Opens pages in a browser whose language (Accept-Language, navigator) is ``locale``."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_FLAGS)
        contexts = []

        def open_page(locale: str) -> Page:
            context = browser.new_context(locale=locale, accept_downloads=True)
            contexts.append(context)
            return context.new_page()

        yield open_page
        for context in contexts:
            context.close()
        browser.close()


@pytest.fixture
def portal(ingest_server) -> dict[str, str]:
    """A machine under contract with a toner in the catalogue, and the referent's account."""
    created = ingest_server.cli("customer", "create", CUSTOMER, "--referent-name", "Marta")
    code = re.search(r"\(code (\S+)\)", created).group(1)
    ingest_server.cli(
        "user", "create", "--email", EMAIL, "--customer", CUSTOMER, "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    ingest_server.cli(
        "machine", "add", "--customer", CUSTOMER, "--scm-id", "SCM-7", "--serial", "X-7",
        "--manufacturer", "Kyocera", "--model", "TASKalfa 2553ci", "--location", "Segreteria",
        "--site-address", "Via Po 2, Torino", "--colour",
    )  # fmt: skip
    ingest_server.cli(
        "contract", "add", "--machine", "SCM-7", "--mono-rate", "0.009", "--colour-rate",
        "0.075", "--start", f"{date.today().replace(day=1):%Y-%m-%d}",
    )  # fmt: skip
    ingest_server.cli(
        "consumable", "add", "--code", "TK-8345C", "--description", "TK-8345C",
        "--models", "TASKalfa 2553ci", "--colour", "cyan", "--price", "80", "--charged",
    )  # fmt: skip
    return {"code": code, "url": ingest_server.url}


def nav(page: Page, name: str) -> None:
    page.locator("header nav").get_by_role("link", name=name, exact=True).click()


def test_the_manuals_walk_in_italian_then_english(browser_for, portal):
    page = browser_for("it-IT")
    page.goto(portal["url"] + "/")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", name="Accedi")).to_be_visible()
    page.get_by_label("Codice utente o e-mail").fill(portal["code"])  # the manual's sign-in
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()

    nav(page, "Parco Macchine")
    expect(page.get_by_role("heading", name="Parco Macchine")).to_be_visible()
    card = page.locator("article[data-scm-id='SCM-7']")
    expect(card).to_contain_text("Segreteria")
    expect(card).to_contain_text("0,0090\xa0€")  # the rate with its precision
    expect(card).to_contain_text("Mensile")

    nav(page, "Lettura contatori")
    row = page.locator("tr[data-scm-id='SCM-7']")
    day = row.get_by_label("Data della lettura")
    expect(day).to_have_value(f"{date.today():%d/%m/%Y}")  # the local format, typed back
    expect(day).to_have_attribute("placeholder", "31/12/2026")
    row.get_by_label("Contatore copie B/N").fill("12500")
    row.get_by_label("Contatore copie colore").fill("3400")
    row.get_by_role("button", name="Salva").click()
    expect(page.get_by_role("status")).to_contain_text("Lettura di SCM-7 registrata")

    nav(page, "Richiesta assistenza")
    page.get_by_role("link", name="Richiesta assistenza").last.click()
    page.get_by_label("Oggetto").fill("Inceppamento carta")
    page.get_by_label("Descrizione").fill("Il vassoio 2 si inceppa")
    page.get_by_label("Nome del referente").fill("Marta")
    page.get_by_label("Priorità").select_option(label="Alta")
    page.get_by_role("button", name="Crea Ticket").click()
    expect(page.get_by_role("status").first).to_contain_text(
        re.compile(r"Ticket TK-\d+-\d+ creato")
    )
    expect(page.locator("main")).to_contain_text("In richiesta")
    expect(page.locator("main")).to_contain_text("Alta")

    nav(page, "Ordini")
    expect(page.get_by_role("heading", name="Ordini")).to_be_visible()
    body = page.locator("body").inner_text()
    for english in ("Orders", "Machines", "Sign out", "Gross", "Payment"):
        assert not re.search(rf"\b{english}\b", body), english

    page.get_by_label("Lingua").select_option("en")  # the switch in the navigation bar
    page.get_by_role("button", name="Cambia").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    nav(page, "Machines")
    expect(page.locator("article[data-scm-id='SCM-7']")).to_contain_text("€0.0090")

    again = browser_for("it-IT")  # the choice is stored on the user, not in this browser
    again.goto(portal["url"] + "/login")
    again.get_by_label("Codice utente o e-mail").fill(EMAIL)
    again.get_by_label("Password").fill(PASSWORD)
    again.get_by_role("button", name="Accedi").click()
    expect(again.locator("html")).to_have_attribute("lang", "en")


def test_the_same_walk_in_spanish(browser_for, portal, tmp_path):
    page = browser_for("es-ES")
    page.goto(portal["url"] + "/login")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_label("Número de cliente o e-mail").fill(EMAIL)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Acceder").click()

    nav(page, "Equipos")
    expect(page.get_by_role("heading", name="Equipos")).to_be_visible()
    expect(page.locator("article[data-scm-id='SCM-7']")).to_contain_text("Mensual")

    nav(page, "Introducción de lecturas")
    row = page.locator("tr[data-scm-id='SCM-7']")
    expect(row.get_by_label("Fecha de la lectura")).to_have_value(f"{date.today():%-d/%-m/%Y}")
    row.get_by_label("Contador de copias BN").fill("12500")
    row.get_by_label("Contador de copias color").fill("3400")
    row.get_by_role("button", name="Crear toma de copias").click()
    expect(page.get_by_role("status")).to_contain_text("Lectura de SCM-7 registrada")

    nav(page, "Incidencias")
    page.get_by_role("link", name="Comunicar incidencia").click()
    page.get_by_label("Asunto").fill("Atasco de papel")
    page.get_by_label("Descripción").fill("La bandeja 2 se atasca")
    page.get_by_label("Persona de contacto").fill("Marta")
    page.get_by_role("button", name="Crear incidencia").click()
    expect(page.get_by_role("status").first).to_contain_text(
        re.compile(r"Incidencia TK-\d+-\d+ creada de manera satisfactoria")
    )

    nav(page, "Pedidos")
    page.get_by_role("link", name="Nuevo pedido").click()
    page.locator("select#machine").select_option(label="SCM-7 · TASKalfa 2553ci · Segreteria")
    page.get_by_role("button", name="Buscar").click()
    article = page.locator("tr[data-article='TK-8345C']")
    expect(article).to_contain_text("no incluido en contrato")
    article.get_by_role("button", name="Añadir a la cesta").click()
    expect(page.get_by_role("heading", name="Cesta")).to_be_visible()
    page.get_by_role("link", name="Finalizar pedido").click()
    page.get_by_label("Horario").fill("8:30-12:30")
    page.get_by_label("Forma de pago").select_option(label="Transferencia")
    page.get_by_role("button", name="Finalizar pedido").click()
    expect(page.get_by_role("status")).to_contain_text("realizado")
    expect(page.locator("td.total")).to_have_text("97,60\xa0€")  # 80 + 22 % IVA
    expect(page.locator("main")).to_contain_text("forma de pago: Transferencia")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF").click()
    target = tmp_path / "pedido.pdf"
    download_info.value.save_as(target)
    text = PdfReader(target).pages[0].extract_text()
    assert "Pedido ORD-" in text and "Forma de pago: Transferencia" in text
    body = page.locator("body").inner_text()
    for english in ("Orders", "Order", "Gross", "Payment", "Sign out", "Ship to"):
        assert not re.search(rf"\b{english}\b", body), english
