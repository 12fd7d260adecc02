"""Footprint of the one-file agent: size, start-up time, glibc baseline, idle memory after a cycle.

    .venv/bin/python bench/agent_footprint.py [--binary dist/scm-agent] [--build]

Targets (issues 4 and 14): binary <= 40 MB; ``scm-agent --version`` and ``scm-agent status``
<= 1 s (median of 10 runs each); the newest GLIBC_ symbol version needed from the host <= 2.17
(the shipped staticx binary needs none: ``none``); idle RSS of ``scm-agent run`` after one
read + upload cycle <= 60 MB.  The cycle is real and local: snmpsim serves a printer
capture on 127.0.0.1, ``scm-ingest serve`` runs on a temporary SQLite database, the frozen agent
enrolls, reads and uploads.  RSS is the sum over the agent's process tree (PyInstaller's one-file
bootloader plus the Python process it starts).  Ends with one line:
``footprint: binary_mb=B startup_s=S status_s=T glibc_max=G idle_rss_mb=R``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.local_fleet import local_fleet  # noqa: E402
from support.processes import process_tree  # noqa: E402

from installers.glibc_requirement import glibc_max  # noqa: E402

CASE = "librenms__sharp"
STARTUP_RUNS = 10
IDLE_SETTLE_S = 3.0
CYCLE_TIMEOUT_S = 90.0


def main() -> int:
    """Measure and print the three figures, then the summary line."""
    args = _arguments()
    binary = args.binary.resolve()
    if args.build or not binary.exists():
        subprocess.run(
            ["bash", str(ROOT / "installers" / "build_linux.sh")],
            env={**os.environ, "SKIP_FROZEN_TESTS": "1"},
            check=True,
        )
    size_mb = binary.stat().st_size / 1e6
    glibc = glibc_max(binary)
    print(f"binary {binary}: {size_mb:.1f} MB (target <= 40)")
    print(f"newest GLIBC_ version needed from the host: {glibc} (target <= 2.17)")
    with tempfile.TemporaryDirectory(prefix="scm-footprint-") as scratch:
        startup_s = startup_time(binary, "--version", home=Path(scratch))
        status_s = startup_time(binary, "status", home=Path(scratch))
        runs = f"median of {STARTUP_RUNS} runs each"
        print(f"start-up: --version {startup_s:.3f} s, status {status_s:.3f} s ({runs}; <= 1)")
        rss_mb, detail = idle_rss_after_one_cycle(binary, Path(scratch))
    print(f"idle RSS after one cycle: {rss_mb:.1f} MB ({detail}) (target <= 60)")
    print(
        f"footprint: binary_mb={size_mb:.1f} startup_s={startup_s:.2f} status_s={status_s:.2f} "
        f"glibc_max={glibc} idle_rss_mb={rss_mb:.1f}"
    )
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, default=ROOT / "dist" / "scm-agent")
    parser.add_argument("--build", action="store_true", help="rebuild the binary first")
    return parser.parse_args()


def startup_time(binary: Path, command: str, *, home: Path) -> float:
    """Median wall time of ``scm-agent COMMAND`` (the one-file unpacking included)."""
    env = {**os.environ, "SCM_AGENT_HOME": str(home / "startup")}
    timings = []
    for _ in range(STARTUP_RUNS):
        start = time.perf_counter()
        subprocess.run([str(binary), command], capture_output=True, env=env, check=False)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def idle_rss_after_one_cycle(binary: Path, scratch: Path) -> tuple[float, str]:
    """Run the agent against a local fleet and ingest; RSS once it has read and uploaded."""
    with local_fleet(scratch, str(binary), CASE) as rig:
        return _measure_run(binary, rig.config, rig.home, rig.env)


def _measure_run(binary: Path, config: Path, home: Path, env: dict[str, str]) -> tuple[float, str]:
    agent = subprocess.Popen(
        [str(binary), "run", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_cycle(home / "status.json")
        time.sleep(IDLE_SETTLE_S)
        per_process = {pid: _rss_kb(pid) for pid in process_tree(agent.pid)}
    finally:
        agent.terminate()
        agent.wait(timeout=60)
    total_mb = sum(per_process.values()) / 1024
    detail = " + ".join(f"pid {pid}: {kb / 1024:.1f} MB" for pid, kb in per_process.items())
    return total_mb, detail


def _wait_for_cycle(status_path: Path) -> None:
    """Until the status file shows a successful read and a successful upload after it."""
    deadline = time.monotonic() + CYCLE_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            status = json.loads(status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            status = {}
        read, upload = status.get("read", {}), status.get("upload", {})
        if read.get("ok") and upload.get("ok") and status.get("backlog", {}).get("readings") == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the agent did not complete a cycle in {CYCLE_TIMEOUT_S} s")


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
