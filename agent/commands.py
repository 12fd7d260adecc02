"""``scm-agent``'s commands (the full parser; :mod:`agent.cli` answers the quick ones first).

Each subcommand is one handler function taking the parsed arguments and returning the exit
status; :func:`main` only parses, dispatches and turns failures into a one-line message.
Exit statuses: 0 success, 1 any other failure, 2 device unreachable (and argparse usage
errors, which argparse itself reports with status 2), 3 readings kept in the spool because the
server could not take them now (they go with the next push), 4 some targets could not be read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final

from agent import __version__
from agent.config import load_local
from agent.discovery import target_for
from agent.enrollment import AlreadyEnrolledError, enroll
from agent.ingest_client import IngestClient, IngestError, Outcome
from agent.reader import read_device, read_many
from agent.report import format_summary
from agent.scan_cli import add_scan_command, parse_v3_user
from agent.server_clock import ServerClock
from agent.service_cli import add_service_commands, configured_client
from agent.snmp import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    DeviceUnreachable,
    SnmpClient,
    SnmpError,
    Target,
    TargetError,
)
from agent.spool import Spool, SpoolUnavailableError
from agent.spool_cli import add_spool_command
from agent.state import AgentHome, NotEnrolledError, default_home
from agent.uploader import FlushReport, flush
from shared.reading import Reading, utc_now

PROG: Final = "scm-agent"
EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_UNREACHABLE: Final = 2
EXIT_SPOOLED: Final = 3
EXIT_PARTIAL: Final = 4
EXIT_INTERRUPTED: Final = 130
MB: Final = 1024 * 1024

Handler = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A failure to report as ``scm-agent: error: <message>`` with the given exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.status = status


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from err
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("must be > 0 and at most 600 seconds")
    return value


def _retries(text: str) -> int:
    try:
        value = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from err
    if not 0 <= value <= 10:
        raise argparse.ArgumentTypeError("must be between 0 and 10")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Printer-fleet monitoring agent: read printers over SNMP."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    read = commands.add_parser("read", help="read one printer and print its reading")
    read.add_argument("address", metavar="HOST[:PORT]", help="IPv4, host name or [IPv6]:port")
    read.add_argument("--community", default="public", help="SNMP community (default: public)")
    read.add_argument(
        "--snmp-version", choices=("1", "2c"), default="2c", help="SNMP version (default: 2c)"
    )
    read.add_argument(
        "--timeout",
        type=_positive_float,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"seconds to wait for each answer (default: {DEFAULT_TIMEOUT:g})",
    )
    read.add_argument(
        "--retries",
        type=_retries,
        default=DEFAULT_RETRIES,
        metavar="N",
        help=f"retries after a timeout (default: {DEFAULT_RETRIES})",
    )
    read.add_argument(
        "--v3-user",
        metavar="NAME[:AUTH:KEY[:PRIV:KEY]]",
        help="read over SNMPv3 with this user instead of a community (as in scan)",
    )
    read.add_argument("--json", action="store_true", help="print the reading contract's JSON")
    read.set_defaults(handler=_cmd_read)

    enroll_cmd = commands.add_parser("enroll", help="register this agent with an ingest server")
    enroll_cmd.add_argument("--server", required=True, help="ingest base URL, https://...")
    enroll_cmd.add_argument("--token", required=True, help="one-time token from the dealer")
    enroll_cmd.add_argument("--force", action="store_true", help="enroll again with a new key")
    enroll_cmd.set_defaults(handler=_cmd_enroll)

    push = commands.add_parser(
        "push", help="read targets, spool the readings, upload everything pending"
    )
    push.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="HOST[:PORT]/COMMUNITY",
        help="a printer to read (repeatable); without any, only the spool is uploaded",
    )
    push.add_argument(
        "--timeout",
        type=_positive_float,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"seconds to wait for each SNMP answer (default: {DEFAULT_TIMEOUT:g})",
    )
    push.add_argument(
        "--retries",
        type=_retries,
        default=DEFAULT_RETRIES,
        metavar="N",
        help=f"SNMP retries after a timeout (default: {DEFAULT_RETRIES})",
    )
    push.set_defaults(handler=_cmd_push)
    add_service_commands(commands)
    add_scan_command(commands)
    add_spool_command(commands)
    return parser


def _cmd_read(args: argparse.Namespace) -> int:
    """``scm-agent read``: one device, a human summary or exactly one JSON object."""
    try:
        target = Target.parse(args.address, community=args.community, version=args.snmp_version)
        if args.v3_user:
            target = target_for(target.host, target.port, parse_v3_user(args.v3_user))
        reading = asyncio.run(_read_one(target, timeout=args.timeout, retries=args.retries))
    except DeviceUnreachable as err:
        raise CommandError(str(err), EXIT_UNREACHABLE) from err
    except (SnmpError, ValueError) as err:
        raise CommandError(str(err)) from err
    if args.json:
        text = json.dumps(reading.to_dict(), ensure_ascii=False)
    else:
        text = format_summary(reading)
    sys.stdout.write(text + "\n")
    return EXIT_OK


def _cmd_enroll(args: argparse.Namespace) -> int:
    """``scm-agent enroll``: make the key pair (0600) and register its public half."""
    home = AgentHome(default_home())
    client = configured_client(args.server)
    try:
        identity = enroll(home, client, args.token, force=args.force)
    except (AlreadyEnrolledError, IngestError) as err:
        raise CommandError(str(err)) from err
    finally:
        client.close()
    sys.stdout.write(
        f"enrolled as agent {identity.agent_id} for {identity.customer} at {identity.server}\n"
    )
    return EXIT_OK


def _cmd_push(args: argparse.Namespace) -> int:
    """``scm-agent push``: readings reach the spool (durably) before any upload is tried."""
    home = AgentHome(default_home())
    try:
        identity = home.load_identity()
        targets = [_push_target(text) for text in args.target]
    except (NotEnrolledError, TargetError) as err:
        raise CommandError(str(err)) from err
    server_clock = ServerClock.in_home(home.path)
    client = configured_client(identity.server, server_clock)
    if not server_clock.known:  # one cheap exchange first, so readings carry the server's time
        client.get_config(home.load_key(), identity.agent_id)
    stamp, clock_kind = server_clock.stamping(utc_now)
    results = asyncio.run(
        _read_all(targets, timeout=args.timeout, retries=args.retries, clock=stamp)
    )
    readings = server_clock.label((r for r in results if isinstance(r, Reading)), clock_kind)
    failures = [r for r in results if not isinstance(r, Reading)]
    for failure in failures:
        sys.stderr.write(f"{PROG}: warning: {' '.join(str(failure).split())}\n")
    local = load_local()
    try:
        with Spool(home.spool_path, max_bytes=int(local.spool_max_mb * MB)) as spool:
            spool.add(readings)  # a failure here (disk full) is exit 1: nothing new was kept
            report = _upload(spool, client, home, identity.agent_id)
            backlog = spool.backlog()
    finally:
        client.close()
    sys.stdout.write(
        f"read {len(readings)}/{len(targets)} devices; uploaded {report.sent_readings} readings "
        f"in {report.sent_batches} batches; {backlog.readings} readings waiting in the spool\n"
    )
    if not report.complete:
        sys.stderr.write(f"{PROG}: warning: upload postponed: {report.errors[-1]}\n")
        return EXIT_SPOOLED
    return EXIT_PARTIAL if failures else EXIT_OK


def _upload(spool: Spool, client: IngestClient, home: AgentHome, agent_id: str) -> FlushReport:
    """Flush; a spool that cannot be written now (disk full) postpones the upload, since what
    was spooled stays spooled."""
    try:
        return flush(spool, client, home.load_key(), agent_id)
    except SpoolUnavailableError as err:
        return FlushReport(waiting=Outcome("retry", None, {"message": str(err)}), errors=[str(err)])


def _push_target(text: str) -> Target:
    """``HOST[:PORT]/COMMUNITY``; the community may itself contain slashes."""
    address, slash, community = text.partition("/")
    if not slash or not community:
        raise TargetError(f"expected HOST[:PORT]/COMMUNITY, got {text!r}")
    return Target.parse(address, community=community)


async def _read_all(
    targets: Sequence[Target], *, timeout: float, retries: int, clock: Callable[[], datetime]
) -> list[Reading | SnmpError]:
    if not targets:
        return []
    async with SnmpClient(timeout=timeout, retries=retries) as client:
        return await read_many(client, targets, clock=clock)


async def _read_one(target: Target, *, timeout: float, retries: int) -> Reading:
    async with SnmpClient(timeout=timeout, retries=retries) as client:
        return await read_device(client, target)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``scm-agent``; returns the exit status, never shows a traceback."""
    args = _build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except CommandError as err:
        return _fail(str(err), err.status)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except SpoolUnavailableError as err:
        return _fail(f"{err} (nothing spooled was lost; try again)", EXIT_FAILURE)
    except BrokenPipeError:  # stdout closed early (``| head``): nothing left to tell anyone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except Exception as err:  # the last line of defence: one line, never a traceback
        return _fail(f"unexpected {type(err).__name__}: {err}", EXIT_FAILURE)


def _fail(message: str, status: int) -> int:
    single_line = " ".join(message.split()) or "failed"
    sys.stderr.write(f"{PROG}: error: {single_line}\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
