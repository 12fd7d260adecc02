"""Meter reads (from agents or entered by people) and the requests that ask for them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ingest.models.accounts import User
from ingest.models.agents import UploadBatch
from ingest.models.base import Base
from ingest.models.devices import DeviceReading
from ingest.models.fleet import Machine


class MeterRead(Base):
    """One counter read of a machine, with where it came from and whether it may be billed.

    ``status``: ``ok`` (billable), ``flagged`` (waits for staff), ``rejected`` (never billed).
    Raw counters are kept as read; ``offset_*`` is what staff added after a board replacement.
    """

    __tablename__ = "meter_reads"
    __table_args__ = (
        Index("ix_meter_reads_machine_taken", "machine_id", "taken_at"),
        UniqueConstraint("device_reading_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    taken_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))
    total: Mapped[int | None] = mapped_column(BigInteger)
    mono: Mapped[int | None] = mapped_column(BigInteger)
    colour: Mapped[int | None] = mapped_column(BigInteger)
    offset_mono: Mapped[int] = mapped_column(BigInteger, default=0)
    offset_colour: Mapped[int] = mapped_column(BigInteger, default=0)
    reported_serial: Mapped[str | None] = mapped_column(String(200))
    device_reading_id: Mapped[int | None] = mapped_column(ForeignKey("device_readings.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("upload_batches.id"))
    signature_verified: Mapped[bool] = mapped_column(default=False)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_by_name: Mapped[str | None] = mapped_column(String(254))
    #: The service request whose form carried these counters, if any.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="ok", index=True)
    flags: Mapped[str] = mapped_column(String(200), default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(500))

    machine: Mapped[Machine] = relationship()
    device_reading: Mapped[DeviceReading | None] = relationship()
    batch: Mapped[UploadBatch | None] = relationship()
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])


class MeterReadRequest(Base):
    """A request to the customer's referent for one machine's read before a period closes."""

    __tablename__ = "meter_read_requests"
    __table_args__ = (UniqueConstraint("machine_id", "period_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"), index=True)
    period_end: Mapped[date]
    created_at: Mapped[datetime]
    sent_to: Mapped[str | None] = mapped_column(String(254))
    last_sent_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None]
    closing_read_id: Mapped[int | None] = mapped_column(ForeignKey("meter_reads.id"))

    machine: Mapped[Machine] = relationship()
