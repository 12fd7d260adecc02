"""What this machine charges PostgreSQL for new file pages once its page cache has grown;
prints one line.

    python bench/page_cache_growth.py [--rows 10000000]

Why it exists: ``bench/ingest.py``'s second measurement (after 2 M readings of history) found
PostgreSQL's share of an upload 0.3-0.45 ms a batch dearer than the first, all of it in the
kernel's copy of each new table page into the page cache (``smgrextend`` -> ``pwrite``). This
bench shows that the machine does it to any PostgreSQL writer, without the project's code: one
connection writes 100 rows of 1 kB a transaction by ``COPY`` into one table, before and after
``--rows`` rows are loaded into *another* table of the same database (then vacuumed and
checkpointed, as the ingest bench does). On a virtual machine whose balloon reports free memory
to the host (``/sys/module/page_reporting``), the guest's free memory is, in time, handed back;
a page cache that grows takes such memory, and writing into it is dear. Measured here
(``page_reporting_order=9``, the machine's default): 0.76 -> 1.07 ms a batch (x1.40) in a first
run, x1.00 right after it (likely because the first run's dropped database had just freed
memory the guest still held); x1.01 and x1.01 with reporting off (``page_reporting_order``
above the largest order, which needs root) and the guest's memory touched once. The plain loop
above thus shows the ingest bench's second-measurement penalty without any of the project's
code; and a database server whose page cache is full reuses evicted pages instead.

Loopback only; its own database (``--db-name``), dropped at the end.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

REPORTING = Path("/sys/module/page_reporting/parameters/page_reporting_order")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin", default="host=127.0.0.1 user=postgres dbname=postgres")
    parser.add_argument("--db-name", default="scm_bench_page_cache")
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the other table")
    parser.add_argument("--batches", type=int, default=1500, help="COPY transactions a measure")
    args = parser.parse_args()
    name = sql.Identifier(args.db_name)
    with psycopg.connect(args.admin, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    dsn = make_conninfo(args.admin, dbname=args.db_name)
    try:
        with psycopg.connect(dsn) as connection:
            connection.execute("CREATE TABLE target (id bigserial PRIMARY KEY, k int, body text)")
            connection.execute("CREATE INDEX ON target (k)")
            connection.execute("CREATE TABLE other (id bigint, k int, body text)")
            connection.commit()
        _measure(dsn, args.batches)  # untimed: the target's first pages, the caches
        before = _measure(dsn, args.batches)
        _load_other(dsn, args.rows)
        after = _measure(dsn, args.batches)
    finally:
        with psycopg.connect(args.admin, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
    order = REPORTING.read_text().strip() if REPORTING.exists() else "absent"
    print(
        f"page_cache_growth: backend_cpu_ms_per_batch_before={before:.3f} "
        f"after={after:.3f} after_over_before={after / before:.2f} "
        f"other_rows={args.rows} page_reporting_order={order}"
    )


def _measure(dsn: str, batches: int) -> float:
    """The backend's CPU (ms) a ``COPY`` of 100 rows of 1 kB and its commit."""
    body = "x" * 900
    with psycopg.connect(dsn) as connection:
        pid = connection.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        began = _cpu_seconds(pid)
        for _ in range(batches):
            with connection.cursor().copy("COPY target (k, body) FROM STDIN") as copy:
                for row in range(100):
                    copy.write_row((row * 37 % 5000, body))
            connection.commit()
        return 1000 * (_cpu_seconds(pid) - began) / batches


def _load_other(dsn: str, rows: int) -> None:
    """``rows`` small rows into the other table, vacuumed and checkpointed."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO other SELECT g, g %% 5000, repeat('h', 150) "
            "FROM generate_series(1, %s) AS g",
            (rows,),
        )
        connection.execute("VACUUM ANALYZE other")
        connection.execute("CHECKPOINT")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
