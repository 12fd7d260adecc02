"""The dispatcher's view of tickets: filters, an assignee, the age of each ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
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
from ingest.models import Machine

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
