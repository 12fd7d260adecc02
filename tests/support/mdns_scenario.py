"""Run inside a network namespace of its own: a printer announced over mDNS, found by ``scan``.

``tests/agent/test_zeroconf_discovery.py`` starts this with ``ip netns exec``: the namespace has
only a loopback, so the multicast of both sides stays in it.  It serves a Sharp capture over
SNMP at 127.0.9.9, announces ``_ipp._tcp`` for it and ``_printer._tcp`` for 127.0.9.10 (where
nothing answers SNMP), runs ``scm-agent scan`` on a range holding neither address, and prints
one JSON object: the scan's exit status, stdout (its table and summary) and stderr.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from zeroconf import ServiceInfo  # noqa: E402
from zeroconf.asyncio import AsyncZeroconf  # noqa: E402

from support.lan import SimDevice, free_port, start_lan  # noqa: E402

PRINTER = "127.0.9.9"
NOT_SNMP = "127.0.9.10"
SCAN_RANGE = "127.0.8.0/30"
SCM_AGENT = Path(sys.executable).with_name("scm-agent")


def _service(kind: str, name: str, address: str) -> ServiceInfo:
    return ServiceInfo(
        f"{kind}.local.",
        f"{name}.{kind}.local.",
        addresses=[socket.inet_aton(address)],
        port=631,
        properties={"ty": name},
        server=f"{name.lower().replace(' ', '-')}.local.",
    )


async def scenario(port: int) -> dict[str, object]:
    zc = AsyncZeroconf(interfaces=["127.0.0.1"])
    services = [
        _service("_ipp._tcp", "Office Sharp", PRINTER),
        _service("_printer._tcp", "Not A Printer", NOT_SNMP),
    ]
    try:
        await asyncio.gather(*(zc.async_register_service(s) for s in services))
        process = await asyncio.create_subprocess_exec(
            str(SCM_AGENT),
            "scan",
            SCAN_RANGE,
            "--port",
            str(port),
            "--timeout",
            "0.5",
            "--retries",
            "1",
            "--mdns-wait",
            "3",
            "--no-progress",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await asyncio.gather(*(zc.async_unregister_service(s) for s in services))
        await zc.async_close()
    return {"status": process.returncode, "stdout": stdout.decode(), "stderr": stderr.decode()}


def main() -> int:
    records = (ROOT / "tests" / "fixtures" / "printers" / "librenms__sharp.snmprec").read_text()
    port = free_port([PRINTER])
    lan = start_lan([SimDevice(PRINTER, records)], port=port)
    try:
        outcome = asyncio.run(scenario(port))
    finally:
        lan.stop()
    print(json.dumps({"port": port, **outcome}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
