"""The simulated /24 both discovery benchmarks scan: 50 printers from the fixtures, 204 silent.

Each live address serves a copy of one real capture (``tests/fixtures/printers``, in turn) with
its own serial and MAC (``tests/support/lan.personalise``), so 50 distinct devices answer; the
other 204 addresses of ``127.0.1.1-127.0.1.254`` are silent.  ``Truth`` is what each device
must be found as: the serial and MAC written into it, and the model its capture's
``expected.json`` asserts (checked with ``../shared/tools/score_readings.py`` where present).

Benchmarks run in a network namespace of their own when they can (``in_netns``): UDP 161 and
mDNS then stay on that namespace's loopback, and nothing can leave the machine.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
for path in (ROOT, TESTS):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from support.lan import Lan, SimDevice, personalise, start_lan  # noqa: E402
from support.snmpsim import parse_snmprec  # noqa: E402

from agent.reader import build_reading  # noqa: E402

FIXTURES = TESTS / "fixtures" / "printers"
SCORER = ROOT.parent / "shared" / "tools" / "score_readings.py"
SUBNET = "127.0.1"
RANGE = f"{SUBNET}.0/24"
LIVE = 50
NETNS_ENV = "SCM_BENCH_NETNS"


@dataclass(frozen=True)
class Truth:
    """What one simulated device is."""

    address: str
    capture: str
    serial: str
    mac: str
    expected: dict[str, Any]


#: A capture whose default context holds only the system group (its printer objects sit in the
#: SNMP context ``Jetdirect``): by the Printer-MIB rule it is not a printer, so not in the fleet.
NOT_A_DEVICE = "librenms__jetdirect_supplies_context"


def captures() -> list[Path]:
    """Every capture of a whole printer, in name order."""
    return sorted(p for p in FIXTURES.glob("*.snmprec") if not p.name.startswith(NOT_A_DEVICE))


def build_fleet(live: int = LIVE) -> tuple[list[SimDevice], list[Truth]]:
    """``live`` devices spread over the /24, each a personalised copy of a capture."""
    files = captures()
    devices, truths = [], []
    now = datetime.now(UTC)
    for i in range(live):
        capture = files[i % len(files)]
        address = f"{SUBNET}.{1 + i * 5}"
        records = capture.read_text(encoding="utf-8")
        old_serial = build_reading("x", now, parse_snmprec(capture)).device.serial
        serial, mac = f"SCMBENCH{i:04d}", f"02:5c:4d:00:01:{i:02x}"
        devices.append(
            SimDevice(address, personalise(records, old_serial=old_serial, serial=serial, mac=mac))
        )
        expected = capture.with_name(capture.name.replace(".snmprec", ".expected.json"))
        truths.append(
            Truth(address, capture.stem, serial, mac, json.loads(expected.read_text("utf-8")))
        )
    return devices, truths


def serve(devices: list[SimDevice], *, processes: int = 2) -> Lan:
    """snmpsim on UDP 161 of every live address."""
    return start_lan(devices, port=161, processes=processes)


def scorer() -> ModuleType | None:
    """``score_readings.py`` from ../shared (for model agreement), if it is there."""
    if not SCORER.is_file():
        return None
    spec = importlib.util.spec_from_file_location("score_readings", SCORER)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def agreement(
    found: dict[str, dict[str, Any]], truths: list[Truth], misses: list[str] | None = None
) -> dict[str, tuple[int, int]]:
    """Per field, ``(agreeing, checked)`` over the devices; ``found`` maps address → device.

    A model that disagrees is described in ``misses``, when given.
    """
    score = scorer()
    tally = {"serial": [0, 0], "mac": [0, 0], "model": [0, 0]}
    for truth in truths:
        device = found.get(truth.address) or {}
        tally["serial"][1] += 1
        tally["serial"][0] += (device.get("serial") or "").strip() == truth.serial
        tally["mac"][1] += 1
        tally["mac"][0] += (device.get("mac") or "").lower() == truth.mac
        if score is not None:
            expected = score.expected_fields(truth.expected)
            if "model" in expected:
                tally["model"][1] += 1
                checked = score.check({"model": expected["model"]}, {"device": device})
                tally["model"][0] += bool(checked.get("model"))
                if not checked.get("model") and misses is not None:
                    misses.append(
                        f"model of {truth.address} ({truth.capture}): {device.get('model')!r}, "
                        f"expected one of {sorted(expected['model'])}"
                    )
    return {field: (ok, total) for field, (ok, total) in tally.items()}


def in_netns(argv: list[str]) -> int | None:
    """Re-run this script inside a fresh network namespace; None where that is not possible.

    The namespace gets only a loopback (up); it is deleted afterwards, whatever happened.
    """
    if os.environ.get(NETNS_ENV) or os.geteuid() != 0 or shutil.which("ip") is None:
        return None
    name = f"scm-bench-{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", name], check=False).returncode != 0:
        return None
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        env = {**os.environ, NETNS_ENV: name}
        command = ["ip", "netns", "exec", name, sys.executable, *argv]
        return subprocess.run(command, env=env, check=False).returncode
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def inside_netns() -> bool:
    """True when running in the benchmark's own namespace."""
    return bool(os.environ.get(NETNS_ENV))
