"""Printers that announce themselves over mDNS/DNS-SD, found outside the configured ranges.

A printer moved by DHCP, or on an address nobody listed, still announces its print services
(IPP, IPPS, LPD, raw port 9100).  Browsing those four service types for a short window yields
addresses; discovery then confirms each one over SNMP like any swept address, so an mDNS
announcement alone never makes a printer.

Multicast goes only where it is asked to: :func:`lan_interfaces` picks the local interfaces
whose subnet overlaps a scanned range (the LAN being scanned), never "all interfaces", so a
scan of a customer subnet never multicasts on an unrelated network.  ``zeroconf`` is imported
only when a browse runs.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Sequence
from typing import Any, Final

#: DNS-SD service types printers and MFPs announce.
SERVICE_TYPES: Final = (
    "_ipp._tcp.local.",
    "_ipps._tcp.local.",
    "_printer._tcp.local.",
    "_pdl-datastream._tcp.local.",
)
DEFAULT_BROWSE_SECONDS: Final = 2.0
#: How long one service's addresses may take to resolve once it is seen.
RESOLVE_MS: Final = 1000
#: Services resolved at most per browse (a bound, whatever a hostile LAN announces).
MAX_SERVICES: Final = 1024

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def lan_interfaces(networks: Sequence[Network]) -> list[str]:
    """Local interface addresses whose subnet overlaps one of ``networks`` (IPv4 only).

    mDNS is link-local: an interface is worth browsing only if it sits on a scanned LAN.
    """
    import ifaddr  # only a browse needs the interface list

    chosen: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue  # IPv6 entries are tuples; mDNS here is IPv4
            local = ipaddress.ip_network(f"{ip.ip}/{ip.network_prefix}", strict=False)
            if any(local.version == n.version and local.overlaps(n) for n in networks):
                chosen.append(ip.ip)
    return list(dict.fromkeys(chosen))


async def browse(
    interfaces: Sequence[str], *, seconds: float = DEFAULT_BROWSE_SECONDS
) -> AsyncIterator[str]:
    """Yield each IPv4 address announcing a printer service on ``interfaces`` within ``seconds``.

    Every address is yielded once, as soon as its service resolves.  Nothing is sent when
    ``interfaces`` is empty.
    """
    if not interfaces or seconds <= 0:
        return
    from zeroconf import IPVersion, ServiceStateChange  # imported only when a browse runs
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    found: asyncio.Queue[str | None] = asyncio.Queue()
    seen_names: set[tuple[str, str]] = set()
    tasks: set[asyncio.Task[None]] = set()
    zc = AsyncZeroconf(interfaces=list(interfaces), ip_version=IPVersion.V4Only)

    async def resolve(service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        try:
            if not await info.async_request(zc.zeroconf, RESOLVE_MS):
                return
        except Exception:  # a malformed announcement is simply not a printer found
            return
        for address in info.parsed_addresses(IPVersion.V4Only):
            found.put_nowait(address)

    def on_change(
        zeroconf: Any, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        del zeroconf
        key = (service_type, name)
        if state_change is ServiceStateChange.Removed or key in seen_names:
            return
        if len(seen_names) >= MAX_SERVICES:
            return
        seen_names.add(key)
        task = asyncio.get_running_loop().create_task(resolve(service_type, name))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    browser = AsyncServiceBrowser(zc.zeroconf, list(SERVICE_TYPES), handlers=[on_change])
    loop = asyncio.get_running_loop()
    deadline = loop.call_later(seconds, found.put_nowait, None)
    yielded: set[str] = set()
    try:
        while (address := await found.get()) is not None:
            if address not in yielded:
                yielded.add(address)
                yield address
    finally:
        deadline.cancel()
        await browser.async_cancel()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await zc.async_close()
