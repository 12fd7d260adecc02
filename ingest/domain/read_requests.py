"""Meter-read requests ("richiesta lettura contatori") before a billing period closes.

Who gets one: machines under an active contract that no agent reads (unmonitored), or whose
agent has been silent for more than ``silent_days``.  One e-mail per customer goes to the MFP
referent with one link per machine; a valid read (from the link, the portal or an agent) closes
the request; open requests get a bounded number of reminders.

Links carry a signed request id (itsdangerous), so nothing secret is stored and a closed request's
link simply stops working.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.dealer import dealer
from ingest.domain.errors import DomainError
from ingest.domain.meters import latest_counters
from ingest.i18n import Wording, recipient_language, wording
from ingest.mail import Mailer
from ingest.models import Contract, Customer, Machine, MeterReadRequest

DEFAULT_SILENT_DAYS = 7
DEFAULT_REMINDER_EVERY = timedelta(days=3)
DEFAULT_MAX_REMINDERS = 3
#: How long after its period ends a request's e-mailed link still opens the form.
LINK_VALID = timedelta(days=45)
_SALT = "meter-read-request"


@dataclass(frozen=True, slots=True)
class RequestLinks:
    """Turns a request into a link and back."""

    base_url: str
    secret_key: str

    def url(self, request: MeterReadRequest) -> str:
        """The entry form's address for this request."""
        token = URLSafeSerializer(self.secret_key, salt=_SALT).dumps(request.id)
        return f"{self.base_url.rstrip('/')}/letture/{token}"

    def request_id(self, token: str) -> int:
        """The request a link names; a forged or mangled link is a 404."""
        try:
            value = URLSafeSerializer(self.secret_key, salt=_SALT).loads(token)
        except BadSignature as err:
            raise DomainError("bad_link", "this link is not valid", 404) from err
        if not isinstance(value, int):
            raise DomainError("bad_link", "this link is not valid", 404)
        return value


def needs_read(
    machine: Machine, last_read_at: datetime | None, now: datetime, silent_days: int
) -> bool:
    """The rule: unmonitored machines always, monitored ones when their agent fell silent."""
    if not machine.monitored or machine.device_id is None:
        return True
    return last_read_at is None or now - last_read_at > timedelta(days=silent_days)


def open_requests_for_period(
    session: Session, period_end: date, now: datetime, silent_days: int = DEFAULT_SILENT_DAYS
) -> list[MeterReadRequest]:
    """Create (once) the requests a period needs; returns the new ones, not yet sent."""
    created = []
    for contract in session.scalars(
        select(Contract)
        .where(Contract.start <= period_end)
        .where((Contract.end.is_(None)) | (Contract.end >= period_end))
    ):
        machine = contract.machine
        counters = latest_counters(session, machine)
        if not needs_read(machine, counters.at if counters else None, now, silent_days):
            continue
        exists = session.scalar(
            select(MeterReadRequest.id).where(
                MeterReadRequest.machine_id == machine.id, MeterReadRequest.period_end == period_end
            )
        )
        if exists is None:
            request = MeterReadRequest(
                machine_id=machine.id, period_end=period_end, created_at=now, reminders_sent=0
            )
            session.add(request)
            created.append(request)
    session.flush()
    return created


def send_requests(
    session: Session,
    requests: list[MeterReadRequest],
    mailer: Mailer,
    links: RequestLinks,
    now: datetime,
    *,
    reminder: bool = False,
) -> int:
    """One e-mail per customer referent listing its machines; returns messages sent."""
    by_customer: dict[int, list[MeterReadRequest]] = defaultdict(list)
    for request in requests:
        by_customer[request.machine.customer_id].append(request)
    sent = 0
    for customer_id, group in by_customer.items():
        customer = session.get(Customer, customer_id)
        if customer is None or not customer.referent_email:
            continue
        words = wording(recipient_language(None, customer))
        mailer.send(
            customer.referent_email,
            _subject(words, group[0].period_end, reminder),
            _body(words, customer, group, links),
        )
        for request in group:
            request.sent_to = customer.referent_email
            request.last_sent_at = now
            request.reminders_sent += int(reminder)
        sent += 1
    session.flush()
    return sent


def due_reminders(
    session: Session,
    now: datetime,
    every: timedelta = DEFAULT_REMINDER_EVERY,
    max_reminders: int = DEFAULT_MAX_REMINDERS,
) -> list[MeterReadRequest]:
    """Open requests last sent more than ``every`` ago, below the reminder limit."""
    return [
        r
        for r in session.scalars(
            select(MeterReadRequest).where(
                MeterReadRequest.closed_at.is_(None),
                MeterReadRequest.reminders_sent < max_reminders,
                MeterReadRequest.last_sent_at.is_not(None),
            )
        )
        if r.last_sent_at is not None and now - r.last_sent_at >= every
    ]


def open_request(
    session: Session, links: RequestLinks, token: str, now: datetime
) -> MeterReadRequest:
    """The open request behind a link; closed and expired requests are refused politely.

    A link works until its period has been over for ``LINK_VALID``: long enough for a late
    reply, short enough that an old e-mail is not a key forever.
    """
    request = session.get(MeterReadRequest, links.request_id(token))
    if request is None:
        raise DomainError("bad_link", "this link is not valid", 404)
    if request.closed_at is not None:
        raise DomainError("request_closed", "this reading has already been received", 410)
    if now.date() > request.period_end + LINK_VALID:
        raise DomainError("link_expired", "this link has expired", 410)
    return request


def _subject(words: Wording, period_end: date, reminder: bool) -> str:
    if reminder:
        return words.gettext("Reminder: meter reading for %(day)s", day=words.day(period_end))
    return words.gettext("Meter reading requested for %(day)s", day=words.day(period_end))


def _body(
    words: Wording, customer: Customer, requests: list[MeterReadRequest], links: RequestLinks
) -> str:
    lines = [
        words.gettext(
            "Dear %(name)s,", name=customer.referent_name or words.gettext("MFP contact")
        ),
        "",
        words.gettext(
            "to invoice the period closing on %(day)s we ask you for the counters of these "
            "machines, which are not monitored or have no recent readings:",
            day=words.day(requests[0].period_end),
        ),
        "",
    ]
    for request in sorted(requests, key=lambda r: r.machine.scm_id):
        m = request.machine
        lines += [
            f"- {m.scm_id} {m.manufacturer or ''} {m.model or ''} "
            + words.gettext("s/n %(serial)s", serial=m.serial)
            + f"{', ' + m.location if m.location else ''}",
            f"  {links.url(request)}",
        ]
    lines += ["", words.gettext("Thank you for your help."), dealer().name]
    return "\n".join(lines)


def all_requests(session: Session) -> list[MeterReadRequest]:
    """Every request, newest closing period first (the staff page lists them)."""
    return list(
        session.scalars(
            select(MeterReadRequest).order_by(
                MeterReadRequest.period_end.desc(), MeterReadRequest.id
            )
        )
    )


def now_utc() -> datetime:
    """The current time (a seam for jobs that run with an injected clock)."""
    return datetime.now(UTC)
