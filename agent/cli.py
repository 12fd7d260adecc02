"""``scm-agent``'s entry point: quick answers first, everything else in :mod:`agent.commands`.

``--version`` and ``status`` are what a technician (or a monitoring script) runs most, often on
a loaded machine: they answer without importing the SNMP, HTTP and crypto stacks, which cost
most of a second to load (issue 14: start-up at most 1 s).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Final

from agent import __version__

PROG: Final = "scm-agent"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``scm-agent``; returns the exit status, never shows a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        sys.stdout.write(f"{PROG} {__version__}\n")
        return 0
    if args[:1] == ["status"]:
        from agent.service_cli import status_main

        return status_main(args[1:])
    from agent.commands import main as full_main

    return full_main(args)


if __name__ == "__main__":
    sys.exit(main())
