"""Consumables: the dealer's catalogue, cartridge changes seen, and automatic reorders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ingest.models.base import Base
from ingest.models.devices import Device
from ingest.models.fleet import Machine


class Consumable(Base):
    """A catalogue article: toner, ink, waste box... for the models listed in ``models``."""

    __tablename__ = "consumables"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_code: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(300))
    manufacturer: Mapped[str | None] = mapped_column(String(200))
    #: Model names this article fits, separated by ";" (matched case- and space-insensitively).
    models: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(32))
    colour: Mapped[str | None] = mapped_column(String(64))
    yield_pages: Mapped[int | None] = mapped_column(BigInteger)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    included_in_contract: Mapped[bool] = mapped_column(default=True)


class CartridgeChange(Base):
    """A level that jumped up: a new cartridge, and the level the old one was replaced at."""

    __tablename__ = "cartridge_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    slot: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime]
    replaced_at_percent: Mapped[int | None]
    new_percent: Mapped[int | None]
    #: The upload that showed it: that batch's follow-up job closes the slot's reorder.
    batch_id: Mapped[int | None] = mapped_column(BigInteger, index=True)

    device: Mapped[Device] = relationship()


class Reorder(Base):
    """An automatic reorder of one supply slot.  ``open_slot`` is set only while it is open,
    and unique: the database itself refuses a second open reorder for the same slot."""

    __tablename__ = "reorders"

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"), index=True)
    slot: Mapped[str] = mapped_column(String(120))
    open_slot: Mapped[str | None] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    colour: Mapped[str | None] = mapped_column(String(64))
    consumable_id: Mapped[int | None] = mapped_column(ForeignKey("consumables.id"))
    reason: Mapped[str] = mapped_column(String(300))
    level_percent: Mapped[int | None]
    days_to_empty: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by_change_id: Mapped[int | None] = mapped_column(ForeignKey("cartridge_changes.id"))

    machine: Mapped[Machine] = relationship()
    consumable: Mapped[Consumable | None] = relationship()
