"""SIGTERM at random moments of ``scm-agent run`` under CPU load: every stop quick, nothing lost.

Shared by the suite (a bounded number of stops) and ``bench/agent_sigterm_soak.py`` (1,000).
Each round starts the real service against snmpsim and a real ingest server, sends SIGTERM
after a random delay (start-up, heartbeat, upload, read, idle), and times the exit.  The service
logs ``spooled N readings`` for every read it committed; at the end a ``push`` delivers what
is left, and the server must hold exactly the readings that were committed.
"""

from __future__ import annotations

import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from support.processes import console_script, run_agent

SPOOLED = re.compile(r"spooled (\d+) readings")
STOP_LIMIT_S = 5.0


@dataclass
class SoakResult:
    """What the rounds measured."""

    stop_times: list[float] = field(default_factory=list)
    spooled: int = 0
    slow: list[str] = field(default_factory=list)
    bad_exits: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line of figures."""
        times = sorted(self.stop_times)
        p99 = times[max(0, math.ceil(len(times) * 0.99) - 1)] if times else 0.0
        return (
            f"sigterm: rounds={len(times)} spooled={self.spooled} "
            f"stop_median_s={statistics.median(times):.3f} stop_p99_s={p99:.3f} "
            f"stop_max_s={max(times):.3f} over_{STOP_LIMIT_S:g}s={len(self.slow)} "
            f"bad_exits={len(self.bad_exits)}"
        )


@contextmanager
def cpu_load(workers: int = 2) -> Iterator[None]:
    """Busy loops on every core for the duration of the block (each ends with its parent too,
    should the bench itself be killed)."""
    loop = "import os\nparent = os.getppid()\nwhile os.getppid() == parent: pass"
    busy = [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(workers)]
    try:
        yield
    finally:
        for process in busy:
            process.kill()
            process.wait(timeout=10)


def soak(
    home: Path,
    config: Path,
    rounds: int,
    *,
    seed: int = 14,
    max_delay_s: float = 3.0,
    progress: int = 0,
) -> SoakResult:
    """``rounds`` start/SIGTERM cycles; returns the stop times and the readings committed.

    With ``progress`` set, prints the figures so far every ``progress`` rounds.
    """
    rng = random.Random(seed)
    result = SoakResult()
    env = {**os.environ, "SCM_AGENT_HOME": str(home)}
    for round_no in range(rounds):
        log = home.parent / "soak-run.log"
        with log.open("wb") as out:
            agent = subprocess.Popen(
                [console_script("scm-agent"), "run", "--config", str(config)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            if rng.random() >= 0.15:  # mostly once it runs its jobs; sometimes mid-start-up
                _wait_for_start(log, agent)
            time.sleep(rng.uniform(0.0, max_delay_s))
            agent.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            try:
                code = agent.wait(timeout=60)
            except subprocess.TimeoutExpired:
                agent.kill()
                code = agent.wait(timeout=10)
            took = time.monotonic() - asked
        text = log.read_text(errors="replace")
        result.stop_times.append(took)
        result.spooled += sum(int(n) for n in SPOOLED.findall(text))
        if took > STOP_LIMIT_S:
            result.slow.append(f"round {round_no}: {took:.1f} s\n{text[-1500:]}")
        if code not in (0, -signal.SIGTERM):
            result.bad_exits.append(f"round {round_no}: exit {code}\n{text[-1500:]}")
        if progress and (round_no + 1) % progress == 0:
            print(result.summary(), flush=True)
    return result


def _wait_for_start(log: Path, agent: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and agent.poll() is None:
        if b"service started" in log.read_bytes():
            return
        time.sleep(0.05)


def deliver_rest(home: Path) -> str:
    """Upload whatever the stopped rounds left in the spool; returns push's output."""
    done = run_agent(home, "push")
    if done.returncode != 0:
        raise AssertionError(f"final push failed: {done.stderr}")
    return done.stdout
