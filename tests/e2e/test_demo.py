"""The README's demo command, run once to the point where the devices page is filled."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from support.processes import free_tcp_port

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.e2e


def test_demo_once_reads_the_whole_fleet_and_reports_the_page(tmp_path):
    port = free_tcp_port()
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "demo" / "run.py"),
            "--once",
            "--port",
            str(port),
            "--workdir",
            str(tmp_path / "demo"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    cases = len(list((ROOT / "tests" / "fixtures" / "printers").glob("*.expected.json")))
    assert f"read {cases}/{cases} devices; uploaded {cases} readings" in result.stdout
    assert re.search(rf"http://127\.0\.0\.1:{port}/machines", result.stdout)
    assert re.search(rf"http://127\.0\.0\.1:{port}/ops/", result.stdout)
    assert "6 machines under contract" in result.stdout
    assert re.search(r"password: \S{12,}", result.stdout)
    with pytest.raises(OSError):  # --once stopped the server again
        urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
