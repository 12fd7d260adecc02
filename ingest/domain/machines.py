"""The registry of machines under contract ("Parco Macchine"): creation, contracts, location."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Final

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ingest.domain.alert_rules import DEFAULT_DEVICE_SILENT_HOURS, freshness
from ingest.domain.billing import PERIOD_MONTHS
from ingest.domain.errors import DomainError
from ingest.domain.meters import (
    MachineCounters,
    assign_device,
    fold_serial,
    has_real_serial,
    latest_counters_of,
)
from ingest.domain.pages import ListQuery, Page, like_pattern, paginate
from ingest.domain.plausibility import DEFAULT_BOUNDS, ContractBounds, require_plausible
from ingest.domain.supplies import current_slots
from ingest.models import (
    AlertSettings,
    Contract,
    Customer,
    Device,
    DeviceReading,
    InvoiceLine,
    Machine,
    Site,
    SupplyState,
)
from ingest.stored_texts import (
    COLOUR_FROM_PAGES,
    COLOUR_FROM_SUPPLIES,
    COLOUR_NO_READINGS,
    COLOUR_NONE,
)

#: Supplies only a colour machine has.
COLOUR_SUPPLIES: Final = frozenset({"cyan", "magenta", "yellow"})
#: How many recent readings of a device are looked at to tell colour from mono.
EVIDENCE_READINGS: Final = 10

MSG_COLOUR_UNKNOWN = "Whether {scm_id} prints colour is unknown ({reason}); tell it explicitly."
MSG_NOT_BILLED_YET = "contract {code} has been invoiced up to {day}: correct it with a credit note"
MSG_NO_CONTRACT_ON = "no contract of {scm_id} is in force on {day}"
MSG_UNKNOWN_TERMS = "unknown contract terms: {names}"
MSG_CHANGE_ON_START = (
    "the change is dated on the contract's first day: change the contract's terms before it "
    "is billed, or date the change later"
)


@dataclass(frozen=True, slots=True)
class ColourEvidence:
    """Whether a device prints colour, as its own readings say (None: they do not say)."""

    colour: bool | None
    reason: str


def colour_evidence(session: Session, device_id: int | None) -> ColourEvidence:
    """Colour from what the device reported: colour pages, or cyan/magenta/yellow supplies.

    The registration form used to default to "colour", so mono printers were set up as colour;
    the readings know better, and staff see why.
    """
    if device_id is None:
        return ColourEvidence(None, COLOUR_NO_READINGS)
    readings = session.scalars(
        select(DeviceReading)
        .where(DeviceReading.device_id == device_id)
        .order_by(DeviceReading.observed_at.desc(), DeviceReading.id.desc())
        .limit(EVIDENCE_READINGS)
    ).all()
    if not readings:
        return ColourEvidence(None, COLOUR_NO_READINGS)
    colour_pages = max((r.colour or 0 for r in readings), default=0)
    if colour_pages > 0:
        return ColourEvidence(True, COLOUR_FROM_PAGES % {"pages": colour_pages})
    supplies = sorted(
        {
            (level.colour or "").lower()
            for reading in readings
            for level in reading.supplies
            if (level.colour or "").lower() in COLOUR_SUPPLIES
        }
    )
    if supplies:
        return ColourEvidence(True, COLOUR_FROM_SUPPLIES % {"supplies": "/".join(supplies)})
    return ColourEvidence(False, COLOUR_NONE)


def get_or_create_site(session: Session, customer: Customer, name: str, address: str) -> Site:
    """The customer's site called ``name``, created with ``address`` on first use."""
    site = session.scalar(select(Site).where(Site.customer_id == customer.id, Site.name == name))
    if site is None:
        site = Site(customer_id=customer.id, name=name.strip(), address=address.strip())
        session.add(site)
        session.flush()
    return site


@dataclass(frozen=True, slots=True)
class MachineSpec:
    """What staff say about a machine when they register it (form, CLI and demo alike)."""

    scm_id: str
    serial: str
    manufacturer: str | None = None
    model: str | None = None
    location: str | None = None
    site_name: str = "Sede"
    site_address: str = ""
    #: None: as the device's readings say (``colour_evidence``), never a ticked-by-default box.
    colour: bool | None = None
    monitored: bool = True
    accessories: str | None = None
    configuration: str | None = None


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """Cost-per-copy terms: the one definition the form, the CLI and the domain share."""

    mono_rate: str | Decimal | int
    start: date
    colour_rate: str | Decimal | int = "0"
    end: date | None = None
    included_mono: int = 0
    included_colour: int = 0
    fixed_fee: str | Decimal | int = "0"
    minimum_charge: str | Decimal | int = "0"
    period: str = "monthly"
    interpolate: bool = False
    true_up: bool = False
    code: str | None = None


def register_machine(
    session: Session,
    customer: Customer,
    spec: MachineSpec,
    terms: ContractTerms | None = None,
    device: Device | None = None,
    *,
    bounds: ContractBounds = DEFAULT_BOUNDS,
    confirmed: bool = False,
) -> Machine:
    """The "register a machine" use case: site, machine, its agent device, its contract.

    ``device`` is the queued device staff registered it from; without one, a device of the
    customer with the same serial is linked (as when the CLI adds a machine an agent already saw).
    Contract values outside ``bounds`` need ``confirmed``.
    """
    if device is not None and device.customer_id != customer.id:
        raise DomainError("bad_machine", "the device belongs to another customer", 409)
    site = get_or_create_site(session, customer, spec.site_name, spec.site_address)
    machine = create_machine(session, customer, spec, site, device)
    if terms is not None:
        add_contract(session, machine, terms, bounds=bounds, confirmed=confirmed)
    return machine


def create_machine(
    session: Session,
    customer: Customer,
    spec: MachineSpec,
    site: Site | None = None,
    device: Device | None = None,
) -> Machine:
    """Register a machine; ``device`` (else an agent device with the same serial) is linked.

    Whether it prints colour comes from ``spec.colour`` or, when that is None, from what the
    device's readings say; with no readings to tell, staff must say it.
    """
    scm_id, serial = spec.scm_id.strip(), spec.serial.strip()
    if not scm_id or not serial:
        raise DomainError("bad_machine", "a machine needs an ID SCM and a serial number")
    if session.scalar(select(Machine).where(Machine.scm_id == scm_id)) is not None:
        raise DomainError("machine_exists", f"ID SCM {scm_id} is already used", 409)
    same_serial = select(Machine.id).where(
        Machine.customer_id == customer.id, Machine.serial_key == fold_serial(serial)
    )
    if session.scalar(same_serial) is not None:
        raise DomainError("machine_exists", f"{customer.name} already has serial {serial}", 409)
    device = device or _device_with_serial(session, customer.id, serial)
    colour = spec.colour
    if colour is None:
        evidence = colour_evidence(session, device.id if device else None)
        if evidence.colour is None:
            raise DomainError(
                "colour_unknown", MSG_COLOUR_UNKNOWN.format(scm_id=scm_id, reason=evidence.reason)
            )
        colour = evidence.colour
    machine = Machine(
        scm_id=scm_id,
        customer_id=customer.id,
        site_id=site.id if site else None,
        manufacturer=spec.manufacturer,
        model=spec.model,
        serial=serial,
        location=spec.location,
        colour=colour,
        monitored=spec.monitored,
        accessories=spec.accessories,
        configuration=spec.configuration,
        offset_mono=0,
        offset_colour=0,
        created_at=datetime.now(UTC),
    )
    session.add(machine)
    session.flush()
    if device is not None and device.customer_id == customer.id:
        assign_device(session, device, machine)
    return machine


def machines_of(session: Session, customer_id: int) -> list[Machine]:
    """The customer's machines by ID SCM."""
    query = select(Machine).where(Machine.customer_id == customer_id).order_by(Machine.scm_id)
    return list(session.scalars(query))


def unlinked_machines(session: Session, customer_id: int) -> list[Machine]:
    """The customer's machines no agent device reports for yet (candidates for a queued device)."""
    return list(
        session.scalars(
            select(Machine)
            .where(Machine.customer_id == customer_id, Machine.device_id.is_(None))
            .order_by(Machine.scm_id)
        )
    )


def _device_with_serial(session: Session, customer_id: int, serial: str) -> Device | None:
    wanted = fold_serial(serial)
    claimed = select(Machine.device_id).where(Machine.device_id.is_not(None))
    for device in session.scalars(
        select(Device).where(Device.customer_id == customer_id, Device.id.not_in(claimed))
    ):
        if has_real_serial(device) and fold_serial(device.serial) == wanted:
            return device
    return None


def add_contract(
    session: Session,
    machine: Machine,
    terms: ContractTerms,
    *,
    bounds: ContractBounds = DEFAULT_BOUNDS,
    confirmed: bool = False,
) -> Contract:
    """Attach cost-per-copy terms to a machine; overlapping contracts are refused, and values
    outside the plausibility ``bounds`` need ``confirmed``."""
    start, end = terms.start, terms.end
    if terms.period not in PERIOD_MONTHS:
        raise DomainError("bad_contract", f"period must be one of {', '.join(PERIOD_MONTHS)}")
    if end is not None and end < start:
        raise DomainError("bad_contract", "a contract cannot end before it starts")
    for other in machine.contracts:
        if (other.end is None or other.end >= start) and (end is None or end >= other.start):
            raise DomainError(
                "overlapping_contract", "the machine has a contract for these dates", 409
            )
    contract = Contract(
        machine_id=machine.id,
        code=terms.code,
        mono_rate=_decimal(terms.mono_rate, "mono rate"),
        colour_rate=_decimal(terms.colour_rate, "colour rate"),
        included_mono=terms.included_mono,
        included_colour=terms.included_colour,
        fixed_fee=_decimal(terms.fixed_fee, "fixed fee"),
        minimum_charge=_decimal(terms.minimum_charge, "minimum charge"),
        period=terms.period,
        start=start,
        end=end,
        interpolate=terms.interpolate,
        true_up=terms.true_up,
    )
    if (
        min(
            contract.mono_rate,
            contract.colour_rate,
            contract.fixed_fee,
            contract.minimum_charge,
            terms.included_mono,
            terms.included_colour,
        )
        < 0
    ):
        raise DomainError("bad_contract", "rates, fees and volumes cannot be negative")
    require_plausible(_term_values(contract), bounds, confirmed=confirmed)
    session.add(contract)
    session.flush()
    session.refresh(machine)
    return contract


#: The terms a dated change may set (everything but the dates and the machine).
CHANGEABLE_TERMS: Final = (
    "mono_rate",
    "colour_rate",
    "included_mono",
    "included_colour",
    "fixed_fee",
    "minimum_charge",
    "period",
    "interpolate",
    "true_up",
    "code",
)


def _term_values(contract: Contract) -> dict[str, Decimal | int]:
    return {
        "mono_rate": contract.mono_rate,
        "colour_rate": contract.colour_rate,
        "fixed_fee": contract.fixed_fee,
        "minimum_charge": contract.minimum_charge,
        "included_mono": contract.included_mono,
        "included_colour": contract.included_colour,
    }


def change_contract(
    session: Session,
    machine: Machine,
    effective: date,
    changes: dict[str, object],
    *,
    bounds: ContractBounds = DEFAULT_BOUNDS,
    confirmed: bool = False,
) -> Contract:
    """New terms from ``effective`` on: the contract in force ends the day before and a new one
    carries the changed terms (the rest unchanged) until the old one's end.

    Billing then bills each contract for its own days, the second continuing the first's
    counters.  Days already invoiced cannot change: they are corrected by a credit note.
    One call for the CLI and, later, the web editor: ``changes`` holds only what changes.
    """
    unknown = set(changes) - set(CHANGEABLE_TERMS)
    if unknown:
        raise DomainError(
            "bad_contract", MSG_UNKNOWN_TERMS.format(names=", ".join(sorted(unknown)))
        )
    current = next(
        (
            c
            for c in machine.contracts
            if c.start <= effective and (c.end is None or effective <= c.end)
        ),
        None,
    )
    if current is None:
        raise DomainError(
            "no_contract", MSG_NO_CONTRACT_ON.format(scm_id=machine.scm_id, day=effective), 404
        )
    if current.start == effective:
        raise DomainError("bad_contract", MSG_CHANGE_ON_START)
    billed_to = session.scalar(
        select(func.max(InvoiceLine.span_end)).where(InvoiceLine.contract_id == current.id)
    )
    if billed_to is not None and billed_to >= effective:
        raise DomainError(
            "already_invoiced",
            MSG_NOT_BILLED_YET.format(code=current.code or current.id, day=billed_to),
            409,
        )
    kept = {name: getattr(current, name) for name in CHANGEABLE_TERMS}
    terms = replace(
        ContractTerms(start=effective, end=current.end, **kept),  # type: ignore[arg-type]
        **changes,  # type: ignore[arg-type]
    )
    with session.begin_nested():  # a refused new contract leaves the old one as it was
        current.end = effective - timedelta(days=1)
        session.flush()
        return add_contract(session, machine, terms, bounds=bounds, confirmed=confirmed)


def _decimal(value: str | Decimal | int, what: str) -> Decimal:
    try:
        return Decimal(str(value).replace(",", "."))
    except InvalidOperation as err:
        raise DomainError("bad_contract", f"{what} is not a number: {value!r}") from err


def set_location(session: Session, machine: Machine, location: str) -> Machine:
    """Change where in the building the machine is (drives toner shipping labels)."""
    clean = " ".join(location.split())
    if not clean:
        raise DomainError("bad_location", "the location cannot be empty")
    machine.location = clean[:300]
    session.flush()
    return machine


def find_machine(session: Session, machine_id: int, customer_id: int | None) -> Machine:
    """A machine by id, only within ``customer_id`` unless that is None (staff)."""
    machine = session.get(Machine, machine_id)
    if machine is None or (customer_id is not None and machine.customer_id != customer_id):
        raise DomainError("not_found", "no such machine", 404)
    return machine


@dataclass(frozen=True, slots=True)
class MachineCard:
    """Everything the "Parco Macchine" page shows about one machine."""

    machine: Machine
    counters: MachineCounters | None
    supplies: list[SupplyState]
    active_contract: Contract | None
    #: ``ok``, ``stale``, ``silent`` or ``never`` (see ``alert_rules.freshness``).
    state: str = "never"
    last_read_at: datetime | None = None


def machine_cards(session: Session, customer_id: int | None, today: date) -> list[MachineCard]:
    """The customer's machines with latest counters, toner (monitored only) and contract."""
    return _cards(session, list(session.scalars(_machines_query(customer_id))), today)


#: How the "Parco Macchine" can be sorted (the first is the default).
MACHINE_SORTS: Final = ("scm_id", "model", "location", "last_read")


def machine_page(
    session: Session, customer_id: int | None, today: date, wanted: ListQuery
) -> Page[MachineCard]:
    """One page of the "Parco Macchine": fifty cards, from latest-state tables only, narrowed
    to ``wanted.search`` (ID SCM, serial, maker, model or location) and sorted."""
    query = _machines_query(customer_id)
    if wanted.search:
        pattern = like_pattern(wanted.search)
        query = query.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (
                        Machine.scm_id,
                        Machine.serial,
                        Machine.manufacturer,
                        Machine.model,
                        Machine.location,
                    )
                )
            )
        )
    if wanted.sort == "last_read":  # the longest silent first
        query = query.outerjoin(Device, Device.id == Machine.device_id).order_by(None)
        query = query.order_by(Device.last_seen_at.asc().nulls_first(), Machine.scm_id)
    elif wanted.sort in ("model", "location"):
        query = query.order_by(None).order_by(getattr(Machine, wanted.sort), Machine.scm_id)
    page = paginate(session, query, wanted.number)
    return Page(_cards(session, page.items, today), page.number, page.total, page.size)


def machine_card(session: Session, machine: Machine, today: date) -> MachineCard:
    """One machine's card."""
    return _cards(session, [machine], today)[0]


def _machines_query(customer_id: int | None) -> Select[tuple[Machine]]:
    query = select(Machine).options(selectinload(Machine.contracts)).order_by(Machine.scm_id)
    if customer_id is not None:
        query = query.where(Machine.customer_id == customer_id)
    return query


def _cards(
    session: Session, machines: list[Machine], today: date, now: datetime | None = None
) -> list[MachineCard]:
    device_ids = [m.device_id for m in machines if m.device_id is not None]
    slots = current_slots(session, device_ids)
    seen = dict(
        session.execute(
            select(Device.id, Device.last_seen_at).where(Device.id.in_(device_ids))
        ).all()  # type: ignore[arg-type]
    )
    silence = {
        customer_id: timedelta(hours=hours)
        for customer_id, hours in session.execute(
            select(AlertSettings.customer_id, AlertSettings.device_silent_hours)
        )
    }
    moment = now or datetime.now(UTC)
    default = timedelta(hours=DEFAULT_DEVICE_SILENT_HOURS)
    counters = latest_counters_of(session, [machine.id for machine in machines])
    return [
        _card(
            machine,
            counters.get(machine.id),
            today,
            slots,
            seen.get(machine.device_id),
            silence.get(machine.customer_id, default),
            moment,
        )
        for machine in machines
    ]


def _card(
    machine: Machine,
    counters: MachineCounters | None,
    today: date,
    slots: dict[int, list[SupplyState]],
    last_read_at: datetime | None,
    silent_after: timedelta,
    now: datetime,
) -> MachineCard:
    return MachineCard(
        machine,
        counters,
        slots.get(machine.device_id, []) if machine.device_id is not None else [],
        next(
            (
                c
                for c in machine.contracts
                if c.start <= today and (c.end is None or c.end >= today)
            ),
            None,
        ),
        freshness(last_read_at, now, silent_after) if machine.device_id else "never",
        last_read_at,
    )
