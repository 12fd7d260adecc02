"""The agent's clock corrected by the server's: what readings are stamped with.

Billing picks reads by date and the ingest trusts a device's last-seen, so a customer computer
30 days fast must not date its readings a month ahead.  Every ingest answer carries
``server_time``; the offset between it and the local clock is learnt from each answer (ignoring
the second or two a round trip and the whole-second stamps blur) and kept in the agent's home,
so a restarted service or a one-shot ``push`` that reads before it talks to the server still
stamps with the corrected clock.  A reading says which clock it used (``"clock": "server"``);
an agent that has never heard from its server stamps with its own and says nothing (local).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from msgspec.structs import replace

from shared.reading import Reading

CLOCK_FILE: Final = "clock.json"
#: Offsets closer than this to the last one are noise (round trip, whole-second stamps).
TOLERANCE_S: Final = 2.0

log = logging.getLogger(__name__)


class ServerClock:
    """The learnt offset (seconds to add to the local clock), optionally kept in a file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.offset_s: float | None = self._load()

    @classmethod
    def in_home(cls, home: Path) -> ServerClock:
        """The clock whose offset lives in the agent's home."""
        return cls(home / CLOCK_FILE)

    @property
    def known(self) -> bool:
        """True once the server's time has been learnt (here or by an earlier run)."""
        return self.offset_s is not None

    def learn(self, offset_s: float) -> None:
        """Take a new offset from a server answer; kept when it moved more than the noise."""
        if self.offset_s is not None and abs(offset_s - self.offset_s) <= TOLERANCE_S:
            return
        if abs(offset_s) > 60:
            log.warning(
                "local clock %+.0f s off the server's: readings use the server's", -offset_s
            )
        self.offset_s = offset_s if abs(offset_s) > TOLERANCE_S else 0.0
        self._save()

    def stamping(self, local: Callable[[], datetime]) -> tuple[Callable[[], datetime], str | None]:
        """A clock for ``observed_at`` (``local`` plus the offset) and its name for the reading.

        Taken once per read cycle, so every reading of the cycle is stamped and named alike.
        """
        if self.offset_s is None:
            return local, None
        offset = timedelta(seconds=self.offset_s)
        return (lambda: (local() + offset).replace(microsecond=0)), "server"

    @staticmethod
    def label(readings: Iterable[Reading], kind: str | None) -> list[Reading]:
        """The readings marked with the clock that stamped them."""
        return [replace(reading, clock=kind) for reading in readings]

    def _load(self) -> float | None:
        if self.path is None:
            return None
        try:
            value = json.loads(self.path.read_text(encoding="utf-8"))["offset_s"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return float(value) if isinstance(value, int | float) else None

    def _save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_name(f".{CLOCK_FILE}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps({"offset_s": self.offset_s}) + "\n", encoding="utf-8")
            tmp.replace(self.path)
        except OSError as err:  # a full disk: the offset still applies in memory
            log.warning("could not keep the server clock offset: %s", err)
