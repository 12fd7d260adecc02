"""``scm-agent scan`` against FusionInventory 2.6 on the same simulated /24, in one run.

Started by ``bench/peer_fusioninventory.sh`` (which installs Debian's FusionInventory packages
when missing).  In a network namespace of its own it serves the fleet of ``bench/simlan.py`` on
UDP 161, then times, each as a process of its own:

* ``scm-agent scan 127.0.1.0/24 --timeout 1 --retries 1 --json`` (discovery and full read);
* ``fusioninventory-netdiscovery --first 127.0.1.1 --last 127.0.1.254 --community public
  --timeout 1 --threads T --inventory --save DIR`` (discovery chained with its network
  inventory, the closest to "discovered and fully read"; T defaults to 32, its best setting).

It prints both times, their ratio, and each tool's serial / model / MAC agreement with the
fleet, ending with ``peer: scm_wall_s=A fusioninventory_wall_s=B ratio=B/A``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from simlan import LIVE, RANGE, SUBNET, Truth, agreement, build_fleet, in_netns, inside_netns, serve

SCM_AGENT = Path(sys.executable).with_name("scm-agent")
NETDISCOVERY = "fusioninventory-netdiscovery"
IDLE_S = 20
MAX_S = 900


def run_scm() -> tuple[float, dict[str, dict[str, Any]]]:
    """Wall seconds of one scan, and the devices it reported by host."""
    command = [str(SCM_AGENT), "scan", RANGE, "--timeout", "1", "--retries", "1", "--json"]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    wall = time.monotonic() - started
    readings = json.loads(result.stdout or "[]")
    return wall, {r["address"].rsplit(":", 1)[0]: r["device"] for r in readings}


def run_fusioninventory(threads: int) -> tuple[float, dict[str, dict[str, Any]], str]:
    """Wall seconds of netdiscovery + netinventory, the devices in its XML by IP, and a note.

    FusionInventory 2.6 was seen to hang after writing its last inventory (threads that never
    join): when no result file appears for ``IDLE_S`` seconds it is killed and its wall time is
    taken at its last result file, which is in its favour.
    """
    save = Path(tempfile.mkdtemp(prefix="scm-peer-fi-"))
    command = [
        NETDISCOVERY,
        "--first",
        f"{SUBNET}.1",
        "--last",
        f"{SUBNET}.254",
        "--community",
        "public",
        "--timeout",
        "1",
        "--threads",
        str(threads),
        "--inventory",
        "--save",
        str(save),
    ]
    started = time.time()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wall, note = _watch(process, save, started)
        return wall, parse_fusioninventory(save), note
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(save, ignore_errors=True)


def _watch(process: subprocess.Popen[bytes], save: Path, started: float) -> tuple[float, str]:
    """Wait for the exit, or for ``IDLE_S`` seconds without a new result file (then kill)."""
    deadline = started + MAX_S
    while time.time() < deadline:
        if process.poll() is not None:
            return time.time() - started, "exited by itself"
        last = max((p.stat().st_mtime for p in save.rglob("*.xml")), default=started)
        if time.time() - last > IDLE_S:
            process.kill()
            return (
                last - started,
                f"did not exit: killed after {IDLE_S} s idle, timed to its last file",
            )
        time.sleep(0.5)
    process.kill()
    return MAX_S, f"still running after {MAX_S} s: killed"


def parse_fusioninventory(save: Path) -> dict[str, dict[str, Any]]:
    """serial / model / mac per scanned IP (the file name: the XML's own IP is the device's)."""
    found: dict[str, dict[str, Any]] = {}
    for folder in ("netdiscovery", "netinventory"):  # inventory second: it wins
        for path in sorted((save / folder).glob("*.xml")):
            entry: dict[str, Any] = {}
            for device in ET.parse(path).getroot().iter("DEVICE"):  # our own files
                for field, tag in (("serial", "SERIAL"), ("model", "MODEL"), ("mac", "MAC")):
                    value = _first(device, tag)
                    if value:
                        entry[field] = value.lower() if field == "mac" else value
            if entry:
                found.setdefault(path.stem, {}).update(entry)
    return found


def _first(element: ET.Element, tag: str) -> str | None:
    for child in element.iter(tag):
        if child.text and child.text.strip():
            return child.text.strip()
    return None


def report(name: str, found: dict[str, dict[str, Any]], truths: list[Truth]) -> None:
    """How many devices a tool reported, and its field agreement with the fleet."""
    fields = agreement(found, truths)
    found_live = sum(1 for t in truths if t.address in found)
    summary = ", ".join(f"{field} {ok}/{total}" for field, (ok, total) in fields.items())
    print(f"{name}: {found_live}/{LIVE} simulated devices reported; agreement: {summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--threads", type=int, default=32, help="FusionInventory threads (32)")
    parser.add_argument("--processes", type=int, default=2, help="snmpsim processes (2)")
    args = parser.parse_args()
    if shutil.which(NETDISCOVERY) is None:
        print("fusioninventory-netdiscovery is missing: run bench/peer_fusioninventory.sh")
        return 1
    if not inside_netns():
        code = in_netns([__file__, *sys.argv[1:]])
        if code is not None:
            return code
        print("needs root and 'ip netns' (UDP 161 in a namespace of its own)")
        return 1
    devices, truths = build_fleet()
    lan = serve(devices, processes=args.processes)
    try:
        scm_wall, scm_found = run_scm()
        fi_wall, fi_found, fi_note = run_fusioninventory(args.threads)
    finally:
        lan.stop()
    print(f"scm-agent scan: {scm_wall:.2f} s wall")
    print(
        f"fusioninventory netdiscovery+inventory, {args.threads} threads: {fi_wall:.2f} s wall "
        f"({fi_note})"
    )
    report("scm-agent", scm_found, truths)
    report("fusioninventory", fi_found, truths)
    ratio = fi_wall / scm_wall if scm_wall > 0 else float("inf")
    print(f"peer: scm_wall_s={scm_wall:.2f} fusioninventory_wall_s={fi_wall:.2f} ratio={ratio:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
