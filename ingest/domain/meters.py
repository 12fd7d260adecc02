"""Meter reads in the database: from agent readings and from people, validated on the way in.

Every read keeps its provenance: the device reading and the signed batch it came from, or the
user who typed it.  Validation is ``meter_rules.check_read`` against the latest billable read
before it; a flagged read waits for staff (``resolve``) and is never billed until then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    exists,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from ingest.domain.billing import MeterPoint
from ingest.domain.errors import DomainError
from ingest.domain.meter_rules import (
    DEFAULT_MAX_PAGES_PER_DAY,
    Counter,
    check_read,
    split_counters,
)
from ingest.domain.pages import Page, paginate
from ingest.models import (
    Device,
    DeviceReading,
    Machine,
    MeterRead,
    MeterReadRequest,
    Ticket,
    User,
)
from ingest.models.fleet import fold_serial
from ingest.models.invoices import invoice_line_reads

RESOLUTIONS = ("accept", "offset", "reject")
#: Customers type the counters they see today; an old date would rewrite billed history.
MANUAL_READ_MAX_AGE = timedelta(days=14)
#: A read closes a request when taken this close before (or after) the period's end.
REQUEST_WINDOW = timedelta(days=10)
#: A read typed for an earlier day counts from this hour, then one second per read already
#: typed for that day: the order people entered them is kept, never two reads at one instant.
PAST_DAY_HOUR = time(12)

#: The messages people see when a typed read is refused (one place each, ready for gettext).
MSG_NEGATIVE = "Counters cannot be negative."
MSG_FUTURE = "A reading cannot be dated in the future."
MSG_TOO_OLD = "A reading can be dated at most {days} days back: please read the counters now."
MSG_MONO_MACHINE = "This machine prints black and white only: leave the colour counter empty."
MSG_COLOUR_MISSING = (
    "This machine prints colour: please enter the colour counter too (it was left empty)."
)


def has_real_serial(device: Device) -> bool:
    """Only a device identified by a real serial may be linked to a machine automatically."""
    return bool(device.serial) and device.identity.startswith("sn:")


def machines_for_devices(session: Session, device_ids: list[int]) -> dict[int, Machine]:
    """The machine each device is, linking unlinked ones on their first serial match.

    Two queries whatever the number of devices: the machines already linked, then the
    customers' unlinked machines through the indexed folded serial (``Machine.serial_key``).
    """
    linked = {
        m.device_id: m
        for m in session.scalars(select(Machine).where(Machine.device_id.in_(device_ids)))
        if m.device_id is not None
    }
    unlinked = [
        d
        for d in session.scalars(
            select(Device).where(Device.id.in_([i for i in device_ids if i not in linked]))
        )
        if has_real_serial(d)
    ]
    wanted = {(d.customer_id, fold_serial(d.serial)): d for d in unlinked}
    if not wanted:
        return linked
    for machine in session.scalars(
        select(Machine)
        .where(
            Machine.customer_id.in_({customer for customer, _ in wanted}),
            Machine.serial_key.in_({serial for _, serial in wanted}),
            Machine.device_id.is_(None),
        )
        .order_by(Machine.id)
    ):
        device = wanted.pop((machine.customer_id, machine.serial_key), None)
        if device is not None:
            machine.device_id = device.id
            linked[device.id] = machine
    session.flush()
    return linked


@dataclass(frozen=True, slots=True)
class AgentReading:
    """What a meter read takes from a stored device reading (``agent_readings``)."""

    id: int
    device_id: int
    batch_id: int
    observed_at: datetime
    total: int | None
    mono: int | None
    colour: int | None
    reported_serial: str | None


def agent_readings(session: Session, *where: Any) -> list[AgentReading]:
    """The readings matching ``where``, oldest first: the columns a meter read needs, the
    reported serial read out of the stored JSON by the database."""
    rows = session.execute(
        select(
            DeviceReading.id,
            DeviceReading.device_id,
            DeviceReading.batch_id,
            DeviceReading.observed_at,
            DeviceReading.total,
            DeviceReading.mono,
            DeviceReading.colour,
            DeviceReading.payload["device"]["serial"].as_string(),
        )
        .where(*where)
        .order_by(DeviceReading.observed_at, DeviceReading.id)
    )
    return [AgentReading(*row) for row in rows]


def not_yet_read(*where: Any) -> ColumnElement[bool]:
    """Readings not yet turned into a meter read matching ``where`` (``not exists``: a typed
    read, which comes from no reading, never hides one, as a NULL in ``not in`` would)."""
    return ~exists().where(MeterRead.device_reading_id == DeviceReading.id, *where)


def record_agent_reads(
    session: Session, readings: Sequence[tuple[Machine, AgentReading]], now: datetime
) -> list[MeterRead]:
    """Meter reads from verified agent readings (those with usable counters), oldest first.

    Each is judged as if the reads were recorded one by one in that order: against its
    machine's latest billable read at or before it (one recorded here included) and the first
    one after it; a valid read closes the requests it answers.  Two queries load what every
    judgement needs and one flush writes the reads, whatever their number (it was four round
    trips and a flush per read, most of a batch's follow-up).
    """
    ordered = sorted(readings, key=lambda pair: (pair[1].observed_at, pair[1].id))
    firsts: dict[int, datetime] = {}
    for machine, reading in ordered:
        firsts.setdefault(machine.id, reading.observed_at)
    stored = _billable_from(session, firsts)
    recorded: dict[int, list[MeterRead]] = {machine_id: [] for machine_id in firsts}
    reads: list[MeterRead] = []
    for machine, reading in ordered:
        read = _agent_read(machine, reading, now)
        if read is None:
            continue
        _judge(
            machine,
            read,
            previous=_latest_billable(stored[machine.id], recorded[machine.id], read.taken_at),
            following=next((r for r in stored[machine.id] if r.taken_at > read.taken_at), None),
        )
        if read.status == "ok":
            recorded[machine.id].append(read)
        reads.append(read)
    session.add_all(reads)
    session.flush()
    _close_answered_requests(session, recorded)
    return reads


def _agent_read(machine: Machine, reading: AgentReading, now: datetime) -> MeterRead | None:
    counters = split_counters(
        reading.total, reading.mono, reading.colour, colour_machine=machine.colour
    )
    if counters is None:
        return None
    return MeterRead(
        machine_id=machine.id,
        taken_at=reading.observed_at,
        source="agent",
        total=reading.total,
        mono=counters[0],
        colour=counters[1],
        reported_serial=reading.reported_serial,
        device_reading_id=reading.id,
        batch_id=reading.batch_id,
        signature_verified=True,
        created_at=now,
    )


def _billable_from(session: Session, firsts: dict[int, datetime]) -> dict[int, list[MeterRead]]:
    """Per machine, oldest first: its latest billable read at or before ``firsts[machine]``
    and every billable read after it, which is all a read from then on is judged by.  A few
    hundred machines a query: SQLite refuses a compound select of more than 500 parts."""
    found: dict[int, list[MeterRead]] = {machine_id: [] for machine_id in firsts}
    machines = sorted(firsts)
    for start in range(0, len(machines), _MACHINES_A_QUERY):
        chunk = {m: firsts[m] for m in machines[start : start + _MACHINES_A_QUERY]}
        for read in session.scalars(_billable_query(chunk)):
            found[read.machine_id].append(read)
    return found


_MACHINES_A_QUERY: Final = 200


def _billable_query(firsts: dict[int, datetime]) -> Select[tuple[MeterRead]]:
    ok = MeterRead.status == "ok"
    moment = MeterRead.taken_at.type
    pairs = union_all(
        *(
            select(literal(m, Integer).label("machine_id"), literal(t, moment).label("first"))
            for m, t in firsts.items()
        )
    ).subquery()
    latest_before = _latest_billable_id(pairs.c.machine_id, MeterRead.taken_at <= pairs.c.first)
    after = or_(
        *(and_(MeterRead.machine_id == m, MeterRead.taken_at > t) for m, t in firsts.items())
    )
    return (
        select(MeterRead)
        .where(ok, or_(MeterRead.id.in_(select(latest_before).select_from(pairs)), after))
        .order_by(MeterRead.taken_at, MeterRead.id)
    )


def _latest_billable_id(machine_id: Any, *where: Any) -> Any:
    """The id of a machine's latest billable read (by time, then entry order), narrowed by
    ``where``: a subquery correlated to the outer query's ``machine_id``."""
    return (
        select(MeterRead.id)
        .where(MeterRead.machine_id == machine_id, MeterRead.status == "ok", *where)
        .order_by(MeterRead.taken_at.desc(), MeterRead.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _latest_billable(
    stored: list[MeterRead], recorded: list[MeterRead], at: datetime
) -> MeterRead | None:
    """The read a database query would find last by (time, id) at or before ``at``: the
    reads recorded here come after every stored one (higher ids), each later than the last."""
    before = [r for r in stored if r.taken_at <= at]
    latest = before[-1] if before else None
    if recorded and (latest is None or recorded[-1].taken_at >= latest.taken_at):
        return recorded[-1]
    return latest


def _close_answered_requests(session: Session, recorded: dict[int, list[MeterRead]]) -> None:
    """Each open request of these machines closed by the first of their valid reads (oldest
    first) that answers it."""
    answering = {machine_id: reads for machine_id, reads in recorded.items() if reads}
    if not answering:
        return
    for request in session.scalars(
        select(MeterReadRequest)
        .where(
            MeterReadRequest.machine_id.in_(sorted(answering)),
            MeterReadRequest.closed_at.is_(None),
        )
        .order_by(MeterReadRequest.id)
    ):
        read = next((r for r in answering[request.machine_id] if _answers(r, request)), None)
        if read is not None:
            request.closed_at = datetime.now(UTC)
            request.closing_read_id = read.id


def typed_read_time(session: Session, machine: Machine, day: date, now: datetime) -> datetime:
    """When a read typed for ``day`` was taken: now for today, else the day with a sequence.

    Stamping every typed read at noon made two reads of one day tie, and the later one escaped
    the neighbour check.
    """
    if day > now.date():
        raise DomainError("bad_read", MSG_FUTURE)
    if day == now.date():
        return now
    start = datetime.combine(day, PAST_DAY_HOUR, tzinfo=UTC)
    typed_that_day = session.scalars(
        select(MeterRead.taken_at).where(
            MeterRead.machine_id == machine.id,
            MeterRead.source == "manual",
            MeterRead.taken_at >= start,
            MeterRead.taken_at < start + timedelta(hours=12),
        )
    ).all()
    return start + timedelta(seconds=len(typed_that_day))


def record_manual_read(
    session: Session,
    machine: Machine,
    *,
    taken_at: datetime,
    mono: int,
    colour: int | None,
    user: User | None,
    now: datetime,
    name: str | None = None,
    ticket: Ticket | None = None,
) -> MeterRead:
    """A read typed by a customer or staff member (``name`` when entered through a request
    link, ``ticket`` when it came with a service request).

    ``colour`` None means the field was left empty: "not given", never 0.  A colour machine
    needs it (a missing colour counter read as 0 looked like a counter going backwards).
    """
    if mono < 0 or (colour is not None and colour < 0):
        raise DomainError("bad_read", MSG_NEGATIVE)
    if taken_at > now + timedelta(minutes=5):
        raise DomainError("bad_read", MSG_FUTURE)
    if not (user and user.is_staff) and taken_at < now - MANUAL_READ_MAX_AGE:
        raise DomainError("bad_read", MSG_TOO_OLD.format(days=MANUAL_READ_MAX_AGE.days))
    if not machine.colour and colour:
        raise DomainError("bad_read", MSG_MONO_MACHINE)
    if machine.colour and colour is None:
        raise DomainError("colour_missing", MSG_COLOUR_MISSING)
    colour = colour or 0
    read = MeterRead(
        machine_id=machine.id,
        taken_at=taken_at,
        source="manual",
        total=mono + colour,
        mono=mono,
        colour=colour,
        entered_by_id=user.id if user else None,
        entered_by_name=(user.email if user else name),
        ticket_id=ticket.id if ticket else None,
        created_at=now,
    )
    read = _validate_and_add(session, machine, read)
    _close_requests(session, machine, read)
    return read


def _validate_and_add(session: Session, machine: Machine, read: MeterRead) -> MeterRead:
    _judge(
        machine,
        read,
        previous=_previous_ok(session, machine, read.taken_at),
        following=_next_ok(session, machine, read.taken_at),
    )
    session.add(read)
    session.flush()
    return read


def _judge(
    machine: Machine, read: MeterRead, *, previous: MeterRead | None, following: MeterRead | None
) -> None:
    """Offsets, flags and status of ``read`` against its billable neighbours."""
    read.offset_mono, read.offset_colour = _offsets_at(machine, read.taken_at)
    flags = check_read(
        _counter(previous) if previous else None,
        _counter(read),
        max_pages_per_day=machine.max_pages_per_day or DEFAULT_MAX_PAGES_PER_DAY,
        machine_serial=machine.serial if read.source == "agent" else None,
        reported_serial=read.reported_serial,
        following=_counter(following) if following else None,
    )
    read.flags = ",".join(flags)
    read.status = "flagged" if flags else "ok"


def _offsets_at(machine: Machine, taken_at: datetime) -> tuple[int, int]:
    """The board-replacement offsets in force at ``taken_at``: none before the replacement."""
    if machine.offset_from is not None and taken_at < machine.offset_from:
        return 0, 0
    return machine.offset_mono, machine.offset_colour


def _next_ok(session: Session, machine: Machine, after: datetime) -> MeterRead | None:
    return session.scalar(
        select(MeterRead)
        .where(
            MeterRead.machine_id == machine.id, MeterRead.status == "ok", MeterRead.taken_at > after
        )
        .order_by(MeterRead.taken_at, MeterRead.id)
        .limit(1)
    )


def _previous_ok(session: Session, machine: Machine, before: datetime) -> MeterRead | None:
    """The latest billable read at or before ``before``: a read at the same instant was entered
    earlier, so it is a neighbour too (strict < let same-day reads skip the check)."""
    return session.scalar(
        select(MeterRead)
        .where(
            MeterRead.machine_id == machine.id,
            MeterRead.status == "ok",
            MeterRead.taken_at <= before,
        )
        .order_by(MeterRead.taken_at.desc(), MeterRead.id.desc())
        .limit(1)
    )


def neighbouring_reads(
    session: Session, read: MeterRead
) -> tuple[MeterRead | None, MeterRead | None]:
    """The billable reads just before and just after ``read``: what staff judge a flag by."""
    before = session.scalar(
        select(MeterRead)
        .where(
            MeterRead.machine_id == read.machine_id,
            MeterRead.status == "ok",
            MeterRead.taken_at <= read.taken_at,
            MeterRead.id != read.id,
        )
        .order_by(MeterRead.taken_at.desc(), MeterRead.id.desc())
        .limit(1)
    )
    return before, _next_ok(session, read.machine, read.taken_at)


def _counter(read: MeterRead) -> Counter:
    return Counter(
        read.taken_at, (read.mono or 0) + read.offset_mono, (read.colour or 0) + read.offset_colour
    )


def _close_requests(session: Session, machine: Machine, read: MeterRead) -> None:
    """A valid read closes the machine's open requests for periods it answers."""
    _close_answered_requests(session, {machine.id: [read] if read.status == "ok" else []})


def _answers(read: MeterRead, request: MeterReadRequest) -> bool:
    """An older read does not answer a period's request."""
    return read.taken_at.date() >= request.period_end - REQUEST_WINDOW


def resolve(
    session: Session,
    read: MeterRead,
    action: str,
    *,
    by: User,
    note: str = "",
) -> MeterRead:
    """Staff decision on a flagged read: accept it, restart its counters (offset) or reject it.

    ``offset`` is for a board replacement: the machine's offset becomes what makes this read
    continue from the previous billable one, and applies to this read and every later one.
    """
    if action not in RESOLUTIONS:
        raise DomainError("bad_action", f"action must be one of {', '.join(RESOLUTIONS)}")
    if read.status == "ok" and action == "reject" and not _invoiced(session, read):
        pass  # staff may still withdraw a read nobody has been billed on
    elif read.status != "flagged":
        raise DomainError("not_flagged", "only a flagged read can be resolved", 409)
    machine = read.machine
    if action == "offset":
        _apply_offset(session, machine, read)
    read.status = "rejected" if action == "reject" else "ok"
    read.resolved_by_id, read.resolved_at = by.id, datetime.now(UTC)
    read.resolution = f"{action}: {note}".strip(": ")[:500]
    session.flush()
    if read.status == "ok":
        _close_requests(session, machine, read)
    return read


def _invoiced(session: Session, read: MeterRead) -> bool:
    return (
        session.scalar(
            select(invoice_line_reads.c.line_id).where(invoice_line_reads.c.read_id == read.id)
        )
        is not None
    )


def _apply_offset(session: Session, machine: Machine, read: MeterRead) -> None:
    previous = _previous_ok(session, machine, read.taken_at)
    if previous is None:
        raise DomainError("no_previous", "no earlier billable read to continue from")
    before = _counter(previous)
    machine.offset_mono = before.mono - (read.mono or 0)
    machine.offset_colour = before.colour - (read.colour or 0)
    machine.offset_from = read.taken_at
    later_reads = session.scalars(
        select(MeterRead)
        .where(MeterRead.machine_id == machine.id, MeterRead.taken_at >= read.taken_at)
        .order_by(MeterRead.taken_at, MeterRead.id)
    ).all()
    for later in later_reads:
        later.offset_mono, later.offset_colour = machine.offset_mono, machine.offset_colour
    read.status = "ok"
    session.flush()
    for later in later_reads:  # re-judged on the continued counters, not waved through
        if later.id != read.id and later.status == "flagged" and later.flags == "counter_backwards":
            prior = _previous_ok(session, machine, later.taken_at)
            if not check_read(
                _counter(prior) if prior else None,
                _counter(later),
                max_pages_per_day=machine.max_pages_per_day or DEFAULT_MAX_PAGES_PER_DAY,
            ):
                later.status = "ok"
                later.resolution = "offset applied from an earlier board replacement"
                session.flush()


#: How far from a period a read may still be the one closest to its boundary: billing and
#: statistics read only this much around the days they look at, never a whole history.
READ_MARGIN = timedelta(days=92)


def billable_points_around(
    session: Session, machine: Machine, start: date, end: date
) -> list[MeterPoint]:
    """The billable reads that can decide the counters between ``start`` and ``end``."""
    since = datetime.combine(start, time(0), tzinfo=UTC) - READ_MARGIN
    until = datetime.combine(end, time(0), tzinfo=UTC) + READ_MARGIN
    return billable_points(session, machine, since, until)


def billable_points(
    session: Session,
    machine: Machine,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[MeterPoint]:
    """The machine's billable reads as billing inputs, offsets applied, oldest first; only
    those between ``since`` and ``until`` when given (pages never read a whole history)."""
    query = select(MeterRead).where(MeterRead.machine_id == machine.id, MeterRead.status == "ok")
    if since is not None:
        query = query.where(MeterRead.taken_at >= since)
    if until is not None:
        query = query.where(MeterRead.taken_at <= until)
    reads = session.scalars(query.order_by(MeterRead.taken_at, MeterRead.id))
    return [
        MeterPoint(read.taken_at, c.mono, c.colour, read.id)
        for read in reads
        for c in (_counter(read),)
    ]


def flagged_reads(session: Session, machine: Machine | None = None) -> list[MeterRead]:
    """Reads waiting for a staff decision (one machine's, or all)."""
    query = select(MeterRead).where(MeterRead.status == "flagged")
    if machine is not None:
        query = query.where(MeterRead.machine_id == machine.id)
    return list(session.scalars(query.order_by(MeterRead.taken_at)))


def unmatched_devices(session: Session) -> list[Device]:
    """Devices reported by agents that no machine claims yet: the staff assignment queue."""
    return list(session.scalars(_unmatched()))


def unmatched_page(session: Session, number: int) -> Page[Device]:
    """One page of the assignment queue, with the queue's length."""
    return paginate(session, _unmatched(), number)


def _unmatched() -> Select[tuple[Device]]:
    claimed = select(Machine.device_id).where(Machine.device_id.is_not(None))
    return select(Device).where(Device.id.not_in(claimed)).order_by(Device.first_seen_at, Device.id)


def assign_device(session: Session, device: Device, machine: Machine) -> int:
    """Link a queued device to a machine and turn its readings so far into meter reads."""
    if machine.customer_id != device.customer_id:
        raise DomainError("wrong_customer", "device and machine belong to different customers")
    if machine.device_id not in (None, device.id):
        raise DomainError("machine_linked", "this machine is already linked to another device", 409)
    machine.device_id = device.id
    session.flush()
    readings = agent_readings(
        session,
        DeviceReading.device_id == device.id,
        not_yet_read(MeterRead.machine_id == machine.id),
    )
    return len(record_agent_reads(session, [(machine, r) for r in readings], datetime.now(UTC)))


@dataclass(frozen=True, slots=True)
class MachineCounters:
    """The latest billable counters of a machine, for pages and forms."""

    at: datetime
    mono: int
    colour: int


def latest_counters(session: Session, machine: Machine) -> MachineCounters | None:
    """The newest billable read, offsets applied."""
    return latest_counters_of(session, [machine.id]).get(machine.id)


def latest_counters_of(session: Session, machine_ids: list[int]) -> dict[int, MachineCounters]:
    """``latest_counters`` of each machine that has a billable read, in one query (one index
    probe per machine): a page of fifty machine cards asked fifty times before."""
    if not machine_ids:
        return {}
    newest_ids = select(_latest_billable_id(Machine.id)).where(Machine.id.in_(machine_ids))
    counters = {}
    for read in session.scalars(select(MeterRead).where(MeterRead.id.in_(newest_ids))):
        counter = _counter(read)
        counters[read.machine_id] = MachineCounters(counter.at, counter.mono, counter.colour)
    return counters
