"""Orders of consumables (automatic or by the customer) and delivery notes ("DDT")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ingest.models.accounts import Customer, User
from ingest.models.base import Base
from ingest.models.fleet import Machine, Site
from ingest.models.supplies import Consumable, Reorder

AMOUNT = Numeric(12, 2)


class Order(Base):
    """An order ("Ordine"): ``source`` auto (a reorder) or customer; open until delivered."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    contact: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    hours: Mapped[str | None] = mapped_column(String(120))
    ship_to: Mapped[str | None] = mapped_column(String(500))
    payment_method: Mapped[str | None] = mapped_column(String(64))
    customer_reference: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship()
    site: Mapped[Site | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id")


class OrderLine(Base):
    """One consumable for one machine; free of charge when included in the contract."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    consumable_id: Mapped[int | None] = mapped_column(ForeignKey("consumables.id"))
    reorder_id: Mapped[int | None] = mapped_column(ForeignKey("reorders.id"))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(AMOUNT)

    order: Mapped[Order] = relationship(back_populates="lines")
    machine: Mapped[Machine] = relationship()
    consumable: Mapped[Consumable | None] = relationship()
    reorder: Mapped[Reorder | None] = relationship()


class DeliveryNote(Base):
    """A delivery note ("DDT"): ``status`` preparing -> shipped -> delivered."""

    __tablename__ = "delivery_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="preparing")
    created_at: Mapped[datetime]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    #: What an Italian DDT states (DPR 472/1996): why the goods travel ("causale del
    #: trasporto"), how many parcels and what they look like, who carries them, the freight terms.
    transport_reason: Mapped[str] = mapped_column(String(32), default="sale", server_default="sale")
    packages: Mapped[int | None]
    goods_appearance: Mapped[str | None] = mapped_column(String(100))
    carried_by: Mapped[str] = mapped_column(String(16), default="sender", server_default="sender")
    carrier_name: Mapped[str | None] = mapped_column(String(200))
    freight: Mapped[str] = mapped_column(String(16), default="paid", server_default="paid")

    order: Mapped[Order] = relationship()
    customer: Mapped[Customer] = relationship()
    lines: Mapped[list[DeliveryNoteLine]] = relationship(
        back_populates="note", order_by="DeliveryNoteLine.id"
    )


class DeliveryNoteLine(Base):
    """What one DDT line ships; the machine's location is frozen here once shipped."""

    __tablename__ = "delivery_note_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("delivery_notes.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(AMOUNT)
    shipped_location: Mapped[str | None] = mapped_column(String(300))

    note: Mapped[DeliveryNote] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()
