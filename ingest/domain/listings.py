"""Paged, filtered lists of the records the read API serves (and staff lists reuse).

Each function returns one page and the total, with the filters applied in SQL: a list never
loads a table to cut it in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ingest.domain.pages import count_rows, slice_rows
from ingest.models import Alert, Customer, Invoice, Machine, MeterRead, Reorder

Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class Page(Generic[Row]):
    """One page of a list and how many rows the whole list has."""

    items: list[Row]
    total: int


@dataclass(frozen=True, slots=True)
class Window:
    """Which page: ``offset`` rows skipped, at most ``limit`` returned."""

    offset: int = 0
    limit: int = 50


def page_of(session: Session, query: Select[Any], window: Window) -> Page[Any]:
    """Run ``query`` for one window, with the count of the whole result."""
    return Page(slice_rows(session, query, window.offset, window.limit), count_rows(session, query))


def alerts(
    session: Session,
    window: Window,
    *,
    state: str = "open",
    kind: str | None = None,
    customer_id: int | None = None,
) -> Page[Alert]:
    """Alerts by state (``open``, ``cleared`` or ``all``), oldest open first."""
    query = select(Alert).order_by(Alert.opened_at, Alert.id)
    if state == "open":
        query = query.where(Alert.open_key.is_not(None))
    elif state == "cleared":
        query = query.where(Alert.open_key.is_(None))
    if kind:
        query = query.where(Alert.kind == kind)
    if customer_id is not None:
        query = query.where(Alert.customer_id == customer_id)
    return page_of(session, query, window)


def customers(session: Session, window: Window) -> Page[Customer]:
    """Customers by name."""
    return page_of(session, select(Customer).order_by(Customer.name, Customer.id), window)


def machines(session: Session, window: Window, customer_id: int | None = None) -> Page[Machine]:
    """Machines under contract by ID SCM."""
    query = select(Machine).order_by(Machine.scm_id)
    if customer_id is not None:
        query = query.where(Machine.customer_id == customer_id)
    return page_of(session, query, window)


def meter_reads(
    session: Session,
    window: Window,
    *,
    machine_id: int | None = None,
    since: datetime | None = None,
) -> Page[MeterRead]:
    """Meter reads, oldest first (an ERP pulls them incrementally with ``since``)."""
    query = select(MeterRead).order_by(MeterRead.taken_at, MeterRead.id)
    if machine_id is not None:
        query = query.where(MeterRead.machine_id == machine_id)
    if since is not None:
        query = query.where(MeterRead.taken_at >= since)
    return page_of(session, query, window)


def invoices(
    session: Session, window: Window, *, status: str | None = None, customer_id: int | None = None
) -> Page[Invoice]:
    """Invoices, newest first."""
    query = select(Invoice).order_by(Invoice.issued_on.desc(), Invoice.id.desc())
    if status:
        query = query.where(Invoice.status == status)
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    return page_of(session, query, window)


def reorders(session: Session, window: Window, *, status: str | None = None) -> Page[Reorder]:
    """Automatic reorders, newest first."""
    query = select(Reorder).order_by(Reorder.created_at.desc(), Reorder.id.desc())
    if status:
        query = query.where(Reorder.status == status)
    return page_of(session, query, window)
