"""Serve snmprec captures with snmpsim on 127.0.0.1 for tests, and read snmprec files directly.

snmpsim takes ~3 s to start, so tests share one process per session (see ``tests/conftest.py``).
Run as root it needs ``SNMPSIM_ALLOW_ROOT=true`` and drops to ``nobody`` before binding, so its
cache directory is a world-writable temporary directory and the port is always above 1024.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyasn1.codec.ber import encoder
from pysnmp.proto import api

HOST = "127.0.0.1"
START_TIMEOUT = 30.0


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 nobody is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get_request(community: str, oid: str = "1.3.6.1.2.1.1.3.0") -> bytes:
    """One encoded SNMPv2c GET, to probe a responder without the agent's own client."""
    proto = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    pdu = proto.GetRequestPDU()
    proto.apiPDU.set_defaults(pdu)
    proto.apiPDU.set_varbinds(pdu, [(oid, proto.Null(""))])
    message = proto.Message()
    proto.apiMessage.set_defaults(message)
    proto.apiMessage.set_community(message, community)
    proto.apiMessage.set_pdu(message, pdu)
    return encoder.encode(message)


def answers(port: int, community: str, timeout: float = 0.3) -> bool:
    """True when something on 127.0.0.1:port answers an SNMP GET within ``timeout``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(get_request(community), (HOST, port))
            sock.recvfrom(65535)
        except OSError:
            return False
    return True


def _responder_command() -> list[str]:
    beside = Path(sys.executable).with_name("snmpsim-command-responder")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("snmpsim-command-responder")
    if found is None:
        raise RuntimeError("snmpsim-command-responder not found (pip install snmpsim pysmi)")
    return [found]


@dataclass
class Snmpsim:
    """A running snmpsim: ``endpoint`` is ``127.0.0.1:PORT``; the community picks the file."""

    port: int
    process: subprocess.Popen[bytes]
    workdir: Path
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.workdir / "snmpsim.log"

    @property
    def endpoint(self) -> str:
        return f"{HOST}:{self.port}"

    def stop(self) -> None:
        """Terminate the responder (kill after 5 s) and remove its cache."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_snmpsim(
    data_dirs: Sequence[Path], *, probe_community: str, timeout: float = START_TIMEOUT
) -> Snmpsim:
    """Start snmpsim on a free port serving ``data_dirs``; wait (bounded) until it answers."""
    workdir = Path(tempfile.mkdtemp(prefix="scm-snmpsim-"))
    cache = workdir / "cache"
    cache.mkdir()
    for path in (workdir, cache):
        path.chmod(0o777)  # snmpsim drops to nobody when started as root
    port = free_udp_port()
    command = [
        *_responder_command(),
        *(f"--data-dir={data_dir}" for data_dir in data_dirs),
        f"--agent-udpv4-endpoint={HOST}:{port}",
        f"--cache-dir={cache}",
    ]
    env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
    log = (workdir / "snmpsim.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    server = Snmpsim(port=port, process=process, workdir=workdir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if answers(port, probe_community):
            return server
        time.sleep(0.2)
    output = server.log.read_text(errors="replace")[-2000:]
    server.stop()
    raise RuntimeError(f"snmpsim did not answer on {HOST}:{port} within {timeout} s:\n{output}")


# -- snmprec files ----------------------------------------------------------------------------

_INTEGER_TAGS = {"2", "65", "66", "67", "70"}


def parse_snmprec(path: Path) -> dict[str, int | bytes | str | None]:
    """An snmprec file as the values :mod:`agent.snmp` would return for it.

    ``4`` text becomes UTF-8 bytes, ``4x`` hex becomes bytes, ``6`` stays a dotted OID, the
    integer tags become ints and ``64`` (IpAddress) its four octets.
    """
    values: dict[str, int | bytes | str | None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        oid, tag, value = line.split("|", 2)
        values[oid] = _snmprec_value(tag, value)
    return values


def _snmprec_value(tag: str, value: str) -> int | bytes | str | None:
    if tag in _INTEGER_TAGS:
        return int(value)
    if tag == "4":
        return value.encode("utf-8")
    if tag == "4x":
        return bytes.fromhex(value)
    if tag == "6":
        return value.strip().lstrip(".")
    if tag == "64":
        return socket.inet_aton(value)
    return None
