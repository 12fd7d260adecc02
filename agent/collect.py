"""One read cycle over the known devices, each asked with the credential it last answered to.

A wrong community looks exactly like a dead device in SNMP v1/v2c (no answer), so a device that
does not answer is asked again with each other configured credential, in order; the one that
works is remembered (by fingerprint) for the next cycle.  Devices are read independently and
concurrently: one dead or garbled printer never stops the others (Telegraf's per-agent rule).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from agent import discovery
from agent.reader import read_device
from agent.snmp import (
    CredentialRejected,
    DeviceUnreachable,
    SnmpClient,
    SnmpError,
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


def target_for(address: str, credential: Credential) -> Target:
    """An SNMP target for ``host:port`` with ``credential`` (a v1/v2c community or a v3 user)."""
    where = Target.parse(address)
    return discovery.target_for(where.host, where.port, credential)


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
            reading = await read_device(client, target_for(address, credential), clock=clock)
        except (DeviceUnreachable, CredentialRejected) as err:  # maybe the next one works
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
