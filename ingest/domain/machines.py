"""The registry of machines under contract ("Parco Macchine"): creation, contracts, location."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ingest.domain.billing import PERIOD_MONTHS
from ingest.domain.errors import DomainError
from ingest.domain.meters import (
    MachineCounters,
    assign_device,
    fold_serial,
    has_real_serial,
    latest_counters,
)
from ingest.models import Contract, Customer, Device, DeviceReading, Machine, Site, SupplyLevel


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
    colour: bool = True
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
) -> Machine:
    """The "register a machine" use case: site, machine, its agent device, its contract.

    ``device`` is the queued device staff registered it from; without one, a device of the
    customer with the same serial is linked (as when the CLI adds a machine an agent already saw).
    """
    site = get_or_create_site(session, customer, spec.site_name, spec.site_address)
    machine = create_machine(session, customer, spec, site)
    if device is not None and machine.device_id is None:
        if device.customer_id != customer.id:
            raise DomainError("bad_machine", "the device belongs to another customer", 409)
        assign_device(session, device, machine)
    if terms is not None:
        add_contract(session, machine, terms)
    return machine


def create_machine(
    session: Session, customer: Customer, spec: MachineSpec, site: Site | None = None
) -> Machine:
    """Register a machine; an agent device with the same serial is linked at once."""
    scm_id, serial = spec.scm_id.strip(), spec.serial.strip()
    if not scm_id or not serial:
        raise DomainError("bad_machine", "a machine needs an ID SCM and a serial number")
    if session.scalar(select(Machine).where(Machine.scm_id == scm_id)) is not None:
        raise DomainError("machine_exists", f"ID SCM {scm_id} is already used", 409)
    if any(
        fold_serial(m.serial) == fold_serial(serial)
        for m in session.scalars(select(Machine).where(Machine.customer_id == customer.id))
    ):
        raise DomainError("machine_exists", f"{customer.name} already has serial {serial}", 409)
    machine = Machine(
        scm_id=scm_id,
        customer_id=customer.id,
        site_id=site.id if site else None,
        manufacturer=spec.manufacturer,
        model=spec.model,
        serial=serial,
        location=spec.location,
        colour=spec.colour,
        monitored=spec.monitored,
        accessories=spec.accessories,
        configuration=spec.configuration,
        offset_mono=0,
        offset_colour=0,
        created_at=datetime.now(UTC),
    )
    session.add(machine)
    session.flush()
    device = _device_with_serial(session, customer.id, serial)
    if device is not None:
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


def add_contract(session: Session, machine: Machine, terms: ContractTerms) -> Contract:
    """Attach cost-per-copy terms to a machine; overlapping contracts are refused."""
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
    session.add(contract)
    session.flush()
    session.refresh(machine)
    return contract


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
    supplies: list[SupplyLevel]
    active_contract: Contract | None


def machine_cards(session: Session, customer_id: int | None, today: date) -> list[MachineCard]:
    """The customer's machines with latest counters, toner (monitored only) and contract."""
    query = select(Machine).options(selectinload(Machine.contracts)).order_by(Machine.scm_id)
    if customer_id is not None:
        query = query.where(Machine.customer_id == customer_id)
    return [machine_card(session, machine, today) for machine in session.scalars(query)]


def machine_card(session: Session, machine: Machine, today: date) -> MachineCard:
    """One machine's card."""
    supplies: list[SupplyLevel] = []
    if machine.device_id is not None:
        latest = session.scalar(
            select(DeviceReading)
            .where(DeviceReading.device_id == machine.device_id)
            .order_by(DeviceReading.observed_at.desc(), DeviceReading.id.desc())
            .limit(1)
        )
        supplies = list(latest.supplies) if latest else []
    active = next(
        (c for c in machine.contracts if c.start <= today and (c.end is None or c.end >= today)),
        None,
    )
    return MachineCard(machine, latest_counters(session, machine), supplies, active)
