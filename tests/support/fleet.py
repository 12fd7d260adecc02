"""Registry helpers for tests: a customer with a machine under contract, reads pushed by API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from ingest.db import database
from ingest.domain.accounts import get_or_create_customer
from ingest.domain.machines import ContractTerms, MachineSpec, register_machine
from support.ingest import TestAgent, reading

#: A dealer with every fiscal field FatturaPA needs (``DealerIdentity.from_env``).
DEALER = {
    "SCM_DEALER_NAME": "SCM srl",
    "SCM_DEALER_VAT_NUMBER": "IT09876543210",
    "SCM_DEALER_STREET": "Via Milano 2",
    "SCM_DEALER_POSTCODE": "20100",
    "SCM_DEALER_CITY": "Milano",
    "SCM_DEALER_PROVINCE": "MI",
}


def add_machine(
    app: Flask,
    customer: str = "Rossi srl",
    *,
    scm_id: str = "SCM-0001",
    serial: str = "SN-0001",
    colour: bool = True,
    contract: dict[str, Any] | None = None,
) -> int:
    """A machine with a monthly contract (override any term with ``contract``); returns its id."""
    with database(app).session() as db:
        owner = get_or_create_customer(db, customer)
        owner.referent_email = owner.referent_email or f"referente@{scm_id.lower()}.example"
        spec = MachineSpec(
            scm_id=scm_id,
            serial=serial,
            manufacturer="Acme",
            model="Laser 1",
            location="Ufficio Acquisti, primo piano",
            site_address="Via Roma 1, 20100 Milano",
            colour=colour,
        )
        terms = {
            "mono_rate": "0.01",
            "colour_rate": "0.08",
            "start": date(2026, 1, 1),
            **(contract or {}),
        }
        machine = register_machine(db, owner, spec, ContractTerms(**terms))
        db.commit()
        return machine.id


def push(
    client: FlaskClient,
    agent: TestAgent,
    when: datetime,
    total: int,
    colour: int = 0,
    serial: str = "SN-0001",
    black: int = 80,
    **extra: Any,
) -> dict[str, Any]:
    """One agent upload of one reading taken at ``when``."""
    batch_id, body = agent.batch(
        reading(serial, total=total, colour=colour, observed_at=when, black=black, **extra)
    )
    response = agent.post(client, batch_id, body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def utc(y: int, m: int, d: int, h: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(y, m, d, h, tzinfo=UTC)


def add_consumable(
    app: Flask,
    code: str,
    kind: str = "toner",
    colour: str | None = "black",
    models: str = "Laser 1",
    price: str = "89.00",
    included: bool = True,
) -> int:
    """A catalogue article; returns its id."""
    from decimal import Decimal

    from ingest.models import Consumable

    with database(app).session() as db:
        row = Consumable(
            article_code=code,
            description=f"{kind} {colour or ''} {code}".strip(),
            manufacturer="Acme",
            models=models,
            kind=kind,
            colour=colour,
            yield_pages=10_000,
            price=Decimal(price),
            included_in_contract=included,
        )
        db.add(row)
        db.commit()
        return row.id


def to_date_amounts(
    today: date, *, fee: int, included: int, mono: int, colour: int
) -> tuple[str, str, str]:
    """Net, VAT and gross (Italian format, "49,00") of a month billed to date on ``today`` at
    0.01 per B/W and 0.08 per colour page: fee and included pages prorated over the days billed
    (written out here, independently of the billing code), VAT 22 %."""
    import calendar
    from decimal import ROUND_HALF_UP, Decimal

    share = Decimal(today.day) / Decimal(calendar.monthrange(today.year, today.month)[1])
    cent = Decimal("0.01")
    prorated_fee = (fee * share).quantize(cent, rounding=ROUND_HALF_UP)
    free = round(included * share)
    pages = max(0, mono - free) * Decimal("0.01") + colour * Decimal("0.08")
    net = prorated_fee + pages.quantize(cent, rounding=ROUND_HALF_UP)
    vat = (net * Decimal("0.22")).quantize(cent, rounding=ROUND_HALF_UP)
    return tuple(  # type: ignore[return-value]
        f"{v:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        for v in (net, vat, net + vat)
    )
