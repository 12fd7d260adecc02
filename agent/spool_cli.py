"""``scm-agent spool``: look after the local outbox (bring dead letters back).

A dead letter is a batch the server refused for good; ``requeue`` puts them back in line with
their original ids and bytes (the server's idempotency makes a re-send harmless), for example
after an older agent dead-lettered its backlog because the agent itself had been disabled.
"""

from __future__ import annotations

import argparse
import sys

from agent.spool import Spool
from agent.state import AgentHome, default_home


def add_spool_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``spool requeue`` on the ``scm-agent`` parser."""
    spool = commands.add_parser("spool", help="the local outbox: requeue dead letters")
    actions = spool.add_subparsers(dest="spool_action", metavar="ACTION", required=True)
    requeue = actions.add_parser("requeue", help="send the rejected batches again")
    requeue.set_defaults(handler=cmd_requeue)


def cmd_requeue(_args: argparse.Namespace) -> int:
    """Move every dead letter back to the pending batches; the service sends them next."""
    home = AgentHome(default_home())
    with Spool(home.spool_path) as spool:
        moved = spool.requeue()
        backlog = spool.backlog()
    sys.stdout.write(
        f"requeued {moved} batches; {backlog.batches} batches wait to be sent "
        "(the service sends them at its next upload, or run scm-agent push)\n"
    )
    return 0
