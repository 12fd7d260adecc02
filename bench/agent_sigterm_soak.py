"""1,000 SIGTERMs at random moments of ``scm-agent run`` under CPU load (issue 14).

    .venv/bin/python bench/agent_sigterm_soak.py [--rounds 1000] [--load 2]

Real and local: snmpsim serves a printer capture on 127.0.0.1, ``scm-ingest serve`` runs on a
temporary SQLite database, the agent enrolls, then each round starts ``scm-agent run``, sends
SIGTERM after a random delay and times the exit (target: every one within 5 s).  At the end a
``push`` delivers the rest of the spool and the server must hold exactly the readings the
rounds committed.  Ends with ``sigterm: rounds=N spooled=R stop_median_s=... stop_p99_s=...
stop_max_s=... over_5s=0 bad_exits=0`` and ``delivered=R`` (equal to ``spooled`` when nothing
was lost or doubled).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from support.local_fleet import local_fleet  # noqa: E402
from support.processes import console_script  # noqa: E402
from support.sigterm_soak import cpu_load, deliver_rest, soak  # noqa: E402

from ingest.models import DeviceReading  # noqa: E402

CASE = "bieniu-brother__hl-2270dw"


def main() -> int:
    """Run the rounds and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--load", type=int, default=2, help="busy processes beside the agent")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scm-sigterm-") as scratch:
        return _run(Path(scratch), args.rounds, args.load)


def _run(scratch: Path, rounds: int, load: int) -> int:
    extra = "[snmp]\ntimeout_s = 0.5\n"
    with local_fleet(scratch, console_script("scm-agent"), CASE, extra) as rig:
        with cpu_load(load):
            result = soak(rig.home, rig.config, rounds, progress=50)
        deliver_rest(rig.home)
        engine = create_engine(rig.server.database_url)
        with Session(engine) as db:
            delivered = db.scalar(select(func.count()).select_from(DeviceReading))
        engine.dispose()
    for problem in (*result.slow, *result.bad_exits)[:5]:
        print(problem[-2500:])
    print(result.summary())
    print(f"delivered={delivered} (spooled={result.spooled})")
    ok = not result.slow and not result.bad_exits and delivered == result.spooled
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
