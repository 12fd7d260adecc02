"""Billing and statistics as the fleet's history grows: preview, commit, statistics page.

    .venv/bin/python bench/billing.py [--machines 200] [--days 730] [--database URL]

Builds a fleet on a fresh database (SQLite in a temporary folder unless ``--database``): each
machine under contract with one agent read a day for ``--days`` days, then times a month's
billing preview, its commit (every invoice of the month) and the 12-month statistics of the whole
fleet (what ``/statistics`` computes for staff).  The statistics only read the months they show
(plus a margin), so their time should not grow with ``--days``.  Ends with one line:
``billing: machines=M reads=R preview_s=P commit_s=C statistics_s=S``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import insert  # noqa: E402
from support.database import build_schema  # noqa: E402

from ingest.db import Database  # noqa: E402
from ingest.domain.accounts import get_or_create_customer  # noqa: E402
from ingest.domain.invoicing import commit_run, month_period, preview_run  # noqa: E402
from ingest.domain.machines import ContractTerms, MachineSpec, register_machine  # noqa: E402
from ingest.domain.statistics import fleet_pages, last_months  # noqa: E402
from ingest.models import MeterRead  # noqa: E402

LAST_DAY = date(2026, 11, 30)


def main() -> int:
    """Build, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=200)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        build_schema(url)
        database = Database(url)
        reads = _fleet(database, args.machines, args.days)
        month = month_period(f"{LAST_DAY:%Y-%m}")
        with database.session() as session:
            started = time.perf_counter()
            preview = preview_run(session, month)
            preview_s = time.perf_counter() - started
            lines = preview.line_count
            print(f"preview of {month.start:%m/%Y}: {lines} lines in {preview_s:.2f} s")
            started = time.perf_counter()
            invoices = commit_run(session, month, issued_on=LAST_DAY + timedelta(days=2))
            commit_s = time.perf_counter() - started
            print(f"commit: {len(invoices)} invoice(s) in {commit_s:.2f} s")
            started = time.perf_counter()
            pages = fleet_pages(session, None, last_months(LAST_DAY, 12))
            statistics_s = time.perf_counter() - started
            print(f"statistics: 12 months, last {pages[-1].mono} B/W in {statistics_s:.2f} s")
        database.dispose()
    print(
        f"billing: machines={args.machines} reads={reads} preview_s={preview_s:.2f} "
        f"commit_s={commit_s:.2f} statistics_s={statistics_s:.2f}"
    )
    return 0


def _fleet(database: Database, machines: int, days: int) -> int:
    """Machines of 10 customers, each read once a day at 06:00 for ``days`` days."""
    first = LAST_DAY - timedelta(days=days - 1)
    rows = []
    with database.session() as session:
        for index in range(machines):
            customer = get_or_create_customer(session, f"Cliente {index % 10}")
            machine = register_machine(
                session,
                customer,
                MachineSpec(scm_id=f"SCM-{index:05d}", serial=f"SN-{index:05d}", colour=True),
                ContractTerms(mono_rate="0.01", colour_rate="0.08", start=first, fixed_fee="25"),
            )
            for day in range(days + 2):
                at = datetime.combine(first + timedelta(days=day), datetime.min.time(), UTC)
                rows.append(
                    {
                        "machine_id": machine.id,
                        "taken_at": at + timedelta(hours=6),
                        "source": "manual",
                        "mono": 100 * day + index,
                        "colour": 20 * day,
                        "total": 120 * day + index,
                        "offset_mono": 0,
                        "offset_colour": 0,
                        "signature_verified": False,
                        "created_at": at,
                        "status": "ok",
                        "flags": "",
                    }
                )
        session.execute(insert(MeterRead), rows)
        session.commit()
    print(f"fleet: {machines} machines, {len(rows)} reads")
    return len(rows)


if __name__ == "__main__":
    sys.exit(main())
