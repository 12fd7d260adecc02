"""What the dealer's staff pages list: counts for the dashboard, customers with their users.

Queries for the ops pages live here, not in the views, so the pages stay thin and the same
figures can be served by the CLI or an API.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ingest.domain.meters import flagged_reads, unmatched_page
from ingest.models import Customer, Invoice, Machine, MeterReadRequest, Reorder, User


def dashboard_counts(session: Session) -> dict[str, int]:
    """How many things wait for a person, by kind."""

    def count(model: type, *where: object) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return {
        "queue": unmatched_page(session, 1).total,
        "flags": len(flagged_reads(session)),
        "open_invoices": count(Invoice, Invoice.status == "open"),
        "open_requests": count(MeterReadRequest, MeterReadRequest.closed_at.is_(None)),
        "machines": count(Machine),
        "reorders": count(Reorder, Reorder.status == "open"),
    }


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """One customer on the staff customers page."""

    customer: Customer
    users: list[User]
    machines: int


def customers_overview(session: Session) -> list[CustomerRow]:
    """Every customer with its portal users and how many machines it has."""
    counted = select(Machine.customer_id, func.count()).group_by(Machine.customer_id)
    machine_counts: dict[int, int] = dict(session.execute(counted).all())  # type: ignore[arg-type]
    users: dict[int, list[User]] = {}
    for user in session.scalars(
        select(User).where(User.customer_id.is_not(None)).order_by(User.email)
    ):
        users.setdefault(user.customer_id or 0, []).append(user)
    return [
        CustomerRow(customer, users.get(customer.id, []), machine_counts.get(customer.id, 0))
        for customer in session.scalars(select(Customer).order_by(Customer.name))
    ]


def all_customers(session: Session) -> list[Customer]:
    """Every customer by name (choices in staff forms)."""
    return list(session.scalars(select(Customer).order_by(Customer.name)))
