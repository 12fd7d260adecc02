"""The one engine that applies any :class:`VendorProfile` to an OID → value mapping.

Pure functions only: identification, the OIDs a profile needs, and turning the values into
identity fields, counters and (for vendors that pack them) supplies.  Every vendor is handled
by the same code; a vendor module only contributes data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from agent.mibs import (
    FIRST_PRINTER,
    HR_DEVICE_DESCR,
    HR_DEVICE_PRINTER,
    HR_DEVICE_TYPE,
    PRT_GENERAL_SERIAL,
    SYS_DESCR,
    SYS_OBJECT_ID,
    decode_counter,
    decode_int,
    decode_oid,
    decode_text,
    device_id_maker,
    device_id_model,
    parse_device_id,
)
from agent.snmp import Value
from agent.vendors.profile import ENTERPRISES, CounterTable, Sum, VendorProfile, fold_name
from shared.reading import Supply

#: Serial numbers that mean "the device does not say".
PLACEHOLDER_SERIALS: Final = frozenset(
    {"", "0", "-", "n/a", "na", "none", "null", "(null)", "unknown", "not available"}
)
#: hrDeviceDescr values some firmwares use instead of a model name (Konica's "Generic 28C-1").
_GENERIC_MODEL: Final = re.compile(r"^(generic|unknown|printer|none)\b", re.I)
_SERIES: Final = re.compile(r"\s+series$", re.I)
_DESCR_TAIL: Final = re.compile(
    r"\s+(?:version|kernel|rev\.?|firmware|fw|v\d[\d.]*|ver\.?)\b.*$", re.I
)
_PID_IN_DESCR: Final = re.compile(r"\bPID:\s*([^,;]+)")
_ATTACHED_TO: Final = re.compile(r"\bAttached to\s+([^\s:;,]+)", re.I)
_VERSION_TAIL: Final = re.compile(r"\s+v?\d+(?:\.\d+)+$", re.I)
#: sysDescr texts that describe a network card or print server, not the printer behind it.
_PRINT_SERVER: Final = re.compile(
    r"ETHERNET MULTI-ENVIRONMENT|JETDIRECT|Print ?Server|Built-in|\bNC-\d|Network Interface",
    re.I,
)
_MAX_MODEL: Final = 80


@dataclass(frozen=True, slots=True)
class VendorReading:
    """What the engine read from a device's values, before the reader's generic rules."""

    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    counters: Mapping[str, int] = field(default_factory=dict)
    supplies: tuple[Supply, ...] = ()
    derived: Mapping[str, Sum] = field(default_factory=dict)


# -- identification ---------------------------------------------------------------------------


def enterprise_of(oid: str | None) -> int | None:
    """The private enterprise number of an OID under ``1.3.6.1.4.1``, else None."""
    if not oid or not oid.startswith(ENTERPRISES):
        return None
    head = oid[len(ENTERPRISES) :].split(".", 1)[0]
    return int(head) if head.isdigit() else None


def by_text(text: str | None, profiles: Iterable[VendorProfile]) -> VendorProfile | None:
    """The vendor named earliest in ``text`` (so "Dell ... Lexmark engine" is Dell)."""
    if not text:
        return None
    best: tuple[int, VendorProfile] | None = None
    for profile in profiles:
        match = profile.names.search(text)
        if match is not None and (best is None or match.start() < best[0]):
            best = (match.start(), profile)
    return best[1] if best else None


def by_enterprise(number: int | None, profiles: Iterable[VendorProfile]) -> VendorProfile | None:
    """The vendor owning a private enterprise number."""
    if number is None:
        return None
    return next((p for p in profiles if number in p.enterprises), None)


def identify(
    values: Mapping[str, Value], profiles: Iterable[VendorProfile]
) -> VendorProfile | None:
    """Which vendor a device is: sysDescr text, then sysObjectID, then other self-descriptions.

    sysDescr comes first because OEM firmware often keeps the engine maker's sysObjectID (a
    Toshiba e-STUDIO reporting Lexmark's, an HP JetDirect card reporting Kyocera's).
    """
    profiles = tuple(profiles)
    found = by_text(decode_text(values.get(SYS_DESCR)), profiles) or by_enterprise(
        enterprise_of(decode_oid(values.get(SYS_OBJECT_ID))), profiles
    )
    if found is not None:
        return found
    for text in _self_descriptions(values, profiles):
        found = by_text(text, profiles)
        if found is not None:
            return found
    for oid in device_id_oids(profiles):
        if values.get(oid) is not None:
            found = by_enterprise(enterprise_of(oid), profiles)
            if found is not None:
                return found
    return None


def _self_descriptions(
    values: Mapping[str, Value], profiles: Iterable[VendorProfile]
) -> Iterable[str]:
    hr = decode_text(values.get(f"{HR_DEVICE_DESCR}.{printer_row(values)}"))
    if hr:
        yield hr
    for oid in device_id_oids(profiles):
        fields = parse_device_id(decode_text(values.get(oid)))
        for text in (device_id_maker(fields), device_id_model(fields)):
            if text:
                yield text


def device_id_oids(profiles: Iterable[VendorProfile]) -> tuple[str, ...]:
    """Every IEEE 1284 device-id OID any vendor publishes: the probe for unknown devices."""
    return tuple(dict.fromkeys(oid for p in profiles for oid in p.device_id_oids))


# -- identity fields --------------------------------------------------------------------------


def printer_row(values: Mapping[str, Value]) -> str:
    """The hrDeviceIndex of the printer (hrDeviceType = hrDevicePrinter), else "1"."""
    prefix = HR_DEVICE_TYPE + "."
    for oid, value in values.items():
        if oid.startswith(prefix) and value == HR_DEVICE_PRINTER:
            return oid[len(prefix) :]
    return "1"


def clean_model(text: str | None, profile: VendorProfile | None) -> str | None:
    """A model string without the maker's name in front or "series" behind."""
    if not text:
        return None
    model = text.strip()
    if profile is not None:
        for pattern in (profile.names, *(brand.pattern for brand in profile.brands)):
            match = pattern.match(model)
            if match is not None and match.end() < len(model):
                model = model[match.end() :].lstrip(" -_:")
    model = _SERIES.sub("", model).strip()
    return model[:_MAX_MODEL].strip() or None


def model_candidates(
    values: Mapping[str, Value],
    profile: VendorProfile | None,
    decoded: str | None,
    probes: Iterable[str] = (),
) -> Iterable[str]:
    """Model texts in order of trust: vendor model object or sysDescr pattern, hrDeviceDescr,
    1284 id, then whatever sysDescr seems to name."""
    pattern = profile.model_in_descr if profile else None
    found = pattern.search(decode_text(values.get(SYS_DESCR)) or "") if pattern else None
    if found:
        yield found.group("model")
    for oid in profile.model_oids if profile else ():
        text = decode_text(values.get(oid))
        fields = parse_device_id(text)
        model = device_id_model(fields) if fields else text
        if model:
            yield model
    hr = decode_text(values.get(f"{HR_DEVICE_DESCR}.{printer_row(values)}"))
    if hr and not _GENERIC_MODEL.match(hr):
        yield hr
    if decoded:
        yield decoded
    for oid in profile.device_id_oids if profile else probes:
        model = device_id_model(parse_device_id(decode_text(values.get(oid))))
        if model:
            yield model
    model = model_from_descr(decode_text(values.get(SYS_DESCR)))
    if model:
        yield model


def model_from_descr(descr: str | None) -> str | None:
    """The printer model a sysDescr names, if it names one (not a JetDirect-style card).

    ``PID:`` (HP) and ``Attached to`` (OkiLAN) name the printer behind a print server;
    otherwise the first segment before ``;``, ``,`` or `` /``, minus version words.
    """
    if not descr:
        return None
    for pattern in (_PID_IN_DESCR, _ATTACHED_TO):
        found = pattern.search(descr)
        if found:
            return found.group(1).strip()
    if _PRINT_SERVER.search(descr):
        return None
    head = re.split(r"[;,]|\s/", descr, maxsplit=1)[0]
    return _VERSION_TAIL.sub("", _DESCR_TAIL.sub("", head)).strip() or None


def pick_model(
    values: Mapping[str, Value],
    profile: VendorProfile | None,
    decoded: str | None = None,
    probes: Iterable[str] = (),
) -> str | None:
    """The first usable model text, cleaned (``probes``: 1284 id objects for unknown makers)."""
    for candidate in model_candidates(values, profile, decoded, probes):
        model = clean_model(candidate, profile)
        if model:
            return model
    return None


def pick_serial(values: Mapping[str, Value], profile: VendorProfile | None) -> str | None:
    """prtGeneralSerialNumber, else the vendor's serial object, else a serial in sysDescr."""
    oids = (PRT_GENERAL_SERIAL + FIRST_PRINTER, *(profile.serial_oids if profile else ()))
    for oid in oids:
        serial = decode_text(values.get(oid), limit=64)
        if serial and serial.casefold() not in PLACEHOLDER_SERIALS:
            return serial
    pattern = profile.serial_in_descr if profile else None
    descr = decode_text(values.get(SYS_DESCR))
    match = pattern.search(descr) if pattern and descr else None
    return match.group("serial") if match else None


def pick_firmware(values: Mapping[str, Value], profile: VendorProfile | None) -> str | None:
    """The vendor's firmware version object, if it has one."""
    for oid in profile.firmware_oids if profile else ():
        firmware = decode_text(values.get(oid), limit=64)
        if firmware:
            return firmware
    return None


def pick_manufacturer(
    values: Mapping[str, Value],
    profile: VendorProfile | None,
    model_text: str | None,
    probes: Iterable[str] = (),
) -> str | None:
    """The brand on the device: an OEM brand named in sysDescr or the model, else the vendor.

    For an unknown maker, the ``MFG`` of any IEEE 1284 id found at the ``probes`` OIDs.
    """
    if profile is None:
        for oid in probes:
            maker = device_id_maker(parse_device_id(decode_text(values.get(oid))))
            if maker:
                return maker
        return None
    for text in (decode_text(values.get(SYS_DESCR)), model_text):
        for brand in profile.brands:
            if text and brand.pattern.search(text):
                return brand.name
    return profile.manufacturer


# -- counters ---------------------------------------------------------------------------------


def table_counters(table: CounterTable, values: Mapping[str, Value]) -> dict[str, int]:
    """Counters of one vendor table: each row mapped by name, then type code, then index."""
    counters: dict[str, int] = {}
    prefix = table.value_column + "."
    rows = (
        ((oid[len(prefix) :], value) for oid, value in values.items() if oid.startswith(prefix))
        if table.walked
        else ((index, values.get(prefix + index)) for index in table.by_index)
    )
    for index, raw in rows:
        key = _row_key(table, index, values)
        number = decode_counter(raw)
        if key is not None and number is not None:
            counters.setdefault(key, number)
    return counters


def _row_key(table: CounterTable, index: str, values: Mapping[str, Value]) -> str | None:
    if table.name_column is not None:
        name = decode_text(values.get(f"{table.name_column}.{index}"))
        key = table.by_name.get(fold_name(name)) if name else None
        if key is not None:
            return key
    if table.code_column is not None:
        code = decode_int(values.get(f"{table.code_column}.{index}"))
        key = table.by_code.get(code) if code is not None else None
        if key is not None:
            return key
    return table.by_index.get(index)


def vendor_counters(
    values: Mapping[str, Value], profile: VendorProfile, decoded: Mapping[str, int]
) -> dict[str, int]:
    """All counters the vendor reports: scalar OIDs, then tables, then decoded blobs."""
    counters: dict[str, int] = {}
    for oid, key in profile.counter_oids.items():
        number = decode_counter(values.get(oid))
        if number is not None:
            counters.setdefault(key, number)
    for table in profile.counter_tables:
        for key, number in table_counters(table, values).items():
            counters.setdefault(key, number)
    for key, number in decoded.items():
        counters.setdefault(key, number)
    return counters


def derive_counters(
    counters: Mapping[str, int], rules: Mapping[str, Sum]
) -> tuple[dict[str, int], tuple[str, ...]]:
    """Counters with the vendor's sums filled in, and the keys that were computed.

    A counter the device reports is never replaced.  A sum is made only when every required
    part was read; and derived black + colour may not exceed the device's total (a capture
    whose parts overlap, or count something else, stays unbilled rather than guessed).
    """
    result = dict(counters)
    derived: list[str] = []
    for key, rule in rules.items():
        if key in result or not all(part in counters for part in rule.parts):
            continue
        present = [part for part in (*rule.parts, *rule.optional) if part in counters]
        result[key] = sum(counters[part] for part in present)
        derived.append(key)
    total = result.get("total")
    billed = [result[key] for key in ("mono", "colour") if key in result]
    if derived and total is not None and sum(billed) > total:
        for key in derived:
            del result[key]
        derived = []
    return result, tuple(derived)


# -- the whole profile ------------------------------------------------------------------------


def apply(
    values: Mapping[str, Value],
    profile: VendorProfile | None,
    profiles: Iterable[VendorProfile] = (),
) -> VendorReading:
    """Everything a profile (or none, for an unknown maker) reads from the values.

    ``profiles`` (all known vendors) only matter for an unknown maker: their IEEE 1284 id
    objects may still name it.
    """
    if profile is None:
        probes = device_id_oids(profiles)
        return VendorReading(
            manufacturer=pick_manufacturer(values, None, None, probes),
            model=pick_model(values, None, probes=probes),
            serial=pick_serial(values, None),
        )
    decoded = profile.decoder(values) if profile.decoder else None
    model = pick_model(values, profile, decoded.model if decoded else None)
    return VendorReading(
        manufacturer=pick_manufacturer(values, profile, model),
        model=model,
        serial=pick_serial(values, profile),
        firmware=pick_firmware(values, profile),
        counters=vendor_counters(values, profile, decoded.counters if decoded else {}),
        supplies=decoded.supplies if decoded else (),
        derived=profile.derived,
    )
