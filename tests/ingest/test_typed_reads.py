"""Typed meter reads (issue 12): each bug found by trying the portal is a row of a table.

* a ticket's counters become a meter read with the ticket as provenance, or the page says why;
* an empty colour field is "not given", never 0;
* typed reads keep the time they were entered and are checked against both neighbours, so two
  reads of one day cannot both be accepted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from support.fleet import add_machine
from support.web import add_user, enter_read, sign_in
from test_tickets import open_ticket

from ingest.db import database
from ingest.domain.machines import machine_card
from ingest.domain.meters import record_manual_read, typed_read_time
from ingest.models import Machine, MeterRead, Ticket


@pytest.fixture
def rossi(app):
    ids = {
        "colour": add_machine(app, "Rossi srl", scm_id="SCM-C", serial="C-1"),
        "mono": add_machine(app, "Rossi srl", scm_id="SCM-M", serial="M-1", colour=False),
    }
    add_user(app, "anna@rossi.example", "Rossi srl")
    return ids


def reads_of(session, machine_id):
    session.expire_all()
    return session.scalars(
        select(MeterRead).where(MeterRead.machine_id == machine_id).order_by(MeterRead.id)
    ).all()


def flashes(page: str) -> str:
    return " ".join(re.findall(r'class="flash [^"]*" role="[^"]*">([^<]*)<', page))


@pytest.mark.parametrize(
    ("machine", "mono", "colour", "stored", "page_says"),
    [
        # the bug: B/W 12345, colour empty on a colour machine said "Ticket created" and nothing
        ("colour", "12345", "", None, "not recorded as a meter read: This machine prints colour"),
        ("colour", "12345", "678", (12345, 678), "recorded as meter read #"),
        ("mono", "12345", "", (12345, 0), "recorded as meter read #"),
        ("colour", "", "678", None, "not recorded as a meter read: a colour counter needs"),
        ("colour", "", "", None, None),
    ],
)
def test_ticket_counters_become_a_read_or_the_page_says_why_not(
    client, rossi, session, machine, mono, colour, stored, page_says
):
    sign_in(client, "anna@rossi.example")
    response = open_ticket(client, rossi[machine], mono=mono, colour=colour)
    assert response.status_code == 302
    page = flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert re.search(r"Ticket TK-\d{4}-\d{5} created\.", page)
    assert "notified" not in page  # no desk address, no SMTP: nobody was told
    ticket = session.scalar(select(Ticket))
    reads = reads_of(session, rossi[machine])
    if stored is None:
        assert reads == []
    else:
        [read] = reads
        assert (read.mono, read.colour, read.ticket_id) == (*stored, ticket.id)
    if page_says is None:
        assert "meter read" not in page
    else:
        assert page_says in page
        assert page_says.split(":")[0] in " ".join(e.note or "" for e in ticket.events)


@pytest.mark.parametrize(
    ("machine", "colour", "status", "message"),
    [
        # the bug: empty colour became 0, flagged "looks unusual", staff saw "counter backwards"
        ("colour", "", None, "This machine prints colour: please enter the colour counter"),
        ("colour", "175100", "ok", "recorded. Thank you"),
        ("mono", "", "ok", "recorded. Thank you"),
        ("mono", "5", None, "prints black and white only"),
    ],
)
def test_an_empty_colour_field_is_not_given_never_zero(
    app, client, rossi, session, machine, colour, status, message
):
    now = datetime.now(UTC)
    with database(app).session() as db:
        row = db.get(Machine, rossi[machine])
        record_manual_read(
            db, row, taken_at=now - timedelta(days=3), mono=26000,
            colour=175000 if row.colour else None, user=None, now=now,
        )  # fmt: skip
        db.commit()
    sign_in(client, "anna@rossi.example")
    form = client.get("/meter-reads").get_data(as_text=True)
    assert not re.search(r'name="m\d+-colour"[^>]*value="0"', form)  # nothing pre-filled
    page = enter_read(client, rossi[machine], now.date(), 27000, colour)
    assert message in page
    typed = reads_of(session, rossi[machine])[1:]
    assert [r.status for r in typed] == ([status] if status else [])
    assert all(r.flags == "" for r in typed)


def test_the_request_link_form_has_no_colour_prefilled(app, client, rossi, session):
    from ingest.domain.read_requests import RequestLinks, open_requests_for_period

    with database(app).session() as db:
        [request] = [
            r
            for r in open_requests_for_period(db, datetime.now(UTC).date(), datetime.now(UTC))
            if r.machine_id == rossi["colour"]
        ]
        db.commit()
        url = RequestLinks("http://127.0.0.1", "test-" * 8).url(request)
    path = url.removeprefix("http://127.0.0.1")
    page = client.get(path).get_data(as_text=True)
    assert re.search(r'name="colour"', page)
    assert not re.search(r'name="colour"[^>]*value="0"', page)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    answer = client.post(
        path,
        data={
            "csrf_token": token,
            "taken_on": datetime.now(UTC).date().isoformat(),
            "mono": "27000",
        },
    ).get_data(as_text=True)
    assert "please enter the colour counter" in answer
    assert reads_of(session, rossi["colour"]) == []


@pytest.mark.parametrize(
    ("days_back", "first", "second", "statuses", "card_mono"),
    [
        # the bug: both stored as ok at 12:00 and the card showed B/W 100
        (0, (212000, 175000), (100, 100), ["ok", "flagged"], 212000),
        (2, (212000, 175000), (100, 100), ["ok", "flagged"], 212000),
        (0, (212000, 175000), (212500, 175100), ["ok", "ok"], 212500),
        (2, (212000, 175000), (212500, 175100), ["ok", "ok"], 212500),
    ],
)
def test_two_reads_of_one_day_are_checked_against_each_other(
    app, rossi, session, days_back, first, second, statuses, card_mono
):
    machine_id = rossi["colour"]
    now = datetime.now(UTC)
    day = (now - timedelta(days=days_back)).date()
    with database(app).session() as db:
        machine = db.get(Machine, machine_id)
        for step, (mono, colour) in enumerate((first, second)):
            later = now + timedelta(minutes=step)
            record_manual_read(
                db, machine, taken_at=typed_read_time(db, machine, day, later),
                mono=mono, colour=colour, user=None, now=later,
            )  # fmt: skip
            db.commit()
    reads = reads_of(session, machine_id)
    assert [r.status for r in reads] == statuses
    assert reads[0].taken_at < reads[1].taken_at  # entry order kept, never one instant
    card = machine_card(session, session.get(Machine, machine_id), now.date())
    assert card.counters.mono == card_mono


def test_a_read_between_two_same_instant_neighbours_sees_both(app, rossi, session):
    machine_id = rossi["colour"]
    now = datetime.now(UTC)
    with database(app).session() as db:
        machine = db.get(Machine, machine_id)
        at = now - timedelta(hours=1)
        record_manual_read(db, machine, taken_at=at, mono=1000, colour=10, user=None, now=now)
        read = record_manual_read(db, machine, taken_at=at, mono=900, colour=10, user=None, now=now)
        assert read.flags == "counter_backwards"
