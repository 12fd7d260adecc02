"""Pure decoders of standard MIB values: text, MAC, kinds, colours, alerts, error bits."""

import pytest

from agent.mibs import (
    colour_from_words,
    decode_alert,
    decode_counter,
    decode_device_status,
    decode_error_state,
    decode_int,
    decode_oid,
    decode_text,
    device_id_maker,
    device_id_model,
    format_mac,
    kind_from_words,
    parse_device_id,
    supply_kind,
)
from shared.reading import Alert, Supply


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"Toner (Cyan)", "Toner (Cyan)"),
        ("Tóner negro".encode(), "Tóner negro"),
        ("Tönerkartusche Schwarz".encode("latin-1"), "Tönerkartusche Schwarz"),
        (b"  padded\x00\x00\x00", "padded"),
        (b"Black\x00garbage after the terminator", "Black"),
        (b"\x01\x15VNCRC48198", "VNCRC48198"),
        (b"line one\r\n\tline two", "line one line two"),
        (b"", None),
        (b"\x00\x00", None),
        (b"   ", None),
        # net-snmp hex dump kept in LibreNMS captures: 16 characters, newline, hex pairs
        (
            b"Black Cartridge \n38 32 37 41 20 48 50 20 43 46 33 30 30 41 00 ",
            "Black Cartridge 827A HP CF300A",
        ),
        (
            b"Magenta Cartridg\n65 20 38 32 37 41 20 48 50 20 43\n46 33 30 33 41 00 ",
            "Magenta Cartridge 827A HP CF303A",
        ),
        (b"42 6C 61 63 6B 20 54 6F 6E 65 72", "Black Toner"),
        (b"Magenta Cartridg\n65 20 zz 41", "Magenta Cartridg 65 20 zz 41"),  # not hex: kept
        (b"12 34", "12 34"),  # too short to be a dump
    ],
)
def test_decode_text(raw, text):
    assert decode_text(raw) == text


@pytest.mark.parametrize("raw", [None, 42, "1.3.6.1.4.1.11", 3.5])
def test_decode_text_refuses_non_octets(raw):
    """An INTEGER or an OID where text belongs is garbage, not a description."""
    assert decode_text(raw) is None


def test_decode_text_is_bounded():
    assert len(decode_text(b"x" * 60_000)) == 256
    assert decode_text(b"abcdef", limit=3) == "abc"
    long_utf8 = ("a" + "é" * 600).encode()  # read up to the middle of a character
    assert decode_text(long_utf8) == "a" + "é" * 255


@pytest.mark.parametrize(
    ("raw", "number"),
    [(5, 5), (-3, -3), (2**31, None), (True, None), (b"5", None), ("5", None), (None, None)],
)
def test_decode_int(raw, number):
    assert decode_int(raw) == number


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        (0, 0),
        (4294967295, 4294967295),
        (2**64 - 1, None),
        (-1, None),
        (b"12345", 12345),
        (b" 77 ", 77),
        (b"lots", None),
        (b"-5", None),
        (None, None),
    ],
)
def test_decode_counter(raw, number):
    assert decode_counter(raw) == number


def test_decode_oid():
    assert decode_oid("1.3.6.1.4.1.11.2.3.9.1") == "1.3.6.1.4.1.11.2.3.9.1"
    assert decode_oid(b"1.3.6.1") is None
    assert decode_oid("not-an-oid") is None


@pytest.mark.parametrize(
    ("raw", "mac"),
    [
        (bytes.fromhex("3C2AF4BFF51B"), "3c:2a:f4:bf:f5:1b"),
        ("00:20:6B:4A:F3:25", "00:20:6b:4a:f3:25"),
        ("0021b743f581", "00:21:b7:43:f5:81"),
        (bytes(6), None),
        (b"\xff" * 6, None),
        (bytes.fromhex("0000000001"), None),
        (bytes.fromhex("00112233445566"), None),
        (b"", None),
        (123456, None),
        ("1.3.6.1.2.1", None),
    ],
)
def test_format_mac(raw, mac):
    assert format_mac(raw) == mac


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("Black Toner", "black"),
        ("Toner (Cyan)", "cyan"),
        ("Toner Nero", "black"),
        ("Cartucho de tóner negro", "black"),
        ("Schwarz", "black"),
        ("Cartouche d'encre noir", "black"),
        ("Ciano", "cyan"),
        ("Cian", "cyan"),
        ("Tóner amarillo", "yellow"),
        ("Toner giallo", "yellow"),
        ("Gelb", "yellow"),
        ("Jaune", "yellow"),
        ("Magenta Drum 828A", "magenta"),
        ("Light Cyan Ink", "light cyan"),
        ("Photo Black", "black"),
        ("Grigio", "gray"),
        ("Waste Toner Box", None),
        ("Drum Cartridge (R1)", None),
        ("Blackberry", None),
        ("", None),
        (None, None),
    ],
)
def test_colour_from_words(text, colour):
    assert colour_from_words(text) == colour


@pytest.mark.parametrize(
    ("type_code", "description", "kind"),
    [
        (3, "whatever", "toner"),
        (21, "Black Cartridge HP CF410A", "toner"),
        (5, "Black Ink", "ink"),
        (4, "Waste Toner Box", "waste_toner"),
        (9, "Imaging Unit", "drum"),
        (10, "Developer", "developer"),
        (15, "Fuser", "fuser"),
        (20, "Transfer Kit", "transfer"),
        (32, "Stapler 1", "staples"),
        (18, "Cleaner", "maintenance"),
        (26, "Paper waste", "other"),
        (1, "Maintenance Kit", "maintenance"),
        (1, "Roller Kit", "maintenance"),
        (2, "Waste Toner Container", "waste_toner"),
        (None, "Canon Cartridge 719/719H", "toner"),
        (None, "Tamburo", "drum"),
        (None, "Unità fusore", "fuser"),
        (None, "Tinta negra", "ink"),
        (None, None, "other"),
    ],
)
def test_supply_kind(type_code, description, kind):
    assert supply_kind(type_code, description) == kind


def test_bare_cartridge_is_ink_on_an_inkjet():
    assert kind_from_words("Black Cartridge", inkjet=True) == "ink"
    assert kind_from_words("Black Toner Cartridge", inkjet=True) == "toner"
    assert supply_kind(21, "Black Cartridge", inkjet=True) == "ink"


@pytest.mark.parametrize(
    ("level", "maximum", "percent", "state"),
    [
        (76, 100, 76, "ok"),
        (22050, 45000, 49, "ok"),
        (5, 100, 5, "low"),
        (0, 100, 0, "empty"),
        (150, 100, 100, "ok"),
        (-3, -2, None, "some_remaining"),
        (-2, 100, None, "unknown"),
        (-1, 100, None, "unknown"),
        (-100, 100, None, "unknown"),
        (50, 0, None, "unknown"),
        (50, -2, None, "unknown"),
        (None, None, None, "unknown"),
    ],
)
def test_percent_and_state_sentinels(level, maximum, percent, state):
    supply = Supply.from_raw("toner", "black", "Black", level, maximum)
    assert (supply.percent, supply.state) == (percent, state)


def test_alert_rows():
    assert decode_alert(4, 1104, b"Toner low (Yellow)") == Alert(
        "warning", "tonerLow", "Toner low (Yellow)"
    )
    assert decode_alert(3, 8, None) == Alert("critical", "jammed", "Paper jam")
    assert decode_alert(None, 1101, b"") == Alert("warning", "tonerEmpty", "Toner empty")
    assert decode_alert(b"critical", b"jam", 8) == Alert("warning", "other", "Other alert")
    assert decode_alert(4, 4242, None).code == "alert4242"
    assert decode_alert(5, 503, b"Powered up") is None  # routine event, not a problem
    assert decode_alert(4, 12, None, 8) == Alert("warning", "paperLow", "Paper low")
    assert decode_alert(3, 13, b"Toner empty (K)", 12) == Alert(
        "critical", "supplyEmpty", "Toner empty (K)"
    )
    assert decode_alert(4, 12, None, 6).code == "subunitAlmostEmpty"


def test_device_status_down_is_an_alert():
    assert decode_device_status(5) == Alert("critical", "deviceDown", "Device down")
    assert decode_device_status(2) is None
    assert decode_device_status(b"5") is None


@pytest.mark.parametrize(
    ("raw", "codes"),
    [
        (b"\x00", []),
        (b"\x00\x00", []),
        (b"\x20\x00", ["tonerLow"]),
        (b"\x01\x00", ["serviceRequested"]),
        (b"\x80", ["paperLow"]),
        (b"\x04\x00", ["jammed"]),
        (b"\x00\x80", ["inputTrayMissing"]),
        (b"\x0c", ["doorOpen", "jammed"]),
        (b"\xff\xff\xff\xff", 15),
        (255, []),
        (None, []),
    ],
)
def test_error_state_bits(raw, codes):
    alerts = decode_error_state(raw)
    if isinstance(codes, int):
        assert len(alerts) == codes
    else:
        assert [alert.code for alert in alerts] == codes


def test_ieee1284_device_id():
    fields = parse_device_id("MFG:Brother;CMD:PJL,HBP;MDL:DCP-L2540DN series;CLS:PRINTER;")
    assert device_id_model(fields) == "DCP-L2540DN series"
    assert device_id_maker(fields) == "Brother"
    oki = parse_device_id("MANUFACTURE:OKI UK LTD;COMMAND SET:PCL;MODEL:MC873;CLASS:PRINTER;")
    assert device_id_model(oki) == "MC873"
    assert parse_device_id("Ready") == {}
    assert parse_device_id(None) == {}
