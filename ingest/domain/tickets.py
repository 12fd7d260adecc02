"""Service requests: opened by customers on one of their machines, worked by dealer staff.

The statuses and their colours come from the Italian manual ("Vedi Tickets"): requested
(yellow), in progress (blue), on hold (grey), done (green).  A ticket may carry the counters
read at the machine ("introduzca la lectura si es posible"): they become a manual meter read
with the ticket as its provenance, or the ticket says why they could not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.errors import DomainError
from ingest.domain.meters import record_manual_read
from ingest.domain.numbering import next_number
from ingest.i18n import N_, Wording
from ingest.models import Machine, MeterRead, Ticket, TicketAttachment, TicketEvent, User
from ingest.stored_texts import TICKET_ASSIGNED, TICKET_OPENED, TICKET_UNASSIGNED

#: Status -> (words, colour); the words are msgids, translated where they are shown.
STATUSES = {
    "requested": (N_("Requested"), "yellow"),
    "in_progress": (N_("In progress"), "blue"),
    "on_hold": (N_("On hold"), "grey"),
    "done": (N_("Done"), "green"),
}
TEAMS = {
    "printing": N_("Printing: MFP and printer faults"),
    "remote": N_("Remote technical: scanning, PC setup"),
    "software": N_("Software (customers with system support)"),
    "furniture": N_("Office furniture"),
}
PRIORITIES = ("low", "normal", "high", "urgent")
MAX_ATTACHMENTS = 3
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
#: The notes a ticket's history keeps about the counters its form carried.
MSG_READ_RECORDED = "Counters recorded as meter read #{read_id}."
MSG_READ_FLAGGED = "Counters recorded as meter read #{read_id}; they look unusual: SCM will check."
MSG_READ_NOT_RECORDED = "Counters not recorded as a meter read: {reason}"
MSG_COLOUR_ONLY = "a colour counter needs the B/W counter too."


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """What the customer fills in."""

    machine_id: int
    subject: str
    description: str
    contact_name: str
    phone: str = ""
    office_hours: str = ""
    priority: str = "normal"
    team: str = "printing"
    mono: int | None = None
    colour: int | None = None


@dataclass(frozen=True, slots=True)
class OpenedTicket:
    """A new ticket and what became of the counters it carried (nothing, a read, or why not)."""

    ticket: Ticket
    read: MeterRead | None = None
    read_problem: str | None = None


@dataclass(frozen=True, slots=True)
class Upload:
    """One attached file."""

    filename: str
    content_type: str
    data: bytes


def open_ticket(
    session: Session,
    customer_id: int,
    user: User | None,
    form: TicketRequest,
    uploads: list[Upload],
    now: datetime,
) -> Ticket:
    """Create the ticket (and the meter read it carries); the caller commits and notifies.
    The ticket's history says what became of its counters."""
    return open_ticket_with_read(session, customer_id, user, form, uploads, now).ticket


def open_ticket_with_read(
    session: Session,
    customer_id: int,
    user: User | None,
    form: TicketRequest,
    uploads: list[Upload],
    now: datetime,
) -> OpenedTicket:
    """``open_ticket``, also answering what became of the counters (for the page to say)."""
    machine = session.get(Machine, form.machine_id)
    if machine is None or machine.customer_id != customer_id:
        raise DomainError("not_found", "no such machine", 404)
    _check(form, uploads)
    ticket = Ticket(
        number=next_number(session, "ticket", now.year),
        customer_id=customer_id,
        machine_id=machine.id,
        subject=form.subject.strip()[:200],
        description=form.description.strip(),
        contact_name=form.contact_name.strip()[:200],
        phone=form.phone.strip() or None,
        office_hours=form.office_hours.strip() or None,
        priority=form.priority,
        team=form.team,
        status="requested",
        created_at=now,
        updated_at=now,
        created_by_id=user.id if user else None,
    )
    session.add(ticket)
    session.flush()
    for upload in uploads:
        session.add(
            TicketAttachment(
                ticket_id=ticket.id,
                filename=_safe_name(upload.filename),
                content_type=upload.content_type[:100] or "application/octet-stream",
                size=len(upload.data),
                data=upload.data,
            )
        )
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            status="requested",
            note=TICKET_OPENED,
            by_id=user.id if user else None,
        )
    )
    read, problem = _counters_as_read(session, machine, ticket, form, user, now)
    session.flush()
    session.refresh(ticket)
    return OpenedTicket(ticket, read, problem)


def _counters_as_read(
    session: Session,
    machine: Machine,
    ticket: Ticket,
    form: TicketRequest,
    user: User | None,
    now: datetime,
) -> tuple[MeterRead | None, str | None]:
    """The ticket's counters as a meter read, its history noting the outcome either way."""
    if form.mono is None and form.colour is None:
        return None, None
    read, problem = None, None
    if form.mono is None:
        problem = MSG_COLOUR_ONLY
    else:
        try:
            with session.begin_nested():
                read = record_manual_read(
                    session,
                    machine,
                    taken_at=now,
                    mono=form.mono,
                    colour=form.colour,
                    user=user,
                    now=now,
                    ticket=ticket,
                )
        except DomainError as err:
            problem = err.message
    if read is not None:
        template = MSG_READ_RECORDED if read.status == "ok" else MSG_READ_FLAGGED
        note = template.format(read_id=read.id)
    else:
        note = MSG_READ_NOT_RECORDED.format(reason=problem)
    session.add(
        TicketEvent(ticket_id=ticket.id, at=now, status=ticket.status, note=note[:1000], by_id=None)
    )
    return read, problem


def _check(form: TicketRequest, uploads: list[Upload]) -> None:
    if not form.subject.strip() or not form.description.strip() or not form.contact_name.strip():
        raise DomainError("bad_ticket", "subject, description and contact are required")
    if form.priority not in PRIORITIES or form.team not in TEAMS:
        raise DomainError("bad_ticket", "unknown priority or team")
    if len(uploads) > MAX_ATTACHMENTS:
        raise DomainError("bad_ticket", f"at most {MAX_ATTACHMENTS} attachments")
    if any(len(u.data) > MAX_ATTACHMENT_BYTES for u in uploads):
        raise DomainError("bad_ticket", "an attachment is over 5 MB")


def _safe_name(filename: str) -> str:
    """The base name only, without path tricks."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "attachment"
    return "".join(c for c in name if c.isprintable() and c not in '"<>|:*?')[:200]


def change_status(
    session: Session, ticket: Ticket, status: str, by: User, note: str, now: datetime
) -> Ticket:
    """Staff move a ticket along, leaving a note in its history."""
    if status not in STATUSES:
        raise DomainError("bad_status", "unknown status")
    ticket.status, ticket.updated_at = status, now
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            status=status,
            note=note.strip()[:1000] or None,
            by_id=by.id,
        )
    )
    session.flush()
    return ticket


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """What the staff ticket list is narrowed to (None: any)."""

    status: str | None = None
    team: str | None = None
    customer_id: int | None = None
    assignee_id: int | None = None
    #: Only tickets not done (the dispatcher's default view).
    open_only: bool = False


def tickets_of(
    session: Session, customer_id: int | None, wanted: TicketFilter | None = None
) -> list[Ticket]:
    """Tickets, newest first (one customer's, or all for staff), narrowed by ``wanted``."""
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id)
    if wanted is not None:
        for column, value in (
            (Ticket.status, wanted.status),
            (Ticket.team, wanted.team),
            (Ticket.customer_id, wanted.customer_id),
            (Ticket.assignee_id, wanted.assignee_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if wanted.open_only:
            query = query.where(Ticket.status != "done")
    return list(session.scalars(query))


def assign(
    session: Session, ticket: Ticket, assignee: User | None, by: User, now: datetime
) -> Ticket:
    """Give the ticket to a staff member (or to nobody), noted in its history."""
    if assignee is not None and not (assignee.is_staff and assignee.active):
        raise DomainError("bad_assignee", "tickets are assigned to active staff only")
    ticket.assignee_id = assignee.id if assignee else None
    ticket.updated_at = now
    note = TICKET_ASSIGNED % {"email": assignee.email} if assignee else TICKET_UNASSIGNED
    session.add(
        TicketEvent(ticket_id=ticket.id, at=now, status=ticket.status, note=note, by_id=by.id)
    )
    session.flush()
    return ticket


def age_days(ticket: Ticket, now: datetime) -> int:
    """Whole days since the ticket was opened (what a dispatcher sorts by)."""
    return max(0, (now - ticket.created_at).days)


def ticket_mail_text(ticket: Ticket, words: Wording) -> tuple[str, str]:
    """The notice the dealer's team receives for a new ticket (in the desk's language)."""
    m = ticket.machine
    body = words.gettext(
        "New ticket %(number)s (priority %(priority)s, team %(team)s)\n"
        "Customer: %(customer)s\n"
        "Machine: %(machine)s, %(location)s\n"
        "Contact: %(contact)s\n\n%(subject)s\n\n%(description)s\n",
        number=ticket.number,
        priority=words.label("priority", ticket.priority),
        team=words.gettext(TEAMS.get(ticket.team, ticket.team)),
        customer=ticket.customer.name,
        machine=f"{m.scm_id} {m.manufacturer or ''} {m.model or ''} s/n {m.serial}",
        location=m.location or "",
        contact=f"{ticket.contact_name} {ticket.phone or ''} {ticket.office_hours or ''}",
        subject=ticket.subject,
        description=ticket.description,
    )
    return f"[{ticket.number}] {ticket.subject}", body
