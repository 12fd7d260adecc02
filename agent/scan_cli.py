"""``scm-agent scan``: the technician's interactive discovery of a customer LAN.

It sweeps the given ranges (and what mDNS announces on them), reads every printer found, and
prints a table (IP, maker, model, serial, total pages, lowest toner) or, with ``--json``, one
reading per device as a JSON array (the reading contract).  ``--previous`` takes an earlier
``--json`` output and marks devices that moved address since (DHCP) by their identity.

Credentials come from the command line: ``--community`` (repeatable, v1 or v2c by
``--snmp-version``) and ``--v3-user NAME[:AUTH:AUTHKEY[:PRIV:PRIVKEY]]`` (repeatable).  None
given means the community ``public``.  Nothing of them is ever printed: the table says only
which kind of credential each device answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from agent.discovery import (
    MAX_RANGE_ADDRESSES,
    RangeError,
    ScanOptions,
    ScanResult,
    parse_ranges,
    scan,
)
from agent.identity import Comparison, MergedDevice, compare_scans
from agent.progress import ProgressBar
from agent.snmp import (
    AUTH_PROTOCOLS,
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_PORT,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    PRIV_PROTOCOLS,
    TargetError,
    UsmUser,
)
from agent.zeroconf_browse import DEFAULT_BROWSE_SECONDS
from shared.agent_config import Credential
from shared.reading import Reading, ReadingError

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_PARTIAL: Final = 4
_MODEL_WIDTH: Final = 28
_MARKERS: Final = frozenset({"toner", "ink"})


class ScanUsageError(Exception):
    """Arguments that cannot be used; reported as one line, exit status 1."""


def add_scan_command(commands: Any) -> None:
    """Register ``scan`` on the ``scm-agent`` sub-command parser."""
    parser = commands.add_parser(
        "scan", help="discover the printers of a LAN and read each one once"
    )
    parser.add_argument(
        "ranges",
        nargs="+",
        metavar="RANGE",
        help="10.0.0.0/24, 10.0.0.10-10.0.0.50, 10.0.0.10-50 or one address",
    )
    parser.add_argument(
        "--community", action="append", default=[], help="SNMP community (repeatable)"
    )
    parser.add_argument(
        "--snmp-version", choices=("1", "2c"), default="2c", help="for the communities (2c)"
    )
    parser.add_argument(
        "--v3-user",
        action="append",
        default=[],
        metavar="NAME[:AUTH:KEY[:PRIV:KEY]]",
        help=f"SNMPv3 user (repeatable); AUTH one of {','.join(AUTH_PROTOCOLS)}, "
        f"PRIV one of {','.join(PRIV_PROTOCOLS)}",
    )
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="SNMP port (161)")
    parser.add_argument(
        "--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="S", help="per request (1)"
    )
    parser.add_argument(
        "--retries", type=_retries, default=DEFAULT_RETRIES, metavar="N", help="after a timeout"
    )
    parser.add_argument(
        "--max-in-flight",
        type=_count,
        default=DEFAULT_MAX_IN_FLIGHT,
        metavar="N",
        help=f"requests outstanding at once ({DEFAULT_MAX_IN_FLIGHT})",
    )
    parser.add_argument(
        "--rate", type=_rate, default=None, metavar="PPS", help="packets per second cap (none)"
    )
    parser.add_argument(
        "--force", action="store_true", help=f"allow ranges over {MAX_RANGE_ADDRESSES} addresses"
    )
    parser.add_argument("--no-mdns", action="store_true", help="do not browse mDNS/zeroconf")
    parser.add_argument(
        "--mdns-interface",
        action="append",
        default=None,
        metavar="ADDR",
        help="browse mDNS on this local address (default: interfaces on a scanned range)",
    )
    parser.add_argument(
        "--mdns-wait",
        type=_seconds,
        default=DEFAULT_BROWSE_SECONDS,
        metavar="S",
        help=f"mDNS browse window ({DEFAULT_BROWSE_SECONDS:g})",
    )
    parser.add_argument(
        "--previous", type=Path, metavar="FILE", help="an earlier --json output: mark moves"
    )
    parser.add_argument("--json", action="store_true", help="print the readings as a JSON array")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    parser.set_defaults(handler=run_scan_command)


def run_scan_command(args: argparse.Namespace) -> int:
    """The ``scan`` handler: sweep, then a table or the JSON array; 4 if a printer failed."""
    from agent.commands import CommandError  # that module imports this one: import it lazily

    try:
        options = options_from(args)
        previous = load_previous(args.previous) if args.previous else None
    except (RangeError, TargetError, ScanUsageError) as err:
        raise CommandError(str(err), EXIT_FAILURE) from err
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    bar = ProgressBar(sys.stderr) if show_progress else None
    try:
        result = asyncio.run(scan(options, progress=bar))
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        text = json.dumps([r.to_dict() for r in result.readings], ensure_ascii=False)
        sys.stdout.write(text + "\n")
    else:
        comparison = compare_scans(previous, result.devices) if previous is not None else None
        sys.stdout.write(format_table(result.devices, comparison) + "\n")
        sys.stdout.write(format_summary(result) + "\n")
    for failure in result.failures:
        sys.stderr.write(f"scm-agent: warning: {' '.join(failure.split())}\n")
    return EXIT_PARTIAL if result.failures else EXIT_OK


def options_from(args: argparse.Namespace) -> ScanOptions:
    """The sweep's options from the parsed command line."""
    credentials = [Credential(version=args.snmp_version, community=c) for c in args.community]
    credentials += [parse_v3_user(text) for text in args.v3_user]
    if not credentials:
        credentials = [Credential(version="2c", community="public")]
    interfaces = tuple(args.mdns_interface) if args.mdns_interface else None
    return ScanOptions(
        ranges=parse_ranges(args.ranges, force=args.force),
        credentials=tuple(dict.fromkeys(credentials)),
        port=args.port,
        timeout=args.timeout,
        retries=args.retries,
        max_in_flight=args.max_in_flight,
        rate=args.rate,
        mdns=not args.no_mdns,
        mdns_interfaces=interfaces,
        mdns_seconds=args.mdns_wait,
    )


def parse_v3_user(text: str) -> Credential:
    """``NAME``, ``NAME:AUTH:KEY`` or ``NAME:AUTH:KEY:PRIV:KEY``; a key may itself hold ``:``.

    The privacy part is the first ``:PRIV:`` (a known protocol name) after a non-empty auth key.
    """
    name, _, rest = text.partition(":")
    auth_protocol = auth_key = priv_protocol = priv_key = None
    if rest:
        auth_protocol, _, auth_key = rest.partition(":")
        auth_protocol = auth_protocol.lower()
        parts = auth_key.split(":")
        for i in range(1, len(parts) - 1):
            if parts[i].lower() in PRIV_PROTOCOLS:
                auth_key = ":".join(parts[:i])
                priv_protocol, priv_key = parts[i].lower(), ":".join(parts[i + 1 :])
                break
    UsmUser(name, auth_protocol, auth_key, priv_protocol, priv_key)  # validates, or raises
    return Credential(
        version="3",
        user=name,
        auth_protocol=auth_protocol,
        auth_key=auth_key,
        priv_protocol=priv_protocol,
        priv_key=priv_key,
    )


def load_previous(path: Path) -> list[Reading]:
    """The readings of an earlier ``scan --json``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise ScanUsageError(f"{path}: expected the JSON array of an earlier scan --json")
        return [Reading.from_dict(item) for item in data]
    except (OSError, ValueError, ReadingError) as err:
        raise ScanUsageError(f"{path}: {err}") from err


# -- output -----------------------------------------------------------------------------------


def lowest_toner(reading: Reading) -> str:
    """The lowest toner/ink percentage, "low?" where a cartridge only says "some remaining"."""
    markers = [s for s in reading.supplies if s.kind in _MARKERS]
    percents = [s.percent for s in markers if s.percent is not None]
    if percents:
        return f"{min(percents)}%"
    if any(s.state == "some_remaining" for s in markers):
        return "some"
    return "-"


def format_table(
    devices: Sequence[MergedDevice[Credential]], comparison: Comparison | None = None
) -> str:
    """One row per device; a last column says where it was, or also answers, if anywhere."""
    header = ("IP", "MANUFACTURER", "MODEL", "SERIAL", "PAGES", "TONER", "SNMP", "NOTE")
    rows = [header]
    for device in devices:
        reading, info = device.reading, device.reading.device
        rows.append(
            (
                reading.address,
                info.manufacturer or "?",
                _cut(info.model or "?", _MODEL_WIDTH),
                info.serial or "-",
                "-" if reading.counters.total is None else str(reading.counters.total),
                lowest_toner(reading),
                device.extra.label,
                _note(device, comparison),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def format_summary(result: ScanResult) -> str:
    """One line: what was found, and what answered without being a readable printer."""
    parts = [
        f"{len(result.devices)} printers",
        f"{result.swept} addresses in {result.seconds:.1f} s",
        f"{len(result.others)} other SNMP devices",
    ]
    if result.from_mdns:
        parts.append(f"{len(result.from_mdns)} addresses from mDNS")
    if result.unauthorized:
        parts.append(f"{len(result.unauthorized)} refused every SNMPv3 user")
    if result.failures:
        parts.append(f"{len(result.failures)} could not be read")
    parts.extend(result.notes)
    return "; ".join(parts)


def _note(device: MergedDevice[Credential], comparison: Comparison | None) -> str:
    notes = []
    if comparison is not None:
        change, old = comparison.change_of(device.identity)
        notes.append(f"moved from {old}" if change == "moved" else change)
    if len(device.addresses) > 1:
        notes.append("also " + ", ".join(device.addresses[1:]))
    return "; ".join(notes)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- argument types ---------------------------------------------------------------------------


def _number(text: str, kind: type[int] | type[float]) -> float:
    try:
        return kind(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from err


def _seconds(text: str) -> float:
    value = _number(text, float)
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("must be > 0 and at most 600 seconds")
    return value


def _retries(text: str) -> int:
    value = int(_number(text, int))
    if not 0 <= value <= 10:
        raise argparse.ArgumentTypeError("must be between 0 and 10")
    return value


def _count(text: str) -> int:
    value = int(_number(text, int))
    if not 1 <= value <= 4096:
        raise argparse.ArgumentTypeError("must be between 1 and 4096")
    return value


def _rate(text: str) -> float:
    value = _number(text, float)
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError("must be > 0 and at most 100000 packets per second")
    return value


def _port(text: str) -> int:
    value = int(_number(text, int))
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError("must be between 1 and 65535")
    return value
