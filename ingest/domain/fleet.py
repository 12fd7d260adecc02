"""The fleet as people look at it: each device with its latest counters and supply levels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ingest.models import Customer, Device, DeviceReading, SupplyLevel


@dataclass(frozen=True, slots=True)
class DeviceOverview:
    """One line of the devices page."""

    device: Device
    customer: str
    latest: DeviceReading | None

    @property
    def supplies(self) -> list[SupplyLevel]:
        """The supplies of the latest reading, in device order."""
        return list(self.latest.supplies) if self.latest else []

    @property
    def last_seen_at(self) -> datetime:
        """When an agent last read this device."""
        return self.device.last_seen_at


def devices_overview(session: Session, customer_id: int | None) -> list[DeviceOverview]:
    """Devices of one customer (or all, for staff when ``customer_id`` is None), newest data."""
    ranked = select(
        DeviceReading.id.label("reading_id"),
        func.row_number()
        .over(
            partition_by=DeviceReading.device_id,
            order_by=(DeviceReading.observed_at.desc(), DeviceReading.id.desc()),
        )
        .label("rank"),
    ).join(Device, Device.id == DeviceReading.device_id)
    if customer_id is not None:
        ranked = ranked.where(Device.customer_id == customer_id)
    ranked_rows = ranked.subquery()
    latest_ids = select(ranked_rows.c.reading_id).where(ranked_rows.c.rank == 1)
    readings = {
        r.device_id: r
        for r in session.scalars(
            select(DeviceReading)
            .where(DeviceReading.id.in_(latest_ids))
            .options(selectinload(DeviceReading.supplies))
        )
    }
    query = select(Device, Customer.name).join(Customer, Customer.id == Device.customer_id)
    if customer_id is not None:
        query = query.where(Device.customer_id == customer_id)
    query = query.order_by(Customer.name, Device.manufacturer, Device.model, Device.id)
    return [
        DeviceOverview(device=device, customer=name, latest=readings.get(device.id))
        for device, name in session.execute(query)
    ]
