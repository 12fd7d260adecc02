"""SNMPv3 requests over pysnmp's v3arch engine: one engine for the process, built on first use.

Only :mod:`agent.snmp` imports this module, and only when a v3 target is first asked: the v3arch
engine costs ~0.3 s of CPU to build (MIB loading, key localisation), which a v1/v2c-only scan
never pays.

Requests bypass the high-level ``get_cmd``/``bulk_cmd`` wrappers on purpose.  Those resolve
every OID against the MIB on the way in (``make_varbinds`` ignores ``lookupMib``), which is pure
overhead for numeric OIDs; here the request goes straight to the RFC 3413 command generators
with ``(ObjectName, Null)`` pairs and comes back as the same raw varbinds the v1arch path sees.
Each target address is configured once in the engine (the LCD cache dedups it), so a device
read many times costs its ~5 ms of configuration once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from pyasn1.type.univ import Null
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413.cmdgen import (
    BulkCommandGeneratorSingleRun,
    GetCommandGenerator,
    NextCommandGeneratorSingleRun,
)
from pysnmp.hlapi.v3arch.asyncio import (
    Udp6TransportTarget,
    UdpTransportTarget,
    UsmUserData,
    usm3DESEDEPrivProtocol,
    usmAesCfb128Protocol,
    usmAesCfb192Protocol,
    usmAesCfb256Protocol,
    usmDESPrivProtocol,
    usmHMAC128SHA224AuthProtocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMAC256SHA384AuthProtocol,
    usmHMAC384SHA512AuthProtocol,
    usmHMACMD5AuthProtocol,
    usmHMACSHAAuthProtocol,
    usmNoAuthProtocol,
    usmNoPrivProtocol,
)
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import errind
from pysnmp.proto.rfc1902 import ObjectName

#: Protocol names as configuration spells them (``shared.agent_config``) → pysnmp's identifiers.
AUTH: Final[dict[str, Any]] = {
    "md5": usmHMACMD5AuthProtocol,
    "sha": usmHMACSHAAuthProtocol,
    "sha224": usmHMAC128SHA224AuthProtocol,
    "sha256": usmHMAC192SHA256AuthProtocol,
    "sha384": usmHMAC256SHA384AuthProtocol,
    "sha512": usmHMAC384SHA512AuthProtocol,
}
PRIV: Final[dict[str, Any]] = {
    "des": usmDESPrivProtocol,
    "3des": usm3DESEDEPrivProtocol,
    "aes": usmAesCfb128Protocol,
    "aes128": usmAesCfb128Protocol,
    "aes192": usmAesCfb192Protocol,
    "aes256": usmAesCfb256Protocol,
}

#: Error indications meaning "this device speaks SNMPv3 but refuses these credentials".
REJECTIONS: Final = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.DecryptionError,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
    errind.UnsupportedSecurityLevel,
    errind.UnknownSecurityName,
    errind.NotInTimeWindow,
    errind.UnknownEngineID,
    errind.NoSuchContext,
    errind.UnsupportedAuthProtocol,
    errind.UnsupportedPrivProtocol,
)


@dataclass(frozen=True, slots=True)
class Reply:
    """One response as pysnmp delivered it: an error indication or status, and the varbinds."""

    indication: Any
    status: int
    index: int
    varbinds: tuple[tuple[tuple[int, ...], Any], ...]


class V3Engine:
    """The process's one v3arch engine with its transports and USM users, reused across devices."""

    def __init__(self, *, timeout: float) -> None:
        self._engine = SnmpEngine()
        self._timeout = timeout
        self._transports: dict[tuple[str, int, bool], Any] = {}
        self._users: dict[tuple[str, ...], UsmUserData] = {}
        self._get = GetCommandGenerator()
        self._next = NextCommandGeneratorSingleRun()
        self._bulk = BulkCommandGeneratorSingleRun()

    def close(self) -> None:
        """Stop the engine's dispatcher (its timer would otherwise keep firing)."""
        self._engine.close_dispatcher()

    async def exchange(
        self,
        kind: Literal["get", "next", "bulk"],
        address: tuple[str, int, bool],
        user: tuple[str, str, str | None, str, str | None, str],
        oids: Sequence[tuple[int, ...]],
        reps: int,
    ) -> Reply:
        """Send one request (no retries: the caller owns them) and wait for its outcome.

        ``user`` is ``(name, auth_protocol, auth_key, priv_protocol, priv_key, context)``.
        """
        transport = await self._transport(address)
        context = user[5]
        addr_name, _params = LCD.configure(self._engine, self._usm(user), transport, context)
        varbinds = [(ObjectName(oid), Null("")) for oid in oids]
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()

        def done(
            _engine: Any,
            _handle: Any,
            indication: Any,
            status: Any,
            index: Any,
            answer: Any,
            _ctx: Any,
        ) -> None:
            if future.done():
                return
            future.set_result(
                Reply(
                    indication=indication,
                    status=int(status or 0),
                    index=int(index or 0),
                    varbinds=tuple((tuple(oid), value) for oid, value in answer or ()),
                )
            )

        if kind == "get":
            self._get.send_varbinds(self._engine, addr_name, None, context, varbinds, done)
        elif kind == "next":
            self._next.send_varbinds(self._engine, addr_name, None, context, varbinds, done)
        else:
            self._bulk.send_varbinds(
                self._engine, addr_name, None, context, 0, reps, varbinds, done
            )
        return await future

    async def _transport(self, address: tuple[str, int, bool]) -> Any:
        transport = self._transports.get(address)
        if transport is None:
            host, port, ipv6 = address
            factory = Udp6TransportTarget if ipv6 else UdpTransportTarget
            transport = await factory.create((host, port), timeout=self._timeout, retries=0)
            self._transports[address] = transport
        return transport

    def _usm(self, user: tuple[str, str, str | None, str, str | None, str]) -> UsmUserData:
        key = user[:5]
        data = self._users.get(key)
        if data is None:
            name, auth, auth_key, priv, priv_key, _context = user
            data = UsmUserData(
                name,
                authKey=auth_key,
                privKey=priv_key,
                authProtocol=AUTH.get(auth, usmNoAuthProtocol),
                privProtocol=PRIV.get(priv, usmNoPrivProtocol),
            )
            self._users[key] = data
        return data


def is_timeout(indication: Any) -> bool:
    """True for pysnmp's "no response before timeout"."""
    return isinstance(indication, errind.RequestTimedOut)


def is_rejection(indication: Any) -> bool:
    """True when the device answered but refused the user, keys or security level."""
    return isinstance(indication, REJECTIONS)
