"""Ingest throughput, latency and page speed as history grows; prints one line.

    python bench/ingest.py [--db postgresql|sqlite] [--conns 8] [--history 2000000]

What it does, on loopback only: creates its own database (PostgreSQL: ``--pg-admin`` +
``--db-name``, dropped and recreated; SQLite: a temporary file), migrates it, registers a
customer with ``--devices`` colour printers, ``--machines`` of them under contract, one agent
per connection and a portal user; starts gunicorn (2 sync workers and a Redis broker, whose job
workers do not run: the measurement is the upload path); ``--conns`` processes post pre-signed
gzip batches of 100 readings (each with 4 toner levels) as fast as answers come, each
measurement after ``--warmup`` untimed ones (steady state: the devices known, the workers'
caches and plans warm); counts the stored rows (every batch stored once); times a raw COPY of
the same rows into the same server (SQLite: a raw ``executemany``); loads ``--history``
readings (with their supply levels) straight into the tables, then vacuums and checkpoints them
as weeks of arrivals would have been; measures the upload again; times the customer's
``/machines`` page (p95). Each measurement also prints (stderr) the CPU a batch cost the
service, PostgreSQL and the clients: on a machine shared with others, throughput moves with the
neighbours, that cost much less.
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import redis
import requests
from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import (  # noqa: E402
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from ingest.db import Database  # noqa: E402
from ingest.domain.accounts import create_user, get_or_create_customer  # noqa: E402
from ingest.domain.enrollment import create_token, enroll_agent  # noqa: E402
from ingest.domain.intake import FOLLOWUP_JOB  # noqa: E402
from ingest.domain.machines import ContractTerms, MachineSpec, register_machine  # noqa: E402
from ingest.history import ensure_partitions  # noqa: E402
from ingest.jobs import all_jobs  # noqa: E402
from ingest.jobs.outbox import run_job  # noqa: E402
from ingest.migrate import upgrade  # noqa: E402
from ingest.models import Job  # noqa: E402
from shared.signing import generate_private_key, public_key_text, sign_request  # noqa: E402

PATH = "/api/v1/batches"
READINGS_PER_BATCH = 100
PASSWORD = "bench password 123"
COLOURS = ("black", "cyan", "magenta", "yellow")


def main() -> None:
    args = _arguments()
    queue = redis.Redis.from_url(args.redis)
    queue.flushdb()  # the bench's own Redis database: no worker reads it, nothing is kept
    with _database(args) as url:
        _seed(url, args)
        with _gunicorn(url, args) as (port, server):
            # One reading a minute per batch sequence, both measurements ending ten minutes ago:
            # every reading counts (one dated ahead of the server's clock would be stored
            # flagged, without its supply levels: cheaper, and not what is measured).
            per_measure = args.warmup + args.batches
            start = datetime.now(UTC).replace(microsecond=0) - timedelta(
                minutes=2 * per_measure + 10
            )
            rate, p50, p99 = _measure(
                (port, server, url), args, start, first_batch=0, warmup=args.warmup
            )
            once = _stored_once(url, _sent(args, per_measure))
            _followup_rate(url, args.followups)
            copy = _copy_limit(url, args)
            history = _load_history(url, args.history, start)
            # Warmed up as the first measurement was: the history's vacuum and analyze have
            # just invalidated every connection's plans and caches.
            rate2, _, _ = _measure(
                (port, server, url), args, start, per_measure, warmup=args.warmup
            )
            sent = _sent(args, 2 * per_measure)
            once = once and _stored_once(url, sent, loaded=history)
            page = _machines_p95(port, args)
    queue.flushdb()
    db = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(
        f"ingest: db={db} conns={args.conns} readings_per_s={rate:.0f} p50_ms={p50:.0f} "
        f"p99_ms={p99:.0f} stored_once={'yes' if once else 'NO'} copy_limit_per_s={copy:.0f} "
        f"history_readings={history} rate_with_history_per_s={rate2:.0f} "
        f"machines_page_p95_ms={page:.0f}"
    )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/")
    parser.add_argument("--db-name", default="scm_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--conns", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--machines", type=int, default=1000)
    parser.add_argument(
        "--batches", type=int, default=300, help="timed batches per connection, per measurement"
    )
    parser.add_argument(
        "--warmup", type=int, default=10, help="untimed batches per connection, before each"
    )
    parser.add_argument("--history", type=int, default=2_000_000)
    parser.add_argument("--page-requests", type=int, default=40)
    parser.add_argument(
        "--followups", type=int, default=100, help="follow-up jobs run after the first measure"
    )
    return parser.parse_args()


def _sent(args: argparse.Namespace, batches: int) -> int:
    return args.conns * batches * READINGS_PER_BATCH


@contextmanager
def _database(args: argparse.Namespace) -> Iterator[str]:
    if args.db == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="scm-bench-"))
        try:
            yield f"sqlite:///{folder / 'bench.sqlite'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    admin = create_engine(args.pg_admin + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{args.db_name}"'))
    try:
        yield args.pg_admin + args.db_name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)'))
        admin.dispose()


def _seed(url: str, args: argparse.Namespace) -> None:
    """Schema, customer, machines under contract, one enrolled agent per connection, a user."""
    upgrade(url)
    database = Database(url)
    now = datetime.now(UTC)
    keys_dir = Path(tempfile.gettempdir()) / f"scm-bench-keys-{os.getpid()}"
    keys_dir.mkdir(exist_ok=True)
    with database.session() as session:
        customer = get_or_create_customer(session, "Bench srl")
        terms = ContractTerms(mono_rate="0.01", colour_rate="0.08", start=now.date().replace(day=1))
        for i in range(args.machines):
            spec = MachineSpec(
                scm_id=f"SCM-B{i:05d}",
                serial=_serial(i),
                manufacturer="Konica Minolta",
                model="bizhub C250i",
                colour=True,
            )
            register_machine(session, customer, spec, terms)
        create_user(session, "bench@bench.example", PASSWORD, customer=customer)
        for i in range(args.conns):
            key = generate_private_key()
            agent, _ = enroll_agent(
                session,
                token=create_token(session, customer),
                public_key=public_key_text(key),
                hostname=f"bench-{i}",
                agent_version="bench",
                now=now,
            )
            pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
            (keys_dir / f"{i}.pem").write_bytes(pem)
            (keys_dir / f"{i}.id").write_text(agent.public_id)
        session.commit()
    database.dispose()
    args.keys_dir = keys_dir


def _serial(index: int) -> str:
    return f"BENCH{index:06d}"


@contextmanager
def _gunicorn(url: str, args: argparse.Namespace) -> Iterator[tuple[int, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    metrics_dir = Path(tempfile.mkdtemp(prefix="scm-bench-metrics-"))
    env = {
        **os.environ,
        "SCM_DATABASE_URL": url,
        "SCM_JOB_BROKER": args.redis,
        "SCM_SECRET_KEY": "bench-" * 8,
        "SCM_INSTANCE_PATH": str(metrics_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "ingest" / "gunicorn_conf.py"),
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "ingest.wsgi:app",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _measure(
    service: tuple[int, int, str],
    args: argparse.Namespace,
    start: datetime,
    first_batch: int,
    *,
    warmup: int,
) -> tuple[float, float, float]:
    """Readings per second and p50/p99 latency of ``--conns`` processes posting batches.

    Also printed (stderr): the CPU each 100-reading batch cost the service, PostgreSQL and the
    posting clients, which on a machine shared with others moves far less than throughput does,
    and what that cost allows on this machine's cores."""
    port, server, url = service
    barrier = multiprocessing.Barrier(args.conns + 1)
    results: multiprocessing.Queue[Any] = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(
            target=_client,
            args=(port, args, i, start, (first_batch, warmup), barrier, results),
        )
        for i in range(args.conns)
    ]
    for worker in workers:
        worker.start()
    barrier.wait()
    web, backends = _family(server), _backends(url)
    before = _cpu_seconds(web), _cpu_seconds(backends)
    outcomes = [results.get(timeout=600) for _ in workers]
    spent = _cpu_seconds(web) - before[0], _cpu_seconds(backends) - before[1]
    for worker in workers:
        worker.join()
    failures = sum(o["failures"] for o in outcomes)
    if failures:
        raise SystemExit(f"{failures} uploads failed: {outcomes[0]['errors'][:3]}")
    latencies = sorted(t for o in outcomes for t in o["latencies"])
    began = min(o["began"] for o in outcomes)
    ended = max(o["ended"] for o in outcomes)
    readings = len(latencies) * READINGS_PER_BATCH
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    per_batch = [1000 * s / len(latencies) for s in spent]
    clients = 1000 * sum(o["cpu"] for o in outcomes) / len(latencies)
    ceiling = (os.cpu_count() or 1) * 1000 / (sum(per_batch) + clients) * READINGS_PER_BATCH
    print(
        f"ingest cpu per batch: service_ms={per_batch[0]:.2f} postgres_ms={per_batch[1]:.2f} "
        f"clients_ms={clients:.2f} cores={os.cpu_count()} ceiling_readings_per_s={ceiling:.0f}",
        file=sys.stderr,
    )
    return readings / (ended - began), statistics.median(latencies) * 1000, p99 * 1000


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes have used so far (those gone in between are lost)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _processes() -> Iterator[tuple[int, int, str]]:
    """Every process: its pid, its parent's and its name."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name, rest = (entry / "stat").read_text().split(" (", 1)[1].rsplit(")", 1)
            except (OSError, ValueError):
                continue
            yield int(entry.name), int(rest.split()[1]), name


def _family(root: int) -> list[int]:
    """``root`` and its children (gunicorn's master and workers)."""
    return [root] + [pid for pid, parent, _ in _processes() if parent == root]


def _backends(url: str) -> list[int]:
    """The PostgreSQL backends serving the bench's database (the web workers' connections,
    open since the warm-up); none on SQLite.  The server's shared processes (WAL writer,
    checkpointer) are not counted: the same server may serve other databases."""
    if not url.startswith("postgresql"):
        return []
    engine = create_engine(url)
    with engine.connect() as connection:
        pids = list(
            connection.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        )
    engine.dispose()
    return pids


def _client(
    port: int,
    args: argparse.Namespace,
    index: int,
    start: datetime,
    batches: tuple[int, int],
    barrier: Any,
    results: Any,
) -> None:
    key = _load_key(args.keys_dir / f"{index}.pem")
    agent_id = (args.keys_dir / f"{index}.id").read_text()
    devices = list(range(index, args.devices, args.conns))
    requests_ = []
    first_batch, warmup = batches
    for b in range(warmup + args.batches):
        seq = first_batch + b + 1
        when = start + timedelta(seconds=60 * seq)
        chosen = [devices[(b * READINGS_PER_BATCH + k) % len(devices)] for k in range(100)]
        requests_.append(_http_request(port, *_signed_batch(key, agent_id, seq, when, chosen)))
    # Warm-up, not timed: every device of this client is known and the workers' caches are
    # filled, as on a server that has been running (a cold start is tests/ingest's concern).
    errors = [error for request in requests_[:warmup] if (error := _post(port, request)[1])]
    barrier.wait()
    latencies = []
    cpu = time.process_time()
    began = time.perf_counter()
    for request in requests_[warmup:]:
        seconds, error = _post(port, request)
        latencies.append(seconds)
        if error:
            errors.append(error)
    ended = time.perf_counter()
    cpu = time.process_time() - cpu
    results.put(
        {
            "cpu": cpu,
            "latencies": latencies,
            "began": began,
            "ended": ended,
            "failures": len(errors),
            "errors": errors,
        }
    )


def _http_request(port: int, headers: dict[str, str], body: bytes) -> bytes:
    """A whole HTTP request, made before the clock starts."""
    lines = [
        f"POST {PATH} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _post(port: int, request: bytes) -> tuple[float, str | None]:
    """One upload on a new connection, as an agent makes it: its time, and what went wrong.

    Raw socket, no HTTP library: the clients share the service's two cores, and
    ``http.client`` cost them 0.6 ms of CPU an upload (a tenth of what the service spends)."""
    sent = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):  # gunicorn's sync workers close after answering
            answer += chunk
    seconds = time.perf_counter() - sent
    status = answer[9:12]
    return seconds, None if status == b"200" else f"{status.decode()} {answer[:300]!r}"


def _load_key(path: Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def _signed_batch(
    key: Ed25519PrivateKey, agent_id: str, seq: int, when: datetime, devices: list[int]
) -> tuple[dict[str, str], bytes]:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    batch_id = str(uuid.uuid4())
    body = gzip.compress(
        orjson.dumps(
            {
                "schema": "scm.batch.v1",
                "agent_id": agent_id,
                "batch_id": batch_id,
                "seq": seq,
                "created_at": stamp,
                "readings": [_reading(device, seq, stamp) for device in devices],
            }
        ),
        compresslevel=6,
        mtime=0,
    )
    headers = sign_request(
        key,
        method="POST",
        path=PATH,
        body=body,
        agent_id=agent_id,
        request_id=batch_id,
        timestamp=int(time.time()),
    )
    return {
        **headers,
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }, body


def _reading(device: int, seq: int, stamp: str) -> dict[str, Any]:
    total = 10_000 + device + seq * 7
    return {
        "address": f"10.{device // 65536}.{device // 256 % 256}.{device % 256}:161",
        "observed_at": stamp,
        "device": {
            "manufacturer": "Konica Minolta",
            "model": "bizhub C250i",
            "serial": _serial(device),
            "mac": ":".join(
                f"{b:02x}" for b in (0, 0x20, 0x6B, device >> 16, device >> 8 & 255, device & 255)
            ),
            "firmware": "1.102",
            "sys_object_id": "1.3.6.1.4.1.18334.1.1.1.2.1.181.2.4",
            "sys_descr": "KONICA MINOLTA bizhub C250i",
        },
        "counters": {
            "total": total,
            "mono": total * 4 // 5,
            "colour": total - total * 4 // 5,
            "print_mono": None,
            "print_colour": None,
            "copy_mono": None,
            "copy_colour": None,
            "fax": None,
            "scan": 100 + seq,
            "duplex": None,
        },
        "supplies": [
            {
                "kind": "toner",
                "colour": colour,
                "description": f"Toner ({colour.title()})",
                "level": max(100 - seq // 4 - i, 5),
                "max": 100,
                "percent": max(100 - seq // 4 - i, 5),
                "state": "ok",
            }
            for i, colour in enumerate(COLOURS)
        ],
        "alerts": [],
    }


def _stored_once(url: str, expected: int, loaded: int = 0) -> bool:
    """Every reading posted is stored once: as many rows as batches declared, as were sent
    (``loaded`` history rows, written directly, aside), and every one counted (none flagged
    as dated in the future or too old, which the server stores without supply levels)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        readings = connection.scalar(text("SELECT count(*) FROM device_readings"))
        declared = connection.scalar(text("SELECT sum(reading_count) FROM upload_batches"))
        flagged = connection.scalar(
            text("SELECT count(*) FROM device_readings WHERE flag IS NOT NULL")
        )
    engine.dispose()
    if flagged:
        print(f"ingest bench: {flagged} readings were flagged, not counted", file=sys.stderr)
    return readings - loaded == expected == declared and not flagged


def _followup_rate(url: str, count: int) -> None:
    """The work the upload path leaves to job workers (supply levels, their latest state, meter
    reads, reorders), measured too: ``count`` of the measured batches' follow-up jobs run one
    after another in this process, as one job worker would (printed on stderr)."""
    database = Database(url)
    with database.session() as session:
        ids = list(
            session.scalars(
                select(Job.id).where(Job.name == FOLLOWUP_JOB).order_by(Job.id).limit(count)
            )
        )
    jobs = all_jobs()
    began, cpu = time.perf_counter(), time.process_time()
    for job_id in ids:
        run_job(database.sessions, job_id, jobs, datetime.now(UTC))
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    database.dispose()
    print(
        f"ingest follow-up jobs: one worker, {len(ids)} batches: "
        f"readings_per_s={len(ids) * READINGS_PER_BATCH / elapsed:.0f} "
        f"worker_cpu_ms_per_batch={1000 * cpu / max(len(ids), 1):.2f}",
        file=sys.stderr,
    )


def _copy_limit(url: str, args: argparse.Namespace) -> float:
    """The same rows (readings and their supply levels) written raw, without the service."""
    rows = 20_000
    start = datetime.now(UTC) - timedelta(days=1)
    readings = [
        _reading(device % args.devices, device // args.devices + 1, "") for device in range(rows)
    ]
    engine = create_engine(url)
    with engine.begin() as connection:
        batch_id, agent_id = connection.execute(
            text("SELECT id, agent_id FROM upload_batches LIMIT 1")
        ).one()
        device_ids = list(connection.scalars(text("SELECT id FROM devices ORDER BY id")))
        for table in ("device_readings", "supply_levels"):
            connection.execute(text(f"DROP TABLE IF EXISTS bench_copy_{table}"))
            if url.startswith("postgresql"):
                connection.execute(
                    text(f"CREATE TABLE bench_copy_{table} (LIKE {table} INCLUDING ALL)")
                )
            else:
                connection.execute(
                    text(f"CREATE TABLE bench_copy_{table} AS SELECT * FROM {table} WHERE 0")
                )
    began = time.perf_counter()
    _raw_write(engine, readings, device_ids, batch_id, agent_id, start)
    elapsed = time.perf_counter() - began
    with engine.begin() as connection:
        for table in ("device_readings", "supply_levels"):
            connection.execute(text(f"DROP TABLE bench_copy_{table}"))
    engine.dispose()
    return rows / elapsed


def _row_values(
    reading: dict[str, Any],
    i: int,
    device_ids: list[int],
    batch_id: int,
    agent_id: int,
    at: datetime,
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    counters = reading["counters"]
    device = device_ids[i % len(device_ids)]
    row = (
        10_000_000 + i, device, batch_id, agent_id, at, at, reading["address"],
        counters["total"], counters["mono"], counters["colour"], orjson.dumps(reading).decode(),
    )  # fmt: skip
    supplies = [
        (10_000_000 + i, device, at, slot, s["kind"], s["colour"], s["description"],
         s["level"], s["max"], s["percent"], s["state"])
        for slot, s in enumerate(reading["supplies"])
    ]  # fmt: skip
    return row, supplies


READING_COLUMNS = (
    "id, device_id, batch_id, agent_id, observed_at, received_at, address, total, mono, colour, "
    "payload"
)
SUPPLY_COLUMNS = (
    "reading_id, device_id, observed_at, slot, kind, colour, description, level, max_capacity, "
    "percent, state"
)


def _raw_write(
    engine: Any,
    readings: list[dict[str, Any]],
    device_ids: list[int],
    batch_id: int,
    agent_id: int,
    at: datetime,
) -> None:
    """The rows straight into the scratch tables, committing every 10,000 readings."""
    postgres = engine.dialect.name == "postgresql"
    stamp: Any = at if postgres else at.isoformat(" ")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for chunk in range(0, len(readings), 10_000):
            part = [
                _row_values(r, chunk + j, device_ids, batch_id, agent_id, stamp)
                for j, r in enumerate(readings[chunk : chunk + 10_000])
            ]
            rows = [row for row, _ in part]
            supplies = [supply for _, supplies in part for supply in supplies]
            for table, columns, values in (
                ("device_readings", READING_COLUMNS, rows),
                ("supply_levels", SUPPLY_COLUMNS, supplies),
            ):
                if postgres:
                    with cursor.copy(f"COPY bench_copy_{table} ({columns}) FROM STDIN") as copy:
                        for value in values:
                            copy.write_row(value)
                else:
                    marks = ", ".join("?" * len(values[0]))
                    cursor.executemany(
                        f"INSERT INTO bench_copy_{table} ({columns}) VALUES ({marks})", values
                    )
            raw.commit()
    finally:
        raw.close()


def _load_history(url: str, count: int, before: datetime) -> int:
    """``count`` older readings of every device, one a day back from ``before``, with 4 supply
    levels each, written by the database itself (``generate_series`` / a recursive CTE)."""
    if count <= 0:
        return 0
    engine = create_engine(url)
    postgres = url.startswith("postgresql")
    with engine.begin() as connection:
        devices = connection.scalar(text("SELECT count(*) FROM devices"))
        per_device = -(-count // devices)
        batch_id, agent_id = connection.execute(
            text("SELECT id, agent_id FROM upload_batches ORDER BY id LIMIT 1")
        ).one()
        start_id = connection.scalar(text("SELECT max(id) FROM device_readings")) + 1
        # The months the history covers get their partitions, as the hourly job made them
        # while that history arrived (PostgreSQL; SQLite has one table).
        ensure_partitions(connection, before, (before - timedelta(days=per_device + 1)).date())
        series = (
            "generate_series(1, :n) AS g(n)"
            if postgres
            else "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
            "SELECT n FROM s) AS g"
        )
        day = (
            "(:before - g.n * interval '1 day')"
            if postgres
            else "datetime(:before, '-' || g.n || ' days')"
        )
        payload = "'{\"history\": true}'" + ("::json" if postgres else "")
        connection.execute(
            text(
                f"INSERT INTO device_readings (id, device_id, batch_id, agent_id, observed_at, "
                f"received_at, address, total, mono, colour, payload) "
                f"SELECT :start + (d.rn - 1) * :n + g.n - 1, d.id, :batch, :agent, {day}, {day}, "
                f"'10.0.0.1:161', 10000 - g.n, 8000 - g.n, 2000, {payload} "
                f"FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM devices) d "
                f"CROSS JOIN {series}"
            ),
            {"start": start_id, "n": per_device, "batch": batch_id, "agent": agent_id,
             "before": before if postgres else before.strftime("%Y-%m-%d %H:%M:%S")},
        )  # fmt: skip
        connection.execute(
            text(
                f"INSERT INTO supply_levels ({SUPPLY_COLUMNS}) "
                "SELECT r.id, r.device_id, r.observed_at, c.slot, 'toner', c.colour, 'Toner', "
                "50, 100, 50, 'ok' FROM device_readings r CROSS JOIN (SELECT 0 AS slot, 'black' "
                "AS colour UNION ALL SELECT 1, 'cyan' UNION ALL SELECT 2, 'magenta' UNION ALL "
                "SELECT 3, 'yellow') c WHERE r.id >= :start"
            ),
            {"start": start_id},
        )
        if postgres:
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('device_readings', 'id'), "
                     "(SELECT max(id) FROM device_readings))")
            )  # fmt: skip
    # History that arrived over weeks has been vacuumed and checkpointed as it came; one
    # transaction of millions of rows has not.  Without this, the second measurement times
    # autovacuum's first pass over the history (PostgreSQL) or the copy of a WAL file of
    # several GB into the database by the first commits (SQLite), not the upload path.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if postgres:
            connection.execute(text("VACUUM (ANALYZE) device_readings, supply_levels"))
            connection.execute(text("CHECKPOINT"))
        else:
            connection.execute(text("ANALYZE"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        loaded = connection.scalar(
            text("SELECT count(*) FROM device_readings WHERE id >= :start"), {"start": start_id}
        )
    engine.dispose()
    return int(loaded or 0)


def _machines_p95(port: int, args: argparse.Namespace) -> float:
    """The customer's first ``/machines`` page, signed in, ``--page-requests`` times."""
    session = requests.Session()
    base = f"http://127.0.0.1:{port}"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', session.get(f"{base}/login").text)
    assert token, "no CSRF token on /login"
    session.post(
        f"{base}/login",
        data={"email": "bench@bench.example", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    times = []
    for _ in range(args.page_requests):
        began = time.perf_counter()
        response = session.get(f"{base}/machines")
        times.append(time.perf_counter() - began)
        assert response.status_code == 200 and "SCM-B00000" in response.text, response.status_code
    times.sort()
    return times[min(len(times) - 1, int(len(times) * 0.95))] * 1000


if __name__ == "__main__":
    main()
