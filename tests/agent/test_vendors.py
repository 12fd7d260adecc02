"""Vendor profiles are data the one engine reads: registry, tables, Brother blobs, rules."""

from datetime import UTC, datetime

import pytest

from agent.reader import build_reading
from agent.snmp import parse_oid
from agent.vendors import PROFILES, brother, by_key
from agent.vendors.engine import (
    apply,
    by_text,
    clean_model,
    identify,
    model_from_descr,
    table_counters,
)
from agent.vendors.profile import CounterTable, fold_name
from shared.reading import SUPPLY_KINDS, Counters

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
LIFE_COUNT = "1.3.6.1.2.1.43.10.2.1.4.1.1"
EXPECTED_VENDORS = {
    "brother",
    "canon",
    "dell",
    "epson",
    "hp",
    "konica_minolta",
    "kyocera",
    "lexmark",
    "oki",
    "ricoh",
    "samsung",
    "sharp",
    "toshiba",
    "xerox",
}


def test_every_vendor_module_is_discovered():
    assert {profile.key for profile in PROFILES} >= EXPECTED_VENDORS
    assert len({profile.key for profile in PROFILES}) == len(PROFILES)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.key)
def test_every_counter_key_in_a_table_is_a_contract_counter(profile):
    assert profile.counter_keys() <= set(Counters.__struct_fields__)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.key)
def test_every_oid_in_a_profile_is_numeric(profile):
    for oid in (*profile.scalar_oids(), *profile.table_columns()):
        assert parse_oid(oid)[:6] == (1, 3, 6, 1, 4, 1)


def test_brother_tables_name_contract_fields():
    assert set(brother.COUNTER_CODES.values()) <= set(Counters.__struct_fields__)
    assert {kind for kind, _, _ in brother.MAINTENANCE_CODES.values()} <= SUPPLY_KINDS


# -- identification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("descr", "oid", "key"),
    [
        ("KONICA MINOLTA bizhub C250i", None, "konica_minolta"),
        ("Develop ineo 280", None, "konica_minolta"),
        ("TA_UTAX Printing System", "1.3.6.1.4.1.1347.41", "kyocera"),
        ("HP ETHERNET MULTI-ENVIRONMENT,ROM J.sp.00", "1.3.6.1.4.1.1347.41", "hp"),
        ("TOSHIBA e-STUDIO305CS version NH63", "1.3.6.1.4.1.641.2.71107164", "toshiba"),
        ("SAVIN MP C4503 1.18 / SAVIN Network Printer C model", None, "ricoh"),
        ("FUJI XEROX DocuPrint CM305 df", None, "xerox"),
        ("FUJIFILM Apeos C7580", None, "xerox"),
        ("Modell 3000", "1.3.6.1.4.1.2435.2.3.9.1", "brother"),  # no "Dell" inside "Modell"
        (None, "1.3.6.1.4.1.11.1", "hp"),
        ("Some print server", "1.3.6.1.4.1.2385.3.1.112.1.2", "sharp"),
    ],
)
def test_identify(descr, oid, key):
    values = {}
    if descr:
        values[SYS_DESCR] = descr.encode()
    if oid:
        values[SYS_OBJECT_ID] = oid
    assert identify(values, PROFILES).key == key


def test_unknown_device_is_identified_by_its_ieee1284_id():
    values = {brother.DEVICE_ID_OID: b"MFG:Brother;MDL:HL-L2340DW series;"}
    assert identify(values, PROFILES).key == "brother"
    assert identify({}, PROFILES) is None


def test_the_earliest_name_in_the_text_wins():
    assert by_text("Dell 2335dn MFP, Samsung engine", PROFILES).key == "dell"


@pytest.mark.parametrize(
    ("key", "text", "model"),
    [
        ("konica_minolta", "KONICA MINOLTA bizhub C250i", "bizhub C250i"),
        ("konica_minolta", "Develop ineo+ 280", "ineo+ 280"),
        ("hp", "HP Color LaserJet M452nw", "Color LaserJet M452nw"),
        ("brother", "DCP-L2540DN series", "DCP-L2540DN"),
        ("toshiba", "TOSHIBA TEC B-SX5T", "B-SX5T"),
        ("toshiba", "TOSHIBA e-STUDIO2505AC", "e-STUDIO2505AC"),
        ("canon", "Canon", "Canon"),  # a bare maker name is kept rather than emptied
    ],
)
def test_clean_model(key, text, model):
    assert clean_model(text, by_key(key)) == model


@pytest.mark.parametrize(
    ("descr", "model"),
    [
        ("Samsung M4080FX; V11.01.03.04_02-27-2017;Engine V1.00.06", "Samsung M4080FX"),
        ("Lexmark T640 version NS.NP.N219 kernel 2.6.6 All-N-1", "Lexmark T640"),
        ("Canon D1180/MF6680 /P", "Canon D1180/MF6680"),
        ("RICOH Aficio MP 201 1.04 / RICOH Network Printer C model", "RICOH Aficio MP 201"),
        (
            "HP ETHERNET MULTI-ENVIRONMENT,SN:VNCRC48198,PID:HP LaserJet MFP M130nw",
            "HP LaserJet MFP M130nw",
        ),
        (
            "OKI OkiLAN 8500e Rev.01.23 Ethernet PrintServer: Attached to MC342 Rev.02.70",
            "MC342",
        ),
        ("HP ETHERNET MULTI-ENVIRONMENT,ROM J.sp.00,JETDIRECT EX,JD28 EEPROM 5.58", None),
        ("EPSON Built-in", None),
        ("Brother NC-8300h, Firmware Ver.1.14  (14.11.06),MID 8C5-F01,FID 2", None),
        ("", None),
    ],
)
def test_model_from_sys_descr(descr, model):
    assert model_from_descr(descr) == model


@pytest.mark.parametrize(
    ("descr", "model"),
    [
        ("Samsung M4080FX; V11.01.03.04_02-27-2017;Engine V1.00.06;NIC ;S/N ", "M4080FX"),
        ("Samsung CLX-3170 Series;V1.00.01.64 Sep-27-2010;S/N AAAAAAA000AAAA000", "CLX-3170"),
        ("Samsung ML-2850 Series OS 1.01.15.47 02-10-2010;Engine 1.01.25", "ML-2850"),
    ],
)
def test_samsung_names_its_exact_model_in_sys_descr(descr, model):
    values = {SYS_DESCR: descr.encode(), "1.3.6.1.2.1.25.3.2.1.3.1": b"Samsung M408x Series"}
    assert apply(values, by_key("samsung")).model == model


# -- tables -----------------------------------------------------------------------------------


def test_sharp_table_rows_map_by_name_then_index():
    sharp = by_key("sharp")
    table = sharp.counter_tables[0]
    values = {
        f"{table.name_column}.5.4.61": b"Black & White Total Count",
        f"{table.value_column}.5.4.61": 91164,
        f"{table.name_column}.1.4.61": "Schwarzweiß-Druck".encode(),  # localised: by index
        f"{table.value_column}.1.4.61": 53631,
        f"{table.name_column}.1.4.60": b"Prints",
        f"{table.value_column}.1.4.60": 82214,
        f"{table.value_column}.9.9.9": 5,
    }
    assert table_counters(table, values) == {"mono": 91164, "print_mono": 53631}
    assert fold_name("Black & White: Total-Count") == "black white total count"


def test_ricoh_rows_map_by_type_code_wherever_they_sit():
    table = by_key("ricoh").counter_tables[0]
    values = {
        f"{table.code_column}.1": 10,
        f"{table.value_column}.1": 271871,
        f"{table.code_column}.7": 401,
        f"{table.value_column}.7": 1000,
        f"{table.code_column}.9": 403,
        f"{table.value_column}.9": -5,
    }
    assert table_counters(table, values) == {"total": 271871, "print_mono": 1000}


def test_index_only_tables_are_fetched_not_walked():
    canon = by_key("canon")
    assert canon.table_columns() == ()
    assert "1.3.6.1.4.1.1602.1.11.1.3.1.4.101" in canon.scalar_oids()
    table = CounterTable(value_column="1.3.6.1.4.1.9", by_index={"3": "scan"})
    assert table_counters(table, {"1.3.6.1.4.1.9.3": 12, "1.3.6.1.4.1.9.4": 13}) == {"scan": 12}


def test_konica_derives_black_and_colour_from_copy_and_print():
    counters = "1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5"
    values = {
        SYS_OBJECT_ID: "1.3.6.1.4.1.18334.1.1.1.2.1.181.2.4",
        LIFE_COUNT: 33810,
        f"{counters}.1.1": 3672,
        f"{counters}.1.2": 22876,
        f"{counters}.2.1": 544,
        f"{counters}.2.2": 6711,
    }
    reading = build_reading("x", NOW, values)
    assert (reading.counters.mono, reading.counters.colour) == (26548, 7255)
    del values[f"{counters}.2.1"]
    assert build_reading("x", NOW, values).counters.colour is None  # never half a sum


def test_vendor_total_wins_over_the_life_count():
    values = {
        SYS_OBJECT_ID: "1.3.6.1.4.1.1602.4.2",
        LIFE_COUNT: 2913,
        "1.3.6.1.4.1.1602.1.11.1.3.1.4.101": 2926,
    }
    assert build_reading("x", NOW, values).counters.total == 2926
    del values["1.3.6.1.4.1.1602.1.11.1.3.1.4.101"]
    assert build_reading("x", NOW, values).counters.total == 2913


# -- Brother blobs ----------------------------------------------------------------------------


def test_brother_counter_blob():
    blob = bytes.fromhex(
        "0001040000064b02010400000386010104000002c50601040000021a080104000000ed0701040000012dff"
    )
    assert brother.decode_counters(blob) == {
        "total": 1611,
        "colour": 902,
        "mono": 709,
        "duplex": 538,
    }


@pytest.mark.parametrize(
    "blob",
    [b"", b"\xff", b"\x00\x01", b"\x00\x01\x04\x00\x00", b"\x00\x01\x00\x00", 42, None, "00"],
)
def test_brother_malformed_blobs_give_nothing(blob):
    assert brother.decode_counters(blob) == {}
    assert brother.decode_supplies(blob, inkjet=False) == ()


def test_brother_maintenance_blob_levels_are_hundredths_of_a_percent():
    blob = bytes.fromhex("6301040000000111010400000138410104000025e46f010400001e1431010101ff")
    supplies = {s.description: s for s in brother.decode_supplies(blob, inkjet=False)}
    assert supplies["Black Toner"].percent == 77
    assert (supplies["Black Toner"].kind, supplies["Black Toner"].colour) == ("toner", "black")
    assert supplies["Drum Unit"].percent == 97
    assert len(supplies) == 2  # status flags and drum counts are not supplies


def test_brother_legacy_inkjet_blob_gives_level_over_max():
    blob = bytes.fromhex("a101020414a201020c14a301020614a401020b14ff")
    supplies = brother.decode_supplies(blob, inkjet=True)
    assert [(s.kind, s.colour, s.percent) for s in supplies] == [
        ("ink", "black", 20),
        ("ink", "cyan", 60),
        ("ink", "magenta", 30),
        ("ink", "yellow", 55),
    ]


@pytest.mark.parametrize(
    ("device_id", "tech", "inkjet"),
    [
        (b"MFG:Brother;MDL:DCP-J132W;", None, True),
        (b"MFG:Brother;MDL:MFC-T910DW;", None, True),
        (b"MFG:Brother;MDL:MFC-5490CN;", None, True),
        (b"MFG:Brother;MDL:MFC-9120CN;", None, False),
        (b"MFG:Brother;MDL:HL-L2340DW series;", None, False),
        (b"MFG:Brother;MDL:DCP-L3550CDW;", None, False),
        (b"MFG:Brother;MDL:DCP-L3550CDW;", 12, True),  # the Printer-MIB says inkjet
        (None, 4, False),
    ],
)
def test_brother_inkjet_detection(device_id, tech, inkjet):
    values = {"1.3.6.1.2.1.43.10.2.1.2.1.1": tech, brother.DEVICE_ID_OID: device_id}
    assert brother.is_inkjet(values) is inkjet


def test_brother_supplies_are_used_only_without_a_printer_mib_table():
    values = {
        SYS_OBJECT_ID: "1.3.6.1.4.1.2435.2.3.9.1",
        brother.MAINTENANCE_OID: bytes.fromhex("6f010400001e14ff"),
    }
    assert [s.description for s in build_reading("x", NOW, values).supplies] == ["Black Toner"]
    values["1.3.6.1.2.1.43.11.1.1.6.1.1"] = b"Black Toner Cartridge"
    values["1.3.6.1.2.1.43.11.1.1.9.1.1"] = -3
    supplies = build_reading("x", NOW, values).supplies
    assert [s.description for s in supplies] == ["Black Toner Cartridge"]


def test_unknown_maker_takes_the_ieee1284_manufacturer():
    values = {"1.3.6.1.4.1.11.2.3.9.1.1.7.0": b"MFG:Acme;MDL:Laser 9000;"}
    reading = apply(values, None, PROFILES)
    assert (reading.manufacturer, reading.model) == ("Acme", "Laser 9000")
