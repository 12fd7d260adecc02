"""One device reading: the contract both the agent and the ingest service speak.

The JSON shape is fixed by ``contracts/reading.md``: ``scm-agent read --json`` prints it and every
upload batch carries a list of it.  These frozen msgspec structs are the only place that shape is
spelled out: ``to_dict`` writes it, the ingest decodes untrusted uploads straight into them (in
C, ``reading_from_json`` and ``shared.batch``), and ``checked_reading`` takes over wherever that
decoder cannot vouch for a reading, so a malformed one is refused with a message naming the
field, never stored half-understood.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from operator import attrgetter
from typing import Annotated, Any, Final, Literal, TypeVar, get_args

import msgspec
import orjson

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
SupplyKind = Literal[
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
]
SupplyState = Literal["ok", "low", "empty", "some_remaining", "unknown"]
#: Which clock stamped ``observed_at``: the agent's own, or its own corrected by the offset it
#: learnt from the server's ``server_time``.  Absent in the JSON means "local".
Clock = Literal["server", "local"]
#: Counters an agent may compute from other counters (through vendor data), never guess.
DerivableCounter = Literal["mono", "colour"]
AlertSeverity = Literal["critical", "warning", "info"]
SUPPLY_KINDS: Final = frozenset(get_args(SupplyKind))
SUPPLY_STATES: Final = frozenset(get_args(SupplyState))
CLOCKS: Final = frozenset(get_args(Clock))
DERIVABLE_COUNTERS: Final = frozenset(get_args(DerivableCounter))
ALERT_SEVERITIES: Final = frozenset(get_args(AlertSeverity))

#: Printer-MIB sentinels for prtMarkerSuppliesLevel / MaxCapacity.
LEVEL_OTHER: Final = -1
LEVEL_UNKNOWN: Final = -2
LEVEL_SOME_REMAINING: Final = -3

#: At or below this percentage a supply counts as "low" when the device gives a numeric level.
LOW_PERCENT: Final = 10

_MAC_RE: Final = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z")
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


_Decoded = TypeVar("_Decoded")


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
    """Parse an RFC 3339 timestamp (msgspec's parser, the one the fast path decodes with, so
    both build the same moment); a naive one is refused because its zone would be a guess.
    Strictly RFC 3339, as agents write it (``format_timestamp``): ISO 8601's other forms
    (``20261120T100000Z``, ``10:00Z`` without seconds, week dates) are refused."""
    if not isinstance(text, str):
        raise ReadingError(f"{where}: expected an RFC 3339 timestamp string")
    try:
        moment = msgspec.convert(text, datetime)
    except (msgspec.ValidationError, UnicodeEncodeError) as err:
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


def _limited(limit: int) -> Any:
    """Text of at most ``limit`` characters (NUL and lone surrogates: see ``plain_json``)."""
    return Annotated[str, msgspec.Meta(max_length=limit)]


_Mac = Annotated[str, msgspec.Meta(max_length=TEXT_LIMITS["device.mac"], pattern=_MAC_RE.pattern)]
_Counter = Annotated[int, msgspec.Meta(ge=0, le=_MAX_COUNTER)]
_Level = Annotated[int, msgspec.Meta(ge=-_MAX_COUNTER, le=_MAX_COUNTER)]
_Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]


class Device(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who the device says it is; ``None`` means the device does not say."""

    manufacturer: _limited(TEXT_LIMITS["device.manufacturer"]) | None = None  # type: ignore[valid-type]
    model: _limited(TEXT_LIMITS["device.model"]) | None = None  # type: ignore[valid-type]
    serial: _limited(TEXT_LIMITS["device.serial"]) | None = None  # type: ignore[valid-type]
    mac: _Mac | None = None
    firmware: _limited(TEXT_LIMITS["device.firmware"]) | None = None  # type: ignore[valid-type]
    sys_object_id: _limited(TEXT_LIMITS["device.sys_object_id"]) | None = None  # type: ignore[valid-type]
    sys_descr: _limited(TEXT_LIMITS["device.sys_descr"]) | None = None  # type: ignore[valid-type]


class Counters(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Lifetime page counters; ``None`` means "not reported", never zero."""

    total: _Counter | None = None
    mono: _Counter | None = None
    colour: _Counter | None = None
    print_mono: _Counter | None = None
    print_colour: _Counter | None = None
    copy_mono: _Counter | None = None
    copy_colour: _Counter | None = None
    fax: _Counter | None = None
    scan: _Counter | None = None
    duplex: _Counter | None = None


class Supply(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One consumable slot, with the raw MIB level and max kept beside the derived percent."""

    kind: SupplyKind
    colour: _limited(TEXT_LIMITS["supply.colour"]) | None  # type: ignore[valid-type]
    description: _limited(TEXT_LIMITS["supply.description"]) | None  # type: ignore[valid-type]
    level: _Level | None
    max: _Level | None
    percent: _Percent | None
    state: SupplyState

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
            kind=kind,  # type: ignore[arg-type]
            colour=colour,
            description=description,
            level=level,
            max=max_capacity,
            percent=supply_percent(level, max_capacity),
            state=supply_state(level, max_capacity),  # type: ignore[arg-type]
        )


class Alert(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An active alert on the device."""

    severity: AlertSeverity
    code: _limited(TEXT_LIMITS["alert.code"])  # type: ignore[valid-type]
    description: _limited(TEXT_LIMITS["alert.description"]) | None = None  # type: ignore[valid-type]


class Reading(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """Everything one poll of one device produced.

    A msgspec ``Struct``: the same class is the decoder's schema (``reading_from_json``), so an
    upload is parsed and checked against the contract in C, and written back to JSON in C
    (``to_json``).  ``omit_defaults`` leaves out ``clock`` and ``derived`` when unset, as the
    contract does; every other field is always written.
    """

    address: _limited(TEXT_LIMITS["address"])  # type: ignore[valid-type]
    observed_at: datetime
    device: Device
    counters: Counters
    supplies: Annotated[tuple[Supply, ...], msgspec.Meta(max_length=_MAX_SUPPLIES)]
    alerts: Annotated[tuple[Alert, ...], msgspec.Meta(max_length=_MAX_ALERTS)]
    #: "server" or "local" (see ``CLOCKS``); None when the agent does not say.
    clock: Clock | None = None
    #: Counters the agent computed from split counters rather than read (e.g. ``("mono",)``).
    derived: tuple[DerivableCounter, ...] = ()

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
            "device": dict(zip(Device.__struct_fields__, _DEVICE_VALUES(self.device), strict=True)),
            "counters": dict(zip(COUNTER_KEYS, COUNTER_VALUES(self.counters), strict=True)),
            "supplies": [
                dict(zip(Supply.__struct_fields__, SUPPLY_VALUES(s), strict=True))
                for s in self.supplies
            ],
            "alerts": [
                dict(zip(Alert.__struct_fields__, _ALERT_VALUES(a), strict=True))
                for a in self.alerts
            ],
            **optional,
        }

    def to_json(self) -> bytes:
        """``to_dict`` as compact JSON, written in C when the moment is a whole second in UTC
        (as agents stamp them); other moments go through ``to_dict``, which drops the fraction
        and converts the zone as the contract wants."""
        moment = self.observed_at
        if moment.tzinfo is UTC and not moment.microsecond:
            return _ENCODER.encode(self)
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> Reading:
        """Check an untrusted reading (parsed JSON) against the contract and build it."""
        return checked_reading(data)


#: Each class's field values in field order, read in C (``to_dict`` runs per stored reading).
_DEVICE_VALUES: Final = attrgetter(*Device.__struct_fields__)
COUNTER_VALUES: Final = attrgetter(*COUNTER_KEYS)
SUPPLY_VALUES: Final = attrgetter(*Supply.__struct_fields__)
_ALERT_VALUES: Final = attrgetter(*Alert.__struct_fields__)
_ENCODER: Final = msgspec.json.Encoder()
_DECODER: Final = msgspec.json.Decoder(Reading)


def reading_from_json(raw: bytes) -> Reading:
    """One reading from its JSON text; raises ReadingError naming the field at fault."""
    return decoded_reading(raw) or checked_reading(parse_json(raw, "reading"))


def decoded_reading(raw: bytes) -> Reading | None:
    """The reading decoded in C, or None wherever ``checked_reading`` must judge: whatever
    this returns, the careful path would build the same (``tests/shared/test_reading_paths``)."""
    reading = decode_plain(_DECODER, raw)
    return reading if reading is not None and decoded_as_checked(reading) else None


def decode_plain(decoder: msgspec.json.Decoder[_Decoded], raw: bytes) -> _Decoded | None:
    """What msgspec's ``decoder`` makes of ``raw``; None where the text is not plain
    (``plain_json``) or the decoder refuses it, both for the careful path to judge."""
    if not plain_json(raw):
        return None
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None


def parse_json(raw: bytes, what: str) -> Any:
    """Strict, bounded JSON: orjson refuses nesting deeper than 1024, invalid UTF-8, lone
    surrogates and numbers beyond a double, so hostile input costs a ``ReadingError`` (naming
    ``what`` it was), never a ``RecursionError``."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise ReadingError(f"{what} is not valid JSON: {err}") from err


def plain_json(raw: bytes) -> bool:
    """JSON text whose every string msgspec's decoder checks as ``checked_reading`` does.

    The decoder refuses lone surrogates, control characters, invalid UTF-8 in the strings it
    reads and every field the contract does not name (``forbid_unknown_fields``: an unknown
    field may hold what orjson refuses, such as ``1e400``), but it lets ``\\u0000`` through;
    NUL is the careful path's to refuse, so its escape sends the text there (``\\\\u0000``, a
    harmless escaped backslash, only costs the careful path).  Invalid UTF-8 anywhere goes
    there too, whatever the decoder would make of it."""
    if b"\\u0000" in raw:
        return False
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decoded_as_checked(reading: Reading) -> bool:
    """What msgspec's types cannot say, tested on a decoded reading: its moment in UTC (another
    zone is converted by the careful path) within ``_YEARS``, and ``derived`` without repeats.
    True means ``checked_reading`` builds the very same reading."""
    derived = reading.derived
    return decoded_moment_as_checked(reading.observed_at) and (
        not derived or len(set(derived)) == len(derived)
    )


def decoded_moment_as_checked(moment: datetime) -> bool:
    """A moment msgspec decoded that ``parse_timestamp`` would return unchanged."""
    return moment.tzinfo is UTC and moment.year in _YEARS


def checked_reading(data: Any) -> Reading:
    """A reading checked field by field in Python; a ``ReadingError`` names the field at
    fault.  The careful path: anything the fast one (``decoded_reading``) cannot vouch for."""
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
        clock=_clock(data.get("clock")),  # type: ignore[arg-type]
        derived=_derived(data.get("derived")),  # type: ignore[arg-type]
    )


def _checked_device(device: dict[str, Any]) -> dict[str, str | None]:
    values = {name: _text(device.get(name), f"device.{name}") for name in Device.__struct_fields__}
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
