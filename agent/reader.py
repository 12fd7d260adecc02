"""One device → one :class:`Reading`: about two round trips of SNMP, then pure interpretation.

:func:`read_device` does the I/O: a GET of the identity scalars, then (the vendor now known)
one multi-column GETBULK stream of the standard and vendor tables concurrently with a GET of
the vendor's scalars.  :func:`build_reading` turns the merged OID → value mapping into the
contract's reading without touching the network, so tests feed it a dict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Final

from agent.mibs import (
    ALERT_CODE,
    ALERT_DESCRIPTION,
    ALERT_GROUP,
    ALERT_SEVERITY,
    COLORANT_VALUE,
    ETHERNET_IF_TYPES,
    FIRST_MARKER,
    FIRST_PRINTER,
    HR_DEVICE_STATUS,
    HR_PRINTER_ERROR_STATE,
    IDENTITY_SCALARS,
    IF_PHYS_ADDRESS,
    IF_TYPE,
    INKJET_MARK_TECH,
    NON_HARDWARE_IF_TYPES,
    PRT_MARKER_LIFE_COUNT,
    PRT_MARKER_MARK_TECH,
    PRT_MARKER_PROCESS_COLORANTS,
    STANDARD_COLUMNS,
    SUPPLY_COLORANT_INDEX,
    SUPPLY_DESCRIPTION,
    SUPPLY_LEVEL,
    SUPPLY_MAX,
    SUPPLY_TYPE,
    SYS_DESCR,
    SYS_OBJECT_ID,
    colour_from_words,
    decode_alert,
    decode_counter,
    decode_device_status,
    decode_error_state,
    decode_int,
    decode_oid,
    decode_text,
    format_mac,
    supply_kind,
)
from agent.snmp import DeviceUnreachable, SnmpClient, SnmpError, Target, Value
from agent.vendors import PROFILES
from agent.vendors.engine import (
    VendorReading,
    apply,
    derive_counters,
    device_id_oids,
    identify,
)
from agent.vendors.profile import VendorProfile
from shared.reading import COUNTER_KEYS, Alert, Counters, Device, Reading, Supply, utc_now

MAX_SUPPLIES: Final = 64
MAX_ALERTS: Final = 64
DEFAULT_CONCURRENCY: Final = 32
_MARKER_KINDS: Final = frozenset({"toner", "ink"})


class DeviceReadError(SnmpError):
    """The device answered but its reading could not be built (reported, never a crash)."""


# -- I/O ---------------------------------------------------------------------------------------


async def read_device(
    client: SnmpClient,
    target: Target,
    *,
    profiles: Sequence[VendorProfile] = PROFILES,
    clock: Callable[[], datetime] = utc_now,
    identity: Mapping[str, Value] | None = None,
) -> Reading:
    """Read one device; raises :class:`DeviceUnreachable` if it does not answer the first GET.

    A device that answers the first GET and then falls silent also raises
    :class:`DeviceUnreachable`: half a reading would report its missing counters as "not
    reported", which is false, so no reading is better than a wrong one.

    ``identity`` is the answer to a GET of at least :data:`IDENTITY_SCALARS` the caller already
    has (a discovery sweep's probe): that first round trip is then not repeated.
    """
    if identity is None:
        values: dict[str, Value] = await client.get(target, IDENTITY_SCALARS)
    else:
        values = dict(identity)
    observed_at = clock()
    try:
        profile = identify(values, profiles)
        if profile is None:  # no sysObjectID/sysDescr we know: ask the IEEE 1284 id objects
            values.update(await client.get(target, device_id_oids(profiles)))
            profile = identify(values, profiles)
        columns = STANDARD_COLUMNS + (profile.table_columns() if profile else ())
        scalars = profile.scalar_oids() if profile else ()
        walked, extra = await _both(
            client.walk_columns(target, columns), client.get(target, scalars)
        )
    except DeviceUnreachable as err:
        raise DeviceUnreachable(f"{target.address} stopped answering SNMP mid-read") from err
    values.update(walked)
    values.update(extra)
    if profile is not None and not _has_supplies(values):
        values.update(await _from_printer_contexts(client, target, profile, values))
    return build_reading(target.address, observed_at, values, profiles=profiles)


def _has_supplies(values: Mapping[str, Value]) -> bool:
    prefix = SUPPLY_LEVEL + "."
    return any(oid.startswith(prefix) for oid in values)


async def _from_printer_contexts(
    client: SnmpClient, target: Target, profile: VendorProfile, values: Mapping[str, Value]
) -> dict[str, Value]:
    """The Printer-MIB from the vendor's printer context, where the default one lacks it.

    A context the device does not have costs one timeout and adds nothing.
    """
    for context in profile.printer_contexts:
        scoped = target.in_context(context)
        try:
            walked, scalars = await _both(
                client.walk_columns(scoped, STANDARD_COLUMNS), client.get(scoped, IDENTITY_SCALARS)
            )
        except SnmpError:
            continue
        if _has_supplies(walked):
            found = {k: v for k, v in scalars.items() if v is not None and values.get(k) is None}
            return {**found, **walked}
    return {}


async def _both(
    first: Awaitable[dict[str, Value]], second: Awaitable[dict[str, Value]]
) -> tuple[dict[str, Value], dict[str, Value]]:
    """Run two requests concurrently and let both finish before raising either's error.

    Leaving one in flight would have the dispatcher close under a pending request.
    """
    left, right = await asyncio.gather(first, second, return_exceptions=True)
    if isinstance(left, BaseException):
        raise left
    if isinstance(right, BaseException):
        raise right
    return left, right


async def read_many(
    client: SnmpClient,
    targets: Iterable[Target],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    profiles: Sequence[VendorProfile] = PROFILES,
    clock: Callable[[], datetime] = utc_now,
) -> list[Reading | SnmpError]:
    """Read devices independently, at most ``concurrency`` at a time, results in input order.

    A device that fails gives its :class:`SnmpError` in its slot; the others are unaffected.
    """
    limit = asyncio.Semaphore(max(1, concurrency))

    async def one(target: Target) -> Reading | SnmpError:
        async with limit:
            try:
                return await read_device(client, target, profiles=profiles, clock=clock)
            except SnmpError as err:
                return err
            except Exception as err:  # a device's data must never stop the fleet's cycle
                failure = DeviceReadError(f"{target.address}: {type(err).__name__}: {err}")
                failure.__cause__ = err
                return failure

    return list(await asyncio.gather(*(one(target) for target in targets)))


# -- interpretation ----------------------------------------------------------------------------


def build_reading(
    address: str,
    observed_at: datetime,
    values: Mapping[str, Value],
    *,
    profiles: Sequence[VendorProfile] = PROFILES,
) -> Reading:
    """The contract's reading from an OID → value mapping; pure, never raises on bad values."""
    profile = identify(values, profiles)
    vendor = apply(values, profile, profiles)
    supplies = standard_supplies(values) or vendor.supplies
    counters, derived = build_counters(values, vendor, colour_capable(values, supplies))
    return Reading(
        address=address,
        observed_at=observed_at,
        device=build_device(values, vendor),
        counters=counters,
        supplies=supplies,
        alerts=build_alerts(values),
        derived=derived,
    )


def build_device(values: Mapping[str, Value], vendor: VendorReading) -> Device:
    """Identity fields: the vendor engine's picks plus the MAC and the raw sys* objects."""
    return Device(
        manufacturer=vendor.manufacturer,
        model=vendor.model,
        serial=vendor.serial,
        mac=pick_mac(values),
        firmware=vendor.firmware,
        sys_object_id=decode_oid(values.get(SYS_OBJECT_ID)),
        sys_descr=decode_text(values.get(SYS_DESCR)),
    )


def rows(values: Mapping[str, Value], *columns: str) -> list[str]:
    """Row indexes present in any of the columns, in numeric order (``"1.10"`` after ``"1.9"``)."""
    found: set[str] = set()
    for column in columns:
        prefix = column + "."
        found.update(oid[len(prefix) :] for oid in values if oid.startswith(prefix))
    return sorted(found, key=_index_key)


def _index_key(index: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in index.split("."))


def is_inkjet(values: Mapping[str, Value]) -> bool:
    """True when prtMarkerMarkTech names an inkjet engine."""
    return decode_int(values.get(PRT_MARKER_MARK_TECH + FIRST_MARKER)) in INKJET_MARK_TECH


def standard_supplies(values: Mapping[str, Value]) -> tuple[Supply, ...]:
    """One supply per prtMarkerSuppliesTable row, coloured by colorant then by description."""
    inkjet = is_inkjet(values)
    supplies = []
    for index in rows(values, SUPPLY_DESCRIPTION, SUPPLY_LEVEL, SUPPLY_MAX, SUPPLY_TYPE):
        description = decode_text(values.get(f"{SUPPLY_DESCRIPTION}.{index}"))
        kind = supply_kind(
            decode_int(values.get(f"{SUPPLY_TYPE}.{index}")), description, inkjet=inkjet
        )
        colour = colorant_colour(values, index) or colour_from_words(description)
        supplies.append(
            Supply.from_raw(
                kind,
                colour,
                description,
                decode_int(values.get(f"{SUPPLY_LEVEL}.{index}")),
                decode_int(values.get(f"{SUPPLY_MAX}.{index}")),
            )
        )
    return tuple(supplies[:MAX_SUPPLIES])


def colorant_colour(values: Mapping[str, Value], supply_index: str) -> str | None:
    """The colour of a supply's prtMarkerColorantEntry (same hrDeviceIndex), if it names one."""
    colorant = decode_int(values.get(f"{SUPPLY_COLORANT_INDEX}.{supply_index}"))
    if colorant is None or colorant <= 0:
        return None
    device_index = supply_index.split(".", 1)[0]
    return colour_from_words(decode_text(values.get(f"{COLORANT_VALUE}.{device_index}.{colorant}")))


def colour_capable(values: Mapping[str, Value], supplies: Sequence[Supply]) -> bool | None:
    """True for a colour device, False for one known to be mono, None when nothing says.

    Known mono: prtMarkerProcessColorants is 1, or the colorant table names only black, or
    every toner/ink supply is black.  Anything naming another colour means colour.
    """
    colorants = decode_int(values.get(PRT_MARKER_PROCESS_COLORANTS + FIRST_MARKER))
    if colorants is not None and colorants >= 1:
        return colorants > 1
    named = {
        colour_from_words(decode_text(values.get(f"{COLORANT_VALUE}.{index}")))
        for index in rows(values, COLORANT_VALUE)
    } - {None}
    if named:
        return named != {"black"}
    if any(s.colour not in (None, "black") for s in supplies):
        return True
    markers = {s.colour for s in supplies if s.kind in _MARKER_KINDS}
    return False if markers == {"black"} else None


def build_counters(
    values: Mapping[str, Value], vendor: VendorReading, colour: bool | None
) -> tuple[Counters, tuple[str, ...]]:
    """The contract's counters, and which of them were computed rather than read.

    ``total`` is the vendor's billing total when it has one, else prtMarkerLifeCount.  Where
    the vendor's data defines black/colour totals as sums of split counters (print, copy, fax)
    they are derived from those parts.  On a device known to be mono, ``mono`` = ``total`` and
    ``colour`` = 0; otherwise an unreported counter stays None, never a guessed 0.
    """
    counters = dict(vendor.counters)
    life = decode_counter(values.get(PRT_MARKER_LIFE_COUNT + FIRST_MARKER))
    if counters.get("total") is None and life is not None:
        counters["total"] = life
    counters, derived = derive_counters(counters, vendor.derived)
    marked = list(derived)
    if colour is False:
        if "mono" not in counters and "total" in counters:
            counters["mono"] = counters["total"]
            marked.append("mono")
        if "colour" not in counters:
            counters["colour"] = 0
            marked.append("colour")
    counted = Counters(**{key: counters.get(key) for key in COUNTER_KEYS})
    return counted, tuple(key for key in ("mono", "colour") if key in marked)


def build_alerts(values: Mapping[str, Value]) -> tuple[Alert, ...]:
    """Active alerts: prtAlertTable rows, then error-state bits and a down status not yet said."""
    alerts: list[Alert] = []
    for index in rows(values, ALERT_SEVERITY, ALERT_CODE, ALERT_DESCRIPTION, ALERT_GROUP):
        alert = decode_alert(
            values.get(f"{ALERT_SEVERITY}.{index}"),
            values.get(f"{ALERT_CODE}.{index}"),
            values.get(f"{ALERT_DESCRIPTION}.{index}"),
            values.get(f"{ALERT_GROUP}.{index}"),
        )
        if alert is not None and alert not in alerts:
            alerts.append(alert)
    reported = {alert.code for alert in alerts}
    for alert in decode_error_state(values.get(HR_PRINTER_ERROR_STATE + FIRST_PRINTER)):
        if alert.code not in reported:
            alerts.append(alert)
    down = decode_device_status(values.get(HR_DEVICE_STATUS + FIRST_PRINTER))
    if down is not None:
        alerts.append(down)
    return tuple(alerts[:MAX_ALERTS])


def pick_mac(values: Mapping[str, Value]) -> str | None:
    """The first valid ifPhysAddress of an Ethernet-like interface, else of any real one."""
    fallback = None
    for index in rows(values, IF_PHYS_ADDRESS):
        mac = format_mac(values.get(f"{IF_PHYS_ADDRESS}.{index}"))
        if mac is None:
            continue
        if_type = decode_int(values.get(f"{IF_TYPE}.{index}"))
        if if_type in ETHERNET_IF_TYPES:
            return mac
        if fallback is None and if_type not in NON_HARDWARE_IF_TYPES:
            fallback = mac
    return fallback
