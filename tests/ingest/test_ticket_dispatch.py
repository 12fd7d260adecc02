"""The dispatcher's view of tickets: filters, an assignee, the age of each ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from support.fleet import add_machine

from ingest.domain.accounts import create_user, get_or_create_customer
from ingest.domain.errors import DomainError
from ingest.domain.tickets import (
    TicketFilter,
    TicketRequest,
    age_days,
    assign,
    change_status,
    open_ticket,
    tickets_of,
)
from ingest.models import Machine, Ticket, User

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)


def request_for(machine_id: int, team: str = "printing") -> TicketRequest:
    return TicketRequest(
        machine_id=machine_id,
        subject="Carta inceppata",
        description="Inceppamento vassoio 2",
        contact_name="Anna",
        phone="",
        office_hours="",
        priority="normal",
        team=team,
        mono=None,
        colour=None,
    )


def test_filters_assignee_and_age(app, session):
    rossi = add_machine(app)
    bianchi = add_machine(app, "Bianchi spa", scm_id="SCM-0002", serial="SN-0002")
    rossi_id = session.get(Machine, rossi).customer_id
    bianchi_id = session.get(Machine, bianchi).customer_id
    staff = create_user(session, "turno@scm.example", "x" * 12, customer=None, staff=True)
    customer_user = create_user(
        session, "a@rossi.example", "x" * 12, customer=get_or_create_customer(session, "Rossi srl")
    )
    first = open_ticket(session, rossi_id, None, request_for(rossi), [], NOW - timedelta(days=3))
    second = open_ticket(session, bianchi_id, None, request_for(bianchi, "remote"), [], NOW)
    change_status(session, second, "done", staff, "", NOW)
    assign(session, first, staff, staff, NOW)
    session.commit()

    assert [t.id for t in tickets_of(session, None, TicketFilter(team="remote"))] == [second.id]
    assert [t.id for t in tickets_of(session, None, TicketFilter(open_only=True))] == [first.id]
    mine = TicketFilter(assignee_id=staff.id)
    assert [t.id for t in tickets_of(session, None, mine)] == [first.id]
    assert [t.id for t in tickets_of(session, None, TicketFilter(customer_id=bianchi_id))] == [
        second.id
    ]
    assert tickets_of(session, rossi_id, TicketFilter(customer_id=bianchi_id)) == []
    assert age_days(first, NOW) == 3
    assert first.events[-1].note == "assigned to turno@scm.example"
    with pytest.raises(DomainError):
        assign(session, first, customer_user, staff, NOW)


def test_staff_filter_assign_and_open_tickets_on_the_web(app, client, session):
    from support.web import add_user, csrf_token, sign_in

    machine_id = add_machine(app)
    customer_id = session.get(Machine, machine_id).customer_id
    add_user(app, "turno@scm.example", staff=True)
    sign_in(client, "turno@scm.example")
    path = f"/ops/tickets/new?customer_id={customer_id}"
    form = {
        "csrf_token": csrf_token(client, path),
        "machine_id": str(machine_id),
        "subject": "Sportello aperto",
        "description": "Telefonata del cliente",
        "contact_name": "Anna",
        "priority": "high",
        "team": "printing",
    }
    assert client.post(path, data=form).status_code == 302
    listing = client.get("/ops/tickets").get_data(as_text=True)
    assert "Sportello aperto" in listing
    number = session.scalars(select(Ticket.number)).one()
    ticket_id = session.scalars(select(Ticket.id)).one()
    staff_id = session.scalars(select(User.id).where(User.is_staff.is_(True))).one()
    client.post(
        f"/ops/tickets/{ticket_id}/assign",
        data={"csrf_token": form["csrf_token"], f"t{ticket_id}-assignee_id": str(staff_id)},
    )
    mine = client.get(f"/ops/tickets?status=open&assignee_id={staff_id}").get_data(as_text=True)
    assert f'data-ticket="{number}"' in mine
    other_team = client.get("/ops/tickets?status=&team=remote").get_data(as_text=True)
    assert f'data-ticket="{number}"' not in other_team
