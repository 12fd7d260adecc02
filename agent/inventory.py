"""The devices the agent knows: found by discovery or configured as targets, and how to ask them.

Kept in ``devices.json`` in the agent's home so a restart does not wait a day for the next
discovery.  A device remembers the *fingerprint* of the credential it last answered to (never the
credential itself), so the next read tries that one first instead of every community in turn.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Final

from shared.reading import format_timestamp

DEVICES_FILE: Final = "devices.json"
#: A discovered device silent for this long is forgotten (a configured target never is).
FORGET_AFTER_DAYS: Final = 30

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KnownDevice:
    """One device address and what the agent learnt about it."""

    address: str
    credential: str | None = None
    discovered: bool = False
    last_ok_at: str | None = None
    first_seen_at: str | None = None


class Inventory:
    """``devices.json``: address -> :class:`KnownDevice`, written atomically."""

    def __init__(self, home: Path) -> None:
        self.path = home / DEVICES_FILE
        self.devices: dict[str, KnownDevice] = self._load()

    def _load(self) -> dict[str, KnownDevice]:
        if not self.path.is_file():
            return {}
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))
            return {row["address"]: KnownDevice(**row) for row in rows}
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("starting a new device list: %s is unreadable (%s)", self.path, err)
            return {}

    def save(self) -> None:
        """Replace the file in one step, so a crash leaves the old list or the new one."""
        tmp = self.path.with_suffix(".tmp")
        text = json.dumps([asdict(d) for d in self.devices.values()], indent=1)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        tmp.replace(self.path)

    def found(self, address: str, credential: str, now: datetime) -> None:
        """Discovery saw ``address`` answer to ``credential``."""
        stamp = format_timestamp(now)
        known = self.devices.get(address, KnownDevice(address, first_seen_at=stamp))
        self.devices[address] = replace(
            known, credential=credential, discovered=True, last_ok_at=stamp
        )

    def answered(self, address: str, credential: str, now: datetime) -> None:
        """A read of ``address`` succeeded with ``credential``."""
        stamp = format_timestamp(now)
        known = self.devices.get(address, KnownDevice(address, first_seen_at=stamp))
        self.devices[address] = replace(known, credential=credential, last_ok_at=stamp)

    def addresses(self, targets: tuple[str, ...], now: datetime) -> list[str]:
        """What to read: configured targets, then discovered devices not silent for too long."""
        keep = list(targets)
        for device in self.devices.values():
            if device.address in keep or not device.discovered:
                continue
            if _days_since(device.last_ok_at or device.first_seen_at, now) <= FORGET_AFTER_DAYS:
                keep.append(device.address)
        return keep

    def credential_of(self, address: str) -> str | None:
        """The fingerprint of the credential ``address`` last answered to."""
        device = self.devices.get(address)
        return device.credential if device else None


def _days_since(stamp: str | None, now: datetime) -> float:
    if stamp is None:
        return 0.0
    then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (now - then).total_seconds() / 86400
