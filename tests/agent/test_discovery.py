"""Discovery's pure parts: ranges, printer-or-not, credentials, politeness and the table.

Nothing here sends a packet: ranges of any size are only parsed and counted.  The sweep itself
is tested over real UDP in ``test_discovery_lan.py``.
"""

import asyncio
import io
import ipaddress
import time
from datetime import UTC, datetime

import pytest

from agent.discovery import (
    MAX_RANGE_ADDRESSES,
    PROBE_OIDS,
    Progress,
    RangeError,
    classify,
    classify_walk,
    count_hosts,
    in_ranges,
    iter_hosts,
    parse_range,
    parse_ranges,
    target_for,
)
from agent.identity import MergedDevice
from agent.mibs import HR_DEVICE_PRINTER, HR_DEVICE_TYPE, IDENTITY_SCALARS, SYS_DESCR
from agent.progress import ProgressBar, render
from agent.scan_cli import format_table, lowest_toner, parse_v3_user
from agent.snmp import Pacer, TargetError
from shared.agent_config import Credential
from shared.reading import Counters, Device, Reading, Supply

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

# -- ranges -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first", "last", "size"),
    [
        ("192.0.2.0/24", "192.0.2.1", "192.0.2.254", 254),
        ("192.0.2.77/24", "192.0.2.1", "192.0.2.254", 254),
        ("192.0.2.8/30", "192.0.2.9", "192.0.2.10", 2),
        ("192.0.2.8/31", "192.0.2.8", "192.0.2.9", 2),
        ("192.0.2.8/32", "192.0.2.8", "192.0.2.8", 1),
        ("192.0.2.10-192.0.2.50", "192.0.2.10", "192.0.2.50", 41),
        ("192.0.2.10 - 192.0.2.10", "192.0.2.10", "192.0.2.10", 1),
        ("192.0.2.10-50", "192.0.2.10", "192.0.2.50", 41),
        ("198.51.100.250-198.51.101.5", "198.51.100.250", "198.51.101.5", 12),
        (" 192.0.2.7 ", "192.0.2.7", "192.0.2.7", 1),
        ("2001:db8::/120", "2001:db8::", "2001:db8::ff", 256),
        ("10.0.0.0/16", "10.0.0.1", "10.0.255.254", 65534),
    ],
)
def test_parse_range(text, first, last, size):
    parsed = parse_range(text)
    assert (str(parsed.first), str(parsed.last), parsed.size) == (first, last, size)


@pytest.mark.parametrize(
    "text",
    ["", "printer", "192.0.2.300", "192.0.2.50-192.0.2.10", "192.0.2.1-::1", "192.0.2.0/33"],
)
def test_parse_range_refuses_garbage(text):
    with pytest.raises(RangeError):
        parse_range(text)


def test_more_than_a_slash_16_needs_force():
    with pytest.raises(RangeError, match="more than a /16"):
        parse_range("10.0.0.0/15")
    with pytest.raises(RangeError, match="more than a /16"):
        parse_range("10.0.0.0-10.1.0.0")  # 65537 addresses
    assert parse_range("10.0.0.0-10.0.255.255").size == MAX_RANGE_ADDRESSES
    assert parse_range("10.0.0.0/8", force=True).size == 2**24 - 2


def test_overlapping_ranges_give_each_address_once_in_order():
    ranges = parse_ranges(["192.0.2.8/30", "192.0.2.1-10", "192.0.2.11", "192.0.2.200"])
    hosts = list(iter_hosts(ranges))
    assert hosts == [f"192.0.2.{i}" for i in range(1, 12)] + ["192.0.2.200"]
    assert count_hosts(ranges) == len(hosts)


def test_a_forced_huge_range_is_produced_lazily():
    ranges = parse_ranges(["10.0.0.0/8"], force=True)
    hosts = iter_hosts(ranges)
    assert [next(hosts) for _ in range(3)] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert count_hosts(ranges) == 2**24 - 2


def test_in_ranges():
    ranges = parse_ranges(["192.0.2.0/28", "2001:db8::1-2001:db8::5"])
    assert in_ranges("192.0.2.14", ranges)
    assert not in_ranges("192.0.2.15", ranges)  # the broadcast address is not swept
    assert in_ranges("2001:db8::3", ranges)
    assert not in_ranges("not-an-ip", ranges)


def test_networks_cover_the_range_exactly():
    networks = parse_range("192.0.2.10-192.0.2.20").networks()
    covered = {str(ip) for network in networks for ip in network}
    assert covered == {f"192.0.2.{i}" for i in range(10, 21)}
    assert all(isinstance(n, ipaddress.IPv4Network) for n in networks)


# -- printer or not ---------------------------------------------------------------------------


def test_probe_asks_the_reader_identity_and_the_first_device_type():
    assert PROBE_OIDS[: len(IDENTITY_SCALARS)] == IDENTITY_SCALARS
    assert PROBE_OIDS[-1] == HR_DEVICE_TYPE + ".1"


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ({"1.3.6.1.2.1.43.10.2.1.4.1.1": 1234}, "printer"),
        ({"1.3.6.1.2.1.43.5.1.1.17.1": b"X1"}, "printer"),
        ({HR_DEVICE_TYPE + ".1": HR_DEVICE_PRINTER}, "printer"),
        ({HR_DEVICE_TYPE + ".1": "1.3.6.1.2.1.25.3.1.3", SYS_DESCR: b"Linux"}, "unknown"),
        ({SYS_DESCR: b"HP ETHERNET MULTI-ENVIRONMENT"}, "unknown"),
        ({HR_DEVICE_TYPE + ".1": "printer"}, "unknown"),  # a string where an OID belongs
        ({}, "unknown"),
    ],
)
def test_classify(values, kind):
    assert classify(values) == kind


def test_classify_walk_finds_a_printer_at_any_device_index():
    router = {
        HR_DEVICE_TYPE + ".196608": "1.3.6.1.2.1.25.3.1.3",
        HR_DEVICE_TYPE + ".262145": "1.3.6.1.2.1.25.3.1.4",
    }
    assert classify_walk(router) == "other"
    assert classify_walk({**router, HR_DEVICE_TYPE + ".3": HR_DEVICE_PRINTER}) == "printer"
    assert classify_walk({"1.3.6.1.2.1.43.5.1.1.1.1": 0}) == "printer"
    assert classify_walk({}) == "other"


# -- credentials ------------------------------------------------------------------------------


def test_target_for_each_kind_of_credential():
    v2 = target_for("192.0.2.5", 1161, Credential(version="2c", community="secret"))
    assert (v2.address, v2.version, v2.community, v2.usm) == (
        "192.0.2.5:1161",
        "2c",
        "secret",
        None,
    )
    v1 = target_for("192.0.2.5", 161, Credential(version="1", community="old"))
    assert v1.version == "1"
    v3 = target_for("192.0.2.5", 161, parse_v3_user("alice:sha256:authkey123:aes:privkey123"))
    assert v3.version == "3"
    assert v3.usm is not None
    assert (v3.usm.name, v3.usm.security_level) == ("alice", "authPriv")
    assert "authkey123" not in repr(v3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("carol", ("carol", None, None, None, None)),
        ("bob:SHA:authkey123", ("bob", "sha", "authkey123", None, None)),
        ("alice:sha256:a1234567:aes:p1234567", ("alice", "sha256", "a1234567", "aes", "p1234567")),
        (
            "eve:sha512:a:bb:cc:d:aes256:p:q:r:s:t",
            ("eve", "sha512", "a:bb:cc:d", "aes256", "p:q:r:s:t"),
        ),
        ("old:md5:authkey123:des:privkey123", ("old", "md5", "authkey123", "des", "privkey123")),
    ],
)
def test_parse_v3_user(text, expected):
    credential = parse_v3_user(text)
    got = (
        credential.user,
        credential.auth_protocol,
        credential.auth_key,
        credential.priv_protocol,
        credential.priv_key,
    )
    assert got == expected
    assert credential.version == "3"


@pytest.mark.parametrize(
    "text", ["bob:sha", "bob:sha:short", "bob:rot13:authkey123", "bob:sha:authkey123:aes:short"]
)
def test_parse_v3_user_refuses_unusable_users(text):
    with pytest.raises(TargetError):
        parse_v3_user(text)


# -- politeness -------------------------------------------------------------------------------


def test_pacer_bounds_requests_in_flight():
    async def run() -> int:
        pacer = Pacer(max_in_flight=3)
        busy = peak = 0

        async def request() -> None:
            nonlocal busy, peak
            async with pacer.slot():
                busy += 1
                peak = max(peak, busy)
                await asyncio.sleep(0.01)
                busy -= 1

        await asyncio.gather(*(request() for _ in range(20)))
        return peak

    assert asyncio.run(run()) == 3


def test_pacer_caps_packets_per_second():
    async def run() -> list[float]:
        pacer = Pacer(max_in_flight=100, rate=200)
        sent: list[float] = []

        async def request() -> None:
            async with pacer.slot():
                sent.append(time.monotonic())

        await asyncio.gather(*(request() for _ in range(21)))
        return sent

    sent = asyncio.run(run())
    assert sent[-1] - sent[0] >= 20 / 200 * 0.95
    assert sent[-1] - sent[0] < 1.0


# -- output -----------------------------------------------------------------------------------


def _reading(address: str, *supplies: Supply, total: int | None = 1200) -> Reading:
    return Reading(
        address=address,
        observed_at=NOW,
        device=Device(manufacturer="Sharp", model="MX-3570N", serial="65094", mac=None),
        counters=Counters(total=total),
        supplies=supplies,
        alerts=(),
    )


def test_lowest_toner():
    black = Supply.from_raw("toner", "black", "Black", 40, 100)
    cyan = Supply.from_raw("toner", "cyan", "Cyan", 8, 100)
    drum = Supply.from_raw("drum", None, "Drum", 1, 100)
    unknown = Supply.from_raw("toner", "black", "Black", -3, 100)
    assert lowest_toner(_reading("a", black, cyan, drum)) == "8%"
    assert lowest_toner(_reading("a", unknown, drum)) == "some"
    assert lowest_toner(_reading("a", drum)) == "-"


def test_table_has_one_row_per_device_and_no_secret():
    device = MergedDevice(
        identity="sn:sharp:65094",
        reading=_reading("192.0.2.9:161", Supply.from_raw("toner", "black", "Black", 5, 10)),
        extra=Credential(version="2c", community="s3cret-community"),
        addresses=("192.0.2.9:161", "192.0.2.10:161"),
    )
    lines = format_table([device]).splitlines()
    assert lines[0].split() == [
        "IP",
        "MANUFACTURER",
        "MODEL",
        "SERIAL",
        "PAGES",
        "TONER",
        "SNMP",
        "NOTE",
    ]
    assert lines[1].split()[:6] == ["192.0.2.9:161", "Sharp", "MX-3570N", "65094", "1200", "50%"]
    assert lines[1].endswith("also 192.0.2.10:161")
    assert "s3cret" not in "\n".join(lines)


def test_progress_bar_draws_on_its_stream_and_erases_itself():
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar(Progress(done=254, total=254, printers=50, others=2))
    bar.close()
    text = stream.getvalue()
    assert "254/254 addresses  50 printers  2 other" in text
    assert text.endswith("\r")
    assert render(Progress(0, 0, 1, 0)).startswith("[" + "." * 30 + "] 0/0 addresses  1 printer")
