"""A simulated printer LAN on loopback: many devices, each at its own 127.x.y.z address.

snmpsim 1.2 gives every ``--v3-engine-id`` section its own data directory, USM users and
endpoints, so one process can play many devices: each device is one engine bound to its own
address, answering community ``public`` (a ``public.snmprec`` in its directory) and/or SNMPv3
users with the empty context (``self.snmprec``, which snmpsim registers as context "").  A
v3-only device has no ``public.snmprec``, so a v2c request to it goes unanswered, like a
printer whose IT disabled v1/v2c.

:func:`personalise` gives copies of one capture their own serial and MAC, so a simulated fleet
holds distinct devices.  Used by the discovery tests and by ``bench/discovery.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.snmp_probe import encode_discovery
from support.snmpsim import _responder_command, get_request

IF_TYPE = "1.3.6.1.2.1.2.2.1.3"
IF_PHYS_ADDRESS = "1.3.6.1.2.1.2.2.1.6"
PRT_GENERAL_SERIAL = "1.3.6.1.2.1.43.5.1.1.17.1"
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class SimUser:
    """An SNMPv3 user as snmpsim spells protocols (``SHA256``, ``AES``); None for no auth/priv."""

    name: str
    auth_protocol: str | None = None
    auth_key: str | None = None
    priv_protocol: str | None = None
    priv_key: str | None = None

    def options(self) -> list[str]:
        """snmpsim command-line options declaring this user."""
        options = [f"--v3-user={self.name}"]
        if self.auth_protocol:
            options += [f"--v3-auth-key={self.auth_key}", f"--v3-auth-proto={self.auth_protocol}"]
        if self.priv_protocol:
            options += [f"--v3-priv-key={self.priv_key}", f"--v3-priv-proto={self.priv_protocol}"]
        return options


@dataclass(frozen=True)
class SimDevice:
    """One simulated device: its address, its snmprec text and how it may be asked."""

    address: str
    records: str
    community: str | None = "public"
    users: tuple[SimUser, ...] = ()


@dataclass
class Lan:
    """Running snmpsim processes serving a set of devices on ``port``."""

    port: int
    processes: list[subprocess.Popen[bytes]]
    workdir: Path
    devices: tuple[SimDevice, ...] = field(default=())

    def stop(self) -> None:
        """Terminate every process (kill after 5 s) and remove the data."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def logs(self) -> str:
        """The tail of every process log, for a failure message."""
        return "\n".join(
            path.read_text(errors="replace")[-1500:] for path in self.workdir.glob("*.log")
        )


def free_port(addresses: Sequence[str]) -> int:
    """A UDP port free on every one of ``addresses`` right now."""
    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((addresses[0] if addresses else "127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if all(_bindable(address, port) for address in addresses):
            return port
    raise RuntimeError("no UDP port free on every simulated address")


def _bindable(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def start_lan(
    devices: Sequence[SimDevice], *, port: int, processes: int = 1, timeout: float = START_TIMEOUT
) -> Lan:
    """Serve ``devices`` (split over ``processes`` snmpsim processes); wait until all answer."""
    workdir = Path(tempfile.mkdtemp(prefix="scm-lan-"))
    workdir.chmod(0o777)
    groups = [list(devices[i::processes]) for i in range(max(1, processes))]
    lan = Lan(port=port, processes=[], workdir=workdir, devices=tuple(devices))
    env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
    for number, group in enumerate(g for g in groups if g):
        command = [*_responder_command(), f"--cache-dir={_dir(workdir / f'cache{number}')}"]
        for index, device in enumerate(group):
            command += _engine_options(device, _dir(workdir / f"p{number}d{index}"), port)
        with (workdir / f"snmpsim{number}.log").open("wb") as log:
            lan.processes.append(
                subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            )
    try:
        _wait_ready(lan, timeout)
    except BaseException:
        lan.stop()
        raise
    return lan


def _dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o777)
    return path


def _engine_options(device: SimDevice, data_dir: Path, port: int) -> list[str]:
    if device.community is not None:
        (data_dir / f"{device.community}.snmprec").write_text(device.records, encoding="utf-8")
    if device.users:
        (data_dir / "self.snmprec").write_text(device.records, encoding="utf-8")
    options = ["--v3-engine-id=auto", f"--data-dir={data_dir}"]
    for user in device.users:
        options += user.options()
    return [*options, f"--agent-udpv4-endpoint={device.address}:{port}"]


def _wait_ready(lan: Lan, timeout: float) -> None:
    """Until every device answers: a v2c GET, or the v3 engine-discovery probe for v3-only."""
    pending = list(lan.devices)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        if any(p.poll() is not None for p in lan.processes):
            raise RuntimeError(f"snmpsim exited:\n{lan.logs()}")
        pending = [d for d in pending if not _answers(d, lan.port)]
        if pending:
            time.sleep(0.2)
    if pending:
        raise RuntimeError(f"{len(pending)} simulated devices never answered:\n{lan.logs()}")


def _answers(device: SimDevice, port: int) -> bool:
    if device.community is not None:
        request = get_request(device.community)
    else:
        request = encode_discovery(4242)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        try:
            sock.sendto(request, (device.address, port))
            sock.recvfrom(65535)
        except OSError:
            return False
    return True


# -- making distinct devices from one capture -------------------------------------------------


def _oid_key(line: str) -> tuple[int, ...]:
    return tuple(int(part) for part in line.split("|", 1)[0].split(".") if part.isdigit())


def personalise(records: str, *, old_serial: str | None, serial: str, mac: str) -> str:
    """The capture with its serial replaced (or added) and every interface MAC set to ``mac``.

    ``old_serial`` is replaced wherever a text or hex value carries it; a capture without one
    gets ``prtGeneralSerialNumber.1``.  A capture without any ifPhysAddress gets one Ethernet
    interface.  Lines stay sorted by OID, as snmpsim needs.
    """
    mac_hex = mac.replace(":", "").lower()
    lines, has_mac = [], False
    for line in records.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        oid, tag, value = line.split("|", 2)
        if oid.startswith(IF_PHYS_ADDRESS + ".") and tag == "4x" and len(value) == 12:
            value, has_mac = mac_hex, True
        elif old_serial and tag == "4" and old_serial in value:
            value = value.replace(old_serial, serial)
        elif old_serial and tag == "4x" and old_serial.encode().hex() in value.lower():
            value = value.lower().replace(old_serial.encode().hex(), serial.encode().hex())
        lines.append(f"{oid}|{tag}|{value}")
    oids = {line.split("|", 1)[0] for line in lines}
    if not old_serial:
        lines = [line for line in lines if not line.startswith(PRT_GENERAL_SERIAL + "|")]
        lines.append(f"{PRT_GENERAL_SERIAL}|4|{serial}")
    if not has_mac:
        lines = [line for line in lines if not line.startswith(f"{IF_PHYS_ADDRESS}.1|")]
        lines.append(f"{IF_PHYS_ADDRESS}.1|4x|{mac_hex}")
        if f"{IF_TYPE}.1" not in oids:
            lines.append(f"{IF_TYPE}.1|2|6")
    return "\n".join(sorted(lines, key=_oid_key)) + "\n"
