"""The fleet as people look at it: each device with its latest counters and supply levels,
read from the latest-state columns and tables, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ingest.domain.pages import ListQuery, Page, like_pattern, paginate
from ingest.domain.supplies import current_slots
from ingest.models import Customer, Device, DeviceReading, SupplyState


@dataclass(frozen=True, slots=True)
class DeviceOverview:
    """One line of the devices page."""

    device: Device
    customer: str
    latest: DeviceReading | None
    supplies: list[SupplyState]

    @property
    def last_seen_at(self) -> datetime:
        """When an agent last read this device."""
        return self.device.last_seen_at


#: How the devices page can be sorted (the first is the default).
DEVICE_SORTS: Final = ("name", "last_read")


def devices_overview(
    session: Session, customer_id: int | None, wanted: ListQuery | None = None
) -> Page[DeviceOverview]:
    """One page of the devices of one customer (or all, for staff when ``customer_id`` is
    None), with their newest reading: three queries, whatever the history holds."""
    wanted = wanted or ListQuery()
    query = select(Device).join(Customer, Customer.id == Device.customer_id)
    if customer_id is not None:
        query = query.where(Device.customer_id == customer_id)
    if wanted.search:
        pattern = like_pattern(wanted.search)
        columns = (Device.serial, Device.manufacturer, Device.model, Device.last_address)
        query = query.where(or_(*(c.ilike(pattern, escape="\\") for c in columns)))
    if wanted.sort == "last_read":  # the longest silent first
        query = query.order_by(Device.last_seen_at, Device.id)
    else:
        query = query.order_by(Customer.name, Device.manufacturer, Device.model, Device.id)
    page = paginate(session, query, wanted.number)
    devices: list[Device] = page.items
    latest_ids = [d.latest_reading_id for d in devices if d.latest_reading_id is not None]
    readings = {
        r.id: r
        for r in session.scalars(select(DeviceReading).where(DeviceReading.id.in_(latest_ids)))
    }
    names = {
        row.id: row.name
        for row in session.execute(
            select(Customer.id, Customer.name).where(
                Customer.id.in_({d.customer_id for d in devices})
            )
        )
    }
    slots = current_slots(session, [d.id for d in devices])
    rows = [
        DeviceOverview(
            device,
            names[device.customer_id],
            readings.get(device.latest_reading_id) if device.latest_reading_id else None,
            slots[device.id],
        )
        for device in devices
    ]
    return Page(rows, page.number, page.total, page.size)
