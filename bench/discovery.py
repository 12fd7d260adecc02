"""Discovery benchmark: ``scm-agent scan`` of a simulated /24 (50 printers, 204 silent).

Run as root: ``.venv/bin/python bench/discovery.py`` (``--processes N`` snmpsim processes,
``--runs N`` scans).  It re-runs itself in a network namespace of its own (loopback only), serves
the fleet of ``bench/simlan.py`` on UDP 161, then times ``scm-agent scan 127.0.1.0/24 --timeout 1
--retries 1 --json`` as a user runs it (a process of its own, mDNS browse included) and prints:

* wall seconds of the whole command, and its CPU seconds and peak RSS (``wait4``);
* the start-up CPU of ``scm-agent`` (interpreter and imports, measured with ``--version``) and
  CPU ms per device read = (scan CPU - start-up CPU) / devices found: the sweep of the 204
  silent addresses is included;
* devices found (serial and MAC as simulated) and false devices (anything else reported);
* snmpsim's own start-up time and its CPU during the scan, kept out of the agent's figures.

The last line: ``discovery: wall_s=W cpu_ms_per_device=C rss_mb=R found=F/50 false=X``.
Without a namespace (not root, or no ``ip``) it runs on the host's loopback with ``--no-mdns``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from simlan import LIVE, RANGE, Truth, agreement, build_fleet, in_netns, inside_netns, serve

SCM_AGENT = Path(sys.executable).with_name("scm-agent")


@dataclass(frozen=True)
class Run:
    """One measured command."""

    wall_s: float
    cpu_s: float
    rss_mb: float
    stdout: str
    returncode: int


def measure(command: list[str]) -> Run:
    """Run ``command``; wall clock, and CPU and peak RSS of that process alone."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    stdout = b""
    assert process.stdout is not None
    stdout = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        rss_mb=usage.ru_maxrss / 1024,
        stdout=stdout.decode("utf-8", errors="replace"),
        returncode=process.returncode,
    )


def process_cpu(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def judge(readings: list[dict[str, Any]], truths: list[Truth]) -> tuple[int, int]:
    """Devices found as simulated (serial and MAC), and devices that are not in the fleet."""
    wanted = {(t.serial, t.mac) for t in truths}
    seen: set[tuple[str, str]] = set()
    false = 0
    for reading in readings:
        device = reading.get("device") or {}
        key = (device.get("serial") or "", (device.get("mac") or "").lower())
        if key in wanted and key not in seen:
            seen.add(key)
        else:
            false += 1
    return len(seen), false


def missing(readings: list[dict[str, Any]], truths: list[Truth]) -> list[str]:
    """One line per simulated device not found as simulated, with what was found there."""
    by_host = {r["address"].rsplit(":", 1)[0]: r["device"] for r in readings}
    lines = []
    for truth in truths:
        device = by_host.get(truth.address) or {}
        if (device.get("serial"), device.get("mac")) != (truth.serial, truth.mac):
            got = f"serial={device.get('serial')} mac={device.get('mac')}" if device else "nothing"
            lines.append(f"not found: {truth.address} ({truth.capture}): {got}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--processes", type=int, default=2, help="snmpsim processes (2)")
    parser.add_argument("--runs", type=int, default=3, help="scans to time (median reported)")
    parser.add_argument("--no-mdns", action="store_true", help="scan without the mDNS browse")
    args = parser.parse_args()
    if not inside_netns():
        code = in_netns([__file__, *sys.argv[1:]])
        if code is not None:
            return code
        print("no network namespace available: host loopback, mDNS off")
    mdns = [] if inside_netns() and not args.no_mdns else ["--no-mdns"]
    devices, truths = build_fleet()
    started = time.monotonic()
    lan = serve(devices, processes=args.processes)
    print(
        f"snmpsim: {len(lan.processes)} processes, {LIVE} devices, "
        f"ready in {time.monotonic() - started:.1f} s (not counted)"
    )
    try:
        return bench(lan, truths, mdns, args.runs)
    finally:
        lan.stop()


def bench(lan: Any, truths: list[Truth], mdns: list[str], runs: int) -> int:
    startup = min((measure([str(SCM_AGENT), "--version"]) for _ in range(3)), key=lambda r: r.cpu_s)
    command = [str(SCM_AGENT), "scan", RANGE, "--timeout", "1", "--retries", "1", "--json", *mdns]
    results = []
    for _ in range(max(1, runs)):
        before = sum(process_cpu(p.pid) for p in lan.processes)
        run = measure(command)
        simulator_cpu = sum(process_cpu(p.pid) for p in lan.processes) - before
        results.append((run, simulator_cpu))
    run, simulator_cpu = sorted(results, key=lambda pair: pair[0].wall_s)[len(results) // 2]
    readings = json.loads(run.stdout) if run.returncode in (0, 4) else []
    found, false = judge(readings, truths)
    per_device = 1000 * (run.cpu_s - startup.cpu_s) / max(found, 1)
    misses: list[str] = []
    by_host = {r["address"].rsplit(":", 1)[0]: r["device"] for r in readings}
    fields = agreement(by_host, truths, misses)
    print(f"command: {' '.join(['scm-agent', *command[1:]])}  (exit {run.returncode})")
    walls = ", ".join(f"{r.wall_s:.2f}" for r, _ in results)
    print(f"runs: {walls} s wall; the median run is reported")
    print(f"wall: {run.wall_s:.2f} s (whole command, start-up included)")
    print(f"cpu: {run.cpu_s:.2f} s total; start-up {startup.cpu_s:.2f} s (scm-agent --version)")
    print(f"peak rss: {run.rss_mb:.1f} MB")
    print(f"devices found: {found}/{LIVE}; false devices: {false}")
    print(f"cpu per device read: {per_device:.1f} ms (sweep of the silent addresses included)")
    print(f"snmpsim cpu during the scan: {simulator_cpu:.2f} s (not counted)")
    for field, (ok, total) in fields.items():
        print(f"agreement {field}: {ok}/{total}")
    for line in [*missing(readings, truths), *misses]:
        print(line)
    print(
        f"discovery: wall_s={run.wall_s:.2f} cpu_ms_per_device={per_device:.1f} "
        f"rss_mb={run.rss_mb:.1f} found={found}/{LIVE} false={false}"
    )
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    sys.exit(main())
