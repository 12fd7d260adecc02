"""Reading a device: the pure interpretation rules, and the I/O shape over snmpsim."""

import asyncio
from datetime import UTC, datetime

import pytest
from support.snmpsim import free_udp_port

from agent.mibs import IDENTITY_SCALARS
from agent.reader import build_reading, read_device, read_many
from agent.snmp import DeviceUnreachable, SnmpClient, SnmpError, Target
from shared.reading import Alert, Reading

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SUPPLY = "1.3.6.1.2.1.43.11.1.1"
COLORANT = "1.3.6.1.2.1.43.12.1.1.4"
LIFE = "1.3.6.1.2.1.43.10.2.1.4.1.1"
PROCESS_COLORANTS = "1.3.6.1.2.1.43.10.2.1.6.1.1"
HR_ERRORS = "1.3.6.1.2.1.25.3.5.1.2.1"
ALERT = "1.3.6.1.2.1.43.18.1.1"


def supply(index, description, level, maximum=100, type_code=3, colorant=None):
    values = {
        f"{SUPPLY}.5.1.{index}": type_code,
        f"{SUPPLY}.6.1.{index}": description.encode(),
        f"{SUPPLY}.8.1.{index}": maximum,
        f"{SUPPLY}.9.1.{index}": level,
    }
    if colorant is not None:
        values[f"{SUPPLY}.3.1.{index}"] = colorant
    return values


def read(values):
    return build_reading("192.0.2.5:161", NOW, values)


# -- counters ---------------------------------------------------------------------------------


def test_every_counter_is_present_and_unreported_ones_are_null():
    reading = read({LIFE: 1234})
    counters = reading.to_dict()["counters"]
    assert list(counters) == [
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
    ]
    assert counters["total"] == 1234
    assert all(counters[key] is None for key in counters if key != "total")


def test_known_mono_device_counts_everything_as_mono():
    by_colorants = read({LIFE: 500, PROCESS_COLORANTS: 1})
    by_supplies = read({LIFE: 500, **supply(1, "Black Toner", 40), **supply(2, "Drum", 50, 100, 9)})
    for reading in (by_colorants, by_supplies):
        assert (reading.counters.mono, reading.counters.colour) == (500, 0)


@pytest.mark.parametrize(
    "values",
    [
        {LIFE: 500, PROCESS_COLORANTS: 4},
        {LIFE: 500, **supply(1, "Black Toner", 40), **supply(2, "Cyan Toner", 40)},
        {LIFE: 500, f"{COLORANT}.1.1": b"black", f"{COLORANT}.1.2": b"cyan"},
        {LIFE: 500, **supply(1, "Drum Unit", 40, 100, 9)},  # nothing says which
        {LIFE: 500},
    ],
)
def test_colour_or_unknown_device_never_gets_guessed_counters(values):
    reading = read(values)
    assert (reading.counters.total, reading.counters.mono, reading.counters.colour) == (
        500,
        None,
        None,
    )


def test_negative_or_garbage_life_count_is_not_reported():
    assert read({LIFE: -5}).counters.total is None
    assert read({LIFE: b"lots"}).counters.total is None


# -- supplies ---------------------------------------------------------------------------------


def test_supply_colour_comes_from_the_colorant_table_first():
    values = {
        **supply(1, "Cartridge 1", 30, colorant=2),
        **supply(2, "Toner Nero", 60),
        f"{COLORANT}.1.2": b"magenta",
    }
    supplies = read(values).supplies
    assert [(s.colour, s.percent, s.state) for s in supplies] == [
        ("magenta", 30, "ok"),
        ("black", 60, "ok"),
    ]


def test_supplies_keep_numeric_row_order_and_raw_sentinels():
    values = {**supply(10, "Waste Toner Box", -3, -2, 4), **supply(2, "Yellow Toner", 5)}
    supplies = read(values).to_dict()["supplies"]
    assert supplies == [
        {
            "kind": "toner",
            "colour": "yellow",
            "description": "Yellow Toner",
            "level": 5,
            "max": 100,
            "percent": 5,
            "state": "low",
        },
        {
            "kind": "waste_toner",
            "colour": None,
            "description": "Waste Toner Box",
            "level": -3,
            "max": -2,
            "percent": None,
            "state": "some_remaining",
        },
    ]


def test_inkjet_marking_turns_cartridges_into_ink():
    values = {"1.3.6.1.2.1.43.10.2.1.2.1.1": 12, **supply(1, "Black Cartridge", 40, 100, 21)}
    assert read(values).supplies[0].kind == "ink"


def test_supplies_are_bounded():
    values = {}
    for index in range(1, 301):
        values.update(supply(index, f"Part {index}", 1))
    assert len(read(values).supplies) == 64


# -- alerts, identity -------------------------------------------------------------------------


def test_alerts_merge_the_alert_table_and_error_bits_without_duplicates():
    values = {
        f"{ALERT}.2.1.1": 4,
        f"{ALERT}.7.1.1": 1104,
        f"{ALERT}.8.1.1": b"Toner low (Yellow)",
        f"{ALERT}.2.1.2": 4,
        f"{ALERT}.7.1.2": 507,  # ready to print: not a problem
        HR_ERRORS: b"\x24",  # tonerLow (already reported) + jammed
    }
    assert read(values).alerts == (
        Alert("warning", "tonerLow", "Toner low (Yellow)"),
        Alert("critical", "jammed", "Paper jam"),
    )


def test_mac_prefers_an_ethernet_interface():
    values = {
        "1.3.6.1.2.1.2.2.1.3.1": 24,
        "1.3.6.1.2.1.2.2.1.6.1": bytes.fromhex("020000000001"),
        "1.3.6.1.2.1.2.2.1.3.2": 71,
        "1.3.6.1.2.1.2.2.1.6.2": bytes.fromhex("5cfb3a0d7df0"),
        "1.3.6.1.2.1.2.2.1.3.3": 6,
        "1.3.6.1.2.1.2.2.1.6.3": bytes(6),
        "1.3.6.1.2.1.2.2.1.3.4": 6,
        "1.3.6.1.2.1.2.2.1.6.4": bytes.fromhex("14CB19952EA0"),
    }
    assert read(values).device.mac == "14:cb:19:95:2e:a0"
    del values["1.3.6.1.2.1.2.2.1.6.4"]
    assert read(values).device.mac == "5c:fb:3a:0d:7d:f0"  # wifi, never the loopback


def test_model_comes_from_the_printer_row_of_the_device_table():
    values = {
        "1.3.6.1.2.1.25.3.2.1.2.1": "1.3.6.1.2.1.25.3.1.6",
        "1.3.6.1.2.1.25.3.2.1.3.1": b"Hard Disk",
        "1.3.6.1.2.1.25.3.2.1.2.3": "1.3.6.1.2.1.25.3.1.5",
        "1.3.6.1.2.1.25.3.2.1.3.3": b"SHARP MX-3570N",
    }
    assert read(values).device.model == "MX-3570N"


def test_placeholder_serials_mean_not_reported():
    assert read({"1.3.6.1.2.1.43.5.1.1.17.1": b" Unknown "}).device.serial is None
    assert read({"1.3.6.1.2.1.43.5.1.1.17.1": b" X3B8022793 "}).device.serial == "X3B8022793"


def test_a_reading_of_pure_garbage_still_keeps_to_the_contract():
    values = dict.fromkeys(IDENTITY_SCALARS, b"\xff\x00garbage")
    values.update({f"{SUPPLY}.{column}.1.1": "1.3.6" for column in range(1, 10)})
    reading = read(values)
    assert Reading.from_dict(reading.to_dict()) == reading


# -- I/O --------------------------------------------------------------------------------------


class CountingClient(SnmpClient):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.requests = []

    async def _exchange(self, kind, target, oids, reps=1):
        self.requests.append((kind, len(oids)))
        return await super()._exchange(kind, target, oids, reps)


def test_a_read_is_one_get_then_one_walk_and_one_get(snmpsim):
    async def run():
        async with CountingClient(timeout=2, retries=1) as client:
            target = Target("127.0.0.1", snmpsim.port, "librenms__konica_c250i")
            reading = await read_device(client, target, clock=lambda: NOW)
            return reading, client.requests

    reading, requests = asyncio.run(run())
    assert reading.observed_at == NOW
    assert reading.counters.print_colour == 6711
    assert requests[0] == ("get", len(IDENTITY_SCALARS))
    assert [kind for kind, _ in requests].count("get") == 2
    # snmpsim answers at most 64 values per response, so the walk may take a second request
    assert [kind for kind, _ in requests].count("bulk") <= 2


def test_read_many_keeps_going_past_a_dead_device(snmpsim):
    async def run():
        async with SnmpClient(timeout=0.3, retries=0) as client:
            targets = [
                Target("127.0.0.1", snmpsim.port, "librenms__sharp"),
                Target("127.0.0.1", free_udp_port(), "public"),
                Target("127.0.0.1", snmpsim.port, "librenms__utax"),
            ]
            return await read_many(client, targets, concurrency=2)

    sharp, dead, utax = asyncio.run(run())
    assert isinstance(sharp, Reading)
    assert sharp.device.serial == "6509415X00"
    assert isinstance(dead, DeviceUnreachable)
    assert isinstance(dead, SnmpError)
    assert isinstance(utax, Reading)
    assert utax.device.serial == "R9L0309954"
