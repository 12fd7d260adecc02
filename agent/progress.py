"""A one-line progress bar for interactive commands, drawn on a terminal and nowhere else.

Redrawn at most ten times a second (a /24 finishes hundreds of hosts a second; redrawing each
would cost more than the sweep) and erased when done, so the table that follows starts clean.
"""

from __future__ import annotations

import time
from typing import Final, TextIO

from agent.discovery import Progress

_WIDTH: Final = 30
_INTERVAL: Final = 0.1


class ProgressBar:
    """``[######........]  120/254 addresses  3 printers  1 other`` on ``stream``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, progress: Progress) -> None:
        """Take a new state; draws only if the last draw is old enough, or at the end."""
        now = time.monotonic()
        finished = progress.done >= progress.total
        if not finished and now - self._last_draw < _INTERVAL:
            return
        self._last_draw = now
        self.stream.write("\r" + render(progress))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the bar."""
        if self._drawn:
            self.stream.write("\r" + " " * (_WIDTH + 60) + "\r")
            self.stream.flush()


def render(progress: Progress) -> str:
    """The bar's text for one state."""
    total = max(progress.total, 1)
    filled = min(_WIDTH, _WIDTH * progress.done // total)
    bar = "#" * filled + "." * (_WIDTH - filled)
    printers = "printer" if progress.printers == 1 else "printers"
    return (
        f"[{bar}] {progress.done}/{progress.total} addresses  "
        f"{progress.printers} {printers}  {progress.others} other"
    )
