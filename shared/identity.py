"""The device identity rule, shared by the agent (merging a scan) and the ingest (registry).

A device is its manufacturer (folded: "KONICA MINOLTA" = "Konica-Minolta") plus its serial
(trimmed, upper-cased, placeholders ignored); without a usable serial, its MAC address; without
either, the address it answered at together with its make and model.  The IP address is never
part of a serial or MAC identity, so a printer that DHCP moved is the same device, and two
interfaces of one printer are one device.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from shared.reading import Device

#: Serials some firmwares (and anonymised captures) report when they have none.
PLACEHOLDER_SERIALS: Final = frozenset(
    {
        "",
        "0",
        "unknown",
        "none",
        "null",
        "n/a",
        "na",
        "serial",
        "serialnumber",
        "serial_number",
        "xxxxxxxx",
        "000000000000",
        "default",
        "-",
        "(null)",
        "not available",
    }
)
PLACEHOLDER_MACS: Final = frozenset({"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})
_NON_ALNUM: Final = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=4096)
def manufacturer_key(manufacturer: str | None) -> str:
    """Manufacturer folded for comparison (cached: a fleet has a handful of makers, and every
    reading of every upload asks)."""
    return _NON_ALNUM.sub("", (manufacturer or "").casefold())


@lru_cache(maxsize=4096)
def model_key(model: str | None) -> str:
    """Model folded for comparison (cached, as ``manufacturer_key``)."""
    return _NON_ALNUM.sub("", (model or "").casefold())


def usable_serial(serial: str | None) -> str | None:
    """The serial as an identity (trimmed, upper-cased), or None for a placeholder."""
    value = (serial or "").strip().upper()
    if value.casefold() in PLACEHOLDER_SERIALS or set(value) <= {"0", "F", "-", " "}:
        return None
    return value


def serial_key(device: Device) -> str | None:
    """``sn:<maker>:<SERIAL>``, or None when the device gives no usable serial."""
    serial = usable_serial(device.serial)
    return f"sn:{manufacturer_key(device.manufacturer)}:{serial}" if serial else None


def mac_key(device: Device) -> str | None:
    """``mac:<aa:bb:...>``, or None when the device gives no usable MAC."""
    mac = (device.mac or "").lower()
    return f"mac:{mac}" if mac and mac not in PLACEHOLDER_MACS else None


def address_key(device: Device, address: str) -> str:
    """``addr:<host:port>|<maker>|<model>``: the last resort, for a device that says nothing."""
    return (
        f"addr:{address.strip().lower()}|{manufacturer_key(device.manufacturer)}|"
        f"{model_key(device.model)}"
    )


def identity_key(device: Device, address: str) -> str:
    """The key a device is known by: serial, else MAC, else address with make and model."""
    return serial_key(device) or mac_key(device) or address_key(device, address)
