"""The SNMP boundary: addresses, value conversion, and walks that survive broken agents.

Walk behaviour is tested against scripted agents (``FakeClient`` replaces the one method that
talks to pysnmp), so non-increasing, out-of-subtree, truncated and tooBig answers are exact.
"""

import asyncio
import time

import pytest
from pyasn1.type.univ import Null, ObjectIdentifier, OctetString
from pysnmp.proto.rfc1902 import Counter32, Counter64, Gauge32, Integer32, IpAddress, TimeTicks
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject
from support.snmpsim import free_udp_port

from agent.snmp import (
    DeviceUnreachable,
    SnmpClient,
    SnmpError,
    Target,
    TargetError,
    _Response,
    format_oid,
    parse_oid,
    to_python,
)

# -- addresses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port", "address"),
    [
        ("192.0.2.10", "192.0.2.10", 161, "192.0.2.10:161"),
        ("127.0.0.1:11161", "127.0.0.1", 11161, "127.0.0.1:11161"),
        ("printer-3.example.lan:1161", "printer-3.example.lan", 1161, "printer-3.example.lan:1161"),
        ("[::1]:11161", "::1", 11161, "[::1]:11161"),
        ("[2001:db8::7]", "2001:db8::7", 161, "[2001:db8::7]:161"),
        ("fe80::1", "fe80::1", 161, "[fe80::1]:161"),
        (" 10.1.2.3 ", "10.1.2.3", 161, "10.1.2.3:161"),
    ],
)
def test_target_parse(text, host, port, address):
    target = Target.parse(text, community="c", version="1")
    assert (target.host, target.port, target.address) == (host, port, address)
    assert (target.community, target.version) == ("c", "1")


@pytest.mark.parametrize("text", ["", "10.0.0.1:0", "10.0.0.1:70000", "a:b:zz", "[::1", "h:p"])
def test_target_parse_refuses_garbage(text):
    with pytest.raises(TargetError):
        Target.parse(text)


def test_oid_text_round_trip():
    assert parse_oid(".1.3.6.1.2.1.1.1.0") == (1, 3, 6, 1, 2, 1, 1, 1, 0)
    assert format_oid((1, 3, 6)) == "1.3.6"
    with pytest.raises(ValueError, match="numeric"):
        parse_oid("SNMPv2-MIB::sysDescr.0")


# -- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Integer32(-3), -3),
        (Counter32(4294967295), 4294967295),
        (Counter64(2**64 - 1), 2**64 - 1),
        (Gauge32(7), 7),
        (TimeTicks(100), 100),
        (OctetString(b"\xe9t\xe9"), b"\xe9t\xe9"),
        (OctetString(hexValue="3c2af4bff51b"), bytes.fromhex("3c2af4bff51b")),
        (IpAddress("10.0.0.1"), b"\n\x00\x00\x01"),
        (ObjectIdentifier("1.3.6.1.4.1.11"), "1.3.6.1.4.1.11"),
        (NoSuchObject(""), None),
        (NoSuchInstance(""), None),
        (EndOfMibView(""), None),
        (Null(""), None),
    ],
)
def test_values_become_plain_python(value, expected):
    assert to_python(value) == expected


# -- scripted agents --------------------------------------------------------------------------

TABLE = "1.3.6.1.2.1.43.11.1.1"
MIB = {
    **{parse_oid(f"{TABLE}.6.1.{i}"): OctetString(f"Supply {i}".encode()) for i in range(1, 6)},
    **{parse_oid(f"{TABLE}.9.1.{i}"): Integer32(i * 10) for i in range(1, 6)},
    parse_oid("1.3.6.1.2.1.43.12.1.1.4.1.1"): OctetString(b"black"),
    parse_oid("1.3.6.1.2.1.43.18.1.1.2.1.1"): Integer32(4),
}
COLUMNS = [f"{TABLE}.6", f"{TABLE}.9", "1.3.6.1.2.1.43.12.1.1.4", "1.3.6.1.2.1.43.18.1.1.7"]
WANTED = {
    **{f"{TABLE}.6.1.{i}": f"Supply {i}".encode() for i in range(1, 6)},
    **{f"{TABLE}.9.1.{i}": i * 10 for i in range(1, 6)},
    "1.3.6.1.2.1.43.12.1.1.4.1.1": b"black",
}


def _next(oid):
    later = sorted(key for key in MIB if key > oid)
    return (later[0], MIB[later[0]]) if later else (oid, EndOfMibView(""))


class FakeClient(SnmpClient):
    """An SnmpClient whose wire is a script: ``answer(kind, oids, reps)`` → _Response."""

    def __init__(self, answer, **kwargs):
        super().__init__(**kwargs)
        self.answer = answer
        self.requests = []

    async def _exchange(self, kind, target, oids, reps=1):
        self.requests.append((kind, list(oids), reps))
        return self.answer(kind, list(oids), reps)


def honest(kind, oids, reps):
    """A correct agent: GETBULK row by row, GET of what exists."""
    if kind == "get":
        return _Response(0, 0, tuple((oid, MIB.get(oid, NoSuchObject(""))) for oid in oids))
    rows, positions = [], list(oids)
    for _ in range(reps if kind == "bulk" else 1):
        step = [_next(oid) for oid in positions]
        rows.extend(step)
        positions = [oid for oid, _ in step]
    return _Response(0, 0, tuple(rows))


def walk(answer, version="2c", **kwargs):
    client = FakeClient(answer)
    client._dispatcher = object()  # never used: _exchange is scripted
    target = Target("192.0.2.1", version=version)
    values = asyncio.run(client.walk_columns(target, COLUMNS, **kwargs))
    return values, client.requests


def test_walk_collects_each_column_and_stops_at_its_end():
    values, requests = walk(honest, max_repetitions=10)
    assert values == WANTED
    assert len(requests) == 1  # one GETBULK stream for all four columns
    assert requests[0][0] == "bulk"


def test_walk_with_small_repetitions_continues_where_each_column_stopped():
    values, requests = walk(honest, max_repetitions=2)
    assert values == WANTED
    assert len(requests) == 3


def test_v1_walk_uses_getnext():
    def v1(kind, oids, reps):
        assert kind == "next"
        return honest(kind, oids, reps)

    values, requests = walk(v1, version="1")
    assert values == WANTED
    assert len(requests) == 6


def test_v1_no_such_name_ends_only_that_column():
    def v1(kind, oids, reps):
        response = honest("next", oids, 1)
        for position, (_, value) in enumerate(response.varbinds, 1):
            if isinstance(value, EndOfMibView):  # v1 has no endOfMibView: noSuchName instead
                return _Response(2, position, ())
        return response

    values, _ = walk(v1, version="1")
    assert values == WANTED


def test_non_increasing_agent_cannot_loop():
    def stuck(kind, oids, reps):
        return _Response(0, 0, tuple((oid, Integer32(1)) for oid in oids))  # same OID back

    values, requests = walk(stuck)
    assert values == {}
    assert len(requests) == 1


def test_going_backwards_or_elsewhere_ends_the_column():
    forward, backwards = parse_oid(f"{TABLE}.6.1.3"), parse_oid(f"{TABLE}.6.1.2")
    elsewhere = parse_oid("1.3.6.1.2.1.1.1.0")

    def wanders(kind, oids, reps):
        first_row = (forward, Integer32(1)), *((elsewhere, Integer32(2)),) * (len(oids) - 1)
        second_row = ((backwards, Integer32(3)),) * len(oids)
        return _Response(0, 0, (*first_row, *second_row))

    values, requests = walk(wanders, max_repetitions=2)
    assert values == {f"{TABLE}.6.1.3": 1}
    assert len(requests) == 1


def test_agent_that_always_advances_is_bounded_by_rows_and_requests():
    counter = iter(range(1, 10**6))

    def endless(kind, oids, reps):
        return _Response(
            0, 0, tuple(((*oid, next(counter)), Integer32(0)) for _ in range(reps) for oid in oids)
        )

    values, requests = walk(endless, max_repetitions=5, max_rows=12, max_requests=100)
    assert len(values) == 4 * 12
    values, requests = walk(endless, max_repetitions=5, max_rows=10**6, max_requests=7)
    assert len(requests) == 7


def test_empty_and_truncated_responses_end_cleanly():
    values, requests = walk(lambda kind, oids, reps: _Response(0, 0, ()))
    assert (values, len(requests)) == ({}, 1)

    def truncated(kind, oids, reps):
        full = honest(kind, oids, reps)
        return _Response(0, 0, full.varbinds[: len(oids) + 1])

    values, _ = walk(truncated, max_repetitions=10)
    assert values == WANTED


def test_too_big_halves_repetitions_then_splits_columns():
    def small_agent(kind, oids, reps):
        if len(oids) * reps > 2:
            return _Response(1, 0, ())
        return honest(kind, oids, reps)

    values, requests = walk(small_agent, max_repetitions=8)
    assert values == WANTED
    assert all(len(oids) * reps <= 2 for _, oids, reps in requests[-3:])


def test_error_status_with_a_bad_index_is_an_snmp_error():
    with pytest.raises(SnmpError, match="error-status 5"):
        walk(lambda kind, oids, reps: _Response(5, 99, ()))


def test_get_drops_what_v1_calls_no_such_name_and_splits_on_too_big():
    present = {parse_oid("1.3.6.1.2.1.1.1.0"): OctetString(b"descr")}
    wanted = ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.9.0", "1.3.6.1.2.1.1.8.0"]

    def v1_get(kind, oids, reps):
        for position, oid in enumerate(oids, 1):
            if oid not in present:
                return _Response(2, position, ())
        return _Response(0, 0, tuple((oid, present[oid]) for oid in oids))

    def tiny(kind, oids, reps):
        if len(oids) > 1:
            return _Response(1, 0, ())
        return _Response(0, 0, tuple((oid, present.get(oid, NoSuchObject(""))) for oid in oids))

    for answer in (v1_get, tiny):
        client = FakeClient(answer)
        client._dispatcher = object()
        got = asyncio.run(client.get(Target("192.0.2.1", version="1"), wanted))
        assert got == {"1.3.6.1.2.1.1.1.0": b"descr"}


# -- the real wire ----------------------------------------------------------------------------


def test_silent_port_is_unreachable_within_the_configured_time():
    async def read():
        async with SnmpClient(timeout=0.3, retries=1) as client:
            await client.get(Target("127.0.0.1", free_udp_port()), ["1.3.6.1.2.1.1.1.0"])

    started = time.monotonic()
    with pytest.raises(DeviceUnreachable, match=r"did not answer SNMP \(timeout 0.3 s, 1 retry\)"):
        asyncio.run(read())
    assert time.monotonic() - started < 3


def test_client_outside_its_context_refuses_to_work():
    async def late():
        client = SnmpClient()
        async with client:
            pass
        await client.get(Target("127.0.0.1"), ["1.3.6.1.2.1.1.1.0"])

    with pytest.raises(SnmpError, match="outside"):
        asyncio.run(late())


def test_unknown_host_name_is_a_target_error():
    async def read():
        async with SnmpClient(timeout=0.3, retries=0) as client:
            await client.get(Target("no-such-host.invalid"), ["1.3.6.1.2.1.1.1.0"])

    with pytest.raises(TargetError):
        asyncio.run(read())


@pytest.mark.parametrize("version", ["1", "2c"])
def test_against_snmpsim_missing_objects_are_just_absent(snmpsim, version):
    async def read():
        async with SnmpClient(timeout=2, retries=1) as client:
            target = Target("127.0.0.1", snmpsim.port, "librenms__konica", version)
            scalars = await client.get(
                target, ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.99.0", "1.3.6.1.2.1.43.5.1.1.17.1"]
            )
            table = await client.walk_columns(
                target, ["1.3.6.1.2.1.43.12.1.1.4", "1.3.6.1.2.1.43.18.1.1.2"]
            )
            return scalars, table

    scalars, table = asyncio.run(read())
    assert scalars == {"1.3.6.1.2.1.1.1.0": b"KONICA MINOLTA bizhub C3110"}
    assert table == {
        f"1.3.6.1.2.1.43.12.1.1.4.1.{i}": colour
        for i, colour in enumerate((b"cyan", b"magenta", b"yellow", b"black"), 1)
    }
