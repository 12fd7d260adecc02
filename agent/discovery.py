"""Discovery: every printer on a customer LAN, fast and politely, each with its identity.

The pieces, pure where they can be:

* **ranges** (:func:`parse_range`): CIDR, ``first-last``, ``a.b.c.d-e`` or one address; more than
  a /16 is refused unless forced, because a sweep that size runs for hours and looks like an
  attack to the customer's IT.  Overlapping ranges are merged, so no address is asked twice.
* **credential trial** (:class:`_Sweeper`): per host, the v1/v2c communities in order (a wrong
  community is indistinguishable from a dead host, so each costs one timeout); SNMPv3 users only
  on hosts that answered the credential-free engine-discovery probe sent beside the first
  community, so dead addresses never cost a timeout per v3 user.  The first credential that
  answers is remembered with the device.
* **printer or not** (:func:`classify`): Printer-MIB objects or an hrDevicePrinter row make a
  printer; anything else answering SNMP is counted as "other", never reported as a printer.
* **identity** (:mod:`agent.identity`): readings of one device at several addresses are merged.
* **mDNS** (:mod:`agent.zeroconf_browse`): announced printers outside the ranges are queued into
  the same sweep and confirmed over SNMP like any other address.

Every host is handled by one of a bounded pool of workers, so memory stays flat whatever the
range; every request goes through the client's :class:`~agent.snmp.Pacer` (requests in flight,
packets per second).  A sweep of a /24 where everything fits in flight takes about
``communities x timeout x (retries + 1)``; printers are read while silent hosts time out.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

from agent.identity import MergedDevice, Sighting, merge_readings
from agent.mibs import (
    FIRST_PRINTER,
    HR_DEVICE_PRINTER,
    HR_DEVICE_TYPE,
    IDENTITY_SCALARS,
    decode_oid,
)
from agent.reader import read_device
from agent.snmp import (
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_PORT,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    CredentialRejected,
    DeviceUnreachable,
    SnmpClient,
    SnmpError,
    Target,
    UsmUser,
    Value,
)
from agent.zeroconf_browse import DEFAULT_BROWSE_SECONDS, browse, lan_interfaces
from shared.agent_config import Credential
from shared.reading import Reading

#: Largest range accepted without ``force`` (a /16), as in the agent's configuration.
MAX_RANGE_ADDRESSES: Final = 65536
PRINTER_MIB: Final = "1.3.6.1.2.1.43"
#: The first GET of every host: the reader's identity scalars plus the first hrDeviceType, so
#: a printer is recognised, and its reading started, in one round trip.
PROBE_OIDS: Final = (*IDENTITY_SCALARS, HR_DEVICE_TYPE + FIRST_PRINTER)
#: Rows of hrDeviceTable looked at when the probe was not conclusive (routers list many).
_DEEP_ROWS: Final = 32

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Kind = Literal["printer", "other", "unknown"]
OutcomeKind = Literal["printer", "other", "unauthorized", "silent", "failed"]


class RangeError(ValueError):
    """A range that cannot be swept (syntax, order, size); the message says which and why."""


# -- ranges -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddressRange:
    """Consecutive addresses ``first``..``last`` (inclusive), as the user wrote them."""

    text: str
    first: IPAddress
    last: IPAddress

    @property
    def size(self) -> int:
        """How many addresses the range holds."""
        return int(self.last) - int(self.first) + 1

    def networks(self) -> list[Network]:
        """The range as CIDR blocks (to find which local interfaces sit on it)."""
        return list(ipaddress.summarize_address_range(self.first, self.last))  # type: ignore[misc]


def parse_range(text: str, *, force: bool = False) -> AddressRange:
    """``10.0.0.0/24`` (hosts only), ``10.0.0.10-10.0.0.50``, ``10.0.0.10-50`` or ``10.0.0.7``."""
    cleaned = text.strip()
    try:
        if "/" in cleaned:
            first, last = _cidr_hosts(ipaddress.ip_network(cleaned, strict=False))
        elif "-" in cleaned:
            first, last = _first_last(cleaned)
        else:
            first = last = ipaddress.ip_address(cleaned)
    except ValueError as err:
        raise RangeError(f"not a network, address range or address: {text!r}") from err
    found = AddressRange(cleaned, first, last)
    if found.size > MAX_RANGE_ADDRESSES and not force:
        raise RangeError(
            f"{cleaned} holds {found.size} addresses, more than a /16 ({MAX_RANGE_ADDRESSES}); "
            "split it, or force it if the customer's IT agreed"
        )
    return found


def _cidr_hosts(network: Network) -> tuple[IPAddress, IPAddress]:
    """First and last host: an IPv4 network's own and broadcast addresses are left out."""
    if network.version == 4 and network.num_addresses > 2:
        return network.network_address + 1, network.broadcast_address - 1
    return network.network_address, network.broadcast_address


def _first_last(text: str) -> tuple[IPAddress, IPAddress]:
    head, tail = (part.strip() for part in text.split("-", 1))
    first = ipaddress.ip_address(head)
    if tail.isdigit() and first.version == 4:  # 10.0.0.10-50: the last octet only
        last: IPAddress = ipaddress.ip_address(f"{head.rsplit('.', 1)[0]}.{tail}")
    else:
        last = ipaddress.ip_address(tail)
    if first.version != last.version:
        raise ValueError("mixed IPv4 and IPv6")
    if last < first:  # type: ignore[operator]
        raise ValueError("the range ends before it starts")
    return first, last


def parse_ranges(texts: Iterable[str], *, force: bool = False) -> tuple[AddressRange, ...]:
    """Every range parsed (the first bad one raises :class:`RangeError`)."""
    return tuple(parse_range(text, force=force) for text in texts)


def merged_spans(ranges: Iterable[AddressRange]) -> list[tuple[int, int, int]]:
    """``(version, first, last)`` spans with overlaps and neighbours joined, in address order."""
    spans = sorted((r.first.version, int(r.first), int(r.last)) for r in ranges)
    merged: list[tuple[int, int, int]] = []
    for version, first, last in spans:
        if merged and merged[-1][0] == version and first <= merged[-1][2] + 1:
            previous = merged[-1]
            merged[-1] = (version, previous[1], max(previous[2], last))
        else:
            merged.append((version, first, last))
    return merged


def iter_hosts(ranges: Iterable[AddressRange]) -> Iterator[str]:
    """Each address of the ranges once, in order, produced lazily (a forced /8 costs no memory)."""
    for version, first, last in merged_spans(ranges):
        make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        for number in range(first, last + 1):
            yield str(make(number))


def count_hosts(ranges: Iterable[AddressRange]) -> int:
    """How many distinct addresses :func:`iter_hosts` yields."""
    return sum(last - first + 1 for _version, first, last in merged_spans(ranges))


def in_ranges(address: str, ranges: Iterable[AddressRange]) -> bool:
    """True when ``address`` lies in one of the ranges."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(r.first.version == ip.version and r.first <= ip <= r.last for r in ranges)  # type: ignore[operator]


# -- credentials ------------------------------------------------------------------------------


def target_for(host: str, port: int, credential: Credential) -> Target:
    """The SNMP target for ``host`` with ``credential`` (v1/v2c community or v3 user)."""
    if credential.version == "3":
        usm = UsmUser(
            name=credential.user or "",
            auth_protocol=credential.auth_protocol,
            auth_key=credential.auth_key,
            priv_protocol=credential.priv_protocol,
            priv_key=credential.priv_key,
        )
        return Target(host=host, port=port, community="", version="3", usm=usm)
    version: Literal["1", "2c"] = "1" if credential.version == "1" else "2c"
    return Target(host=host, port=port, community=credential.community or "", version=version)


# -- printer or not ---------------------------------------------------------------------------


def classify(values: Mapping[str, Value]) -> Kind:
    """What the probe's answer says: a printer, or not yet known (look deeper).

    Printer-MIB objects answered, or hrDeviceType.1 = hrDevicePrinter, make a printer.  Their
    absence proves nothing yet: the printer may sit at another hrDeviceIndex.
    """
    if _has_printer_mib(values):
        return "printer"
    if decode_oid(values.get(HR_DEVICE_TYPE + FIRST_PRINTER)) == HR_DEVICE_PRINTER:
        return "printer"
    return "unknown"


def classify_walk(values: Mapping[str, Value]) -> Kind:
    """The deeper look: any Printer-MIB object, or any hrDeviceTable row that is a printer."""
    if _has_printer_mib(values):
        return "printer"
    prefix = HR_DEVICE_TYPE + "."
    for oid, value in values.items():
        if oid.startswith(prefix) and decode_oid(value) == HR_DEVICE_PRINTER:
            return "printer"
    return "other"


def _has_printer_mib(values: Mapping[str, Value]) -> bool:
    prefix = PRINTER_MIB + "."
    return any(oid.startswith(prefix) and value is not None for oid, value in values.items())


# -- the sweep --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What to sweep and how politely."""

    ranges: tuple[AddressRange, ...]
    credentials: tuple[Credential, ...]
    port: int = DEFAULT_PORT
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    rate: float | None = None
    mdns: bool = True
    #: Interface addresses to browse on; None picks those on a scanned LAN.
    mdns_interfaces: tuple[str, ...] | None = None
    mdns_seconds: float = DEFAULT_BROWSE_SECONDS


@dataclass(frozen=True, slots=True)
class HostOutcome:
    """What one address turned out to be."""

    address: str
    kind: OutcomeKind
    reading: Reading | None = None
    credential: Credential | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a sweep is, for a progress bar."""

    done: int
    total: int
    printers: int
    others: int


@dataclass(slots=True)
class ScanResult:
    """A finished sweep: printers (merged by identity) and everything else, counted."""

    devices: list[MergedDevice[Credential]] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    unauthorized: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    from_mdns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    swept: int = 0
    seconds: float = 0.0

    @property
    def readings(self) -> list[Reading]:
        """One reading per device, in address order."""
        return [device.reading for device in self.devices]


ProgressCallback = Callable[[Progress], None]


async def scan(options: ScanOptions, *, progress: ProgressCallback | None = None) -> ScanResult:
    """Sweep the ranges (and what mDNS announces), read every printer found, merge identities."""
    started = time.monotonic()
    async with SnmpClient(
        timeout=options.timeout,
        retries=options.retries,
        max_in_flight=options.max_in_flight,
        rate=options.rate,
    ) as client:
        result = await _Sweeper(client, options, progress).run()
    result.seconds = time.monotonic() - started
    return result


class _Sweeper:
    """One sweep: a feed of addresses, a bounded pool of workers, and the tally."""

    def __init__(
        self, client: SnmpClient, options: ScanOptions, progress: ProgressCallback | None
    ) -> None:
        self.client = client
        self.options = options
        self.progress = progress
        self.total = count_hosts(options.ranges)
        self.done = 0
        self.printers: list[Sighting[Credential]] = []
        self.result = ScanResult()
        self.communities = [c for c in options.credentials if c.version != "3"]
        self.users = [c for c in options.credentials if c.version == "3"]

    async def run(self) -> ScanResult:
        workers = max(1, min(self.options.max_in_flight, self.total + 64))
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=workers)
        pool = [asyncio.create_task(self._worker(queue)) for _ in range(workers)]
        try:
            await asyncio.gather(self._feed_ranges(queue), self._feed_mdns(queue))
        finally:
            for _ in pool:
                await queue.put(None)
            await asyncio.gather(*pool)
        self.result.devices = merge_readings(self.printers)
        self.result.swept = self.done
        return self.result

    async def _feed_ranges(self, queue: asyncio.Queue[str | None]) -> None:
        for host in iter_hosts(self.options.ranges):
            await queue.put(host)

    async def _feed_mdns(self, queue: asyncio.Queue[str | None]) -> None:
        """Queue each announced address outside the ranges, once, while the browse window lasts."""
        if not self.options.mdns:
            return
        interfaces = self.options.mdns_interfaces
        if interfaces is None:
            networks = [n for r in self.options.ranges for n in r.networks()]
            interfaces = tuple(lan_interfaces(networks))
        if not interfaces:
            self.result.notes.append("mDNS not browsed: no local interface on a scanned range")
            return
        try:
            async for address in browse(interfaces, seconds=self.options.mdns_seconds):
                if in_ranges(address, self.options.ranges) or address in self.result.from_mdns:
                    continue
                self.result.from_mdns.append(address)
                self.total += 1
                await queue.put(address)
        except Exception as err:  # mDNS only adds addresses: without it the sweep goes on
            self.result.notes.append(f"mDNS browse failed: {type(err).__name__}: {err}")

    async def _worker(self, queue: asyncio.Queue[str | None]) -> None:
        while (host := await queue.get()) is not None:
            outcome = await self._host(host)
            self._record(outcome)

    def _record(self, outcome: HostOutcome) -> None:
        self.done += 1
        if outcome.reading is not None and outcome.credential is not None:
            self.printers.append(Sighting(outcome.reading, outcome.credential))
        if outcome.kind == "other":
            self.result.others.append(outcome.address)
        elif outcome.kind == "unauthorized":
            self.result.unauthorized.append(outcome.address)
        elif outcome.kind == "failed":
            self.result.failures.append(outcome.detail or outcome.address)
        if self.progress is not None:
            found = len(self.printers)
            self.progress(Progress(self.done, self.total, found, len(self.result.others)))

    async def _host(self, host: str) -> HostOutcome:
        """Never raises: whatever a host does costs that host only."""
        try:
            return await self._try_credentials(host)
        except Exception as err:  # a device's answers must never stop the sweep
            detail = f"{host}: {type(err).__name__}: {' '.join(str(err).split())}"
            return HostOutcome(host, "failed", detail=detail)

    async def _try_credentials(self, host: str) -> HostOutcome:
        bare = Target(host, self.options.port)
        probe = asyncio.create_task(self.client.speaks_v3(bare)) if self.users else None
        try:
            for credential in self.communities:
                outcome = await self._try(host, credential)
                if outcome is not None:
                    return outcome
            if probe is None or await probe is None:
                return HostOutcome(bare.address, "silent")
            for credential in self.users:
                outcome = await self._try(host, credential)
                if outcome is not None:
                    return outcome
            return HostOutcome(bare.address, "unauthorized", detail="refused every SNMPv3 user")
        finally:
            if probe is not None and not probe.done():
                probe.cancel()
                with suppress(asyncio.CancelledError):
                    await probe

    async def _try(self, host: str, credential: Credential) -> HostOutcome | None:
        """Probe with one credential; None when it got no answer (or was refused)."""
        target = target_for(host, self.options.port, credential)
        try:
            values = await self.client.get(target, PROBE_OIDS)
        except (DeviceUnreachable, CredentialRejected):
            return None
        kind = classify(values)
        if kind == "unknown":
            kind = await self._look_deeper(target)
        if kind != "printer":
            return HostOutcome(target.address, "other", credential=credential)
        try:
            reading = await read_device(self.client, target, identity=values)
        except SnmpError as err:
            return HostOutcome(target.address, "failed", credential=credential, detail=str(err))
        return HostOutcome(target.address, "printer", reading=reading, credential=credential)

    async def _look_deeper(self, target: Target) -> Kind:
        """One GETBULK into the Printer-MIB and hrDeviceTable, for devices the probe left open."""
        try:
            walked = await self.client.walk_columns(
                target,
                (PRINTER_MIB, HR_DEVICE_TYPE),
                max_repetitions=8,
                max_rows=_DEEP_ROWS,
                max_requests=4,
            )
        except SnmpError:
            return "other"
        return classify_walk(walked)


# -- the service's entry point ----------------------------------------------------------------


class _LocalSettings(Protocol):
    @property
    def snmp_timeout_s(self) -> float: ...

    @property
    def snmp_retries(self) -> int: ...

    @property
    def concurrency(self) -> int: ...


class ServiceConfig(Protocol):
    """What :func:`sweep_for_service` needs of the service's effective configuration."""

    @property
    def ranges(self) -> tuple[str, ...]: ...

    @property
    def credentials(self) -> tuple[Credential, ...]: ...

    @property
    def local(self) -> _LocalSettings: ...


def sweep_for_service(config: ServiceConfig) -> list[tuple[str, Credential]]:
    """The unattended discovery job: ``(address, credential that answered)`` per printer.

    One address per device (two interfaces of one printer are read once); mDNS is browsed on
    the interfaces that sit on a configured range.  Runs its own event loop: the scheduler calls
    it from a worker thread.
    """
    options = ScanOptions(
        ranges=parse_ranges(config.ranges),
        credentials=config.credentials,
        timeout=config.local.snmp_timeout_s,
        retries=config.local.snmp_retries,
        max_in_flight=max(1, config.local.concurrency),
    )
    result = asyncio.run(scan(options))
    return [(device.address, device.extra) for device in result.devices]
