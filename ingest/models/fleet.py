"""The dealer's registry: sites, machines ("Parco Macchine") and their contracts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ingest.models.accounts import Customer
from ingest.models.base import Base
from ingest.models.devices import Device

RATE = Numeric(12, 5)
AMOUNT = Numeric(12, 2)


class Site(Base):
    """A customer address machines are installed and consumables shipped to."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))

    customer: Mapped[Customer] = relationship()


class Machine(Base):
    """A machine under contract, known by the dealer's "ID SCM" and the maker's serial."""

    __tablename__ = "machines"
    __table_args__ = (
        UniqueConstraint("customer_id", "serial"),
        Index("ix_machines_customer_serial_key", "customer_id", "serial_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scm_id: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    manufacturer: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str] = mapped_column(String(200))
    #: ``fold_serial(serial)``, kept by the model: intake links devices through this index.
    serial_key: Mapped[str] = mapped_column(String(200), default="")
    #: "Ubicazione": where in the building, e.g. "Ufficio Acquisti, primo piano".
    location: Mapped[str | None] = mapped_column(String(300))
    accessories: Mapped[str | None] = mapped_column(Text)
    configuration: Mapped[str | None] = mapped_column(Text)
    monitored: Mapped[bool] = mapped_column(default=True)
    colour: Mapped[bool] = mapped_column(default=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), unique=True)
    #: Added to raw counters after a board replacement restarted them.
    offset_mono: Mapped[int] = mapped_column(BigInteger, default=0)
    offset_colour: Mapped[int] = mapped_column(BigInteger, default=0)
    #: When the current offsets started (the board replacement): earlier reads have none.
    offset_from: Mapped[datetime | None]
    max_pages_per_day: Mapped[int | None]
    created_at: Mapped[datetime]

    customer: Mapped[Customer] = relationship()
    site: Mapped[Site | None] = relationship()
    device: Mapped[Device | None] = relationship()
    contracts: Mapped[list[Contract]] = relationship(
        back_populates="machine", order_by="Contract.start"
    )

    @validates("serial")
    def _keep_serial_key(self, _key: str, serial: str) -> str:
        """Whoever sets the serial sets its folded key too: the two can never disagree."""
        self.serial_key = fold_serial(serial)
        return serial


def fold_serial(serial: str | None) -> str:
    """Serials compare without spaces and case."""
    return "".join((serial or "").split()).upper()


class Contract(Base):
    """Cost-per-copy terms for one machine (see ``ingest.domain.billing``)."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"), index=True)
    code: Mapped[str | None] = mapped_column(String(64))
    mono_rate: Mapped[Decimal] = mapped_column(RATE)
    colour_rate: Mapped[Decimal] = mapped_column(RATE)
    included_mono: Mapped[int] = mapped_column(BigInteger, default=0)
    included_colour: Mapped[int] = mapped_column(BigInteger, default=0)
    fixed_fee: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal(0))
    minimum_charge: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal(0))
    period: Mapped[str] = mapped_column(String(16), default="monthly")
    start: Mapped[date]
    end: Mapped[date | None]
    interpolate: Mapped[bool] = mapped_column(default=False)
    true_up: Mapped[bool] = mapped_column(default=False)

    machine: Mapped[Machine] = relationship(back_populates="contracts")
