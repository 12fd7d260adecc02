"""Device identity: which stored device a reading belongs to.

The rule, in one place: a device is its manufacturer plus serial number; where the device gives
no usable serial, its MAC address; where it gives neither, the address it was read at together
with its make and model (the only handle left, flagged by its ``addr:`` prefix).  The IP
address is never part of a serial or MAC identity, so a printer that DHCP moved stays the same
device.  A device first known by MAC only
is upgraded in place to its serial identity when a later reading names the serial.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.models import Device
from shared.identity import address_key, mac_key, manufacturer_key, serial_key
from shared.reading import Device as DeviceInfo

__all__ = ["IdentityKeys", "identity_keys", "manufacturer_key", "resolve_device"]


@dataclass(frozen=True, slots=True)
class IdentityKeys:
    """The keys a reading can be matched by, strongest first."""

    serial: str | None
    mac: str | None
    address: str

    @property
    def primary(self) -> str:
        """The identity a new device is stored under."""
        return self.serial or self.mac or self.address


def identity_keys(info: DeviceInfo, address: str) -> IdentityKeys:
    """The identity keys of what a reading says about its device (``shared.identity``)."""
    return IdentityKeys(
        serial=serial_key(info), mac=mac_key(info), address=address_key(info, address)
    )


def resolve_device(
    session: Session, customer_id: int, info: DeviceInfo, address: str, seen_at: datetime
) -> Device:
    """The customer's device this reading is about, created or upgraded as the rule says."""
    keys = identity_keys(info, address)
    device = _find(session, customer_id, keys)
    if device is None:
        device = Device(
            customer_id=customer_id,
            identity=keys.primary,
            first_seen_at=seen_at,
            last_seen_at=seen_at,
        )
        session.add(device)
    elif keys.serial and device.identity != keys.serial:
        device.identity = keys.serial  # known by MAC or address until now: upgrade in place
    _refresh(device, info, address, seen_at)
    session.flush()
    return device


def _find(session: Session, customer_id: int, keys: IdentityKeys) -> Device | None:
    """Look up by serial, then by MAC (only a device not already pinned to another serial)."""

    def by_identity(identity: str) -> Device | None:
        return session.scalar(
            select(Device).where(Device.customer_id == customer_id, Device.identity == identity)
        )

    if keys.serial and (device := by_identity(keys.serial)):
        return device
    if keys.mac:
        if device := by_identity(keys.mac):
            return device
        mac = keys.mac.removeprefix("mac:")
        candidates = session.scalars(
            select(Device).where(Device.customer_id == customer_id, Device.mac == mac)
        ).all()
        if not keys.serial and len(candidates) == 1:
            return candidates[0]
    if not keys.serial and not keys.mac:
        return by_identity(keys.address)
    return None


def _refresh(device: Device, info: DeviceInfo, address: str, seen_at: datetime) -> None:
    """Keep the descriptive fields current; a field the device stopped reporting is kept."""
    device.manufacturer = info.manufacturer or device.manufacturer
    device.model = info.model or device.model
    device.serial = info.serial or device.serial
    device.mac = info.mac or device.mac
    if device.last_seen_at is None or seen_at >= device.last_seen_at:
        device.last_address = address
        device.last_seen_at = seen_at
