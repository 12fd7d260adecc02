"""Device identity: which stored device a reading belongs to.

The rule, in one place: a device is its manufacturer plus serial number; where the device gives
no usable serial, its MAC address; where it gives neither, the address it was read at together
with its make and model (the only handle left, flagged by its ``addr:`` prefix).  The IP
address is never part of a serial or MAC identity, so a printer that DHCP moved stays the same
device.  A device first known by MAC only
is upgraded in place to its serial identity when a later reading names the serial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final

import orjson
from sqlalchemy import ColumnElement, and_, bindparam, case, func, select, union, update
from sqlalchemy.orm import Session

from ingest.domain.bulk import DatabaseMemory, core, insert_rows, is_postgres, where_in
from ingest.models import Device, DeviceReading
from shared.identity import address_key, mac_key, manufacturer_key, serial_key
from shared.reading import Device as DeviceInfo

__all__ = [
    "IdentityKeys",
    "Sighting",
    "identity_keys",
    "identity_order",
    "manufacturer_key",
    "merge_batch_devices",
    "resolve_device",
    "resolve_devices",
]


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
    """The identity keys of what a reading says about its device (``shared.identity``).

    Remembered for the last 16,384 devices: a device says the same every poll, and working the
    keys out again cost 7 µs a reading, 0.7 ms of every upload.  Only what the keys depend on
    is kept, and only up to ``_REMEMBERED_CHARS`` of it (a printer's words are far shorter):
    measured at most 1.7 KB an entry (28 MB in all) whatever an agent sends, 0.66 KB (11 MB)
    for real printers."""
    words = (info.manufacturer, info.model, info.serial, info.mac, address)
    if sum(len(word) for word in words if word) > _REMEMBERED_CHARS:
        return _identity_keys.__wrapped__(*words)
    return _identity_keys(*words)


_REMEMBERED_CHARS: Final = 256


@lru_cache(maxsize=16_384)
def _identity_keys(
    manufacturer: str | None, model: str | None, serial: str | None, mac: str | None, address: str
) -> IdentityKeys:
    info = DeviceInfo(manufacturer=manufacturer, model=model, serial=serial, mac=mac)
    return IdentityKeys(
        serial=serial_key(info), mac=mac_key(info), address=address_key(info, address)
    )


#: ``last_seen_at`` of a device known only from readings that do not count: never seen.
NEVER: Final = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Sighting:
    """One reading's word about its device.  ``seen_at`` is None for a reading that must not
    count (dated in the future or too old): it still names the device, but moves no date."""

    info: DeviceInfo
    address: str
    seen_at: datetime | None
    reading_id: int | None = None

    @classmethod
    def of_reading(
        cls,
        info: DeviceInfo,
        address: str,
        observed_at: datetime,
        flag: str | None,
        reading_id: int | None,
    ) -> Sighting:
        """What a stored reading says: a flagged one (``intake.reading_flag``) dates nothing."""
        return cls(info, address, None if flag else observed_at, reading_id)


@dataclass(slots=True)
class _Known:
    identity: str
    mac: str | None
    id: int | None = None
    renamed_from: str | None = None


@dataclass(slots=True)
class _Index:
    """The customer's devices a batch can touch, by identity and by MAC, kept as it resolves."""

    by_identity: dict[str, _Known] = field(default_factory=dict)
    by_mac: dict[str, list[_Known]] = field(default_factory=dict)

    def add(self, known: _Known) -> None:
        self.by_identity[known.identity] = known
        if known.mac:
            self.by_mac.setdefault(known.mac, []).append(known)


def resolve_device(
    session: Session, customer_id: int, info: DeviceInfo, address: str, seen_at: datetime
) -> Device:
    """The customer's device this reading is about, created or upgraded as the rule says."""
    [device_id] = resolve_devices(session, customer_id, [Sighting(info, address, seen_at)], seen_at)
    device = session.get(Device, device_id, populate_existing=True)
    assert device is not None
    return device


def resolve_devices(
    session: Session,
    customer_id: int,
    sightings: list[Sighting],
    now: datetime,
    *,
    state_later: bool = False,
) -> list[int]:
    """The device id of every sighting, in order: one query to find the customer's devices,
    renames for devices upgraded to their serial, one ``insert ... on conflict`` for the rest.

    The upsert takes its rows in identity order, so concurrent batches lock shared devices in
    the same order and never deadlock; a device two batches create at once is one row.

    With ``state_later`` (the upload, whose follow-up job runs ``merge_batch_devices``), a batch
    whose devices are all known, none renamed, writes no device row at all: their latest state
    is merged by the follow-up, off the request path.  That upsert was about a fifth of an
    upload's cost (the server's and the web worker's, measured); new devices and renames are
    still written here, so a reading never names a device that is not stored.
    """
    keys = [identity_keys(s.info, s.address) for s in sightings]
    index = _load(session, customer_id, keys)
    devices = [_target(index, k, s.info) for k, s in zip(keys, sightings, strict=True)]
    stored = [device.id for device in devices if device.renamed_from is None]
    if state_later and len(stored) == len(devices) and None not in stored:
        return stored  # type: ignore[return-value]  # None is not among them
    # Read only now: a later sighting of the batch may have upgraded an earlier one's device.
    targets = [device.identity for device in devices]
    for known in index.by_identity.values():
        if known.renamed_from is not None and known.id is not None:
            session.execute(
                update(Device).where(Device.id == known.id).values(identity=known.identity)
            )
    ids = _upsert(session, customer_id, _merged(customer_id, sightings, targets, now), index)
    return [ids[target] for target in targets]


def _load(session: Session, customer_id: int, keys: list[IdentityKeys]) -> _Index:
    """The customer's devices these keys can match.

    First by serial alone (one index probe per device: nearly every reading of a known printer
    stops here, and on PostgreSQL a batch of printers seen stored by serial needs no query at
    all: ``_serial_ids``); then every key of the readings still unmatched (new devices,
    devices known by MAC or address), whose rule needs them all.
    """
    index = _Index()
    serials = sorted({key.serial for key in keys if key.serial})
    stored = _serial_ids(session)
    if stored is not None and all(key.serial for key in keys):
        ids = stored.ids(customer_id, serials)
        if ids is not None:
            for serial, device_id in zip(serials, ids, strict=True):
                index.add(_Known(serial, None, device_id))
            return index
    if serials:
        _add_found(session, index, customer_id, serials, [])
        if stored is not None:
            stored.remember(
                customer_id,
                {k: found.id for k in serials if (found := index.by_identity.get(k)) and found.id},
            )
    rest = [key for key in keys if not key.serial or key.serial not in index.by_identity]
    identities = {k for key in rest for k in (key.serial, key.mac, key.address) if k}
    macs = {key.mac.removeprefix("mac:") for key in rest if key.mac}
    if identities:
        _add_found(session, index, customer_id, sorted(identities), sorted(macs))
    return index


@dataclass(slots=True)
class _SerialIds:
    """The serial identities a database was seen to hold, with their device ids, by customer
    (bounded: forgotten whole past ``limit``: about 150 bytes an entry, 30 MB at the limit)."""

    by_customer: dict[int, dict[str, int]] = field(default_factory=dict)
    size: int = 0
    limit: int = 200_000

    def ids(self, customer_id: int, serials: list[str]) -> list[int] | None:
        """The device ids of ``serials``, in order, when every one is known; else None."""
        known = self.by_customer.get(customer_id)
        if known is None:
            return None
        try:
            return [known[serial] for serial in serials]
        except KeyError:
            return None

    def remember(self, customer_id: int, found: dict[str, int]) -> None:
        known = self.by_customer.setdefault(customer_id, {})
        new = found.keys() - known.keys()
        if self.size + len(new) > self.limit:
            self.by_customer.clear()
            self.size = 0
            known = self.by_customer[customer_id] = {}
            new = found.keys()
        known.update(found)
        self.size += len(new)


#: Per database, on PostgreSQL only: see ``_load``.
_SERIAL_IDS: Final = DatabaseMemory(_SerialIds)


def _serial_ids(session: Session) -> _SerialIds | None:
    """PostgreSQL: the serial identities this database holds and their devices' ids, as far as
    lookups have seen.

    A device stored under its serial keeps that identity and its id for ever (identities are
    only ever upgraded *to* a serial, and devices are never deleted), so a batch of such
    devices needs no lookup (and, on the upload, no statement at all: ``resolve_devices``).
    The lookup serves only the identity rule (a device known by MAC or address that now names
    its serial), which cannot apply to a serial already stored.  Filled only from what lookups
    read (committed rows, on the upload path before its transaction writes any device: an id
    its own insert made could vanish with a rollback).  Whoever breaks that rule (a tool that
    deletes or merges devices, a restored backup) must restart the web workers, or a batch
    could store a second device beside one known by MAC, or readings of a device that is
    gone.  SQLite always looks up (in-process, cheap).
    """
    return _SERIAL_IDS.of(session) if is_postgres(session) else None


def _add_found(
    session: Session, index: _Index, customer_id: int, identities: list[str], macs: list[str]
) -> None:
    statement = _lookup_statement(is_postgres(session), bool(macs))
    found = core(session).execute(
        statement, {"customer": customer_id, "identities": identities, "macs": macs}
    )
    for device_id, identity, mac in found:
        if identity not in index.by_identity:
            index.add(_Known(identity, mac, device_id))


@lru_cache(maxsize=4)
def _lookup_statement(postgres: bool, by_mac: bool) -> Any:
    """A customer's devices by identity (and by MAC): built once per backend and shape.

    Two lookups (``bulk.where_in``), not one ``identity in (...) or mac in (...)``, which
    PostgreSQL answers by testing every key against every device of the customer.
    """
    found = select(Device.id, Device.identity, Device.mac).where(
        Device.customer_id == bindparam("customer")
    )
    statement: Any = where_in(postgres, found, Device.identity, "identities")
    if by_mac:
        statement = union(statement, where_in(postgres, found, Device.mac, "macs"))
    return statement


def _target(index: _Index, keys: IdentityKeys, info: DeviceInfo) -> _Known:
    """The device this reading belongs to, after the rule in the docstring (its identity may
    still change: a later reading of the batch can name its serial)."""
    found = _find(index, keys)
    if found is None:
        found = _Known(keys.primary, info.mac)
        index.add(found)
    elif keys.serial and found.identity != keys.serial:
        # Known by MAC or address until now: upgrade in place.
        del index.by_identity[found.identity]
        found.renamed_from = found.renamed_from or found.identity
        found.identity = keys.serial
        index.by_identity[found.identity] = found
    return found


def _find(index: _Index, keys: IdentityKeys) -> _Known | None:
    """By serial, then by MAC (only a device not already pinned to another serial)."""
    if keys.serial and (known := index.by_identity.get(keys.serial)):
        return known
    if keys.mac:
        if known := index.by_identity.get(keys.mac):
            return known
        candidates = index.by_mac.get(keys.mac.removeprefix("mac:"), [])
        if not keys.serial and len(candidates) == 1:
            return candidates[0]
    if not keys.serial and not keys.mac:
        return index.by_identity.get(keys.address)
    return None


def identity_order(session: Session) -> ColumnElement[Any]:
    """Devices in the order an upload's upsert locks them: its rows are sorted by identity in
    Python, that is by code point, which PostgreSQL's ``C`` collation (SQLite's default) is.
    Whoever else locks several devices takes them in this order too, so nobody deadlocks with
    an upload (the language's collation would sort ``SH-10`` and ``sh-9`` otherwise)."""
    identity = Device.__table__.c.identity
    return identity.collate("C") if is_postgres(session) else identity


def _merged(
    customer_id: int, sightings: list[Sighting], targets: list[str], now: datetime
) -> list[dict[str, Any]]:
    """One row per device: the newest word on each field, the span of dates that count."""
    rows: dict[str, dict[str, Any]] = {}
    moments = [sighting.seen_at or NEVER for sighting in sightings]
    for i in sorted(range(len(sightings)), key=moments.__getitem__):
        sighting, target = sightings[i], targets[i]
        row = rows.get(target)
        if row is None:  # nearly always: a batch holds one reading of most devices
            rows[target] = _first_row(customer_id, target, sighting, now)
            continue
        info = sighting.info
        row["manufacturer"] = info.manufacturer or row["manufacturer"]
        row["model"] = info.model or row["model"]
        row["serial"] = info.serial or row["serial"]
        row["mac"] = info.mac or row["mac"]
        if sighting.seen_at is not None:
            if row["last_seen_at"] == NEVER:
                row["first_seen_at"] = sighting.seen_at  # sorted: the first that counts
            row["last_seen_at"] = sighting.seen_at
            row["last_address"] = sighting.address
            row["latest_reading_id"] = sighting.reading_id
    return [rows[identity] for identity in sorted(rows)]


def _first_row(
    customer_id: int, identity: str, sighting: Sighting, now: datetime
) -> dict[str, Any]:
    """A device's row from its first sighting in the batch (a sighting that does not count
    names the device but dates nothing)."""
    info, seen = sighting.info, sighting.seen_at
    return {
        "customer_id": customer_id,
        "identity": identity,
        "manufacturer": info.manufacturer or None,
        "model": info.model or None,
        "serial": info.serial or None,
        "mac": info.mac or None,
        "last_address": sighting.address,
        "first_seen_at": seen or now,
        "last_seen_at": seen or NEVER,
        "latest_reading_id": sighting.reading_id if seen else None,
    }


def _upsert(
    session: Session, customer_id: int, rows: list[dict[str, Any]], index: _Index
) -> dict[str, int]:
    """Every row's device id by identity.  PostgreSQL returns them from the upsert itself;
    SQLite returns nothing from ``executemany``, but the rows are ours under its write lock, so
    the devices found before keep the ids found, and only new ones are read back."""
    returned = _write_rows(session, rows)
    if is_postgres(session):
        return {identity: device_id for device_id, identity in returned}
    ids = {known.identity: known.id for known in index.by_identity.values() if known.id}
    new = [row["identity"] for row in rows if row["identity"] not in ids]
    if new:
        found = core(session).execute(
            _lookup_statement(False, False), {"customer": customer_id, "identities": new}
        )
        ids.update((identity, device_id) for device_id, identity, _ in found)
    return ids


def _write_rows(session: Session, rows: list[dict[str, Any]]) -> list[Any]:
    """Device rows inserted or merged into the stored ones, in the rows' (identity) order;
    PostgreSQL returns each one's id and identity."""
    return insert_rows(
        session,
        Device.__table__,
        rows,
        conflict=("customer_id", "identity"),
        update=_merge,
        returning=("id", "identity"),
    )


def merge_batch_devices(session: Session, batch_id: int, now: datetime) -> None:
    """The latest state of a stored batch's devices, from what each of its readings said of
    its device: the merge an upload makes itself for new devices (``resolve_devices``), in the
    same lock order.  Idempotent, and the same whatever order batches' follow-ups run in
    (the newest sighting wins, the earliest that counts is the first)."""
    rows = session.execute(_batch_sightings(), {"batch": batch_id}).all()
    if not rows:
        return
    sightings = []
    for row in rows:
        said = orjson.loads(row.said)
        info = DeviceInfo(**{name: said.get(name) for name in _MERGED_WORDS})
        sightings.append(Sighting.of_reading(info, row.address, row.observed_at, row.flag, row.id))
    targets = [row.identity for row in rows]
    _write_rows(session, _merged(rows[0].customer_id, sightings, targets, now))


@lru_cache(maxsize=1)
def _batch_sightings() -> Any:
    """A batch's readings with their device's identity and what each said of it (the
    payload's device object as JSON text: the server parses each payload once, not once a
    field: 5.3 against 3.3 ms of its CPU for the merge of 100 readings).  Built once: a job
    runs it for every batch."""
    reading = DeviceReading
    return (
        select(
            reading.id,
            reading.address,
            reading.observed_at,
            reading.flag,
            Device.identity,
            Device.customer_id,
            reading.payload["device"].as_string().label("said"),
        )
        .join(Device, Device.id == reading.device_id)
        .where(reading.batch_id == bindparam("batch"))
    )


#: What a reading says of its device that the device row keeps (``_merge``).
_MERGED_WORDS: Final = ("manufacturer", "model", "serial", "mac")


def _merge(new: Any) -> dict[str, Any]:
    """A stored device updated with a batch's word on it: the newest sighting wins (its words
    too, so follow-ups merging out of order never put an older MAC or model back); the first
    sighting that counts is the earliest ever."""
    old = Device.__table__.c
    newer = new.last_seen_at >= old.last_seen_at
    counts_earlier = and_(new.last_seen_at > NEVER, new.first_seen_at < old.first_seen_at)
    return {
        **{
            name: case(
                (newer, func.coalesce(new[name], old[name])),
                else_=func.coalesce(old[name], new[name]),
            )
            for name in _MERGED_WORDS
        },
        "last_address": case((newer, new.last_address), else_=old.last_address),
        "last_seen_at": case((newer, new.last_seen_at), else_=old.last_seen_at),
        "latest_reading_id": case((newer, new.latest_reading_id), else_=old.latest_reading_id),
        "first_seen_at": case((counts_earlier, new.first_seen_at), else_=old.first_seen_at),
    }
