"""The outbox: every reading is durable on disk before any upload is tried.

Why SQLite: one file, atomic transactions, WAL for a reader beside the writer, and
``synchronous=FULL`` so a committed reading survives power loss.  The upload protocol is
at-least-once; exactly-once *effect* comes from the server's idempotency on the batch id, so a
batch, once cut, is frozen: its id, sequence number and exact gzip bytes are stored and re-sent
unchanged until the server acknowledges them.  Only then are its readings deleted.

The spool is bounded: past ``max_bytes`` the oldest readings not yet cut into a batch are dropped
and counted, so a dead network for weeks costs old readings, never the disk or the newest data.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from shared.batch import MAX_READINGS, Batch, encode_batch, new_batch_id
from shared.reading import Reading, utc_now

DEFAULT_MAX_BYTES: Final = 100 * 1024 * 1024
DEFAULT_BATCH_SIZE: Final = 500

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    observed_at TEXT NOT NULL,
    body TEXT NOT NULL,
    size INTEGER NOT NULL,
    batch_id TEXT REFERENCES batches(batch_id)
);
CREATE INDEX IF NOT EXISTS readings_batch ON readings(batch_id, id);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    body BLOB NOT NULL,
    reading_count INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    conflicts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS dead_letters (
    batch_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    body BLOB NOT NULL,
    reading_count INTEGER NOT NULL,
    status INTEGER,
    reason TEXT NOT NULL,
    rejected_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """A batch cut from the spool: the exact bytes to (re-)send and what they hold."""

    batch_id: str
    seq: int
    body: bytes
    reading_count: int
    attempts: int
    #: Consecutive 409 answers: the uploader gives up on a batch whose conflict persists.
    conflicts: int = 0


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits in the spool, for status and heartbeat."""

    readings: int
    batches: int
    bytes: int
    dropped: int
    dead_letters: int


class Spool:
    """The agent's durable outbox (one SQLite file)."""

    def __init__(self, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._db = _open(path)

    def close(self) -> None:
        """Close the file; every committed change is already on disk."""
        self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, readings: Iterable[Reading]) -> int:
        """Store readings durably (one transaction); returns how many were stored."""
        rows = []
        for reading in readings:
            body = json.dumps(reading.to_dict(), ensure_ascii=False, separators=(",", ":"))
            rows.append((reading.to_dict()["observed_at"], body, len(body.encode("utf-8"))))
        with self._transaction() as db:
            db.executemany("INSERT INTO readings (observed_at, body, size) VALUES (?, ?, ?)", rows)
            self._enforce_cap(db)
        return len(rows)

    def next_batch(
        self, agent_id: str, *, max_readings: int = DEFAULT_BATCH_SIZE
    ) -> PendingBatch | None:
        """The oldest unacknowledged batch, cutting a new one from loose readings if none is open.

        A cut batch is committed with its bytes before it is ever sent, so a crash between
        sending and acknowledging re-sends the very same bytes under the same id.
        """
        open_batch = self._oldest_open_batch()
        if open_batch is not None:
            return open_batch
        limit = max(1, min(max_readings, MAX_READINGS))
        with self._transaction() as db:
            rows = db.execute(
                "SELECT id, body FROM readings WHERE batch_id IS NULL ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
            if not rows:
                return None
            seq = self._meta(db, "next_seq", 1)
            batch = Batch(
                agent_id=agent_id,
                batch_id=new_batch_id(),
                seq=seq,
                created_at=utc_now(),
                readings=tuple(Reading.from_dict(json.loads(body)) for _, body in rows),
            )
            body = encode_batch(batch)
            db.execute(
                "INSERT INTO batches (batch_id, seq, created_at, body, reading_count) "
                "VALUES (?, ?, ?, ?, ?)",
                (batch.batch_id, seq, _now_text(), body, len(rows)),
            )
            db.executemany(
                "UPDATE readings SET batch_id = ? WHERE id = ?",
                [(batch.batch_id, row_id) for row_id, _ in rows],
            )
            self._set_meta(db, "next_seq", seq + 1)
        return PendingBatch(batch.batch_id, seq, body, len(rows), 0)

    def pending_batches(self) -> Iterator[PendingBatch]:
        """Every cut, unacknowledged batch, oldest first."""
        for row in self._db.execute(
            "SELECT batch_id, seq, body, reading_count, attempts, conflicts FROM batches "
            "ORDER BY seq"
        ):
            yield PendingBatch(*row)

    def record_attempt(self, batch_id: str, error: str, *, conflict: bool = False) -> None:
        """Note a failed try; the batch stays for the next flush.

        ``conflict`` (a 409) extends the run of consecutive conflicts; any other failure ends it.
        """
        with self._transaction() as db:
            db.execute(
                "UPDATE batches SET attempts = attempts + 1, last_error = ?, "
                "conflicts = CASE WHEN ? THEN conflicts + 1 ELSE 0 END WHERE batch_id = ?",
                (error[:500], conflict, batch_id),
            )

    def acknowledge(self, batch_id: str) -> None:
        """The server committed the batch: forget it and its readings, in one transaction."""
        with self._transaction() as db:
            db.execute("DELETE FROM readings WHERE batch_id = ?", (batch_id,))
            db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))

    def reject(self, batch_id: str, status: int | None, reason: str) -> None:
        """The server refused the batch for good: keep a copy for support, stop re-sending it."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO dead_letters "
                "(batch_id, seq, body, reading_count, status, reason, rejected_at) "
                "SELECT batch_id, seq, body, reading_count, ?, ?, ? FROM batches "
                "WHERE batch_id = ?",
                (status, reason[:1000], _now_text(), batch_id),
            )
            db.execute("DELETE FROM readings WHERE batch_id = ?", (batch_id,))
            db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))

    def backlog(self) -> Backlog:
        """Counts for status and heartbeat."""
        readings, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM readings"
        ).fetchone()
        (batches,) = self._db.execute("SELECT COUNT(*) FROM batches").fetchone()
        (dead,) = self._db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()
        return Backlog(readings, batches, size, self._meta(self._db, "dropped", 0), dead)

    def _oldest_open_batch(self) -> PendingBatch | None:
        return next(self.pending_batches(), None)

    def _enforce_cap(self, db: sqlite3.Connection) -> None:
        """Drop the oldest loose readings while the spool is over its size cap, counting them."""
        (total,) = db.execute("SELECT COALESCE(SUM(size), 0) FROM readings").fetchone()
        if total <= self.max_bytes:
            return
        excess, dropped = total - self.max_bytes, 0
        for row_id, size in db.execute(
            "SELECT id, size FROM readings WHERE batch_id IS NULL ORDER BY id"
        ).fetchall():
            if excess <= 0:
                break
            db.execute("DELETE FROM readings WHERE id = ?", (row_id,))
            excess -= size
            dropped += 1
        if dropped:
            self._set_meta(db, "dropped", self._meta(db, "dropped", 0) + dropped)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @staticmethod
    def _meta(db: sqlite3.Connection, key: str, default: int) -> int:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else default

    @staticmethod
    def _set_meta(db: sqlite3.Connection, key: str, value: int) -> None:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _open(path: Path) -> sqlite3.Connection:
    """Open (or create) the spool; a corrupt file is moved aside so the agent goes on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _connect(path)
    except sqlite3.DatabaseError:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        path.replace(aside)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.replace(aside.with_name(aside.name + suffix))
        return _connect(path)


def _connect(path: Path) -> sqlite3.Connection:
    # The service's jobs run in a scheduler thread, not the one that opened the spool; they
    # never run two at a time on it (``agent.service`` holds a lock around every use).
    db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        (status,) = db.execute("PRAGMA quick_check").fetchone()
        if status != "ok":
            raise sqlite3.DatabaseError(f"spool integrity check failed: {status}")
        db.executescript(_SCHEMA)
        _add_missing_columns(db)
    except sqlite3.DatabaseError:
        db.close()
        raise
    path.chmod(0o600)
    return db


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Bring a spool written by an older agent up to this schema (columns only ever added)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(batches)")}
    if "conflicts" not in columns:
        db.execute("ALTER TABLE batches ADD COLUMN conflicts INTEGER NOT NULL DEFAULT 0")


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
