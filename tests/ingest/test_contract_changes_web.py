"""Staff change a contract on the web from a date; the next billing preview bills each part of
the month at its own rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from support.fleet import add_machine, push, utc
from support.web import add_user, csrf_token, sign_in

from ingest.domain.invoicing import month_period, preview_run
from ingest.models import Machine


def test_a_dated_change_is_billed_from_its_date(app, client, agent, session):
    machine_id = add_machine(app, contract={"mono_rate": "0.01", "colour_rate": "0"})
    for day, total in ((1, 0), (16, 1000), (31, 3000)):
        push(client, agent, utc(2026, 10, day), total)
    push(client, agent, utc(2026, 11, 1), 3000)
    add_user(app, "staff@scm.example", staff=True)
    sign_in(client, "staff@scm.example")
    path = f"/ops/machines/{machine_id}/contracts"
    token = csrf_token(client, path)

    nothing = client.post(path, data={"csrf_token": token, "effective": "2026-10-16"})
    assert "Nothing to change" in nothing.get_data(as_text=True)
    odd = client.post(path, data={"csrf_token": token, "effective": "2026-10-16", "mono_rate": "3"})
    assert "Please confirm" in odd.get_data(as_text=True)
    changed = client.post(
        path, data={"csrf_token": token, "effective": "2026-10-16", "mono_rate": "0.02"}
    )
    assert changed.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert 'data-start="2026-10-16"' in page and 'data-start="2026-01-01"' in page

    session.expire_all()
    preview = preview_run(session, month_period("2026-10"))
    [draft] = preview.customers
    lines = sorted(draft.lines, key=lambda line: line.amounts.span.start)
    assert [line.contract.mono_rate for line in lines] == [Decimal("0.01000"), Decimal("0.02000")]
    assert [line.amounts.pages_mono for line in lines] == [1000, 2000]
    assert sum(line.amounts.total for line in lines) == Decimal("10.00") + Decimal("40.00")
    assert session.get(Machine, machine_id).contracts[0].end == date(2026, 10, 15)
