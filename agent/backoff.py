"""When to try the server again after a failed upload: exponential backoff with full jitter.

Thousands of agents that lost the server at the same moment must not all come back at the same
moment.  "Full jitter" (AWS Architecture Blog, *Exponential Backoff and Jitter*) waits a uniform
random time between zero and ``min(cap, base * 2**failures)``: the spread grows with each
failure, so a recovering server sees a trickle, not a wall.  A ``Retry-After`` from the server is
a floor: the agent never comes back earlier than it was asked to.

Plain state and arithmetic over an injected ``now`` and random generator, so tests can step a
simulated clock through days of outage in milliseconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

DEFAULT_BASE_S: Final = 10.0
DEFAULT_CAP_S: Final = 3600.0
#: A larger ``Retry-After`` is taken as this: one bad header must not silence an agent for weeks.
MAX_RETRY_AFTER_S: Final = 6 * 3600.0
#: After the server refused the agent itself: come back after 2 to 4 hours (a heartbeat that
#: gets through earlier, once staff re-enable the agent, ends the wait at once).
REFUSED_WAIT_S: Final = 4 * 3600.0
_MAX_EXPONENT: Final = 32


@dataclass(slots=True)
class Backoff:
    """The retry state of one destination: consecutive failures and the earliest next try."""

    base_s: float = DEFAULT_BASE_S
    cap_s: float = DEFAULT_CAP_S
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0
    not_before: datetime | None = None

    def ready(self, now: datetime) -> bool:
        """True when a try is allowed at ``now``."""
        return self.not_before is None or now >= self.not_before

    def succeeded(self) -> None:
        """Any exchange with the server succeeded: forget past failures, try again at once."""
        self.failures = 0
        self.not_before = None

    def refused(self, now: datetime) -> timedelta:
        """The server refused the agent: wait hours, jittered so a fleet does not return at once."""
        self.failures += 1
        wait = timedelta(seconds=self.rng.uniform(0.5, 1.0) * REFUSED_WAIT_S)
        self.not_before = now + wait
        return wait

    def failed(self, now: datetime, retry_after_s: float | None = None) -> timedelta:
        """Record a failure at ``now``; returns the wait before the next try."""
        self.failures += 1
        ceiling = min(self.cap_s, self.base_s * 2 ** min(self.failures, _MAX_EXPONENT))
        delay = self.rng.uniform(0.0, ceiling)
        if retry_after_s is not None:
            delay = max(delay, min(max(0.0, retry_after_s), MAX_RETRY_AFTER_S))
        wait = timedelta(seconds=delay)
        self.not_before = now + wait
        return wait
