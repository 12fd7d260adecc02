"""The ops control room and the machine page: alerts with their age, the silent machine shown
as silent, low toner, reorders finished by hand, charts as SVG, customers kept apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from support.fleet import add_consumable, add_machine, push
from support.web import add_user, csrf_token, sign_in

from ingest.domain.alerts import evaluate_alerts
from ingest.domain.machine_detail import freshness, supply_history
from ingest.models import Machine, OrderLine, Reorder

NOW = datetime.now(UTC).replace(microsecond=0)


def test_freshness_never_calls_a_silent_machine_healthy():
    day = timedelta(hours=24)
    assert freshness(NOW - timedelta(minutes=20), NOW, day) == "ok"
    assert freshness(NOW - timedelta(hours=7), NOW, day) == "stale"
    assert freshness(NOW - timedelta(days=3), NOW, day) == "silent"
    assert freshness(None, NOW, day) == "never"


def test_dashboard_alert_to_machine_page(app, client, agent, session):
    machine_id = add_machine(app, serial="SN-0001")
    add_machine(app, scm_id="SCM-0002", serial="SN-0002")
    push(
        client,
        agent,
        NOW - timedelta(days=3),
        1000,
        serial="SN-0002",
        black=50,
        mac="00:11:22:33:44:66",
    )
    push(
        client,
        agent,
        NOW - timedelta(days=2),
        1200,
        serial="SN-0002",
        black=45,
        mac="00:11:22:33:44:66",
    )
    for days_ago, total, black in ((6, 4000, 30), (4, 4500, 20), (2, 5000, 10)):
        push(client, agent, NOW - timedelta(days=days_ago), total, serial="SN-0001", black=black)
    push(client, agent, NOW - timedelta(minutes=5), 5500, serial="SN-0001", black=3)
    evaluate_alerts(session, NOW)
    add_user(app, "staff@scm.example", staff=True)
    sign_in(client, "staff@scm.example")

    page = client.get("/ops/").get_data(as_text=True)
    assert 'id="device_silent"' in page and "SCM-0002" in page
    assert 'class="age"' in page
    assert 'data-machine="SCM-0001"' in page  # 3 % black: on the low-toner list
    chart = client.get("/ops/charts/volume.svg")
    assert chart.mimetype == "image/svg+xml" and b"<script" not in chart.data

    silent_id = machine_id + 1
    machine_page = client.get(f"/machines/{silent_id}").get_data(as_text=True)
    assert 'data-state="silent"' in machine_page
    assert 'data-state="ok"' in client.get(f"/machines/{machine_id}").get_data(as_text=True)
    counters = client.get(f"/machines/{machine_id}/counters.svg")
    supplies = client.get(f"/machines/{machine_id}/supplies.svg")
    assert counters.status_code == supplies.status_code == 200
    assert "default-src 'none'" in supplies.headers["Content-Security-Policy"]
    assert "Toner black" in supplies.get_data(as_text=True)  # the page's language: English
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"  # the charts speak each request's
    assert "Tóner negro" in client.get(f"/machines/{machine_id}/supplies.svg").get_data(
        as_text=True
    )
    assert ">BN<" in client.get(f"/machines/{machine_id}/counters.svg").get_data(as_text=True)
    assert ">Color<" in client.get("/ops/charts/volume.svg").get_data(as_text=True)


def test_customers_see_only_their_own_machine_pages(app, client, session):
    own = add_machine(app, "Rossi srl")
    other = add_machine(app, "Bianchi spa", scm_id="SCM-B1", serial="B-1")
    add_user(app, "anna@rossi.example", "Rossi srl")
    sign_in(client, "anna@rossi.example")
    assert client.get(f"/machines/{own}").status_code == 200
    for path in (f"/machines/{other}", f"/machines/{other}/counters.svg", "/ops/"):
        assert client.get(path).status_code in (403, 404), path


def test_a_reorder_without_article_is_finished_from_the_dashboard(app, client, agent, session):
    add_machine(app)
    start = NOW - timedelta(days=10)
    for day, level in enumerate((40, 30, 20, 10, 5)):
        push(client, agent, start + timedelta(days=day * 2), 1000 + 300 * day, black=level)
    reorder = session.scalar(select(Reorder))
    assert reorder is not None and reorder.consumable_id is None
    article = add_consumable(app, "TN-NEW")
    add_user(app, "staff@scm.example", staff=True)
    sign_in(client, "staff@scm.example")
    page = client.get("/ops/").get_data(as_text=True)
    assert f'data-reorder="{reorder.id}"' in page
    token = csrf_token(client, "/ops/")
    client.post(
        f"/ops/reorders/{reorder.id}/article",
        data={"csrf_token": token, f"r{reorder.id}-consumable_id": str(article)},
    )
    session.expire_all()
    line = session.scalar(select(OrderLine).where(OrderLine.reorder_id == reorder.id))
    assert session.get(Reorder, reorder.id).consumable_id == article
    assert line.consumable_id == article and "TN-NEW" in line.description
    assert str(line.unit_price) == "0.00"  # toner is included in the cost-per-copy contract
    assert f'data-reorder="{reorder.id}"' not in client.get("/ops/").get_data(as_text=True)


def test_a_dismissed_reorder_leaves_its_order_and_frees_the_slot(app, client, agent, session):
    from ingest.domain.errors import DomainError
    from ingest.domain.reorder_desk import dismiss_reorder

    add_machine(app)
    start = NOW - timedelta(days=10)
    for day, level in enumerate((40, 30, 20, 10, 5)):
        push(client, agent, start + timedelta(days=day * 2), 1000 + 300 * day, black=level)
    reorder = session.scalar(select(Reorder))
    dismiss_reorder(session, reorder, NOW)
    session.commit()
    assert (reorder.status, reorder.open_slot) == ("dismissed", None)
    assert session.scalar(select(OrderLine).where(OrderLine.reorder_id == reorder.id)) is None
    try:
        dismiss_reorder(session, reorder, NOW)
    except DomainError as err:
        assert err.status == 409
    else:
        raise AssertionError("a closed reorder cannot be dismissed again")


def one_silent_one_reporting(app, client, agent) -> None:
    """SCM-0002 last read three days ago, SCM-0001 minutes ago; Anna of Rossi srl signed in."""
    add_machine(app, serial="SN-0001")
    add_machine(app, scm_id="SCM-0002", serial="SN-0002")
    push(client, agent, NOW - timedelta(days=3), 1000, serial="SN-0002", mac="00:11:22:33:44:66")
    push(client, agent, NOW - timedelta(minutes=3), 2000, serial="SN-0001")
    add_user(app, "anna@rossi.example", "Rossi srl")
    sign_in(client, "anna@rossi.example")


def test_the_machine_card_and_the_devices_page_never_show_a_silent_printer_as_healthy(
    app, client, agent, session
):
    one_silent_one_reporting(app, client, agent)
    cards = client.get("/machines").get_data(as_text=True)
    silent = cards.split('data-scm-id="SCM-0002"')[1].split("</article>")[0]
    healthy = cards.split('data-scm-id="SCM-0001"')[1].split("</article>")[0]
    assert 'data-state="silent"' in silent and 'data-state="ok"' in healthy
    devices = client.get("/devices").get_data(as_text=True)
    assert 'data-state="silent"' in devices.split('data-serial="SN-0002"')[1].split("</tr>")[0]


def test_the_machine_and_device_lists_search_and_sort(app, client, agent, session):
    one_silent_one_reporting(app, client, agent)
    found = client.get("/machines?q=sn-0002").get_data(as_text=True)
    assert 'data-scm-id="SCM-0002"' in found and 'data-scm-id="SCM-0001"' not in found
    assert 'data-scm-id="SCM' not in client.get("/machines?q=100%25").get_data(as_text=True)
    oldest_first = client.get("/machines?sort=last_read").get_data(as_text=True)
    assert oldest_first.index("SCM-0002") < oldest_first.index("SCM-0001")
    devices = client.get("/devices?sort=last_read&q=SN-").get_data(as_text=True)
    assert devices.index('data-serial="SN-0002"') < devices.index('data-serial="SN-0001"')


def test_supply_chart_holds_the_machines_own_levels_a_day(app, client, agent, session):
    """The machine page's toner chart: each day's lowest level of this machine's device, over
    the last 180 days, nobody else's (found through the device's readings)."""
    add_machine(app, serial="SN-0001")
    add_machine(app, scm_id="SCM-0002", serial="SN-0002")
    day = timedelta(days=1)

    def at(days_ago: int, hour: int = 8) -> datetime:
        return (NOW - days_ago * day).replace(hour=hour, minute=0, second=0)

    push(client, agent, at(200), 1000, serial="SN-0001", black=90)  # beyond the chart
    push(client, agent, at(6), 4000, serial="SN-0001", black=30)
    push(client, agent, at(4), 4400, serial="SN-0001", black=22)
    push(client, agent, at(4, hour=10), 4500, serial="SN-0001", black=20)
    push(client, agent, at(2), 5000, serial="SN-0001", black=10)
    push(client, agent, at(3), 900, serial="SN-0002", black=55, mac="00:11:22:33:44:66")
    machine = session.scalar(select(Machine).where(Machine.scm_id == "SCM-0001"))

    [black] = supply_history(session, machine, NOW)

    assert [percent for _, percent in black.points] == [30, 20, 10]
    assert [at.date() for at, _ in black.points] == [(NOW - n * day).date() for n in (6, 4, 2)]
