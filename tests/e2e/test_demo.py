"""The README's demo command: the fleet read, the pages served, and a supervisor's stop.

One run covers both, to keep the suite fast: the demo is started as ``make demo`` starts it,
checked while it serves, then stopped with SIGTERM as systemd or ``kill`` would, and nothing it
started may survive.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from support.processes import free_tcp_port

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.e2e


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (children of the demo carry its workdir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


def test_demo_serves_the_fleet_and_a_sigterm_stops_everything_it_started(tmp_path):
    port = free_tcp_port()
    workdir = tmp_path / "demo"
    demo = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "demo" / "run.py"),
            "--port",
            str(port),
            "--workdir",
            str(workdir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("Serving"):
                break
        text = "".join(output)
        assert "Serving" in text, text
        cases = len(list((ROOT / "tests" / "fixtures" / "printers").glob("*.expected.json")))
        assert f"read {cases}/{cases} devices; uploaded {cases} readings" in text
        assert re.search(rf"http://127\.0\.0\.1:{port}/machines", text)
        assert re.search(rf"http://127\.0\.0\.1:{port}/ops/", text)
        assert "6 machines under contract" in text
        assert re.search(r"password: \S{12,}", text)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
            assert page.status == 200
        assert _processes_mentioning(str(workdir)), "the demo's children carry its workdir"

        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=30) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        demo.stdout.close()
    deadline = time.monotonic() + 15
    while _processes_mentioning(str(workdir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(workdir)) == []
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
