"""Meter-read validation: which reads may be billed as they are, and which need a person.

One function decides (``check_read``); intake, manual entry and the staff queue all call it.
A read that fails is stored and *flagged*, never dropped and never billed until staff accept it,
set an offset (board replaced: the counter restarted) or reject it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

#: Default ceiling on pages per day for the jump check; a contract or machine may set its own.
DEFAULT_MAX_PAGES_PER_DAY: Final = 20_000
#: A jump check over a very short interval would flag every burst; assume at least this long.
_MIN_DAYS: Final = 1.0

COUNTER_BACKWARDS: Final = "counter_backwards"
IMPLAUSIBLE_JUMP: Final = "implausible_jump"
SERIAL_SWAP: Final = "serial_swap"
OUT_OF_SEQUENCE: Final = "out_of_sequence"
FLAG_LABELS: Final = {
    COUNTER_BACKWARDS: "counter lower than the previous read",
    IMPLAUSIBLE_JUMP: "more pages than the machine can plausibly print in the time",
    SERIAL_SWAP: "the device reports another serial than the machine's",
    OUT_OF_SEQUENCE: "higher than a later read: a date or a digit is wrong",
}


@dataclass(frozen=True, slots=True)
class Counter:
    """Offset-corrected mono and colour counters at a moment."""

    at: datetime
    mono: int
    colour: int

    @property
    def total(self) -> int:
        """Mono plus colour."""
        return self.mono + self.colour


def check_read(
    previous: Counter | None,
    new: Counter,
    *,
    max_pages_per_day: int = DEFAULT_MAX_PAGES_PER_DAY,
    machine_serial: str | None = None,
    reported_serial: str | None = None,
    following: Counter | None = None,
) -> list[str]:
    """The flags a new read raises against the accepted reads around it (empty: fine).

    ``following`` is the first accepted read after it, if any: a late or back-dated read
    must fit between its neighbours, not only after the one before.
    """
    flags = []
    if machine_serial and reported_serial and _fold(machine_serial) != _fold(reported_serial):
        flags.append(SERIAL_SWAP)
    if following is not None and (new.mono > following.mono or new.colour > following.colour):
        flags.append(OUT_OF_SEQUENCE)
    if previous is None:
        return flags
    if new.mono < previous.mono or new.colour < previous.colour:
        flags.append(COUNTER_BACKWARDS)
        return flags
    days = max(_MIN_DAYS, (new.at - previous.at).total_seconds() / 86400)
    if new.total - previous.total > max_pages_per_day * days:
        flags.append(IMPLAUSIBLE_JUMP)
    return flags


def _fold(serial: str) -> str:
    return "".join(serial.split()).upper()


def split_counters(
    total: int | None, mono: int | None, colour: int | None, *, colour_machine: bool
) -> tuple[int, int] | None:
    """Mono and colour pages from what a reading gives; None when they cannot be known.

    A mono machine bills everything as mono.  A colour machine needs the colour counter; the
    mono one may be derived as total minus colour, never guessed.
    """
    if not colour_machine:
        value = mono if mono is not None else total
        return (value, 0) if value is not None else None
    if colour is None:
        return None
    if mono is not None:
        return mono, colour
    return (total - colour, colour) if total is not None and total >= colour else None
