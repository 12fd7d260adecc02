"""Which readings are the same device: the identity rule on the agent's side, and its merges.

The rule itself is ``shared.identity`` (the ingest's registry applies the same one): a device
is its manufacturer (folded) plus its serial (upper-cased, placeholders ignored); without a
usable serial, its MAC address; without either, the address it answered at with its make and
model.  The IP address is never part of a serial or MAC identity, so:

* two addresses answering with the same identity (a wired and a wireless interface, an alias)
  are one device, read once (:func:`merge_readings`);
* a device found at another address than last time (DHCP) is the same device, moved
  (:func:`compare_scans`).

"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from shared.identity import identity_key, mac_key, manufacturer_key, serial_key
from shared.reading import Reading

__all__ = ["identity_key", "mac_key", "manufacturer_key", "serial_key"]

T = TypeVar("T")


def host_of(address: str) -> str:
    """The host of ``host:port`` (``[v6]:port`` too), lower-cased."""
    host = address.strip().lower()
    if host.startswith("[") and "]" in host:
        return host[1 : host.index("]")]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def address_order(address: str) -> tuple[int, int, str]:
    """Sort key putting ``host:port`` addresses in numeric order (10.0.0.9 before 10.0.0.10)."""
    host = host_of(address)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return (9, 0, address)
    return (ip.version, int(ip), address)


@dataclass(frozen=True, slots=True)
class Sighting(Generic[T]):
    """One reading taken at one address, with whatever the caller attaches (the credential)."""

    reading: Reading
    extra: T


@dataclass(frozen=True, slots=True)
class MergedDevice(Generic[T]):
    """One device of a scan: its reading (taken at ``address``) and every address it answered."""

    identity: str
    reading: Reading
    extra: T
    addresses: tuple[str, ...]

    @property
    def address(self) -> str:
        """The address the kept reading was taken at (the lowest, so runs agree)."""
        return self.reading.address


def merge_readings(sightings: Iterable[Sighting[T]]) -> list[MergedDevice[T]]:
    """Fold readings of the same device into one, in address order.

    Same serial key: one device.  A reading without a usable serial joins the device with its
    MAC (if exactly one has it), else groups with other serial-less readings of that MAC.  Two
    readings with *different* serials are never merged, whatever their MACs say.
    """
    ordered = sorted(sightings, key=lambda s: address_order(s.reading.address))
    groups: list[list[Sighting[T]]] = []
    by_serial: dict[str, list[Sighting[T]]] = {}
    for sighting in ordered:
        key = serial_key(sighting.reading.device)
        if key is None:
            continue
        if key not in by_serial:
            by_serial[key] = []
            groups.append(by_serial[key])
        by_serial[key].append(sighting)
    by_mac: dict[str, list[Sighting[T]]] = {}
    for sighting in ordered:
        device = sighting.reading.device
        if serial_key(device) is not None:
            continue
        mac = mac_key(device)
        group = _group_with_mac(by_serial.values(), mac) if mac else None
        if group is None and mac is not None:
            group = by_mac.get(mac)
        if group is None:
            group = []
            groups.append(group)
            if mac is not None:
                by_mac[mac] = group
        group.append(sighting)
    return sorted((_merged(group) for group in groups), key=lambda d: address_order(d.address))


def _group_with_mac(groups: Iterable[list[Sighting[T]]], mac: str) -> list[Sighting[T]] | None:
    matches = [g for g in groups if any(mac_key(s.reading.device) == mac for s in g)]
    return matches[0] if len(matches) == 1 else None


def _merged(group: Sequence[Sighting[T]]) -> MergedDevice[T]:
    first = group[0]
    addresses = tuple(dict.fromkeys(s.reading.address for s in group))
    return MergedDevice(
        identity=identity_key(first.reading.device, first.reading.address),
        reading=first.reading,
        extra=first.extra,
        addresses=addresses,
    )


# -- between two scans ------------------------------------------------------------------------

Change = Literal["new", "same", "moved"]


@dataclass(frozen=True, slots=True)
class Comparison:
    """What became of each device since an earlier scan, by identity."""

    changes: Mapping[str, tuple[Change, str | None]] = field(default_factory=dict)
    gone: tuple[Reading, ...] = ()

    def change_of(self, identity: str) -> tuple[Change, str | None]:
        """``("moved", old_address)``, ``("same", None)`` or ``("new", None)``."""
        return self.changes.get(identity, ("new", None))


def compare_scans(previous: Sequence[Reading], current: Sequence[MergedDevice[T]]) -> Comparison:
    """Match this scan's devices to an earlier scan's readings, as the ingest would.

    By serial first; by MAC where either side has no serial (a device first known by MAC only
    and now naming its serial is the same device).  An address-only identity matches only at
    the same address, so it can never be "moved".  "Moved" means another IP: the port is not
    looked at.
    """
    unmatched = list(previous)
    changes: dict[str, tuple[Change, str | None]] = {}
    for device in current:
        old = _find_previous(device.reading, unmatched)
        if old is None:
            changes[device.identity] = ("new", None)
            continue
        unmatched.remove(old)
        if host_of(old.address) in {host_of(address) for address in device.addresses}:
            changes[device.identity] = ("same", None)
        else:
            changes[device.identity] = ("moved", old.address)
    return Comparison(changes=changes, gone=tuple(unmatched))


def _find_previous(reading: Reading, candidates: Sequence[Reading]) -> Reading | None:
    serial = serial_key(reading.device)
    if serial is not None:
        for old in candidates:
            if serial_key(old.device) == serial:
                return old
    mac = mac_key(reading.device)
    if mac is not None:
        for old in candidates:
            other_serial = serial_key(old.device)
            if mac_key(old.device) == mac and (serial is None or other_serial is None):
                return old
    if serial is None and mac is None:
        for old in candidates:
            no_keys = serial_key(old.device) is None and mac_key(old.device) is None
            if no_keys and host_of(old.address) == host_of(reading.address):
                return old
    return None
