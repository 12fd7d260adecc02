"""One read cycle over the known devices, each asked with the credential it last answered to.

A wrong community looks exactly like a dead device in SNMP v1/v2c (no answer), so a device that
does not answer is asked again with each other configured credential, in order; the one that
works is remembered (by fingerprint) for the next cycle.  Devices are read independently and
concurrently: one dead or garbled printer never stops the others (Telegraf's per-agent rule).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from agent.mibs import HR_DEVICE_PRINTER, HR_DEVICE_TYPE, PRT_GENERAL_SERIAL, SYS_OBJECT_ID
from agent.reader import read_device
from agent.snmp import (
    DeviceUnreachable,
    SnmpClient,
    SnmpError,
    SnmpVersion,
    Target,
    TargetError,
)
from shared.agent_config import Credential
from shared.reading import Reading


@dataclass(slots=True)
class Collected:
    """What a cycle produced: readings, who answered to which credential, and failures."""

    readings: list[Reading] = field(default_factory=list)
    answered: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def target_for(address: str, credential: Credential) -> Target | None:
    """An SNMP target for ``address`` with ``credential``; None where the engine cannot use it.

    SNMPv3 targets come with the v3 engine (``agent.snmp``); until it is there a v3 credential
    is skipped, never sent as a community.
    """
    if credential.version == "3" or credential.community is None:
        return None
    version = cast("SnmpVersion", credential.version)
    return Target.parse(address, community=credential.community, version=version)


def ordered(credentials: Sequence[Credential], remembered: str | None) -> list[Credential]:
    """The remembered credential first, then the others in configuration order."""
    return sorted(credentials, key=lambda c: c.fingerprint != remembered)


async def collect(
    addresses: Sequence[str],
    credentials: Sequence[Credential],
    remembered: Callable[[str], str | None],
    *,
    timeout: float,
    retries: int,
    concurrency: int,
    clock: Callable[[], datetime],
) -> Collected:
    """Read every address (at most ``concurrency`` at a time); never raises for one device."""
    result = Collected()
    if not addresses:
        return result
    limit = asyncio.Semaphore(max(1, concurrency))
    async with SnmpClient(timeout=timeout, retries=retries) as client:

        async def one(address: str) -> None:
            async with limit:
                tries = ordered(credentials, remembered(address))
                await _read_one(client, address, tries, clock, result)

        await asyncio.gather(*(one(address) for address in addresses))
    return result


async def _read_one(
    client: SnmpClient,
    address: str,
    credentials: Sequence[Credential],
    clock: Callable[[], datetime],
    result: Collected,
) -> None:
    """Try the credentials in turn until the device answers; record a reading or a failure."""
    failure = f"{address}: no usable SNMP credential"
    for credential in credentials:
        try:
            target = target_for(address, credential)
            if target is None:
                continue
            reading = await read_device(client, target, clock=clock)
        except DeviceUnreachable as err:
            failure = str(err)
            continue
        except (SnmpError, TargetError) as err:
            result.failures.append(str(err))
            return
        except Exception as err:  # a device's data must never stop the fleet's cycle
            result.failures.append(f"{address}: {type(err).__name__}: {err}")
            return
        result.readings.append(reading)
        result.answered[address] = credential.fingerprint
        return
    result.failures.append(" ".join(failure.split()))


#: A discovery sweep probes at most this many addresses (4 x /24); larger ranges are cut.
MAX_SWEEP_ADDRESSES = 1024
_PRINTER_PROBE = (SYS_OBJECT_ID, HR_DEVICE_TYPE + ".1", PRT_GENERAL_SERIAL + ".1")


def expand_ranges(ranges: Sequence[str], limit: int = MAX_SWEEP_ADDRESSES) -> list[str]:
    """Every host address of ``ranges`` (CIDR, ``first-last`` or one address), at most ``limit``."""
    addresses: list[str] = []
    for text in ranges:
        if "-" in text:
            first, last = (ipaddress.ip_address(p.strip()) for p in text.split("-", 1))
            hosts = (ipaddress.ip_address(n) for n in range(int(first), int(last) + 1))
        else:
            network = ipaddress.ip_network(text, strict=False)
            hosts = network.hosts() if network.num_addresses > 2 else iter(network)
        for host in hosts:
            if len(addresses) >= limit:
                return addresses
            addresses.append(str(host))
    return addresses


async def sweep(
    addresses: Sequence[str],
    credentials: Sequence[Credential],
    *,
    timeout: float,
    retries: int,
    concurrency: int,
) -> list[tuple[str, Credential]]:
    """The built-in minimal sweep: which addresses answer as printers, and to which credential.

    A device counts as a printer when it reports a Printer-MIB serial or an hrDevicePrinter; the
    full discovery engine (zeroconf, identity merge) replaces this when it is installed.
    """
    limit = asyncio.Semaphore(max(1, concurrency))
    found: list[tuple[str, Credential]] = []
    async with SnmpClient(timeout=timeout, retries=retries) as client:

        async def probe(address: str) -> None:
            async with limit:
                for credential in credentials:
                    target = target_for(address, credential)
                    if target is None:
                        continue
                    try:
                        values = await client.get(target, _PRINTER_PROBE)
                    except SnmpError:
                        continue
                    if _is_printer(values):
                        found.append((target.address, credential))
                    return

        await asyncio.gather(*(probe(address) for address in addresses))
    return found


def _is_printer(values: dict[str, Any]) -> bool:
    device_type = values.get(HR_DEVICE_TYPE + ".1")
    return PRT_GENERAL_SERIAL + ".1" in values or device_type == HR_DEVICE_PRINTER
