"""Customers and users: creation and password checks (werkzeug's salted scrypt hashes)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ingest.domain.errors import DomainError
from ingest.models import Customer, User

MIN_PASSWORD_LENGTH = 10
#: Compared against when the e-mail is unknown, so both paths cost one hash (no user probing).
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def get_or_create_customer(session: Session, name: str) -> Customer:
    """The customer called ``name`` (trimmed), created on first use."""
    clean = " ".join(name.split())
    if not clean:
        raise DomainError("bad_customer", "customer name is empty")
    customer = session.scalar(select(Customer).where(Customer.name == clean))
    if customer is None:
        customer = Customer(name=clean, created_at=datetime.now(UTC))
        session.add(customer)
        session.flush()
    return customer


def find_customer(session: Session, name: str) -> Customer:
    """The customer called ``name``; a clear error when there is none."""
    customer = session.scalar(select(Customer).where(Customer.name == " ".join(name.split())))
    if customer is None:
        raise DomainError("unknown_customer", f"no customer named {name!r}", 404)
    return customer


def create_user(
    session: Session, email: str, password: str, *, customer: Customer | None, staff: bool = False
) -> User:
    """A portal user of ``customer``, or dealer staff; exactly one of the two."""
    if (customer is None) == (not staff):
        raise DomainError("bad_user", "a user belongs to one customer or is staff, not both")
    address = normalise_email(email)
    if "@" not in address:
        raise DomainError("bad_email", f"not an e-mail address: {email!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError("weak_password", f"password needs {MIN_PASSWORD_LENGTH}+ characters")
    if session.scalar(select(User).where(User.email == address)) is not None:
        raise DomainError("user_exists", f"a user {address} already exists", 409)
    user = User(
        email=address,
        password_hash=generate_password_hash(password),
        customer_id=customer.id if customer else None,
        is_staff=staff,
        active=True,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, else None (same cost either way)."""
    user = session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def normalise_email(email: str) -> str:
    """E-mail addresses compare case-insensitively here."""
    return email.strip().lower()
