"""The device identity rule: manufacturer + serial, else MAC, never the IP address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from ingest.domain import registry
from ingest.domain.accounts import get_or_create_customer
from ingest.domain.registry import (
    Sighting,
    identity_keys,
    manufacturer_key,
    resolve_device,
    resolve_devices,
)
from ingest.models import Device
from shared.reading import Device as Info

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("a", "b"),
    [("KONICA MINOLTA", "Konica-Minolta"), ("Hewlett-Packard", "hewlett packard"), (None, "")],
)
def test_manufacturer_spellings_fold_together(a, b):
    assert manufacturer_key(a) == manufacturer_key(b)


@pytest.mark.parametrize(
    "serial", ["", "  ", "0", "unknown", "N/A", "000000000", "FFFFFFFF", "serial_number"]
)
def test_placeholder_serials_fall_back_to_the_mac(serial):
    keys = identity_keys(Info(manufacturer="HP", serial=serial, mac="00:11:22:33:44:55"), "h:161")
    assert keys.serial is None
    assert keys.primary == "mac:00:11:22:33:44:55"


def test_serial_is_trimmed_and_case_folded():
    a = identity_keys(Info(manufacturer="Brother", serial=" e7812abc "), "h:161")
    b = identity_keys(Info(manufacturer="BROTHER", serial="E7812ABC"), "x:161")
    assert a.primary == b.primary == "sn:brother:E7812ABC"


def test_nothing_but_an_address_is_still_kept():
    keys = identity_keys(Info(), "10.0.0.9:161")
    assert keys.primary == "addr:10.0.0.9:161||"


def test_another_model_at_the_same_address_is_another_device():
    a = identity_keys(Info(manufacturer="Brother", model="HL-2270DW"), "10.0.0.9:161")
    b = identity_keys(Info(manufacturer="Brother", model="DCP-7070DW"), "10.0.0.9:161")
    assert a.primary != b.primary


@pytest.fixture
def customer(session):
    row = get_or_create_customer(session, "Verdi snc")
    session.commit()
    return row


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Device))


def test_ip_change_keeps_the_device(session, customer):
    info = Info(manufacturer="Ricoh", serial="W123", mac="00:00:74:aa:bb:cc")
    first = resolve_device(session, customer.id, info, "10.0.0.5:161", T0)
    moved = resolve_device(session, customer.id, info, "10.0.0.99:161", T0 + timedelta(hours=1))
    assert moved.id == first.id
    assert moved.last_address == "10.0.0.99:161"
    assert count(session) == 1


def test_late_reading_does_not_rewind_the_address(session, customer):
    info = Info(manufacturer="Ricoh", serial="W123")
    resolve_device(session, customer.id, info, "10.0.0.99:161", T0 + timedelta(hours=1))
    device = resolve_device(session, customer.id, info, "10.0.0.5:161", T0)
    assert device.last_address == "10.0.0.99:161"


def test_mac_only_device_is_upgraded_when_the_serial_appears(session, customer):
    mac_only = resolve_device(session, customer.id, Info(mac="00:80:77:01:02:03"), "h:161", T0)
    assert mac_only.identity == "mac:00:80:77:01:02:03"
    upgraded = resolve_device(
        session,
        customer.id,
        Info(manufacturer="Brother", serial="E1", mac="00:80:77:01:02:03"),
        "h:161",
        T0,
    )
    assert upgraded.id == mac_only.id
    assert upgraded.identity == "sn:brother:E1"
    again = resolve_device(session, customer.id, Info(mac="00:80:77:01:02:03"), "h:161", T0)
    assert again.id == mac_only.id
    assert count(session) == 1


def test_two_serials_behind_one_mac_stay_two_devices(session, customer):
    mac = "00:80:77:01:02:03"
    a = resolve_device(
        session, customer.id, Info(manufacturer="X", serial="A1", mac=mac), "h:1", T0
    )
    b = resolve_device(
        session, customer.id, Info(manufacturer="X", serial="B2", mac=mac), "h:1", T0
    )
    assert a.id != b.id


def test_same_serial_at_two_customers_is_two_devices(session, customer):
    other = get_or_create_customer(session, "Neri srl")
    info = Info(manufacturer="Canon", serial="XYZ")
    a = resolve_device(session, customer.id, info, "h:161", T0)
    b = resolve_device(session, other.id, info, "h:161", T0)
    assert a.id != b.id
    assert a.customer_id == customer.id
    assert b.customer_id == other.id


def test_a_field_the_device_stops_reporting_is_kept(session, customer):
    resolve_device(
        session, customer.id, Info(manufacturer="OKI", serial="S", model="C332"), "h", T0
    )
    device = resolve_device(session, customer.id, Info(manufacturer="OKI", serial="S"), "h", T0)
    assert device.model == "C332"


def test_one_batch_of_known_upgraded_new_and_repeated_devices(session, customer):
    """Every sighting of a batch gets its device's id, whichever way it was found: known by
    serial, known by MAC and upgraded to its serial, new, or named twice in the batch."""
    known = resolve_device(session, customer.id, Info(manufacturer="Ricoh", serial="K1"), "a", T0)
    by_mac = resolve_device(session, customer.id, Info(mac="00:80:77:0a:0b:0c"), "b", T0)
    session.commit()
    later = T0 + timedelta(hours=1)
    sightings = [
        Sighting(Info(manufacturer="Ricoh", serial="K1"), "a2", later),
        Sighting(Info(manufacturer="Brother", serial="B9", mac="00:80:77:0a:0b:0c"), "b", later),
        Sighting(Info(manufacturer="Canon", serial="NEW1"), "c", later),
        Sighting(Info(manufacturer="Canon", serial="NEW1"), "c", later + timedelta(minutes=1)),
        Sighting(Info(manufacturer="Xerox", serial="NEW2"), "d", None),
    ]
    ids = resolve_devices(session, customer.id, sightings, later)
    session.commit()
    stored = dict(session.execute(select(Device.identity, Device.id)).all())
    assert ids[0] == known.id == stored["sn:ricoh:K1"]
    assert ids[1] == by_mac.id == stored["sn:brother:B9"]
    assert ids[2] == ids[3] == stored["sn:canon:NEW1"]
    assert ids[4] == stored["sn:xerox:NEW2"]
    assert len(set(ids)) == 4 == count(session)


@pytest.mark.parametrize("known_before", [False, True])
def test_a_batch_that_names_the_serial_after_the_mac_only_reading_keeps_one_device(
    session, customer, known_before
):
    """A MAC-only reading, then one with the serial, of the same printer in one batch: both
    belong to the device under its serial (the first one's target moved with the upgrade)."""
    mac = "00:80:77:0d:0e:0f"
    if known_before:
        resolve_device(session, customer.id, Info(mac=mac), "h:161", T0)
        session.commit()
    later = T0 + timedelta(hours=1)
    sightings = [
        Sighting(Info(mac=mac), "h:161", later),
        Sighting(Info(manufacturer="Brother", serial="E7", mac=mac), "h:161", later),
    ]
    ids = resolve_devices(session, customer.id, sightings, later)
    session.commit()
    stored = dict(session.execute(select(Device.identity, Device.id)).all())
    assert stored == {"sn:brother:E7": ids[0]}
    assert ids[0] == ids[1]


def test_printers_seen_stored_by_serial_need_no_lookup_and_the_rule_still_holds(session, customer):
    """On PostgreSQL the serial identities a lookup found are remembered: a batch of only those
    is resolved by the upsert alone, with the right ids; a batch that also holds anything else
    is looked up as before, so a MAC-only device naming its serial is still upgraded.  SQLite
    always looks up."""
    lookups: list[str] = []

    def count_lookups(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT") and "devices" in statement:
            lookups.append(statement)

    known = [Sighting(Info(manufacturer="Ricoh", serial=f"R{i}"), f"h{i}", T0) for i in range(3)]
    ids = resolve_devices(session, customer.id, known, T0)
    session.commit()
    resolve_devices(session, customer.id, known, T0)  # found by serial: remembered
    session.commit()
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count_lookups)
    try:
        later = T0 + timedelta(hours=1)
        known = [Sighting(s.info, s.address, later) for s in known]
        again = resolve_devices(session, customer.id, known, later)
        session.commit()
        assert again == ids
        assert len(lookups) == (0 if engine.dialect.name == "postgresql" else 1)
        by_mac = resolve_device(session, customer.id, Info(mac="00:80:77:aa:bb:cc"), "m", T0)
        session.commit()
        lookups.clear()
        named = Sighting(
            Info(manufacturer="Brother", serial="B1", mac="00:80:77:aa:bb:cc"), "m", later
        )
        mixed = resolve_devices(session, customer.id, [*known, named], later)
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", count_lookups)
    assert lookups
    assert mixed == [*ids, by_mac.id]
    stored = dict(session.execute(select(Device.identity, Device.id)).all())
    assert stored["sn:brother:B1"] == by_mac.id
    assert stored["sn:ricoh:R0"] == ids[0]
    assert count(session) == 4
    assert session.get(Device, ids[0], populate_existing=True).last_seen_at == later


def test_identity_keys_are_remembered_only_for_words_of_a_printers_length():
    """The keys of a device are remembered, bounded in number and size: a device whose words are
    longer than any printer's is worked out every time, and keyed the same way."""
    registry._identity_keys.cache_clear()
    printer = Info(manufacturer="Ricoh", model="IM C3000", serial="R1", mac="00:80:77:aa:bb:cc")
    assert identity_keys(printer, "10.0.0.5:161") == identity_keys(printer, "10.0.0.5:161")
    assert registry._identity_keys.cache_info().currsize == 1
    wordy = Info(manufacturer="Ricoh " * 40, model="IM C3000", serial="R2")
    keys = identity_keys(wordy, "10.0.0.6:161")
    assert registry._identity_keys.cache_info().currsize == 1
    assert keys.serial == "sn:" + "ricoh" * 40 + ":R2"
    assert keys.primary == keys.serial
