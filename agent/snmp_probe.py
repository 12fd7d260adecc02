"""Does a host speak SNMPv3?  The RFC 3414 engine-discovery probe, without any credential.

Every SNMPv3 agent answers an unauthenticated, empty-user GET with a Report PDU that carries its
``msgAuthoritativeEngineID`` (that is how managers learn the engine ID before authenticating).
A discovery sweep sends this one packet beside the first community probe, so SNMPv3 users are
tried only on hosts that proved to speak SNMPv3:

* a dead address costs no v3arch configuration (~5 ms of CPU per address, never freed) and no
  extra timeout per configured v3 user;
* a device that does not speak SNMPv3 never logs an authentication failure from the sweep.

The probe owns one UDP socket per address family; replies are matched by message id and source
address, and anything undecodable is dropped (a hostile host cannot do more than stay silent).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
from typing import Any, Final

from pyasn1.codec.ber import decoder, encoder
from pyasn1.error import PyAsn1Error
from pysnmp.proto.api import v2c
from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

_MAX_SIZE: Final = 65507
_REPORTABLE: Final = b"\x04"
_USM: Final = 3
_MAX_ID: Final = 2**31 - 1


def encode_discovery(msg_id: int) -> bytes:
    """The engine-discovery request: SNMPv3, noAuthNoPriv, empty user, reportable, no varbinds."""
    pdu = v2c.GetRequestPDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, msg_id)
    v2c.apiPDU.set_varbinds(pdu, ())
    security = UsmSecurityParameters()
    for position, value in enumerate((b"", 0, 0, b"", b"", b"")):
        security.setComponentByPosition(position, value)
    message = SNMPv3Message()
    message.setComponentByPosition(0, 3)
    header = message.setComponentByPosition(1).getComponentByPosition(1)
    for position, value in enumerate((msg_id, _MAX_SIZE, _REPORTABLE, _USM)):
        header.setComponentByPosition(position, value)
    message.setComponentByPosition(2, encoder.encode(security))
    scoped = message.setComponentByPosition(3).getComponentByPosition(3)
    plaintext = scoped.setComponentByPosition(0).getComponentByPosition(0)
    plaintext.setComponentByPosition(0, b"")
    plaintext.setComponentByPosition(1, b"")
    plaintext.setComponentByPosition(2)
    plaintext.getComponentByPosition(2).setComponentByType(
        pdu.tagSet, pdu, verifyConstraints=False, matchTags=False, matchConstraints=False
    )
    return bytes(encoder.encode(message))


def decode_engine_id(data: bytes, msg_id: int) -> bytes | None:
    """The authoritative engine ID in a reply to probe ``msg_id``; None for anything else."""
    try:
        message, _rest = decoder.decode(data, asn1Spec=SNMPv3Message())
        if int(message[0]) != 3 or int(message[1][0]) != msg_id:
            return None
        security, _rest = decoder.decode(bytes(message[2]), asn1Spec=UsmSecurityParameters())
        engine_id = bytes(security[0])
    except (PyAsn1Error, ValueError, TypeError, KeyError, IndexError):
        return None
    return engine_id or None


class _Protocol(asyncio.DatagramProtocol):
    """Routes each datagram to the probe waiting for that message id from that host."""

    def __init__(self, waiting: dict[tuple[int, str], asyncio.Future[bytes | None]]) -> None:
        self._waiting = waiting

    def datagram_received(self, data: bytes, addr: Any) -> None:
        host = str(addr[0])
        for (msg_id, expected), future in list(self._waiting.items()):
            if expected != host or future.done():
                continue
            engine_id = decode_engine_id(data, msg_id)
            if engine_id is not None:
                future.set_result(engine_id)
                return

    def error_received(self, exc: Exception) -> None:
        """ICMP port unreachable and the like: the probe simply times out."""


class EngineProbe:
    """Sends discovery probes; one socket per address family, opened on first use."""

    def __init__(self) -> None:
        self._transports: dict[int, asyncio.DatagramTransport] = {}
        self._waiting: dict[tuple[int, str], asyncio.Future[bytes | None]] = {}
        self._ids = itertools.count(random.SystemRandom().randrange(1, 2**30))
        self._opening = asyncio.Lock()

    def close(self) -> None:
        """Close the sockets; pending probes end as "no answer"."""
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()
        for future in self._waiting.values():
            if not future.done():
                future.set_result(None)
        self._waiting.clear()

    async def engine_id(self, host: str, port: int, *, timeout: float) -> bytes | None:
        """One probe (the caller paces and retries); None when no valid report came back."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        transport = await self._transport(family)
        msg_id = next(self._ids) % _MAX_ID or 1
        key = (msg_id, host)
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        try:
            transport.sendto(encode_discovery(msg_id), (host, port))
            return await asyncio.wait_for(future, timeout)
        except (TimeoutError, OSError):
            return None
        finally:
            self._waiting.pop(key, None)

    async def _transport(self, family: int) -> asyncio.DatagramTransport:
        async with self._opening:  # a sweep's first probes all arrive at once: open one socket
            transport = self._transports.get(family)
            if transport is None:
                transport, _protocol = await asyncio.get_running_loop().create_datagram_endpoint(
                    lambda: _Protocol(self._waiting), family=family
                )
                self._transports[family] = transport
        return transport
