"""The heartbeat: how an unattended agent tells the dealer it is alive and how it is doing.

Sent every few minutes (``POST /api/v1/agents/heartbeat``, signed like a batch).  It carries what
support needs without logging in to the customer's site: version, uptime, the spool backlog, the
readings the spool had to drop because it was full (a running total, so a lost heartbeat loses no
drop), how many devices the agent knows and the last error.  The answer carries the server's
configuration version, so the agent fetches its configuration only when it changed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Final

from shared.reading import ReadingError, check_text, format_timestamp, parse_timestamp

MAX_ERROR_TEXT: Final = 500
#: Text fields are cut to what the ingest stores (``AgentStatus`` columns).
_TEXT_LIMITS: Final = {"agent_version": 64, "last_error": MAX_ERROR_TEXT}
_MAX_COUNT: Final = 2**62
_TIMES: Final = ("started_at", "last_read_at", "last_upload_at")


class HeartbeatError(ValueError):
    """A heartbeat body that does not follow this shape."""


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """One heartbeat; counts are totals at the time it was sent."""

    agent_version: str
    started_at: datetime
    uptime_s: int
    backlog_readings: int
    backlog_batches: int
    backlog_bytes: int
    dropped_total: int
    dead_letters: int
    devices_known: int
    devices_read: int
    config_version: int
    last_read_at: datetime | None = None
    last_upload_at: datetime | None = None
    last_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, timestamps in the reading contract's RFC 3339 form."""
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            data[f.name] = format_timestamp(value) if isinstance(value, datetime) else value
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Heartbeat:
        """Check an untrusted heartbeat; raises :class:`HeartbeatError` naming the field."""
        if not isinstance(data, dict):
            raise HeartbeatError("heartbeat: expected an object")
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name)
            if f.name in _TIMES:
                values[f.name] = _time(value, f.name, required=f.name == "started_at")
            elif f.name in ("agent_version", "last_error"):
                values[f.name] = _text(value, f.name, required=f.name == "agent_version")
            else:
                values[f.name] = _count(value, f.name)
        return cls(**values)


def _time(value: Any, name: str, *, required: bool) -> datetime | None:
    if value is None and not required:
        return None
    try:
        return parse_timestamp(value, name)
    except ReadingError as err:
        raise HeartbeatError(str(err)) from err


def _text(value: Any, name: str, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise HeartbeatError(f"{name}: expected a string")
    try:
        check_text(value, name)
    except ReadingError as err:
        raise HeartbeatError(str(err)) from err
    return value[: _TEXT_LIMITS[name]]


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_COUNT:
        raise HeartbeatError(f"{name}: expected a non-negative integer")
    return value
