"""The one place the agent speaks SNMP.

Everything SNMP-specific stops here: callers hand in a :class:`Target` and dotted OIDs and get
back a plain ``dict`` of dotted OID → ``int | bytes | str | None``.  Nothing after this module
imports pysnmp, so the reader and every vendor table stay pure functions over a mapping and can
be tested by feeding a dict.

Why it looks the way it does (figures in ``notes/snmp-in-python.md``):

* v1/v2c go through pysnmp's *v1arch* API with **one** :class:`SnmpDispatcher` for the whole
  process: a fresh engine per request costs ~100x the CPU, and v3arch targets leak configuration.
* OIDs are sent as plain ``(oid, Null(""))`` pairs with ``lookupMib=False``: MIB resolution would
  add ~40 % CPU for names nobody reads.
* Transport targets are created once per address and reused; retries are explicit because
  pysnmp's default (5) turns one dead host into six seconds.
* SNMPv3 uses pysnmp's v3arch engine (:mod:`agent.snmp_v3`, one per process, built on first
  use) behind the same two coroutines (:meth:`SnmpClient.get` and :meth:`SnmpClient.walk_columns`):
  only ``_exchange`` knows which API carries a request, so the reader is the same for every
  version.  A v3 device that refuses the user or keys raises :class:`CredentialRejected` at once,
  where a wrong community can only look like silence.
* Every request goes through ``_exchange``, which owns politeness: at most ``max_in_flight``
  requests outstanding, at most ``rate`` packets per second, and the retries (pysnmp's own are
  off, so each retransmission is paced like any other packet).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal

from pyasn1.error import PyAsn1Error
from pyasn1.type.univ import Null, ObjectIdentifier, OctetString
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v1arch.asyncio import (
    CommunityData,
    SnmpDispatcher,
    Udp6TransportTarget,
    UdpTransportTarget,
    bulk_cmd,
    get_cmd,
    next_cmd,
)
from pysnmp.proto import errind
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from agent.snmp_probe import EngineProbe

if TYPE_CHECKING:
    from agent.snmp_v3 import V3Engine

Value = int | bytes | str | None
"""A value as the rest of the agent sees it: integers, raw octets, dotted OIDs, or None."""

SnmpVersion = Literal["1", "2c", "3"]

DEFAULT_PORT: Final = 161
DEFAULT_TIMEOUT: Final = 1.0
DEFAULT_RETRIES: Final = 1
DEFAULT_MAX_REPETITIONS: Final = 10
DEFAULT_MAX_ROWS: Final = 512
DEFAULT_MAX_REQUESTS: Final = 64
#: Requests outstanding at once when the caller sets no limit (a /24 sweep fits in one wave).
DEFAULT_MAX_IN_FLIGHT: Final = 256

#: SNMPv3 protocol names, spelled as configuration spells them (``shared.agent_config``).
AUTH_PROTOCOLS: Final = ("md5", "sha", "sha224", "sha256", "sha384", "sha512")
PRIV_PROTOCOLS: Final = ("des", "3des", "aes", "aes128", "aes192", "aes256")
#: RFC 3414: a passphrase shorter than 8 characters is refused by agents.
MIN_KEY_LENGTH: Final = 8

# SNMP error-status codes (RFC 3416) this module reacts to.
_TOO_BIG: Final = 1
_NO_SUCH_NAME: Final = 2

_OID_RE: Final = re.compile(r"^\d+(\.\d+)+$")
_HOST_PORT_RE: Final = re.compile(r"^(?P<host>[^:\[\]]+)(?::(?P<port>\d+))?$")
_BRACKETED_RE: Final = re.compile(r"^\[(?P<host>[^\]]+)\](?::(?P<port>\d+))?$")

Oid = tuple[int, ...]


class SnmpError(Exception):
    """Base of every SNMP failure the agent reports; pysnmp's own errors never escape."""


class DeviceUnreachable(SnmpError):  # noqa: N818 - the name the rest of the agent uses
    """The device did not answer within timeout x (retries + 1)."""


class SnmpResponseError(SnmpError):
    """The device answered with an error the client could not work around."""


class TargetError(SnmpError):
    """The address cannot be used (bad syntax, unknown host name)."""


class CredentialRejected(SnmpError):  # noqa: N818 - says what happened, like DeviceUnreachable
    """An SNMPv3 device answered but refused the user, its keys or its security level."""


@dataclass(frozen=True, slots=True)
class UsmUser:
    """An SNMPv3 user: noAuthNoPriv, authNoPriv or authPriv by which keys are set.

    Keys never appear in ``repr``, so a target can be logged.  Protocol names are lower-case
    (``sha256``, ``aes``) as in the agent's configuration.
    """

    name: str
    auth_protocol: str | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: str | None = None
    priv_key: str | None = field(default=None, repr=False)
    context: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise TargetError("an SNMPv3 user needs a name")
        for kind, protocol, key, known in (
            ("auth", self.auth_protocol, self.auth_key, AUTH_PROTOCOLS),
            ("priv", self.priv_protocol, self.priv_key, PRIV_PROTOCOLS),
        ):
            if (protocol is None) != (key is None):
                raise TargetError(f"SNMPv3 user {self.name}: {kind} protocol and key go together")
            if protocol is not None and protocol not in known:
                raise TargetError(f"SNMPv3 {kind} protocol {protocol!r}: one of {list(known)}")
            if key is not None and len(key) < MIN_KEY_LENGTH:
                raise TargetError(f"SNMPv3 user {self.name}: {kind} key shorter than 8 characters")
        if self.priv_protocol and not self.auth_protocol:
            raise TargetError(f"SNMPv3 user {self.name}: privacy needs authentication")

    @property
    def security_level(self) -> str:
        """``noAuthNoPriv``, ``authNoPriv`` or ``authPriv``."""
        if self.priv_protocol:
            return "authPriv"
        return "authNoPriv" if self.auth_protocol else "noAuthNoPriv"

    def as_tuple(self) -> tuple[str, str, str | None, str, str | None, str]:
        """The plain values :mod:`agent.snmp_v3` configures the engine with."""
        return (
            self.name,
            self.auth_protocol or "none",
            self.auth_key,
            self.priv_protocol or "none",
            self.priv_key,
            self.context,
        )


@dataclass(frozen=True, slots=True)
class Target:
    """Where a device is and how to talk to it: a v1/v2c community, or a v3 user (``usm``)."""

    host: str
    port: int = DEFAULT_PORT
    community: str = field(default="public", repr=False)
    version: SnmpVersion = "2c"
    usm: UsmUser | None = None

    def __post_init__(self) -> None:
        if (self.version == "3") != (self.usm is not None):
            raise TargetError("SNMP version 3 goes with an SNMPv3 user, and only with one")

    def in_context(self, context: str) -> Target:
        """The same device, addressed in SNMP context ``context``: the v3 context name, or for
        v1/v2c the ``community@context`` convention (LibreNMS, snmpsim, Cisco)."""
        if self.usm is not None:
            return replace(self, usm=replace(self.usm, context=context))
        return replace(self, community=f"{self.community}@{context}")

    @property
    def address(self) -> str:
        """``host:port`` as the reading contract spells it (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        community: str = "public",
        version: SnmpVersion = "2c",
        usm: UsmUser | None = None,
    ) -> Target:
        """Parse ``HOST[:PORT]``: IPv4, a host name, a bare IPv6 address or ``[IPv6]:PORT``."""
        text = text.strip()
        match = _BRACKETED_RE.match(text) or _HOST_PORT_RE.match(text)
        if match is None:
            host, port_text = _bare_ipv6(text), None
        else:
            host, port_text = match["host"], match["port"]
        port = int(port_text) if port_text else DEFAULT_PORT
        if not 0 < port < 65536:
            raise TargetError(f"port out of range in {text!r}")
        if usm is not None:
            return cls(host=host, port=port, community="", version="3", usm=usm)
        return cls(host=host, port=port, community=community, version=version)

    @property
    def is_ipv6(self) -> bool:
        """True for an IPv6 literal (host names resolve over IPv4, like most printer LANs)."""
        try:
            return ipaddress.ip_address(self.host).version == 6
        except ValueError:
            return False


def _bare_ipv6(text: str) -> str:
    try:
        return str(ipaddress.IPv6Address(text))
    except ValueError as err:
        raise TargetError(f"not a HOST[:PORT] address: {text!r}") from err


def parse_oid(text: str) -> Oid:
    """Dotted text to a tuple of ints; a leading dot is tolerated."""
    text = text.strip().lstrip(".")
    if not _OID_RE.match(text):
        raise ValueError(f"not a numeric OID: {text!r}")
    return tuple(int(part) for part in text.split("."))


def format_oid(oid: Oid) -> str:
    """A tuple of ints back to dotted text."""
    return ".".join(map(str, oid))


def to_python(value: Any) -> Value:
    """Convert one pyasn1 value to ``int | bytes | str | None`` at the boundary.

    ``noSuchObject``/``noSuchInstance``/``endOfMibView`` and NULL become None: for the reader a
    missing value and an absent one mean the same thing.
    """
    if isinstance(value, NoSuchObject | NoSuchInstance | EndOfMibView | Null):
        return None
    if isinstance(value, ObjectIdentifier):
        return format_oid(tuple(value))
    if isinstance(value, OctetString):
        return bytes(value.asOctets())
    try:
        return int(value)
    except (TypeError, ValueError, PyAsn1Error):
        return None


@dataclass(frozen=True, slots=True)
class _Response:
    """One decoded response PDU, already free of pysnmp types."""

    error_status: int
    error_index: int
    varbinds: tuple[tuple[Oid, Any], ...]


class _SafeDispatcher(SnmpDispatcher):
    """A dispatcher that drops undecodable datagrams instead of logging a traceback.

    pysnmp decodes inside the asyncio datagram callback; a garbage packet would otherwise surface
    as an "Exception in callback" with a traceback on stderr while the request simply times out.
    """

    def _recv_callback(self, *args: Any) -> Any:
        try:
            return super()._recv_callback(*args)
        except (PyAsn1Error, PySnmpError, ValueError, KeyError, TypeError):
            return b""


class Pacer:
    """Politeness for every request of a client: a bound on requests in flight and on their rate.

    ``max_in_flight`` caps outstanding requests (a semaphore); ``rate`` (packets per second, None
    for no cap) spaces the moments packets leave.  Both apply to retries too, since the client
    sends each retry as a request of its own.
    """

    def __init__(
        self, *, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT, rate: float | None = None
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self.max_in_flight = max_in_flight
        self.rate = rate
        self._slots = asyncio.Semaphore(max_in_flight)
        self._next_send = 0.0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one in-flight slot for the duration of one request, sent no earlier than allowed."""
        async with self._slots:
            if self.rate is not None:
                loop = asyncio.get_running_loop()
                now = loop.time()
                send_at = max(now, self._next_send)
                self._next_send = send_at + 1.0 / self.rate
                if send_at > now:
                    await asyncio.sleep(send_at - now)
            yield


class _TimedOut(Exception):  # noqa: N818 - internal signal, never leaves this module
    """One attempt got no answer; ``_exchange`` decides whether to retry."""


class SnmpClient:
    """All SNMP requests of the process, over one reused dispatcher (and one v3 engine).

    Use as ``async with SnmpClient(timeout=1, retries=1) as client:``; leaving the block closes
    the dispatchers (otherwise a 0.1 s timer keeps firing and late timeouts land after exit).
    ``max_in_flight`` and ``rate`` (packets per second) make it polite; see :class:`Pacer`.
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        rate: float | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries cannot be negative")
        self.timeout = timeout
        self.retries = retries
        self.pacer = Pacer(max_in_flight=max_in_flight, rate=rate)
        self._dispatcher: SnmpDispatcher | None = None
        self._transports: dict[tuple[str, int, bool], Any] = {}
        self._auth: dict[tuple[str, SnmpVersion], CommunityData] = {}
        self._v3: V3Engine | None = None
        self._probe: EngineProbe | None = None

    async def __aenter__(self) -> SnmpClient:
        self._dispatcher = _SafeDispatcher()
        self._probe = EngineProbe()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the dispatchers and the probe socket; safe to call twice."""
        dispatcher, self._dispatcher = self._dispatcher, None
        v3, self._v3 = self._v3, None
        probe, self._probe = self._probe, None
        self._transports.clear()
        if dispatcher is not None:
            dispatcher.close()
        if v3 is not None:
            v3.close()
        if probe is not None:
            probe.close()

    async def speaks_v3(self, target: Target) -> bytes | None:
        """The device's SNMPv3 engine ID when it answers an engine-discovery probe, else None.

        Needs no credential and is paced and retried like any request; see :mod:`agent.snmp_probe`.
        """
        if self._probe is None:
            raise SnmpError("SnmpClient used outside 'async with'")
        probe = self._probe
        for _attempt in range(self.retries + 1):
            async with self.pacer.slot():
                engine_id = await probe.engine_id(target.host, target.port, timeout=self.timeout)
            if engine_id is not None:
                return engine_id
        return None

    async def get(self, target: Target, oids: Sequence[str]) -> dict[str, Value]:
        """GET the given scalars; absent ones (noSuch*, v1 noSuchName) are simply missing.

        v1 answers a whole request with ``noSuchName`` when one OID is unknown, and an agent may
        answer ``tooBig``; both are handled by dropping or splitting, bounded by the OID count.
        """
        wanted = list(dict.fromkeys(parse_oid(oid) for oid in oids))
        result: dict[str, Value] = {}
        await self._get_into(target, wanted, result, _Budget(2 * len(wanted) + 2))
        return result

    async def walk_columns(
        self,
        target: Target,
        columns: Sequence[str],
        *,
        max_repetitions: int = DEFAULT_MAX_REPETITIONS,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_requests: int = DEFAULT_MAX_REQUESTS,
    ) -> dict[str, Value]:
        """Walk several table columns in one GETBULK stream (GETNEXT for v1).

        Each column stops at the end of its own subtree (never runs on lexicographically), after
        ``max_rows`` rows, or when the agent answers an OID that does not increase; the whole walk
        stops after ``max_requests`` requests.  So a broken agent costs a bounded number of
        round trips and never an endless loop.
        """
        roots = list(dict.fromkeys(parse_oid(column) for column in columns))
        walk = _ColumnWalk(roots, max_rows=max_rows)
        repetitions = max(1, max_repetitions)
        try:
            await self._walk_group(target, roots, walk, repetitions, _Budget(max_requests))
        except DeviceUnreachable:
            if len(roots) == 1:
                raise
            # Some agents silently drop a response too big for them instead of answering
            # tooBig (snmpsim beyond 64 KB, some printers beyond one frame).  Before calling the
            # device dead, walk each unfinished column on its own: a dead device costs one more
            # timeout, a picky one still gets read.
            budget = _Budget(max_requests)
            for root in roots:
                await self._walk_group(target, [root], walk, repetitions, budget)
        return walk.values

    # -- internals ---------------------------------------------------------------------------

    async def _get_into(
        self, target: Target, oids: list[Oid], result: dict[str, Value], budget: _Budget
    ) -> None:
        while oids and budget.take():
            response = await self._exchange("get", target, oids)
            if response.error_status == 0:
                for oid, value in response.varbinds:
                    converted = to_python(value)
                    if converted is not None:
                        result[format_oid(oid)] = converted
                return
            if response.error_status == _TOO_BIG:
                if len(oids) == 1:
                    return  # a value too big to ever be sent: leave it out
                half = len(oids) // 2
                await self._get_into(target, oids[:half], result, budget)
                await self._get_into(target, oids[half:], result, budget)
                return
            bad = response.error_index - 1
            if not 0 <= bad < len(oids):
                raise SnmpResponseError(
                    f"{target.address} answered error-status {response.error_status}"
                )
            oids = oids[:bad] + oids[bad + 1 :]

    async def _walk_group(
        self,
        target: Target,
        roots: list[Oid],
        walk: _ColumnWalk,
        repetitions: int,
        budget: _Budget,
    ) -> None:
        active = [root for root in roots if not walk.done(root)]
        while active and budget.take():
            positions = [walk.position(root) for root in active]
            if target.version == "1":
                response = await self._exchange("next", target, positions)
            else:
                response = await self._exchange("bulk", target, positions, repetitions)
            if response.error_status == _TOO_BIG:
                if repetitions > 1:
                    repetitions = max(1, repetitions // 2)
                elif len(active) > 1:
                    half = len(active) // 2
                    await self._walk_group(target, active[:half], walk, 1, budget)
                    await self._walk_group(target, active[half:], walk, 1, budget)
                    return
                else:
                    walk.finish(active[0])
            elif response.error_status != 0:
                bad = response.error_index - 1
                if not 0 <= bad < len(active):
                    raise SnmpResponseError(
                        f"{target.address} answered error-status {response.error_status}"
                    )
                walk.finish(active[bad])  # v1 noSuchName: that column ran off the MIB's end
            elif not walk.absorb(active, response.varbinds):
                break  # no column moved forward: stop rather than ask the same thing again
            active = [root for root in active if not walk.done(root)]

    async def _exchange(
        self, kind: Literal["get", "next", "bulk"], target: Target, oids: list[Oid], reps: int = 1
    ) -> _Response:
        """Send one request and wait for its response, paced and retried here.

        v1/v2c travel over the v1arch dispatcher, v3 over the v3arch engine; both come back as
        the same :class:`_Response`, so nothing above this method knows the version.
        """
        if target.version not in ("1", "2c", "3"):
            raise SnmpError(f"{target.address}: SNMP version {target.version} is not supported")
        send = self._v3arch_exchange if target.version == "3" else self._v1arch_exchange
        for _attempt in range(self.retries + 1):
            async with self.pacer.slot():
                try:
                    return await send(kind, target, oids, reps)
                except _TimedOut:
                    continue
        raise DeviceUnreachable(self.describe_timeout(target))

    async def _v1arch_exchange(
        self, kind: Literal["get", "next", "bulk"], target: Target, oids: list[Oid], reps: int
    ) -> _Response:
        dispatcher = self._require_dispatcher()
        transport = await self._transport(target)
        auth = self._community(target)
        varbinds = [(format_oid(oid), Null("")) for oid in oids]
        try:
            if kind == "get":
                reply = await get_cmd(dispatcher, auth, transport, *varbinds, lookupMib=False)
            elif kind == "next":
                reply = await next_cmd(dispatcher, auth, transport, *varbinds, lookupMib=False)
            else:
                reply = await bulk_cmd(
                    dispatcher, auth, transport, 0, reps, *varbinds, lookupMib=False
                )
        except (PySnmpError, PyAsn1Error) as err:
            raise SnmpError(f"{target.address}: {err}") from err
        indication, status, index, answer = reply
        if isinstance(indication, errind.RequestTimedOut):
            raise _TimedOut
        if indication:
            raise SnmpError(f"{target.address}: {indication}")
        return _Response(
            error_status=int(status or 0),
            error_index=int(index or 0),
            varbinds=tuple((tuple(oid), value) for oid, value in answer),
        )

    async def _v3arch_exchange(
        self, kind: Literal["get", "next", "bulk"], target: Target, oids: list[Oid], reps: int
    ) -> _Response:
        from agent import snmp_v3  # the v3arch engine costs ~0.3 s CPU: built only when needed

        self._require_dispatcher()
        if target.usm is None:
            raise TargetError(f"{target.address}: SNMP version 3 needs an SNMPv3 user")
        if self._v3 is None:
            self._v3 = snmp_v3.V3Engine(timeout=self.timeout)
        address = (target.host, target.port, target.is_ipv6)
        try:
            reply = await self._v3.exchange(kind, address, target.usm.as_tuple(), oids, reps)
        except (PySnmpError, PyAsn1Error) as err:
            raise SnmpError(f"{target.address}: {err}") from err
        except OSError as err:
            raise TargetError(f"cannot resolve {target.host!r}: {err}") from err
        if snmp_v3.is_timeout(reply.indication):
            raise _TimedOut
        if snmp_v3.is_rejection(reply.indication):
            raise CredentialRejected(
                f"{target.address} refused SNMPv3 user {target.usm.name} "
                f"({target.usm.security_level}): {reply.indication}"
            )
        if reply.indication:
            raise SnmpError(f"{target.address}: {reply.indication}")
        return _Response(reply.status, reply.index, reply.varbinds)

    def describe_timeout(self, target: Target) -> str:
        """The one-line message used for a device that does not answer."""
        retry_word = "retry" if self.retries == 1 else "retries"
        return (
            f"{target.address} did not answer SNMP "
            f"(timeout {self.timeout:g} s, {self.retries} {retry_word})"
        )

    def _require_dispatcher(self) -> SnmpDispatcher:
        if self._dispatcher is None:
            raise SnmpError("SnmpClient used outside 'async with'")
        return self._dispatcher

    async def _transport(self, target: Target) -> Any:
        key = (target.host, target.port, target.is_ipv6)
        transport = self._transports.get(key)
        if transport is None:
            factory = Udp6TransportTarget if target.is_ipv6 else UdpTransportTarget
            literal = _literal_address(target)
            try:
                if literal is not None:
                    transport = _resolved_target(factory, literal, self.timeout)
                else:
                    transport = await factory.create(
                        (target.host, target.port), timeout=self.timeout, retries=0
                    )
            except (PySnmpError, OSError) as err:
                raise TargetError(f"cannot resolve {target.host!r}: {err}") from err
            self._transports[key] = transport
        return transport

    def _community(self, target: Target) -> CommunityData:
        key = (target.community, target.version)
        auth = self._auth.get(key)
        if auth is None:
            auth = CommunityData(target.community, mpModel=0 if target.version == "1" else 1)
            self._auth[key] = auth
        return auth


def _literal_address(target: Target) -> tuple[Any, ...] | None:
    """The socket address of an IP literal (no resolver needed), or None for a host name."""
    try:
        ip = ipaddress.ip_address(target.host)
    except ValueError:
        return None
    return (str(ip), target.port) if ip.version == 4 else (str(ip), target.port, 0, 0)


def _resolved_target(factory: Any, address: tuple[Any, ...], timeout: float) -> Any:
    """A transport target for an address already resolved, as ``factory.create`` builds one.

    ``create`` always asks the resolver, which runs ``getaddrinfo`` in a thread; a sweep of a
    /24 would start 254 resolver jobs for addresses that are already numeric.
    """
    target = factory.__new__(factory)
    target.transport_address = address
    target.__init__(timeout=timeout, retries=0)
    return target


class _Budget:
    """A countdown of requests shared by a whole operation, however it splits its work."""

    def __init__(self, requests: int) -> None:
        self.left = max(1, requests)

    def take(self) -> bool:
        """Spend one request; False once none are left."""
        if self.left <= 0:
            return False
        self.left -= 1
        return True


class _ColumnWalk:
    """Bookkeeping of a multi-column walk: where each column stands and what it collected."""

    def __init__(self, roots: Iterable[Oid], *, max_rows: int) -> None:
        self._position: dict[Oid, Oid] = {root: root for root in roots}
        self._rows: dict[Oid, int] = dict.fromkeys(self._position, 0)
        self._finished: set[Oid] = set()
        self._max_rows = max_rows
        self.values: dict[str, Value] = {}

    def position(self, root: Oid) -> Oid:
        return self._position[root]

    def done(self, root: Oid) -> bool:
        return root in self._finished

    def finish(self, root: Oid) -> None:
        self._finished.add(root)

    def absorb(self, active: list[Oid], varbinds: Sequence[tuple[Oid, Any]]) -> bool:
        """Take a response laid out row by row over ``active``; True if any column advanced."""
        if not varbinds:
            for root in active:
                self.finish(root)
            return False
        width = len(active)
        moved = False
        for i, (oid, value) in enumerate(varbinds):
            root = active[i % width]
            if root in self._finished:
                continue
            if (
                isinstance(value, EndOfMibView)
                or oid[: len(root)] != root
                or len(oid) == len(root)
                or oid <= self._position[root]
            ):
                self.finish(root)
                continue
            self._position[root] = oid
            moved = True
            converted = to_python(value)
            if converted is not None:
                self.values[format_oid(oid)] = converted
            self._rows[root] += 1
            if self._rows[root] >= self._max_rows:
                self.finish(root)
        return moved
