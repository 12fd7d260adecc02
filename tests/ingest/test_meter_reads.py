"""Meter reads from agent uploads and from people: provenance, flags and staff decisions."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support.fleet import add_machine, push, utc
from support.ingest import reading

from ingest.db import database
from ingest.domain.accounts import create_user
from ingest.domain.errors import DomainError
from ingest.domain.meters import (
    _billable_from,
    assign_device,
    billable_points,
    flagged_reads,
    record_manual_read,
    resolve,
    unmatched_devices,
)
from ingest.models import Device, Machine, MeterRead, UploadBatch

NOW = utc(2026, 11, 28, 9)


def reads(session, machine_id):
    session.expire_all()
    return list(
        session.scalars(
            select(MeterRead).where(MeterRead.machine_id == machine_id).order_by(MeterRead.taken_at)
        )
    )


@pytest.fixture
def staff(app):
    with database(app).session() as db:
        user = create_user(db, "staff@scm.example", "staff password 1", customer=None, staff=True)
        db.commit()
        return user


def test_agent_reading_becomes_a_meter_read_with_provenance(app, client, agent, session):
    machine_id = add_machine(app)
    answer = push(client, agent, utc(2026, 11, 1), 1000, colour=200)
    [read] = reads(session, machine_id)
    assert (read.mono, read.colour, read.total) == (800, 200, 1000)
    assert read.source == "agent"
    assert read.signature_verified
    assert read.batch.batch_uuid == answer["batch_id"]
    assert read.device_reading.payload["counters"]["total"] == 1000
    assert read.status == "ok"


def test_device_without_machine_waits_in_the_queue_then_backfills(app, client, agent, session):
    push(client, agent, utc(2026, 11, 1), 1000, serial="NEW-42")
    push(client, agent, utc(2026, 11, 2), 1100, serial="NEW-42")
    assert [d.serial for d in unmatched_devices(session)] == ["NEW-42"]
    machine_id = add_machine(app, serial="new-42")
    assert unmatched_devices(session) == []
    assert [r.mono for r in reads(session, machine_id)] == [1000, 1100]


def test_counter_going_backwards_is_flagged_and_not_billable(app, client, agent, session):
    machine_id = add_machine(app)
    push(client, agent, utc(2026, 11, 1), 5000)
    push(client, agent, utc(2026, 11, 2), 12)
    first, second = reads(session, machine_id)
    assert second.status == "flagged"
    assert second.flags == "counter_backwards"
    assert [p.read_id for p in billable_points(session, session.get(Machine, machine_id))] == [
        first.id
    ]


def test_implausible_jump_is_flagged(app, client, agent, session):
    machine_id = add_machine(app)
    push(client, agent, utc(2026, 11, 1), 1000)
    push(client, agent, utc(2026, 11, 2), 1000 + 50_000)
    assert reads(session, machine_id)[1].flags == "implausible_jump"


def test_board_replacement_offset_continues_the_counter(app, client, agent, session, staff):
    machine_id = add_machine(app)
    push(client, agent, utc(2026, 11, 1), 5000)
    push(client, agent, utc(2026, 11, 10), 100)  # new board: counter restarted
    push(client, agent, utc(2026, 11, 20), 600)
    machine = session.get(Machine, machine_id)
    flagged = flagged_reads(session, machine)
    assert len(flagged) == 2  # both later reads are below 5000
    resolve(session, flagged[0], "offset", by=staff, note="main board replaced")
    session.commit()
    points = billable_points(session, session.get(Machine, machine_id))
    assert [p.mono for p in points] == [5000, 5000, 5500]
    assert flagged_reads(session, machine) == []
    push(client, agent, utc(2026, 11, 25), 700)
    assert billable_points(session, session.get(Machine, machine_id))[-1].mono == 5600


def test_rejected_read_is_never_billed(app, client, agent, session, staff):
    machine_id = add_machine(app)
    push(client, agent, utc(2026, 11, 1), 5000)
    push(client, agent, utc(2026, 11, 2), 1)
    [flagged] = flagged_reads(session)
    resolve(session, flagged, "reject", by=staff, note="bogus")
    session.commit()
    assert len(billable_points(session, session.get(Machine, machine_id))) == 1
    with pytest.raises(DomainError):
        resolve(session, flagged, "accept", by=staff)


def test_serial_swap_is_flagged(app, client, agent, session):
    """A device known by MAC and assigned to a machine starts reporting another serial."""
    push(client, agent, utc(2026, 11, 1), 1000, serial=None)
    device = session.scalar(select(Device))
    machine_id = add_machine(app, serial="SN-0001")
    with database(app).session() as db:
        assign_device(db, db.get(Device, device.id), db.get(Machine, machine_id))
        db.commit()
    push(client, agent, utc(2026, 11, 2), 1100, serial="ZZ-9999")
    first, swapped = reads(session, machine_id)
    assert first.status == "ok"
    assert swapped.status == "flagged"
    assert swapped.flags == "serial_swap"
    assert swapped.reported_serial == "ZZ-9999"


def test_assigning_a_device_backfills_its_readings_beside_typed_reads(
    app, client, agent, session, staff
):
    """A machine that already has reads typed by people (which come from no device reading)
    still gets every earlier reading of the device it is linked to."""
    push(client, agent, utc(2026, 11, 1), 1000, serial=None)
    push(client, agent, utc(2026, 11, 3), 1100, serial=None)
    device = session.scalar(select(Device))
    machine_id = add_machine(app, serial="SN-0001", colour=False)
    with database(app).session() as db:
        machine = db.get(Machine, machine_id)
        record_manual_read(db, machine, taken_at=utc(2026, 11, 2), mono=1050, colour=None,
                           user=staff, now=NOW)  # fmt: skip
        assert assign_device(db, db.get(Device, device.id), machine) == 2
        db.commit()
    assert [(r.source, r.mono) for r in reads(session, machine_id)] == [
        ("agent", 1000),
        ("manual", 1050),
        ("agent", 1100),
    ]


def test_many_machines_neighbours_are_read_in_bounded_queries(session):
    """One batch may hold readings of a thousand machines; SQLite refuses a compound select of
    more than 500 parts, so the neighbours are read a few hundred machines a query."""
    firsts = {machine_id: utc(2026, 11, 1) for machine_id in range(1, 1001)}
    found = _billable_from(session, firsts)
    assert sorted(found) == list(range(1, 1001))
    assert not any(found.values())


def test_manual_read_records_who_entered_it(app, session, staff):
    machine_id = add_machine(app, colour=False)
    machine = session.get(Machine, machine_id)
    read = record_manual_read(
        session, machine, taken_at=utc(2026, 11, 20), mono=1234, colour=0, user=staff, now=NOW
    )
    session.commit()
    assert read.entered_by_name == "staff@scm.example"
    assert read.source == "manual"
    assert read.batch_id is None
    with pytest.raises(DomainError, match="black and white only"):
        record_manual_read(
            session, machine, taken_at=utc(2026, 11, 21), mono=1300, colour=5, user=staff, now=NOW
        )


def test_reads_keep_the_batch_they_came_from(app, client, agent, session):
    add_machine(app)
    push(client, agent, utc(2026, 11, 1), 1000)
    read = session.scalar(select(MeterRead))
    batch = session.get(UploadBatch, read.batch_id)
    assert batch.signature
    assert batch.body_digest.startswith("sha-256=:")


def test_a_late_old_board_read_gets_no_offset(app, client, agent, session, staff):
    machine_id = add_machine(app)
    push(client, agent, utc(2026, 3, 1), 15000)
    push(client, agent, utc(2026, 3, 3), 50)  # new board
    [flagged] = flagged_reads(session)
    resolve(session, flagged, "offset", by=staff, note="scheda sostituita")
    session.commit()
    push(client, agent, utc(2026, 3, 2), 15100)  # the old board's last read, spooled late
    late = session.scalar(select(MeterRead).where(MeterRead.mono == 15100))
    assert (late.offset_mono, late.status) == (0, "flagged")  # no 30050: it predates the offset
    assert late.flags == "out_of_sequence"  # and it shows the offset needs a second look
    points = billable_points(session, session.get(Machine, machine_id))
    assert [p.mono for p in points] == [15000, 15000]


def test_a_back_dated_read_higher_than_a_later_one_is_flagged(app, client, agent, session):
    machine_id = add_machine(app, colour=False)
    push(client, agent, utc(2026, 1, 31), 1000)
    push(client, agent, utc(2026, 2, 26), 3000)
    push(client, agent, utc(2026, 3, 31), 5000)
    push(client, agent, utc(2026, 3, 1), 6000)  # late and impossible between 3000 and 5000
    late = session.scalar(select(MeterRead).where(MeterRead.mono == 6000))
    assert late.status == "flagged"
    assert "out_of_sequence" in late.flags
    points = billable_points(session, session.get(Machine, machine_id))
    assert [p.mono for p in points] == [1000, 3000, 5000]


def test_readings_of_one_machine_in_one_batch_are_judged_one_after_another(
    app, client, agent, session
):
    """A batch's follow-up records its reads together, each judged as if recorded alone in time
    order: against the reads stored before and after it and the batch's own valid ones."""
    machine_id = add_machine(app, colour=False)
    push(client, agent, utc(2026, 11, 1), 1000)
    push(client, agent, utc(2026, 11, 20), 3000)
    batch_id, body = agent.batch(
        reading(total=1200, observed_at=utc(2026, 11, 5)),
        reading(total=900, observed_at=utc(2026, 11, 3)),  # below Nov 1st's 1000
        reading(total=5000, observed_at=utc(2026, 11, 10)),  # above Nov 20th's 3000
        reading(total=1250, observed_at=utc(2026, 11, 6)),  # after the valid 1200, not 900
    )
    assert agent.post(client, batch_id, body).status_code == 200
    judged = [(r.taken_at.day, r.mono, r.status, r.flags) for r in reads(session, machine_id)]
    assert judged == [
        (1, 1000, "ok", ""),
        (3, 900, "flagged", "counter_backwards"),
        (5, 1200, "ok", ""),
        (6, 1250, "ok", ""),
        (10, 5000, "flagged", "out_of_sequence"),
        (20, 3000, "ok", ""),
    ]
    points = billable_points(session, session.get(Machine, machine_id))
    assert [p.mono for p in points] == [1000, 1200, 1250, 3000]


def test_staff_can_withdraw_an_accepted_read_not_yet_billed(app, client, agent, session, staff):
    add_machine(app)
    push(client, agent, utc(2026, 11, 1), 1000)
    read = session.scalar(select(MeterRead))
    resolve(session, read, "reject", by=staff, note="letto sul dispositivo sbagliato")
    assert read.status == "rejected"
