"""Discovery of a small simulated LAN over real UDP: snmpsim devices at their own 127.0.3.x.

The range 127.0.3.1-127.0.3.16 holds, before and after a DHCP change (two snmpsim layouts on
two ports, so the "later" LAN needs no restart):

==========  ==========================================================  =====================
address     device                                                      asked with
==========  ==========================================================  =====================
.2          Sharp MX-3570N                                              v2c ``public``
.3 → .12    Ricoh Aficio MP C3002 (moves between the scans)             v2c ``public``
.5          Konica Minolta bizhub C250i, SNMPv3 only                    v3 ``alice`` authPriv
.7 + .8     HP Color LaserJet M452nw, two interfaces (one serial)       v2c ``public``
.9          Brother DCP-L3550CDW (placeholder serial: known by MAC)     v2c ``public``
.10         a Linux router: answers SNMP, no Printer-MIB                v2c ``public``
.11         a host answering every datagram with garbage bytes          -
.13         SNMPv3 only, with a user we do not have                     -
others      silent                                                      -
==========  ==========================================================  =====================
"""

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.lan import Lan, SimDevice, SimUser, free_port, personalise, start_lan

from agent.discovery import ScanOptions, ScanResult, parse_ranges, scan
from agent.identity import compare_scans
from agent.snmp import CredentialRejected, DeviceUnreachable, SnmpClient, Target, UsmUser
from shared.agent_config import Credential

PRINTERS = Path(__file__).parents[1] / "fixtures" / "printers"
SCM_AGENT = Path(sys.executable).with_name("scm-agent")
RANGE = "127.0.3.1-127.0.3.16"
ALICE = SimUser("alice", "SHA256", "alice-auth-key", "AES", "alice-priv-key")
CAROL = SimUser("carol", "SHA", "carol-auth-key")
DAVE = SimUser("dave")
PUBLIC = Credential(version="2c", community="public")
ALICE_CREDENTIAL = Credential(
    version="3",
    user="alice",
    auth_protocol="sha256",
    auth_key="alice-auth-key",
    priv_protocol="aes",
    priv_key="alice-priv-key",
)
ROUTER = """\
1.3.6.1.2.1.1.1.0|4|Linux gw 5.10.0-23-amd64 #1 SMP x86_64
1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10
1.3.6.1.2.1.1.5.0|4|gw
1.3.6.1.2.1.2.2.1.3.1|2|24
1.3.6.1.2.1.2.2.1.3.2|2|6
1.3.6.1.2.1.2.2.1.6.1|4|
1.3.6.1.2.1.2.2.1.6.2|4x|52540012ab01
1.3.6.1.2.1.25.3.2.1.2.196608|6|1.3.6.1.2.1.25.3.1.3
1.3.6.1.2.1.25.3.2.1.2.262145|6|1.3.6.1.2.1.25.3.1.4
1.3.6.1.2.1.25.3.2.1.3.196608|4|GenuineIntel: Intel Core i5
1.3.6.1.2.1.25.3.2.1.3.262145|4|network interface eth0
"""


def _capture(name: str) -> str:
    return (PRINTERS / f"{name}.snmprec").read_text(encoding="utf-8")


def _layout(ricoh_at: str) -> list[SimDevice]:
    hp = _capture("librenms__jetdirect")
    return [
        SimDevice("127.0.3.2", _capture("librenms__sharp")),
        SimDevice(ricoh_at, _capture("librenms__ricoh_mpc3002")),
        SimDevice(
            "127.0.3.5",
            _capture("librenms__konica_c250i"),
            community=None,
            users=(ALICE, CAROL, DAVE),
        ),
        SimDevice("127.0.3.7", hp),
        SimDevice(
            "127.0.3.8",
            personalise(hp, old_serial="AAA0A00000", serial="AAA0A00000", mac="94:57:a5:34:df:34"),
        ),
        SimDevice("127.0.3.9", _capture("bieniu-brother__dcp-l3550cdw")),
        SimDevice("127.0.3.10", ROUTER),
        SimDevice(
            "127.0.3.13",
            _capture("librenms__epson"),
            community=None,
            users=(SimUser("bob", "SHA", "bob-auth-key"),),
        ),
    ]


class GarbageHost:
    """Answers every datagram on ``address:port`` with bytes that are not SNMP."""

    def __init__(self, address: str, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.answered = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                _data, peer = self.sock.recvfrom(65535)
            except OSError:
                continue
            self.sock.sendto(b"\x30\x84\xff\xff\xff\xff\x02\x01garbage\x00\xff", peer)
            self.answered += 1

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(scope="module")
def lans() -> Iterator[tuple[Lan, Lan, GarbageHost, GarbageHost]]:
    """The LAN before (Ricoh at .3) and after (Ricoh at .12) the DHCP change."""
    addresses = [f"127.0.3.{i}" for i in range(1, 17)]
    before_port = free_port(addresses)
    after_port = free_port(addresses)
    with ThreadPoolExecutor(max_workers=2) as pool:
        before = pool.submit(start_lan, _layout("127.0.3.3"), port=before_port)
        after = pool.submit(start_lan, _layout("127.0.3.12"), port=after_port)
        lans = before.result(), after.result()
    garbage = GarbageHost("127.0.3.11", before_port), GarbageHost("127.0.3.11", after_port)
    try:
        yield (*lans, *garbage)
    finally:
        for item in (*lans, *garbage):
            item.stop()


def _scan(
    port: int, credentials: tuple[Credential, ...] = (PUBLIC, ALICE_CREDENTIAL)
) -> ScanResult:
    options = ScanOptions(
        ranges=parse_ranges([RANGE]),
        credentials=credentials,
        port=port,
        timeout=0.5,
        retries=1,
        mdns=False,
    )
    return asyncio.run(scan(options))


@pytest.fixture(scope="module")
def before(lans) -> ScanResult:
    return _scan(lans[0].port)


@pytest.fixture(scope="module")
def after(lans) -> ScanResult:
    return _scan(lans[1].port)


def _rows(result: ScanResult) -> list[tuple]:
    return [
        (
            device.addresses,
            device.identity,
            device.reading.device.manufacturer,
            device.reading.device.model,
            device.extra.label,
        )
        for device in result.devices
    ]


def test_every_printer_found_once_with_its_identity_and_credential(before, lans):
    port = lans[0].port
    assert _rows(before) == [
        ((f"127.0.3.2:{port}",), "sn:sharp:6509415X00", "Sharp", "MX-3570N", "v2c community"),
        (
            (f"127.0.3.3:{port}",),
            "sn:ricoh:W492KB03439",
            "Ricoh",
            "Aficio MP C3002",
            "v2c community",
        ),
        (
            (f"127.0.3.5:{port}",),
            "sn:konicaminolta:AA2M021115700",
            "Konica Minolta",
            "bizhub C250i",
            "v3 user alice (sha256/aes)",
        ),
        (
            (f"127.0.3.7:{port}", f"127.0.3.8:{port}"),
            "sn:hp:AAA0A00000",
            "HP",
            "Color LaserJet M452nw",
            "v2c community",
        ),
        (
            (f"127.0.3.9:{port}",),
            "mac:aa:bb:cc:dd:ee:ff",
            "Brother",
            "DCP-L3550CDW",
            "v2c community",
        ),
    ]


def test_non_printers_and_refusals_are_counted_not_reported(before, lans):
    port = lans[0].port
    assert before.others == [f"127.0.3.10:{port}"]
    assert before.unauthorized == [f"127.0.3.13:{port}"]
    assert before.failures == []
    assert before.swept == 16


def test_garbage_host_was_asked_and_ignored(before, lans):
    garbage = lans[2]
    assert garbage.answered >= 1
    assert all("127.0.3.11" not in d.addresses[0] for d in before.devices)


def test_the_reading_is_complete(before):
    sharp = before.devices[0].reading
    assert sharp.counters.total == 121104
    assert sharp.counters.mono is not None
    assert len(sharp.supplies) > 4
    konica = before.devices[2].reading
    assert konica.counters.total == 33810  # read entirely over SNMPv3 authPriv


def test_a_device_moved_by_dhcp_is_the_same_device(before, after, lans):
    assert sorted(d.identity for d in after.devices) == sorted(d.identity for d in before.devices)
    comparison = compare_scans(before.readings, after.devices)
    ricoh = "sn:ricoh:W492KB03439"
    assert comparison.change_of(ricoh) == ("moved", f"127.0.3.3:{lans[0].port}")
    moved = next(d for d in after.devices if d.identity == ricoh)
    assert moved.addresses == (f"127.0.3.12:{lans[1].port}",)
    others = {c for i, c in comparison.changes.items() if i != ricoh}
    assert others == {("same", None)}
    assert comparison.gone == ()


def test_without_the_v3_user_the_v3_only_printer_is_a_refusal(lans):
    result = _scan(lans[0].port, credentials=(PUBLIC,))
    assert "sn:konicaminolta:AA2M021115700" not in {d.identity for d in result.devices}
    assert result.unauthorized == []  # no v3 user configured: no v3 probe either
    assert len(result.devices) == 4


def test_scan_command_json_and_table_with_moves(lans, tmp_path):
    before_port, after_port = lans[0].port, lans[1].port
    common = ["--no-mdns", "--timeout", "0.5", "--retries", "1", "--no-progress"]
    first = subprocess.run(
        [str(SCM_AGENT), "scan", RANGE, "--port", str(before_port), "--json", *common],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    readings = json.loads(first.stdout)
    assert [r["device"]["serial"] for r in readings] == [
        "6509415X00",
        "W492KB03439",
        "AAA0A00000",
        "serial_number",
    ]  # the v3-only Konica needs --v3-user
    previous = tmp_path / "before.json"
    previous.write_text(first.stdout, encoding="utf-8")
    second = subprocess.run(
        [
            str(SCM_AGENT),
            "scan",
            RANGE,
            "--port",
            str(after_port),
            "--previous",
            str(previous),
            "--v3-user",
            "alice:sha256:alice-auth-key:aes:alice-priv-key",
            "--community",
            "public",
            *common,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 0, second.stderr
    lines = second.stdout.splitlines()
    assert lines[0].split()[:6] == ["IP", "MANUFACTURER", "MODEL", "SERIAL", "PAGES", "TONER"]
    ricoh = next(line for line in lines if "W492KB03439" in line)
    assert ricoh.startswith(f"127.0.3.12:{after_port}")
    assert ricoh.endswith(f"moved from 127.0.3.3:{before_port}")
    konica = next(line for line in lines if "AA2M021115700" in line)
    assert "v3 user alice" in konica
    assert konica.endswith("new")
    hp = next(line for line in lines if "AAA0A00000" in line)
    assert hp.endswith(f"same; also 127.0.3.8:{after_port}")
    assert lines[-1].startswith("5 printers; 16 addresses in ")
    assert "1 other SNMP devices" in lines[-1]
    assert "1 refused every SNMPv3 user" in lines[-1]
    assert "alice-auth-key" not in second.stdout + second.stderr


# -- SNMPv3 itself ----------------------------------------------------------------------------

V3_DEVICE = "127.0.3.5"


@pytest.mark.parametrize(
    ("user", "level"),
    [
        (UsmUser("alice", "sha256", "alice-auth-key", "aes", "alice-priv-key"), "authPriv"),
        (UsmUser("carol", "sha", "carol-auth-key"), "authNoPriv"),
        (UsmUser("dave"), "noAuthNoPriv"),
    ],
)
def test_snmpv3_security_levels(lans, user, level):
    async def ask() -> dict:
        async with SnmpClient(timeout=0.5, retries=1) as client:
            target = Target.parse(f"{V3_DEVICE}:{lans[0].port}", usm=user)
            return await client.get(target, ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"])

    assert user.security_level == level
    values = asyncio.run(ask())
    assert values["1.3.6.1.2.1.1.1.0"].startswith(b"KONICA MINOLTA")
    assert values["1.3.6.1.2.1.1.2.0"].startswith("1.3.6.1.4.1.18334.")


@pytest.mark.parametrize(
    "user",
    [
        UsmUser("alice", "sha256", "wrong-auth-key", "aes", "alice-priv-key"),
        UsmUser("mallory", "sha", "mallory-auth-key"),
        UsmUser("alice"),  # right name, weaker security level than configured
    ],
)
def test_snmpv3_refusal_is_immediate_not_a_timeout(lans, user):
    async def ask() -> None:
        async with SnmpClient(timeout=2, retries=1) as client:
            target = Target.parse(f"{V3_DEVICE}:{lans[0].port}", usm=user)
            await client.get(target, ["1.3.6.1.2.1.1.1.0"])

    started = time.monotonic()
    with pytest.raises(CredentialRejected, match=f"refused SNMPv3 user {user.name}"):
        asyncio.run(ask())
    assert time.monotonic() - started < 2


def test_engine_discovery_probe_needs_no_credential(lans):
    async def probe() -> list:
        async with SnmpClient(timeout=0.3, retries=0) as client:
            hosts = [V3_DEVICE, "127.0.3.2", "127.0.3.4", "127.0.3.11"]
            return [await client.speaks_v3(Target(h, lans[0].port)) for h in hosts]

    v3_only, v2c_too, silent, garbage = asyncio.run(probe())
    assert v3_only and v2c_too and v3_only != v2c_too  # each engine has its own id
    assert silent is None
    assert garbage is None


def test_a_v2c_request_to_a_v3_only_device_goes_unanswered(lans):
    async def ask() -> None:
        async with SnmpClient(timeout=0.3, retries=0) as client:
            await client.get(Target(V3_DEVICE, lans[0].port), ["1.3.6.1.2.1.1.1.0"])

    with pytest.raises(DeviceUnreachable):
        asyncio.run(ask())


def test_read_command_speaks_snmpv3_with_v3_user(lans):
    before, *_ = lans
    result = subprocess.run(
        [
            str(SCM_AGENT),
            "read",
            f"127.0.3.5:{before.port}",
            "--v3-user",
            "alice:sha256:alice-auth-key:aes:alice-priv-key",
            "--json",
            "--timeout",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    reading = json.loads(result.stdout)
    assert reading["counters"]["total"] == 33810
    wrong = subprocess.run(
        [
            str(SCM_AGENT),
            "read",
            f"127.0.3.5:{before.port}",
            "--v3-user",
            "alice:sha256:wrong-auth-key:aes:alice-priv-key",
            "--json",
            "--timeout",
            "1",
            "--retries",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert wrong.returncode != 0
    assert wrong.stdout == ""
    assert "Traceback" not in wrong.stderr
