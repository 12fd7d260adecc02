"""The identity rule and its merges: one device whatever its addresses, moved or not.

The rule lives in ``shared.identity``; the parity test below checks that the ingest's registry
gives the very same keys as the agent for every case.
"""

from datetime import UTC, datetime

import pytest

from agent.identity import (
    MergedDevice,
    Sighting,
    address_order,
    compare_scans,
    host_of,
    identity_key,
    mac_key,
    merge_readings,
    serial_key,
)
from ingest.domain.registry import identity_keys
from shared.reading import Counters, Device, Reading

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

DEVICES = [
    Device(manufacturer="KONICA MINOLTA", serial=" aa2m021115700 ", mac="00:20:6B:4A:F3:25"),
    Device(manufacturer="Konica-Minolta", serial="AA2M021115700"),
    Device(manufacturer="HP", serial="serial_number", mac="aa:bb:cc:dd:ee:ff"),
    Device(manufacturer="HP", serial="000000", mac="00:00:00:00:00:00"),
    Device(manufacturer="Brother", serial="FFFF-FFFF", mac="ff:ff:ff:ff:ff:ff"),
    Device(manufacturer="Ricoh", serial="N/A", mac=None),
    Device(manufacturer=None, serial="X1", mac="02:00:00:00:00:01"),
    Device(),
]


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: f"{d.manufacturer}-{d.serial}-{d.mac}")
def test_same_keys_as_the_ingest(device):
    server = identity_keys(device, "192.0.2.1:161")
    assert serial_key(device) == server.serial
    assert mac_key(device) == server.mac


def test_keys():
    konica = DEVICES[0]
    assert serial_key(konica) == "sn:konicaminolta:AA2M021115700"
    assert serial_key(DEVICES[1]) == serial_key(konica)
    assert mac_key(konica) == "mac:00:20:6b:4a:f3:25"
    assert identity_key(DEVICES[2], "x") == "mac:aa:bb:cc:dd:ee:ff"  # placeholder serial
    assert identity_key(DEVICES[3], "192.0.2.9:161") == "addr:192.0.2.9:161|hp|"


def _reading(address: str, serial: str | None, mac: str | None, maker: str = "Sharp") -> Reading:
    device = Device(manufacturer=maker, model="MX-1", serial=serial, mac=mac)
    return Reading(
        address=address, observed_at=NOW, device=device, counters=Counters(), supplies=(), alerts=()
    )


def _merge(*readings: Reading) -> list[MergedDevice[str]]:
    return merge_readings(Sighting(r, f"cred-{r.address}") for r in readings)


def test_two_interfaces_with_one_serial_are_one_device_read_at_the_lowest_address():
    merged = _merge(
        _reading("10.0.0.20:161", "S1", "02:00:00:00:00:02"),  # wireless
        _reading("10.0.0.9:161", "S1", "02:00:00:00:00:01"),  # wired
        _reading("10.0.0.10:161", "S2", "02:00:00:00:00:03"),
    )
    assert [(d.identity, d.addresses) for d in merged] == [
        ("sn:sharp:S1", ("10.0.0.9:161", "10.0.0.20:161")),
        ("sn:sharp:S2", ("10.0.0.10:161",)),
    ]
    assert merged[0].address == "10.0.0.9:161"
    assert merged[0].extra == "cred-10.0.0.9:161"


def test_a_serial_less_answer_joins_the_device_with_its_mac():
    merged = _merge(
        _reading("10.0.0.5:161", "S1", "02:00:00:00:00:01"),
        _reading("10.0.0.6:161", None, "02:00:00:00:00:01"),
    )
    assert [(d.identity, d.addresses) for d in merged] == [
        ("sn:sharp:S1", ("10.0.0.5:161", "10.0.0.6:161"))
    ]


def test_different_serials_are_never_merged_even_with_one_mac():
    merged = _merge(
        _reading("10.0.0.5:161", "S1", "02:00:00:00:00:01"),
        _reading("10.0.0.6:161", "S2", "02:00:00:00:00:01"),
        _reading("10.0.0.7:161", None, "02:00:00:00:00:01"),  # which one? neither
    )
    assert [d.identity for d in merged] == [
        "sn:sharp:S1",
        "sn:sharp:S2",
        "mac:02:00:00:00:00:01",
    ]


def test_mac_only_devices_merge_by_mac_and_anonymous_ones_stay_apart():
    merged = _merge(
        _reading("10.0.0.7:161", None, "02:00:00:00:00:07"),
        _reading("10.0.0.8:161", "serial_number", "02:00:00:00:00:07"),
        _reading("10.0.0.11:161", None, None),
        _reading("10.0.0.12:161", None, None),
    )
    assert [(d.identity, len(d.addresses)) for d in merged] == [
        ("mac:02:00:00:00:00:07", 2),
        ("addr:10.0.0.11:161|sharp|mx1", 1),
        ("addr:10.0.0.12:161|sharp|mx1", 1),
    ]


def test_same_serial_from_two_makers_is_two_devices():
    merged = _merge(
        _reading("10.0.0.1:161", "123", None), _reading("10.0.0.2:161", "123", None, "HP")
    )
    assert len(merged) == 2


def test_compare_scans_moves_by_serial_and_mac_and_upgrades():
    before = [
        _reading("10.0.0.5:161", "S1", "02:00:00:00:00:01"),
        _reading("10.0.0.6:161", None, "02:00:00:00:00:02"),
        _reading("10.0.0.7:161", "S3", None),
        _reading("10.0.0.8:161", None, None),
        _reading("10.0.0.9:161", "GONE", None),
    ]
    after = _merge(
        _reading("10.0.0.50:161", "S1", "02:00:00:00:00:99"),  # moved, new NIC: serial wins
        _reading("10.0.0.60:161", "S2", "02:00:00:00:00:02"),  # now names its serial: moved
        _reading("10.0.0.7:1161", "S3", None),  # same IP, other port: not moved
        _reading("10.0.0.80:161", None, None),  # anonymous: never "moved", only new
    )
    comparison = compare_scans(before, after)
    assert comparison.change_of("sn:sharp:S1") == ("moved", "10.0.0.5:161")
    assert comparison.change_of("sn:sharp:S2") == ("moved", "10.0.0.6:161")
    assert comparison.change_of("sn:sharp:S3") == ("same", None)
    assert comparison.change_of("addr:10.0.0.80:161|sharp|mx1") == ("new", None)
    assert [r.address for r in comparison.gone] == ["10.0.0.8:161", "10.0.0.9:161"]


def test_addresses():
    assert host_of("[2001:DB8::1]:161") == "2001:db8::1"
    assert host_of("10.0.0.1:161") == "10.0.0.1"
    assert host_of("printer.lan") == "printer.lan"
    ordered = sorted(
        ["10.0.0.10:161", "printer:161", "10.0.0.9:161", "[::1]:161"], key=address_order
    )
    assert ordered == ["10.0.0.9:161", "10.0.0.10:161", "[::1]:161", "printer:161"]
