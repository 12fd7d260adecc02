"""Who owns data (customers) and who may look at it (portal and staff users)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ingest.models.base import Base


class Customer(Base):
    """A dealer's customer: the unit of data isolation in the portal."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: The customer code SCM gives out ("codice utente", "número de cliente"): a sign-in name.
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    #: The language of its documents and e-mails (and of its users' pages unless they choose);
    #: None: not set, the browser's language decides pages, Italian the rest.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    #: The "Referente MFP": the customer's contact for the fleet, who gets meter-read requests.
    referent_name: Mapped[str | None] = mapped_column(String(200))
    referent_email: Mapped[str | None] = mapped_column(String(254))
    referent_phone: Mapped[str | None] = mapped_column(String(50))
    vat_number: Mapped[str | None] = mapped_column(String(32))
    billing_address: Mapped[str | None] = mapped_column(String(500))
    # Fiscal data of the electronic invoice (FatturaPA): tax code, recipient code or PEC, and
    # the address split the way the XML wants it.
    tax_code: Mapped[str | None] = mapped_column(String(16))
    sdi_code: Mapped[str | None] = mapped_column(String(7))
    pec: Mapped[str | None] = mapped_column(String(254))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(2))
    country: Mapped[str] = mapped_column(String(2), default="IT", server_default="IT")
    #: The dealer's salesperson for this customer ("Il vostro Referente Commerciale").
    sales_rep_name: Mapped[str | None] = mapped_column(String(200))
    sales_rep_email: Mapped[str | None] = mapped_column(String(254))
    sales_rep_phone: Mapped[str | None] = mapped_column(String(50))
    #: Reorder a consumable when it will be empty within this many days...
    reorder_lead_days: Mapped[int] = mapped_column(default=7, server_default=text("7"))
    #: ...or when its level is at or below this percentage.
    reorder_threshold_percent: Mapped[int] = mapped_column(default=10, server_default=text("10"))
    #: False: the customer orders toner itself; low toner is an alert for staff, not a reorder.
    auto_reorder: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


class User(Base):
    """A person who signs in: a customer's user (sees that customer only) or dealer staff."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    is_staff: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    #: The language this person chose with the switch in the navigation bar (None: not chosen).
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]

    #: Part of every session cookie; raised at sign-out and password change, so every copy of
    #: an older cookie (another browser, a stolen one) stops working at once.
    session_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    customer: Mapped[Customer | None] = relationship()
