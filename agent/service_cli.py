"""``scm-agent run``, ``scm-agent status`` and ``scm-agent service`` (the Windows service).

Kept out of ``agent.commands`` so that file only registers them; each handler returns the exit
status and reports its own one-line errors, as the other commands do.
"""

from __future__ import annotations

import argparse
import json
import logging
import logging.handlers
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Final

from agent.config import default_config_path, load_local
from agent.state import AgentHome, NotEnrolledError, default_home
from agent.status import StatusFile, format_status, pid_alive
from shared.agent_config import ConfigError

if TYPE_CHECKING:
    from agent.ingest_client import IngestClient
    from agent.server_clock import ServerClock

PROG: Final = "scm-agent"
LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_NOT_RUNNING: Final = 3
STATUS_HELP: Final = "last read, last upload, backlog, next jobs"


def add_service_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``run``, ``status`` and ``service`` on the ``scm-agent`` parser."""
    run = commands.add_parser("run", help="run as a service: discover, read, upload, heartbeat")
    run.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"configuration file (default: {default_config_path()})",
    )
    run.add_argument("--log-file", type=Path, metavar="PATH", help="log here instead of stderr")
    run.set_defaults(handler=cmd_run)

    status = commands.add_parser("status", help=STATUS_HELP)
    add_status_arguments(status)

    service = commands.add_parser("service", help="Windows service: install, remove, start...")
    service.add_argument("action", choices=("install", "remove", "start", "stop", "run"))
    service.set_defaults(handler=cmd_service)


def cmd_run(args: argparse.Namespace) -> int:
    """Run until SIGTERM / Ctrl-C; a configuration or enrollment problem is one line, status 1."""
    from agent import lifeline
    from agent.scheduler import run_until_stopped  # APScheduler only where the service runs
    from agent.selfupdate import EXIT_RESTART
    from agent.service import Service
    from agent.status_page import StatusPage

    try:
        local = load_local(args.config)
        setup_logging(local.log_level, args.log_file)
        service = Service(AgentHome(default_home()), local)
    except (ConfigError, NotEnrolledError) as err:
        return _fail(str(err))
    page = StatusPage(service.home.path, local.status_port).start() if local.status_port else None
    try:
        run_until_stopped(service, threading.Event(), alive=lifeline.watch())
    finally:
        if page is not None:
            page.stop()
    # An update (or its rollback) asks the service manager to start the binary again.
    return EXIT_RESTART if service.updater.restart_requested else EXIT_OK


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    """``status``'s options (shared by the full parser and the quick path)."""
    parser.add_argument("--json", action="store_true", help="print the raw status as JSON")
    parser.set_defaults(handler=cmd_status)


def status_main(argv: list[str]) -> int:
    """``scm-agent status`` on the quick path (see :mod:`agent.cli`)."""
    parser = argparse.ArgumentParser(prog=f"{PROG} status", description=STATUS_HELP)
    add_status_arguments(parser)
    return cmd_status(parser.parse_args(argv))


def cmd_status(args: argparse.Namespace) -> int:
    """Print the service's last status; status 3 when it is not running."""
    data = StatusFile(default_home()).read()
    running = bool(data) and data.get("state") == "running" and pid_alive(data.get("pid"))
    if args.json:
        sys.stdout.write(json.dumps({**(data or {}), "running": running}, indent=2) + "\n")
    else:
        sys.stdout.write(format_status(data, running=running) + "\n")
    return EXIT_OK if running else EXIT_NOT_RUNNING


def cmd_service(args: argparse.Namespace) -> int:
    """Control the Windows service (pywin32); elsewhere systemd does this (installers/linux)."""
    if sys.platform != "win32":
        return _fail("the service command is for Windows; on Linux use systemctl (scm-agent)")
    from agent import winservice

    return winservice.control(args.action)


def configured_client(server: str, server_clock: ServerClock | None = None) -> IngestClient:
    """A client that honours ``agent.toml``'s TLS and proxy settings (enroll and push too)."""
    from agent.ingest_client import IngestClient  # the HTTP stack: not for status

    local = load_local()
    return IngestClient(server, verify=local.verify, proxy=local.proxy, server_clock=server_clock)


def setup_logging(level: str, log_file: Path | None = None) -> None:
    """Log to stderr (journald keeps it) or to a rotating file (the Windows service)."""
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler()
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level, logging.INFO))
    for noisy in ("apscheduler", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def _fail(message: str, status: int = EXIT_FAILURE) -> int:
    sys.stderr.write(f"{PROG}: error: {' '.join(message.split())}\n")
    return status
