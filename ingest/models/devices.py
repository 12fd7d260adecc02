"""Devices seen by agents and what each reading said about them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ingest.models.accounts import Customer
from ingest.models.agents import Agent, UploadBatch
from ingest.models.base import Base


class Device(Base):
    """A printer of one customer, keyed by ``identity`` (see ``ingest.domain.registry``)."""

    __tablename__ = "devices"
    # Every upload updates its devices' rows: room left on each page keeps those updates
    # "HOT" (no new index entries), measured 2.4 -> 1.7 ms a batch's upsert (migration 0016).
    __table_args__ = (
        UniqueConstraint("customer_id", "identity"),
        {"postgresql_with": {"fillfactor": 70}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))  # uq index leads with it
    identity: Mapped[str] = mapped_column(String(300))
    manufacturer: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(200))
    mac: Mapped[str | None] = mapped_column(String(17), index=True)
    last_address: Mapped[str | None] = mapped_column(String(300))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    #: The newest reading (latest state, kept by intake): pages never rank the history.
    latest_reading_id: Mapped[int | None] = mapped_column(BigInteger)

    customer: Mapped[Customer] = relationship()


class DeviceReading(Base):
    """One poll of one device, with its provenance (agent and signed batch)."""

    __tablename__ = "device_readings"
    __table_args__ = (Index("ix_device_readings_device_observed", "device_id", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("upload_batches.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    observed_at: Mapped[datetime]
    received_at: Mapped[datetime]
    address: Mapped[str] = mapped_column(String(300))
    total: Mapped[int | None] = mapped_column(BigInteger)
    mono: Mapped[int | None] = mapped_column(BigInteger)
    colour: Mapped[int | None] = mapped_column(BigInteger)
    print_mono: Mapped[int | None] = mapped_column(BigInteger)
    print_colour: Mapped[int | None] = mapped_column(BigInteger)
    copy_mono: Mapped[int | None] = mapped_column(BigInteger)
    copy_colour: Mapped[int | None] = mapped_column(BigInteger)
    fax: Mapped[int | None] = mapped_column(BigInteger)
    scan: Mapped[int | None] = mapped_column(BigInteger)
    duplex: Mapped[int | None] = mapped_column(BigInteger)
    #: Whose clock dated the reading ("server" or "local"), as the agent says; None if unsaid.
    clock: Mapped[str | None] = mapped_column(String(8))
    #: Counters the agent computed from split counters, comma-separated (e.g. "mono,colour").
    derived: Mapped[str | None] = mapped_column(String(200))
    #: Why the reading must not count (``"too_old"``): kept for audit, never billed or shown.
    flag: Mapped[str | None] = mapped_column(String(16))
    #: The reading exactly as the agent sent it (contracts/reading.md), for audit and replays.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)

    device: Mapped[Device] = relationship()
    batch: Mapped[UploadBatch] = relationship()
    agent: Mapped[Agent] = relationship()
    supplies: Mapped[list[SupplyLevel]] = relationship(
        back_populates="reading", order_by="SupplyLevel.slot"
    )


class SupplyLevel(Base):
    """One supply slot in one reading: the history toner forecasts are made from.  Keyed by its
    reading and slot (and ``observed_at``, by which PostgreSQL partitions), the one index every
    reader goes through; no id of its own (migration 0015 says why)."""

    __tablename__ = "supply_levels"

    reading_id: Mapped[int] = mapped_column(ForeignKey("device_readings.id"), primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True)
    observed_at: Mapped[datetime] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    kind: Mapped[str] = mapped_column(String(32))
    colour: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(512))
    level: Mapped[int | None] = mapped_column(BigInteger)
    max_capacity: Mapped[int | None] = mapped_column(BigInteger)
    percent: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(32))

    reading: Mapped[DeviceReading] = relationship(back_populates="supplies")


class SupplyState(Base):
    """The latest state of one supply slot of one device, with the running sums its forecast
    needs (``ingest.domain.forecast.RunningFit``), so neither upload nor page reads history.

    The sums cover the current cartridge: a cartridge change starts them again.
    """

    __tablename__ = "supply_latest"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    slot: Mapped[str] = mapped_column(String(120), primary_key=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    colour: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(512))
    level: Mapped[int | None] = mapped_column(BigInteger)
    max_capacity: Mapped[int | None] = mapped_column(BigInteger)
    percent: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(32))
    observed_at: Mapped[datetime]
    reading_id: Mapped[int] = mapped_column(BigInteger)
    #: First and last numeric observations of the current cartridge (the fit's time span).
    since_at: Mapped[datetime | None]
    fit_last_at: Mapped[datetime | None]
    #: Running minimum of the percent since the change: the smoothed level.
    smoothed: Mapped[int | None]
    n: Mapped[int] = mapped_column(default=0)
    sum_t: Mapped[float] = mapped_column(Float, default=0.0)
    sum_y: Mapped[float] = mapped_column(Float, default=0.0)
    sum_tt: Mapped[float] = mapped_column(Float, default=0.0)
    sum_ty: Mapped[float] = mapped_column(Float, default=0.0)
    sum_yy: Mapped[float] = mapped_column(Float, default=0.0)
    pages_n: Mapped[int] = mapped_column(default=0)
    sum_p: Mapped[float] = mapped_column(Float, default=0.0)
    sum_pp: Mapped[float] = mapped_column(Float, default=0.0)
    sum_py: Mapped[float] = mapped_column(Float, default=0.0)
    sum_yp: Mapped[float] = mapped_column(Float, default=0.0)


class DeviceDaily(Base):
    """One device's day, kept when raw readings expire (``ingest.jobs.maintenance``): enough
    for statistics and audits of old periods (counters at the day's start and end)."""

    __tablename__ = "device_daily"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    readings: Mapped[int]
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    total_first: Mapped[int | None] = mapped_column(BigInteger)
    total_last: Mapped[int | None] = mapped_column(BigInteger)
    mono_last: Mapped[int | None] = mapped_column(BigInteger)
    colour_last: Mapped[int | None] = mapped_column(BigInteger)
