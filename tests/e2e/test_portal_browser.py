"""The devices page in a real headless browser: sign in, see the fleet, not another customer's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from support.browser import CHROMIUM_FLAGS, chromium_path
from support.processes import run_agent

pytestmark = pytest.mark.e2e
PASSWORD = "a long portal password"
CASES = ["librenms__sharp", "bieniu-brother__dcp-l3550cdw"]


@pytest.fixture
def page() -> Iterator[Page]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_FLAGS)
        context = browser.new_context()
        yield context.new_page()
        context.close()
        browser.close()


def test_customer_signs_in_and_sees_counters_and_toner(
    page, snmpsim, ingest_server, agent_home, tmp_path
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

    page.goto(ingest_server.url + "/devices")
    expect(page).to_have_url(ingest_server.url + "/login?next=%2Fdevices")
    page.get_by_label("E-mail").fill("it@ufficio.example")
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
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
