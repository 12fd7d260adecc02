"""A printer announced over mDNS outside the scanned range is found, and confirmed over SNMP.

Multicast runs only inside a network namespace made for this test (``ip netns add``, loopback
only), never on the machine's own interfaces; ``tests/support/mdns_scenario.py`` plays the LAN
there.  Where namespaces cannot be made (not root, no ``ip``), the test is skipped and says why.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = Path(__file__).parents[1] / "support" / "mdns_scenario.py"


@pytest.fixture
def netns():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("mDNS test needs root and iproute2 to make a network namespace of its own")
    name = f"scm-test-mdns-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {made.stderr.strip()}")
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_announced_printer_outside_the_range_is_found(netns):
    result = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, str(SCENARIO)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 0, outcome["stderr"]
    header, *rows, summary = outcome["stdout"].splitlines()
    assert header.split()[:4] == ["IP", "MANUFACTURER", "MODEL", "SERIAL"]
    assert [row.split()[:4] for row in rows] == [
        [f"127.0.9.9:{outcome['port']}", "Sharp", "MX-3570N", "6509415X00"]
    ]
    # Both announced addresses were swept (the range itself holds 2 silent ones), but
    # 127.0.9.10 answers no SNMP: an announcement alone is never a printer.
    assert summary.startswith("1 printers; 4 addresses in ")
    assert "2 addresses from mDNS" in summary
