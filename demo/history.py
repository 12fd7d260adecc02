"""Six months of plausible history for the demo, replayed through the real intake.

The demo's agent has just read the simulated fleet once; a dealer's portal is only convincing
with a past. This script replays that past through the same code an upload goes through
(``store_batch`` with the moment each batch would have arrived, then its follow-up jobs), so
counters, supply levels, cartridge changes, meter reads, reorders and invoices are all made by
the product itself. What it adds on purpose, so the control room has something to show:

* the customer's *previous* agent, which read the fleet until three days ago (``agent_silent``);
* a printer under contract that the live agent stopped seeing two days ago (``device_silent``);
* a second customer who orders toner itself, with a toner about to run out (``supply_low``);
* a meter read typed by the customer that goes backwards (``counter_anomaly``).

The printer in error (``device_error``) is real SNMP: ``demo/run.py`` serves one capture with a
paper jam. Batches replayed here carry the signature ``demo-history``: they were never signed
by an agent, and the provenance of every invoice line says so.

Run by ``demo/run.py`` with the demo's environment: ``history.py past CUSTOMER FLEET_JSON``
before the agent's first live read (the readings the history ends with), ``history.py present
CUSTOMER OTHER`` after it.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from msgspec.structs import replace
from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.config import load_settings
from ingest.db import Database
from ingest.domain.accounts import find_customer
from ingest.domain.alerts import evaluate_alerts
from ingest.domain.billing import add_months
from ingest.domain.errors import DomainError
from ingest.domain.intake import store_batch
from ingest.domain.invoicing import commit_run, month_period
from ingest.domain.machines import ContractTerms, MachineSpec, register_machine
from ingest.domain.meters import latest_counters, record_manual_read
from ingest.domain.payments import register_payment
from ingest.domain.tickets import TicketRequest, change_status, open_ticket
from ingest.jobs import all_jobs
from ingest.jobs.outbox import run_job
from ingest.models import Agent, Customer, Device, Machine, User
from shared.batch import Batch, encode_batch
from shared.reading import Counters, Reading, Supply
from shared.reading import Device as DeviceInfo
from shared.signing import content_digest

DAYS = 183
SIGNATURE = "demo-history"
rng = random.Random(20261128)  # the same past at every run  # noqa: S311


def main(argv: list[str]) -> int:
    """``past CUSTOMER FLEET_JSON`` before the live read, ``present CUSTOMER OTHER`` after."""
    step, *rest = argv
    now = datetime.now(UTC).replace(microsecond=0)
    database = Database(load_settings().database_url)
    try:
        with database.session() as session:
            if step == "past":
                _past_of_the_fleet(session, database, rest[0], Path(rest[1]), now)
            else:
                _present(session, database, rest[0], rest[1], now)
    finally:
        database.dispose()
    return 0


def _past_of_the_fleet(
    session: Session, database: Database, customer_name: str, fleet: Path, now: datetime
) -> None:
    """Six months of the registered printers, read by the customer's previous PC, ending three
    days ago; the live agent's first read then continues them."""
    customer = find_customer(session, customer_name)
    ends = [Reading.from_dict(item) for item in json.loads(fleet.read_text())]
    old_agent = _agent(session, customer, "pc-reception-old")
    _replay_fleet(session, database, old_agent, ends, now)
    print(f"history: {DAYS} days of {len(ends)} printers replayed")


def _present(
    session: Session, database: Database, customer_name: str, other_name: str, now: datetime
) -> None:
    """What the control room should show today, then one evaluation of the alert rules."""
    customer = find_customer(session, customer_name)
    live_agent = session.scalar(
        select(Agent).where(Agent.customer_id == customer.id).order_by(Agent.last_seen_at.desc())
    )
    machines = list(
        session.scalars(
            select(Machine).where(
                Machine.customer_id == customer.id, Machine.device_id.is_not(None)
            )
        )
    )
    _silent_printer(session, database, live_agent, customer, now)
    _self_ordering_customer(session, database, find_customer(session, other_name), now)
    _bill_past_months(session, now.date())
    _ticket_and_odd_read(session, machines, now)
    changes = evaluate_alerts(session, now)
    kinds = ", ".join(sorted({a.kind for a in changes.opened}))
    print(f"history: {len(changes.opened)} alerts open ({kinds})")


def _agent(session: Session, customer: Customer, hostname: str) -> Agent:
    """An agent row for a PC that no longer reports (enrolled long ago, never signs again)."""
    agent = Agent(
        public_id=f"agt_{uuid.uuid4().hex[:16]}",
        customer_id=customer.id,
        public_key=f"demo-{uuid.uuid4().hex}",
        hostname=hostname,
        agent_version="0.9.0",
        enrolled_at=datetime.now(UTC) - timedelta(days=DAYS + 30),
        last_seen_at=None,
        last_seq=0,
        active=True,
    )
    session.add(agent)
    session.commit()
    return agent


def _store(
    session: Session, database: Database, agent: Agent, readings: list[Reading], at: datetime
) -> None:
    """One batch through the intake as if it arrived at ``at``, then its follow-up jobs."""
    agent.last_seq += 1
    batch = Batch(agent.public_id, str(uuid.uuid4()), agent.last_seq, at, tuple(readings))
    body = encode_batch(batch)
    result = store_batch(
        session, agent, batch, digest=content_digest(body), signature=SIGNATURE, received_at=at
    )
    for job_id in result.jobs:
        run_job(database.sessions, job_id, all_jobs(), at)
    session.expire_all()


def _replay_fleet(
    session: Session, database: Database, agent: Agent, ends: list[Reading], now: datetime
) -> None:
    """A reading a day per printer for six months, ending three days ago."""
    per_day = [rng.randint(120, 700) for _ in ends]
    colour_share = [rng.uniform(0.05, 0.3) for _ in ends]
    for days_ago in range(DAYS, 2, -1):
        at = datetime.combine((now - timedelta(days=days_ago)).date(), time(9, 30), tzinfo=UTC)
        readings = [
            _past(end, days_ago, pages, share, at)
            for end, pages, share in zip(ends, per_day, colour_share, strict=True)
        ]
        _store(session, database, agent, readings, at)


def _past(end: Reading, days_ago: int, per_day: int, colour_share: float, at: datetime) -> Reading:
    """``end`` as it read ``days_ago`` days earlier: fewer pages, fuller cartridges."""
    printed = per_day * days_ago * 5 // 7  # weekends off
    counters = end.counters
    colour = counters.colour
    if counters.mono is not None and colour is not None:
        colour_pages = min(colour, int(printed * colour_share))
        mono = max(0, counters.mono - (printed - colour_pages))
        colour = colour - colour_pages
    else:
        mono = None if counters.mono is None else max(0, counters.mono - printed)
    total = None if counters.total is None else max(0, counters.total - printed)
    past = Counters(total=total, mono=mono, colour=colour)
    return replace(
        end,
        observed_at=at,
        counters=past,
        supplies=tuple(_fuller(s, days_ago) for s in end.supplies),
        alerts=(),
    )


def _fuller(supply: Supply, days_ago: int) -> Supply:
    """The level ``days_ago`` earlier on a sawtooth: half a percent a day, a new cartridge
    whenever going back in time would pass 100 %."""
    if supply.percent is None or supply.kind not in {"toner", "ink"}:
        return supply
    level = supply.percent + days_ago * 0.5
    while level > 100:
        level -= 97  # the cartridge before was nearly empty when it was changed
    return Supply.from_raw(supply.kind, supply.colour, supply.description, round(level), 100)


def _synthetic(serial: str, model: str, total: int, black: int, at: datetime) -> Reading:
    return Reading(
        address="192.168.10.77:161",
        observed_at=at,
        device=DeviceInfo(manufacturer="Kyocera", model=model, serial=serial),
        counters=Counters(total=total, mono=total, colour=0),
        supplies=(Supply.from_raw("toner", "black", "TK-3160 Black", black, 100),),
        alerts=(),
    )


def _silent_printer(
    session: Session, database: Database, agent: Agent, customer: Customer, now: datetime
) -> None:
    """A printer under contract the live agent read until two days ago, then lost."""
    spec = MachineSpec(
        scm_id="SCM-2001",
        serial="DEMO-SILENT-1",
        manufacturer="Kyocera",
        model="ECOSYS P3155dn",
        location="Magazzino, piano terra",
        site_address="Via Roma 1, 20100 Milano",
        colour=False,
    )
    days = [
        (now - timedelta(days=d, hours=1), 40_000 + 300 * (30 - d), 90 - d // 2)
        for d in range(30, 1, -1)
    ]
    _synthetic_machine(session, database, agent, customer, spec, days, fee="15")


def _self_ordering_customer(
    session: Session, database: Database, customer: Customer, now: datetime
) -> None:
    """A small office that orders toner itself: its toner runs out in days, no reorder opens."""
    spec = MachineSpec(
        scm_id="SCM-3001",
        serial="DEMO-VERDI-1",
        manufacturer="Kyocera",
        model="ECOSYS M2540dn",
        location="Segreteria",
        site_address="Corso Italia 8, 10100 Torino",
        colour=False,
    )
    days = [
        (now - timedelta(days=d, minutes=10), 12_000 + 250 * (20 - d), max(4, 3 * d))
        for d in range(20, -1, -1)
    ]
    agent = _agent(session, customer, "pc-studio")
    _synthetic_machine(session, database, agent, customer, spec, days, fee="0")


def _synthetic_machine(
    session: Session,
    database: Database,
    agent: Agent,
    customer: Customer,
    spec: MachineSpec,
    days: list[tuple[datetime, int, int]],
    fee: str,
) -> None:
    """A printer the demo invents (read at ``days``: moment, total, black %), under contract."""
    for at, total, black in days:
        _store(
            session,
            database,
            agent,
            [_synthetic(spec.serial, spec.model or "", total, black, at)],
            at,
        )
    device = session.scalar(select(Device).where(Device.serial == spec.serial))
    terms = ContractTerms(mono_rate="0.009", start=date(2026, 1, 1), fixed_fee=fee)
    register_machine(session, customer, spec, terms, device=device)
    session.commit()


def _bill_past_months(session: Session, today: date) -> None:
    """Invoice every ended month of the history; all paid but the last."""
    first = add_months(date(today.year, today.month, 1), -5)
    invoices = []
    for index in range(5):
        month = add_months(first, index)
        issued = add_months(month, 1) + timedelta(days=1)
        try:
            invoices += commit_run(session, month_period(f"{month:%Y-%m}"), issued_on=issued)
        except DomainError as err:
            print(f"history: {month:%Y-%m} not billed ({err.message})")
    for invoice in invoices:
        if invoice.issued_on < add_months(date(today.year, today.month, 1), -1):
            register_payment(
                session,
                invoice,
                Decimal(invoice.gross),
                invoice.issued_on + timedelta(days=20),
                reference=f"Bonifico {invoice.number}",
            )
    session.commit()


def _ticket_and_odd_read(session: Session, machines: list[Machine], now: datetime) -> None:
    """A ticket in progress, and a typed read below the counters (flagged, not billed)."""
    if not machines:
        return
    machine = machines[0]
    staff = session.scalar(select(User).where(User.is_staff.is_(True)))
    request = TicketRequest(
        machine_id=machine.id,
        subject="Stampe con righe verticali",
        description="Da lunedì le stampe escono con una riga grigia sul lato sinistro.",
        contact_name="Referente MFP",
        office_hours="9-13",
        priority="normal",
        team="printing",
    )
    ticket = open_ticket(session, machine.customer_id, None, request, [], now - timedelta(days=1))
    if staff is not None:
        change_status(session, ticket, "in_progress", staff, "Tecnico in arrivo", now)
    counters = latest_counters(session, machine)
    if counters is not None and len(machines) > 1:
        odd = machines[1]
        latest = latest_counters(session, odd)
        if latest is not None:
            record_manual_read(
                session,
                odd,
                taken_at=now - timedelta(hours=1),
                mono=max(0, latest.mono - 5000),
                colour=latest.colour if odd.colour else None,
                user=None,
                now=now,
                name="Referente MFP",
            )
    session.commit()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
