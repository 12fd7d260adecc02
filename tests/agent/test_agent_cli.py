"""`scm-agent` as a user runs it: exit statuses, one-line errors, and a device that dies mid-read.

Decision (documented in ``agent.reader.read_device``): a device that answers the first request
and then falls silent is reported like an unreachable one (exit 2, one line), because half a
reading would claim its missing counters are "not reported".
"""

import json
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.snmpsim import HOST, free_udp_port

from agent import __version__
from agent.cli import main
from shared.reading import Reading

SCM_AGENT = Path(sys.executable).with_name("scm-agent")


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCM_AGENT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_unreachable_device_exits_2_with_one_line_and_no_output():
    port = free_udp_port()
    result = run("read", f"127.0.0.1:{port}", "--json", "--timeout", "0.3", "--retries", "1")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"scm-agent: error: 127.0.0.1:{port} did not answer SNMP (timeout 0.3 s, 1 retry)\n"
    )


def test_default_timeout_message(capsys):
    status = main(["read", f"127.0.0.1:{free_udp_port()}", "--timeout", "0.2", "--retries", "0"])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert captured.err.endswith("did not answer SNMP (timeout 0.2 s, 0 retries)\n")


@pytest.mark.parametrize("address", ["printer.invalid", "10.0.0.1:99999", "::zz::"])
def test_bad_address_is_one_line_status_1(address, capsys):
    status = main(["read", address, "--timeout", "0.2", "--retries", "0"])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert captured.err.startswith("scm-agent: error: ")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"scm-agent {__version__}"


def test_json_is_exactly_one_object(snmpsim):
    result = run("read", snmpsim.endpoint, "--community", "librenms__ricoh_mpc3002", "--json")
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.count("\n") == 1
    reading = Reading.from_dict(json.loads(result.stdout))
    assert reading.address == snmpsim.endpoint
    assert reading.device.manufacturer == "Ricoh"


def test_summary_is_readable(snmpsim):
    result = run("read", snmpsim.endpoint, "--community", "librenms__konica_c250i")
    assert result.returncode == 0
    assert "Konica Minolta bizhub C250i" in result.stdout
    assert "33,810" in result.stdout
    assert "Toner (Cyan)" in result.stdout
    assert "76%" in result.stdout
    assert "some remaining" in result.stdout


class DyingProxy:
    """A UDP relay to snmpsim that forwards the first ``allowed`` requests, then goes silent."""

    def __init__(self, upstream_port: int, allowed: int) -> None:
        self.port = free_udp_port()
        self.allowed = allowed
        self.forwarded = 0
        self._upstream = (HOST, upstream_port)
        self._front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._front.bind((HOST, self.port))
        self._back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._back.bind((HOST, 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._relay, daemon=True)

    def __enter__(self) -> "DyingProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._front.close()
        self._back.close()

    def _relay(self) -> None:
        client = None
        while not self._stop.is_set():
            ready, _, _ = select.select([self._front, self._back], [], [], 0.05)
            for sock in ready:
                data, sender = sock.recvfrom(65535)
                if sock is self._front and self.forwarded < self.allowed:
                    client = sender
                    self.forwarded += 1
                    self._back.sendto(data, self._upstream)
                elif sock is self._back and client is not None:
                    self._front.sendto(data, client)


def test_device_that_stops_answering_mid_read_is_one_line_exit_2(snmpsim):
    with DyingProxy(snmpsim.port, allowed=1) as proxy:
        started = time.monotonic()
        result = run(
            "read",
            f"127.0.0.1:{proxy.port}",
            "--community",
            "librenms__sharp",
            "--json",
            "--timeout",
            "0.5",
            "--retries",
            "0",
        )
        elapsed = time.monotonic() - started
    assert proxy.forwarded == 1
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"scm-agent: error: 127.0.0.1:{proxy.port} stopped answering SNMP mid-read\n"
    )
    assert elapsed < 10


def test_proxy_that_forwards_everything_reads_normally(snmpsim):
    with DyingProxy(snmpsim.port, allowed=1000) as proxy:
        result = run("read", f"127.0.0.1:{proxy.port}", "--community", "librenms__utax", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["device"]["serial"] == "R9L0309954"
