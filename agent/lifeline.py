"""The frozen agent's tie to the launcher process(es) in front of it.

The one-file binary is a bootloader that unpacks and starts the real Python process as its
child (and with staticx a second bootloader sits in front of that).  The bootloaders forward
SIGTERM to the child, but a kill -9 of a bootloader cannot be forwarded: the child would go on
with the spool open while systemd believes the service is gone.  So the child asks the kernel
for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), and the service's main loop also
checks, once a second, that every launcher it started under is still there; either way it
stops cleanly.  Outside a frozen build on Linux there is no launcher and this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

PR_SET_PDEATHSIG: Final = 1


def launchers() -> list[int]:
    """Pids of the bootloaders in front of this process (parent first); empty when not frozen."""
    if not getattr(sys, "frozen", False) or not sys.platform.startswith("linux"):
        return []
    chain = [os.getppid()]
    if os.environ.get("STATICX_PROG_PATH"):  # staticx's bootloader is the grandparent
        parent = _parent_of(chain[0])
        if parent is not None:
            chain.append(parent)
    return chain


def watch() -> Callable[[], bool]:
    """Arrange SIGTERM on the parent's death and return a check that every launcher lives."""
    chain = launchers()
    if not chain:
        return lambda: True
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    links = list(zip(chain, [os.getpid(), *chain[:-1]], strict=True))

    def alive() -> bool:
        return all(_parent_of(child) == parent for parent, child in links)

    if not alive():  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)
    return alive


def _parent_of(pid: int) -> int | None:
    """The parent pid of ``pid`` from /proc, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
