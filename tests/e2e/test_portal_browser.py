"""The devices page in a real headless browser: sign in, see the fleet, not another customer's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from support.browser import CHROMIUM_FLAGS, chromium_path
from support.fleet import to_date_amounts
from support.processes import run_agent

pytestmark = pytest.mark.e2e
PASSWORD = "a long portal password"
CASES = ["librenms__sharp", "bieniu-brother__dcp-l3550cdw"]


@pytest.fixture
def page() -> Iterator[Page]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_FLAGS)
        context = browser.new_context(locale="en-US")  # these flows read the source language
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def customer_user(ingest_server) -> str:
    """A portal user of the e2e customer, signed in with ``PASSWORD``."""
    ingest_server.cli(
        "user",
        "create",
        "--email",
        "it@ufficio.example",
        "--customer",
        "Ufficio Tecnico srl",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    return "it@ufficio.example"


def test_customer_signs_in_and_sees_counters_and_toner(
    customer_user, page, snmpsim, ingest_server, agent_home, tmp_path
):
    targets = [a for c in CASES for a in ("--target", f"{snmpsim.endpoint}/{c}")]
    assert run_agent(agent_home, "push", *targets).returncode == 0
    ingest_server.cli("customer", "create", "Altro Cliente spa")
    other_token = ingest_server.cli("token", "create", "--customer", "Altro Cliente spa").strip()
    other_home = tmp_path / "other-agent"
    assert (
        run_agent(
            other_home, "enroll", "--server", ingest_server.url, "--token", other_token
        ).returncode
        == 0
    )
    assert (
        run_agent(other_home, "push", "--target", f"{snmpsim.endpoint}/librenms__epson").returncode
        == 0
    )

    page.goto(ingest_server.url + "/devices")
    expect(page).to_have_url(ingest_server.url + "/login?next=%2Fdevices")
    page.get_by_label("E-mail").fill("it@ufficio.example")
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong customer code, e-mail or password.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Devices")).to_be_visible()
    rows = page.locator("table.devices tbody tr")
    expect(rows).to_have_count(2)
    manufacturers = rows.locator("td:first-child strong").all_inner_texts()
    assert sorted(manufacturers) == ["Brother", "Sharp"]
    assert "EPSON" not in page.content().upper()
    for row in rows.all():
        total = row.locator("td.total").inner_text()
        assert total.replace(",", "").isdigit()
        assert row.locator("li.supply").count() >= 1
    expect(page.locator("li.supply[data-kind=toner] meter").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "devices.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(ingest_server.url + "/login")


def english(amount: str) -> str:
    """An amount written the Italian way ("1.234,56") as an English page shows it."""
    return amount.replace(".", "#").replace(",", ".").replace("#", ",")


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_staff_bills_the_month_and_the_customer_downloads_the_invoice(
    customer_user, page, ingest_server, printed_month, tmp_path
):
    ingest_server.cli(
        "user",
        "create",
        "--email",
        "ops@scm.example",
        "--staff",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    base = ingest_server.url
    sign_in(page, base, "ops@scm.example", PASSWORD)
    page.locator("header nav").get_by_role("link", name="Ops").click()
    page.get_by_role("link", name="billing run").click()
    page.get_by_label("Month (YYYY-MM)").fill(printed_month)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("status")).to_contain_text("has not ended yet")
    page.get_by_label("Month (YYYY-MM)").fill(printed_month)
    page.get_by_label("Bill to date", exact=False).check()
    page.get_by_role("button", name="Preview").click()
    net, _, gross = to_date_amounts(
        datetime.now(UTC).date(), fee=20, included=1000, mono=1500, colour=300
    )
    preview = page.locator("section[data-customer='Ufficio Tecnico srl']")
    expect(preview).to_contain_text("SCM-E2E")
    expect(preview).to_contain_text(f"€{english(net)}")
    page.get_by_role("button", name="Issue invoices").click()
    expect(page.get_by_role("status")).to_contain_text("1 invoice(s) issued")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, base, "it@ufficio.example", PASSWORD)
    page.locator("header nav").get_by_role("link", name="Machines").click()
    card = page.locator("article[data-scm-id='SCM-E2E']")
    expect(card).to_contain_text("Ufficio Acquisti, primo piano")
    expect(card.locator("li.supply[data-kind=toner]").first).to_be_visible()
    page.locator("header nav").get_by_role("link", name="Invoices").click()
    row = page.locator("table.invoices.open tbody tr").first
    expect(row).to_contain_text(f"€{english(gross)}")
    with page.expect_download() as download_info:
        row.get_by_role("link", name="PDF").click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    row.locator("td:first-child a").click()
    expect(page.locator("table.grid tbody")).to_contain_text("SCM-E2E")
    expect(page.locator("table.grid tbody")).to_contain_text("batch ")


def test_customer_orders_consumables_through_the_cart(page, ingest_server, customer_user):
    ingest_server.cli(
        "machine",
        "add",
        "--customer",
        "Ufficio Tecnico srl",
        "--scm-id",
        "SCM-7",
        "--serial",
        "X-7",
        "--manufacturer",
        "Kyocera",
        "--model",
        "TASKalfa 2553ci",
        "--location",
        "Segreteria",
        "--site-address",
        "Via Po 2, Torino",
        "--colour",  # registered before any reading: staff say it
    )
    for code, colour in (("TK-8345K", "black"), ("TK-8345C", "cyan")):
        ingest_server.cli(
            "consumable",
            "add",
            "--code",
            code,
            "--description",
            f"Toner {colour} {code}",
            "--models",
            "TASKalfa 2553ci",
            "--colour",
            colour,
            "--price",
            "80",
            "--charged",
        )
    sign_in(page, ingest_server.url, "it@ufficio.example", PASSWORD)
    page.locator("header nav").get_by_role("link", name="Orders").click()
    page.get_by_role("link", name="New order").click()
    page.get_by_label("Machine").select_option(label="SCM-7 · TASKalfa 2553ci · Segreteria")
    page.get_by_label("Search articles").fill("8345C")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.articles tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("not included")
    rows.first.get_by_label("Quantity").fill("3")
    rows.first.get_by_role("button", name="Add to cart").click()
    expect(page.locator("ul.cart")).to_contain_text("3 × TK-8345C")
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Contact").fill("Marta Bianchi")
    page.get_by_label("Office hours").fill("8:30-12:30")
    expect(page.get_by_label("Ship to")).to_have_value("Via Po 2, Torino")
    page.get_by_label("Payment method").select_option("bank_transfer")
    page.get_by_label("Your order reference").fill("RDA-2026-19")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("status")).to_contain_text("placed")
    expect(page.locator("td.total")).to_have_text("€292.80")  # 240 + 22 % VAT
    page.locator("header nav").get_by_role("link", name="Orders").click()
    expect(page.locator("table.orders.open tbody tr")).to_have_count(1)
