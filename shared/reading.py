"""One device reading: the contract both the agent and the ingest service speak.

The JSON shape is fixed by ``contracts/reading.md``: ``scm-agent read --json`` prints it and every
upload batch carries a list of it.  These frozen dataclasses are the only place that shape is
spelled out; ``to_dict`` writes it and ``from_dict`` checks untrusted input (the ingest side) so a
malformed reading is refused with a message naming the field, never stored half-understood.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, Final

COUNTER_KEYS: Final = (
    "total",
    "mono",
    "colour",
    "print_mono",
    "print_colour",
    "copy_mono",
    "copy_colour",
    "fax",
    "scan",
    "duplex",
)
SUPPLY_KINDS: Final = frozenset(
    {
        "toner",
        "ink",
        "drum",
        "developer",
        "waste_toner",
        "waste_ink",
        "fuser",
        "transfer",
        "maintenance",
        "staples",
        "other",
    }
)
SUPPLY_STATES: Final = frozenset({"ok", "low", "empty", "some_remaining", "unknown"})
#: Which clock stamped ``observed_at``: the agent's own, or its own corrected by the offset it
#: learnt from the server's ``server_time``.  Absent in the JSON means "local".
CLOCKS: Final = frozenset({"server", "local"})
#: Counters an agent may compute from other counters (through vendor data), never guess.
DERIVABLE_COUNTERS: Final = frozenset({"mono", "colour"})
ALERT_SEVERITIES: Final = frozenset({"critical", "warning", "info"})

#: Printer-MIB sentinels for prtMarkerSuppliesLevel / MaxCapacity.
LEVEL_OTHER: Final = -1
LEVEL_UNKNOWN: Final = -2
LEVEL_SOME_REMAINING: Final = -3

#: At or below this percentage a supply counts as "low" when the device gives a numeric level.
LOW_PERCENT: Final = 10

_MAC_RE: Final = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
#: Longest text per field: the ingest's columns are exactly this wide (``ingest.models``).
TEXT_LIMITS: Final = {
    "address": 300,
    "device.manufacturer": 200,
    "device.model": 200,
    "device.serial": 200,
    "device.mac": 17,
    "device.firmware": 200,
    "device.sys_object_id": 200,
    "device.sys_descr": 512,
    "supply.colour": 64,
    "supply.description": 512,
    "alert.code": 128,
    "alert.description": 512,
}
#: Timestamps outside these years are refused: no printer reads before, no database overflows.
_YEARS: Final = range(2000, 2200)
_MAX_COUNTER: Final = 2**63 - 1
_MAX_SUPPLIES: Final = 256
_MAX_ALERTS: Final = 256


class ReadingError(ValueError):
    """A reading that does not follow the contract; the message names the offending field."""


def supply_percent(level: int | None, max_capacity: int | None) -> int | None:
    """``round(100*level/max)`` clamped to 0..100, or None where either value is a sentinel."""
    if level is None or max_capacity is None or level < 0 or max_capacity <= 0:
        return None
    return max(0, min(100, round(100 * level / max_capacity)))


def supply_state(level: int | None, max_capacity: int | None) -> str:
    """The contract's coarse state, derived from the raw MIB values only."""
    if level == LEVEL_SOME_REMAINING:
        return "some_remaining"
    percent = supply_percent(level, max_capacity)
    if percent is None:
        return "unknown"
    if level == 0:
        return "empty"
    return "low" if percent <= LOW_PERCENT else "ok"


def utc_now() -> datetime:
    """Now, in UTC, to the second (the contract's timestamps have no fractions)."""
    return datetime.now(UTC).replace(microsecond=0)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with a ``Z``, as in the contract: ``2026-11-22T10:00:00Z``."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds")[:19] + "Z"  # a third of strftime's time


def parse_timestamp(text: Any, where: str) -> datetime:
    """Parse an RFC 3339 timestamp; a naive one is refused because its zone would be a guess."""
    if not isinstance(text, str):
        raise ReadingError(f"{where}: expected an RFC 3339 timestamp string")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise ReadingError(f"{where}: not an RFC 3339 timestamp: {text[:40]!r}") from err
    if moment.tzinfo is None:
        raise ReadingError(f"{where}: timestamp has no time zone")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError as err:
        raise ReadingError(f"{where}: timestamp out of range") from err
    if moment.year not in _YEARS:
        raise ReadingError(f"{where}: year {moment.year} out of range")
    return moment


@dataclass(frozen=True, slots=True)
class Device:
    """Who the device says it is; ``None`` means the device does not say."""

    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    mac: str | None = None
    firmware: str | None = None
    sys_object_id: str | None = None
    sys_descr: str | None = None


@dataclass(frozen=True, slots=True)
class Counters:
    """Lifetime page counters; ``None`` means "not reported", never zero."""

    total: int | None = None
    mono: int | None = None
    colour: int | None = None
    print_mono: int | None = None
    print_colour: int | None = None
    copy_mono: int | None = None
    copy_colour: int | None = None
    fax: int | None = None
    scan: int | None = None
    duplex: int | None = None


@dataclass(frozen=True, slots=True)
class Supply:
    """One consumable slot, with the raw MIB level and max kept beside the derived percent."""

    kind: str
    colour: str | None
    description: str | None
    level: int | None
    max: int | None
    percent: int | None
    state: str

    @classmethod
    def from_raw(
        cls,
        kind: str,
        colour: str | None,
        description: str | None,
        level: int | None,
        max_capacity: int | None,
    ) -> Supply:
        """Build a supply from raw MIB values, deriving percent and state by the contract's rule."""
        return cls(
            kind=kind,
            colour=colour,
            description=description,
            level=level,
            max=max_capacity,
            percent=supply_percent(level, max_capacity),
            state=supply_state(level, max_capacity),
        )


@dataclass(frozen=True, slots=True)
class Alert:
    """An active alert on the device."""

    severity: str
    code: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything one poll of one device produced."""

    address: str
    observed_at: datetime
    device: Device = field(default_factory=Device)
    counters: Counters = field(default_factory=Counters)
    supplies: tuple[Supply, ...] = ()
    alerts: tuple[Alert, ...] = ()
    #: "server" or "local" (see ``CLOCKS``); None when the agent does not say.
    clock: str | None = None
    #: Counters the agent computed from split counters rather than read (e.g. ``("mono",)``).
    derived: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON object, keys in the contract's order (optional keys when set)."""
        optional: dict[str, Any] = {}
        if self.clock is not None:
            optional["clock"] = self.clock
        if self.derived:
            optional["derived"] = list(self.derived)
        return {
            "address": self.address,
            "observed_at": format_timestamp(self.observed_at),
            "device": dict(zip(Device.__slots__, _DEVICE_VALUES(self.device), strict=True)),
            "counters": dict(zip(COUNTER_KEYS, COUNTER_VALUES(self.counters), strict=True)),
            "supplies": [
                dict(zip(Supply.__slots__, SUPPLY_VALUES(s), strict=True)) for s in self.supplies
            ],
            "alerts": [
                dict(zip(Alert.__slots__, _ALERT_VALUES(a), strict=True)) for a in self.alerts
            ],
            **optional,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Reading:
        """Check an untrusted reading against the contract and build it; raises ReadingError.

        Nearly every reading an agent sends is already plain (ASCII text within its limits,
        integers in range): ``_plain_reading`` takes those in a few type tests per field, the
        ingest's hottest loop.  Anything else goes through ``checked_reading``, which names the
        field at fault; both accept exactly the same readings and build the same objects.
        """
        return _plain_reading(data) or checked_reading(data)


#: Each class's field values in field order, read in C (``to_dict`` runs per stored reading).
_DEVICE_VALUES: Final = attrgetter(*Device.__slots__)
COUNTER_VALUES: Final = attrgetter(*COUNTER_KEYS)
SUPPLY_VALUES: Final = attrgetter(*Supply.__slots__)
_ALERT_VALUES: Final = attrgetter(*Alert.__slots__)


def checked_reading(data: Any) -> Reading:
    """``Reading.from_dict`` field by field, each refusal naming its field."""
    if not isinstance(data, dict):
        raise ReadingError("reading: expected an object")
    device = _object(data.get("device"), "device")
    counters = _object(data.get("counters"), "counters")
    return Reading(
        address=_text(data.get("address"), "address", required=True) or "",
        observed_at=parse_timestamp(data.get("observed_at"), "observed_at"),
        device=Device(**_checked_device(device)),
        counters=Counters(
            **{name: _counter(counters.get(name), f"counters.{name}") for name in COUNTER_KEYS}
        ),
        supplies=tuple(
            _supply(item, f"supplies[{i}]")
            for i, item in enumerate(_array(data.get("supplies"), "supplies", _MAX_SUPPLIES))
        ),
        alerts=tuple(
            _alert(item, f"alerts[{i}]")
            for i, item in enumerate(_array(data.get("alerts"), "alerts", _MAX_ALERTS))
        ),
        clock=_clock(data.get("clock")),
        derived=_derived(data.get("derived")),
    )


_DEVICE_LIMITS: Final = tuple(TEXT_LIMITS[f"device.{name}"] for name in Device.__slots__)
_SUPPLY_TEXT_LIMITS: Final = (TEXT_LIMITS["supply.colour"], TEXT_LIMITS["supply.description"])


def _plain_text(value: Any, limit: int) -> bool:
    """None, or ASCII text without NUL within ``limit``: valid as it is."""
    return value is None or (
        type(value) is str and len(value) <= limit and value.isascii() and "\x00" not in value
    )


def _plain_integer(value: Any, low: int) -> bool:
    """None, or an ``int`` (not a bool, not a float) from ``low`` to the largest counter."""
    return value is None or (type(value) is int and low <= value <= _MAX_COUNTER)


def _plain_supply(item: Any) -> Supply | None:
    if type(item) is not dict:
        return None
    kind, state, percent = item.get("kind"), item.get("state"), item.get("percent")
    colour, description = item.get("colour"), item.get("description")
    level, capacity = item.get("level"), item.get("max")
    plain = (
        type(kind) is str
        and kind in SUPPLY_KINDS
        and type(state) is str
        and state in SUPPLY_STATES
        and _plain_integer(percent, 0)
        and (percent is None or percent <= 100)
        and _plain_integer(level, -_MAX_COUNTER)
        and _plain_integer(capacity, -_MAX_COUNTER)
        and _plain_text(colour, _SUPPLY_TEXT_LIMITS[0])
        and _plain_text(description, _SUPPLY_TEXT_LIMITS[1])
    )
    return Supply(kind, colour, description, level, capacity, percent, state) if plain else None


def _plain_reading(data: Any) -> Reading | None:
    """The reading when all its text and numbers are plain, else None (see ``from_dict``).

    The checks run in ``checked_reading``'s order, so where both refuse, they name the same
    field: the plain tests first (None on any doubt), then the checks that can only fail as
    ``checked_reading`` would, once everything before them is known valid.
    """
    if type(data) is not dict:
        return None
    device, counters = data.get("device"), data.get("counters")
    items, address = data.get("supplies"), data.get("address")
    if not (
        type(address) is str
        and _plain_text(address, TEXT_LIMITS["address"])
        and type(device) is dict
        and type(counters) is dict
        and type(items) is list
        and len(items) <= _MAX_SUPPLIES
    ):
        return None
    names = [device.get(name) for name in Device.__slots__]
    if not all(map(_plain_text, names, _DEVICE_LIMITS)):
        return None
    mac = names[3]
    if mac is not None and not _MAC_RE.match(mac):
        return None
    values = [counters.get(name) for name in COUNTER_KEYS]
    if not all(_plain_integer(value, 0) for value in values):
        return None
    supplies = tuple(map(_plain_supply, items))
    if None in supplies:
        return None
    observed_at = parse_timestamp(data.get("observed_at"), "observed_at")
    return Reading(
        address,
        observed_at,
        Device(*names),
        Counters(*values),
        supplies,  # type: ignore[arg-type]  # no None: tested above
        tuple(
            _alert(item, f"alerts[{i}]")
            for i, item in enumerate(_array(data.get("alerts"), "alerts", _MAX_ALERTS))
        ),
        _clock(data.get("clock")),
        _derived(data.get("derived")),
    )


def _checked_device(device: dict[str, Any]) -> dict[str, str | None]:
    values = {name: _text(device.get(name), f"device.{name}") for name in Device.__slots__}
    mac = values["mac"]
    if mac is not None and not _MAC_RE.match(mac):
        raise ReadingError("device.mac: expected lower-case aa:bb:cc:dd:ee:ff")
    return values


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ReadingError(f"{where}: expected an object")
    return value


def _array(value: Any, where: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise ReadingError(f"{where}: expected an array")
    if len(value) > limit:
        raise ReadingError(f"{where}: more than {limit} entries")
    return value


def _text(
    value: Any, where: str, *, field: str | None = None, required: bool = False
) -> str | None:
    """A checked string; ``field`` names its ``TEXT_LIMITS`` entry when ``where`` is indexed."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ReadingError(f"{where}: expected a string")
    limit = TEXT_LIMITS[field or where]
    if len(value) > limit:
        raise ReadingError(f"{where}: longer than {limit} characters")
    check_text(value, where)
    return value


def check_text(value: str, where: str) -> None:
    """Refuse what no database stores as text: NUL and lone surrogates (``"\\ud800"``)."""
    if "\x00" in value:
        raise ReadingError(f"{where}: NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ReadingError(f"{where}: not valid Unicode text") from err


def _integer(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReadingError(f"{where}: expected an integer")
    if abs(value) > _MAX_COUNTER:
        raise ReadingError(f"{where}: out of range")
    return value


def _clock(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value in CLOCKS):
        return value
    raise ReadingError(f"clock: one of {sorted(CLOCKS)}")


def _derived(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or not all(isinstance(name, str) and name in DERIVABLE_COUNTERS for name in value)
        or len(set(value)) != len(value)
    ):
        raise ReadingError(f"derived: distinct names among {sorted(DERIVABLE_COUNTERS)}")
    return tuple(value)


def _counter(value: Any, where: str) -> int | None:
    number = _integer(value, where)
    if number is not None and number < 0:
        raise ReadingError(f"{where}: a page counter cannot be negative")
    return number


def _supply(value: Any, where: str) -> Supply:
    item = _object(value, where)
    kind = item.get("kind")
    if not isinstance(kind, str) or kind not in SUPPLY_KINDS:
        raise ReadingError(f"{where}.kind: one of {sorted(SUPPLY_KINDS)}")
    state = item.get("state")
    if not isinstance(state, str) or state not in SUPPLY_STATES:
        raise ReadingError(f"{where}.state: one of {sorted(SUPPLY_STATES)}")
    percent = _integer(item.get("percent"), f"{where}.percent")
    if percent is not None and not 0 <= percent <= 100:
        raise ReadingError(f"{where}.percent: must be within 0..100")
    return Supply(
        kind=kind,
        colour=_text(item.get("colour"), f"{where}.colour", field="supply.colour"),
        description=_text(
            item.get("description"), f"{where}.description", field="supply.description"
        ),
        level=_integer(item.get("level"), f"{where}.level"),
        max=_integer(item.get("max"), f"{where}.max"),
        percent=percent,
        state=state,
    )


def _alert(value: Any, where: str) -> Alert:
    item = _object(value, where)
    severity = item.get("severity")
    if not isinstance(severity, str) or severity not in ALERT_SEVERITIES:
        raise ReadingError(f"{where}.severity: one of {sorted(ALERT_SEVERITIES)}")
    return Alert(
        severity=severity,
        code=_text(item.get("code"), f"{where}.code", field="alert.code", required=True) or "",
        description=_text(
            item.get("description"), f"{where}.description", field="alert.description"
        ),
    )
