"""The control room in a real browser: from an alert to the machine's page, a contract
changed from a date, the customer's statistics charts, and the portal on a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from support.browser import CHROMIUM_FLAGS, chromium_path
from support.captures import SHARP
from support.processes import run_agent
from support.snmpsim import start_snmpsim

pytestmark = pytest.mark.e2e
PASSWORD = "a long portal password"
ERROR_STATE = "1.3.6.1.2.1.25.3.5.1.2.1"


@pytest.fixture
def browser_context() -> Iterator[object]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path()), args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


def new_page(browser, **options) -> Page:
    return browser.new_context(locale="en-US", **options).new_page()


@pytest.fixture
def jammed_sharp(ingest_server, agent_home, tmp_path):
    """The Sharp capture reporting a paper jam, read by the agent, under contract as SCM-JAM;
    staff and a customer user exist; the alert rules have run."""
    data = tmp_path / "snmp"
    data.mkdir()
    lines = [
        f"{ERROR_STATE}|4x|0400" if line.startswith(ERROR_STATE + "|") else line
        for line in SHARP.read_text().splitlines()
    ]
    (data / "sharp_jam.snmprec").write_text("\n".join(lines) + "\n")
    snmp = start_snmpsim([data], probe_community="sharp_jam")
    try:
        assert (
            run_agent(agent_home, "push", "--target", f"{snmp.endpoint}/sharp_jam").returncode == 0
        )
    finally:
        snmp.stop()
    ingest_server.cli(
        "machine", "add", "--customer", "Ufficio Tecnico srl", "--scm-id", "SCM-JAM",
        "--serial", "6509415X00", "--model", "MX-3570N", "--colour",
    )  # fmt: skip
    start = (datetime.now(UTC).date().replace(day=1) - timedelta(days=40)).replace(day=1)
    ingest_server.cli(
        "contract", "add", "--machine", "SCM-JAM", "--mono-rate", "0.01",
        "--colour-rate", "0.08", "--start", start.isoformat(),
    )  # fmt: skip
    for email, owner in (
        ("ops@scm.example", ["--staff"]),
        ("it@ufficio.example", ["--customer", "Ufficio Tecnico srl"]),
    ):
        ingest_server.cli(
            "user", "create", "--email", email, *owner, "--password-stdin", stdin=PASSWORD + "\n"
        )
    assert "opened" in ingest_server.cli("alerts", "evaluate")
    return ingest_server


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Customer code or e-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_go_from_an_alert_to_the_machine_and_change_its_contract(
    browser_context, jammed_sharp, tmp_path
):
    base = jammed_sharp.url
    page = new_page(browser_context)
    sign_in(page, base, "ops@scm.example")
    page.goto(base + "/ops/")
    errors = page.locator("section#device_error")
    expect(errors).to_contain_text("Paper jam")
    errors.locator("a.alert-link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SCM-JAM")
    expect(page.locator("[data-state]").first).to_have_attribute("data-state", "ok")
    page.screenshot(path=str(tmp_path / "machine.png"), full_page=True)

    page.get_by_role("link", name="Change the contract").click()
    effective = datetime.now(UTC).date().replace(day=1)
    page.get_by_label("New terms from").fill(effective.isoformat())
    page.get_by_label("EUR per B/W page").fill("0.02")
    page.get_by_role("button", name="Save the change").click()
    new_rate = page.locator(f'tr[data-start="{effective.isoformat()}"] td.mono-rate')
    expect(new_rate).to_have_text(re.compile(r"0[.,]0200"))


def test_customer_statistics_charts_render_and_pages_fit_a_phone(browser_context, jammed_sharp):
    base = jammed_sharp.url
    page = new_page(browser_context)
    sign_in(page, base, "it@ufficio.example")
    page.goto(base + "/statistics?months=12")
    chart = page.locator("img.pages-chart")
    expect(chart).to_be_visible()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", chart.element_handle())

    phone = new_page(browser_context, viewport={"width": 390, "height": 844})
    sign_in(phone, base, "it@ufficio.example")
    for path in ("/machines", "/devices", "/statistics", "/tickets/new", "/invoices"):
        phone.goto(base + path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a 390 px phone"
