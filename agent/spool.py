"""The outbox: every reading is durable on disk before any upload is tried.

Why SQLite: one file, atomic transactions, WAL for a reader beside the writer, and
``synchronous=FULL`` so a committed reading survives power loss.  The upload protocol is
at-least-once; exactly-once *effect* comes from the server's idempotency on the batch id, so a
batch, once cut, is frozen: its id, sequence number and exact gzip bytes are stored and re-sent
unchanged until the server acknowledges them.  Only then are its readings deleted.

The spool is bounded over everything it holds: loose readings, cut batches and dead letters
(the latter within their own share of the cap).  Past ``max_bytes`` the oldest go first (cut
batches, then loose readings), each counted, so a dead network for weeks costs old readings,
never the disk or the newest data.  Once drained, the file gives its free pages back.

A full disk, a read-only file system or a locked file is :class:`SpoolUnavailableError`:
reported and retried, the file untouched.  Only a failed integrity check (or a file that is not
a database) quarantines a spool, under a name never used before, and every row still readable
in it is copied into the new spool, so a damaged page costs the readings on that page only.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from shared.batch import MAX_READINGS, Batch, encode_batch, new_batch_id
from shared.reading import Reading, reading_from_json, utc_now

DEFAULT_MAX_BYTES: Final = 100 * 1024 * 1024
DEFAULT_BATCH_SIZE: Final = 500
#: Dead letters may use at most this share of the cap (oldest dropped first, counted).
DEAD_LETTER_SHARE: Final = 0.1
#: Give free pages back once drained when at least this much is free.
SHRINK_FREE_BYTES: Final = 256 * 1024
#: SQLite result codes that mean the file itself is damaged; anything else is an environment
#: problem (full disk, read-only, locked, I/O) to report and retry, never a reason to move it.
_CORRUPT_CODES: Final = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB
_TABLES: Final = {
    "batches": ("batch_id, seq, created_at, body, reading_count, attempts, last_error, conflicts"),
    "readings": "id, observed_at, body, size, batch_id",
    "dead_letters": "batch_id, seq, body, reading_count, status, reason, rejected_at",
}

log = logging.getLogger(__name__)


class SpoolUnavailableError(OSError):
    """The spool cannot be used right now (disk full, read-only, locked): retry later.

    Nothing was changed: the transaction that hit the problem was rolled back whole.
    """


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
    #: Dead letters dropped to keep within their share of the cap (a running total).
    dead_letters_dropped: int = 0


class Spool:
    """The agent's durable outbox (one SQLite file)."""

    def __init__(self, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._db = _open(path)
        #: Where a damaged spool was moved this time (None when the file was sound).
        self.quarantined: Path | None = getattr(self._db, "quarantined", None)

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
                readings=tuple(reading_from_json(body.encode()) for _, body in rows),
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
        self.shrink_if_drained()

    def shrink_if_drained(self) -> bool:
        """Give free pages back to the file system once nothing waits (True if it shrank).

        VACUUM needs room for a copy; on a full disk it fails harmlessly and is tried again
        after the next drain.
        """
        (waiting,) = self._db.execute(
            "SELECT (SELECT COUNT(*) FROM readings) + (SELECT COUNT(*) FROM batches)"
        ).fetchone()
        (free_pages,) = self._db.execute("PRAGMA freelist_count").fetchone()
        (page_size,) = self._db.execute("PRAGMA page_size").fetchone()
        if waiting or free_pages * page_size < SHRINK_FREE_BYTES:
            return False
        try:
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as err:
            log.info("spool not shrunk this time: %s", err)
            return False
        return True

    def requeue(self) -> int:
        """Bring every dead letter back as a pending batch (same id and bytes); returns how many.

        For batches dead-lettered by mistake (an older agent took a refused agent for bad
        batches) or after a server fix: the server's idempotency makes a re-send harmless.
        """
        with self._transaction() as db:
            rows = db.execute(
                "SELECT batch_id, seq, body, reading_count FROM dead_letters ORDER BY seq"
            ).fetchall()
            for batch_id, seq, body, count in rows:
                taken = db.execute("SELECT 1 FROM batches WHERE seq = ?", (seq,)).fetchone()
                if taken:  # keep the order promise: a fresh sequence number after every other
                    seq = self._meta(db, "next_seq", 1)
                    self._set_meta(db, "next_seq", seq + 1)
                db.execute(
                    "INSERT OR IGNORE INTO batches (batch_id, seq, created_at, body, "
                    "reading_count) VALUES (?, ?, ?, ?, ?)",
                    (batch_id, seq, _now_text(), body, count),
                )
                db.execute("DELETE FROM dead_letters WHERE batch_id = ?", (batch_id,))
        return len(rows)

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
            self._enforce_cap(db)

    def backlog(self) -> Backlog:
        """Counts for status and heartbeat."""
        readings, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM readings"
        ).fetchone()
        (batches,) = self._db.execute("SELECT COUNT(*) FROM batches").fetchone()
        (dead,) = self._db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()
        dropped = self._meta(self._db, "dropped", 0)
        return Backlog(
            readings, batches, size, dropped, dead, self._meta(self._db, "dead_dropped", 0)
        )

    def stored_bytes(self) -> int:
        """What the cap counts: readings' JSON, cut batches' and dead letters' bytes."""
        return _stored_bytes(self._db)

    def _oldest_open_batch(self) -> PendingBatch | None:
        return next(self.pending_batches(), None)

    def _enforce_cap(self, db: sqlite3.Connection) -> None:
        """Keep everything stored within the cap, oldest first, counting what goes.

        Dead letters first within their own share; then whole cut batches (the oldest
        readings), then loose readings oldest first, so the newest readings always survive.
        """
        self._cap_dead_letters(db)
        excess = _stored_bytes(db) - self.max_bytes
        if excess <= 0:
            return
        dropped = 0
        for batch_id, count, size in db.execute(
            "SELECT batch_id, reading_count, LENGTH(body) + COALESCE((SELECT SUM(size) FROM "
            "readings r WHERE r.batch_id = b.batch_id), 0) FROM batches b ORDER BY seq"
        ).fetchall():
            if excess <= 0:
                break
            db.execute("DELETE FROM readings WHERE batch_id = ?", (batch_id,))
            db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))
            excess -= size
            dropped += count
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

    def _cap_dead_letters(self, db: sqlite3.Connection) -> None:
        limit = int(self.max_bytes * DEAD_LETTER_SHARE)
        (total,) = db.execute("SELECT COALESCE(SUM(LENGTH(body)), 0) FROM dead_letters").fetchone()
        dropped = 0
        for batch_id, size in db.execute(
            "SELECT batch_id, LENGTH(body) FROM dead_letters ORDER BY seq"
        ).fetchall():
            if total <= limit:
                break
            db.execute("DELETE FROM dead_letters WHERE batch_id = ?", (batch_id,))
            total -= size
            dropped += 1
        if dropped:
            self._set_meta(db, "dead_dropped", self._meta(db, "dead_dropped", 0) + dropped)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One all-or-nothing change; an environment failure is :class:`SpoolUnavailableError`."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back already
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as err:
            raise SpoolUnavailableError(f"spool {self.path}: {err}") from err

    @staticmethod
    def _meta(db: sqlite3.Connection, key: str, default: int) -> int:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else default

    @staticmethod
    def _set_meta(db: sqlite3.Connection, key: str, value: int) -> None:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _stored_bytes(db: sqlite3.Connection) -> int:
    (total,) = db.execute(
        "SELECT (SELECT COALESCE(SUM(size), 0) FROM readings)"
        " + (SELECT COALESCE(SUM(LENGTH(body)), 0) FROM batches)"
        " + (SELECT COALESCE(SUM(LENGTH(body)), 0) FROM dead_letters)"
    ).fetchone()
    return int(total)


class _Connection(sqlite3.Connection):
    """A connection that can say where the damaged spool it replaced went."""

    quarantined: Path | None = None


def _open(path: Path) -> sqlite3.Connection:
    """Open (or create) the spool.

    Damage (a failed integrity check, not a database) quarantines the file under a fresh name
    and salvages what it can; any other failure (full disk, read-only, locked) is
    :class:`SpoolUnavailableError` and leaves the file exactly as it was.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _connect(path)
    except OSError as err:
        raise SpoolUnavailableError(f"spool {path}: {err}") from err
    except sqlite3.DatabaseError as err:
        if not _is_damage(err):
            raise SpoolUnavailableError(f"spool {path}: {err}") from err
        aside = _quarantine(path, err)
    try:
        db = _connect(path)
    except sqlite3.DatabaseError as err:
        raise SpoolUnavailableError(f"spool {path}: {err}") from err
    db.quarantined = aside  # type: ignore[attr-defined]
    salvaged = _salvage(aside, db)
    log.error("spool %s was damaged: moved to %s, %s rows salvaged", path, aside.name, salvaged)
    return db


def _is_damage(err: sqlite3.DatabaseError) -> bool:
    if isinstance(err, SpoolIntegrityError):
        return True
    if isinstance(err, sqlite3.OperationalError):
        return False
    return getattr(err, "sqlite_errorcode", None) in _CORRUPT_CODES


def _quarantine(path: Path, err: sqlite3.DatabaseError) -> Path:
    """Move the damaged file (and its WAL) under a name never used before."""
    while True:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}-{uuid.uuid4().hex[:8]}")
        if not aside.exists():
            break
    log.error("spool %s failed its check (%s): quarantined as %s", path, err, aside.name)
    path.replace(aside)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(aside.with_name(aside.name + suffix))
    return aside


def _salvage(damaged: Path, db: sqlite3.Connection) -> int:
    """Copy every row still readable in ``damaged`` into ``db``; returns how many."""
    try:
        old = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error:
        return 0
    copied = 0
    try:
        for table, columns in _TABLES.items():
            copied += _copy_readable(old, db, table, columns)
        try:
            row = old.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
        except sqlite3.Error:
            row = None
        (top,) = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM batches").fetchone()
        next_seq = max(int(row[0]) if row else 1, top)
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_seq', ?)", (next_seq,))
        db.execute(
            "UPDATE readings SET batch_id = NULL WHERE batch_id IS NOT NULL AND batch_id NOT IN "
            "(SELECT batch_id FROM batches)"
        )
    finally:
        old.close()
    return copied


def _copy_readable(old: sqlite3.Connection, db: sqlite3.Connection, table: str, cols: str) -> int:
    """Rows of ``table`` one by one by rowid, stepping over the ones that cannot be read."""
    copied, after, misses = 0, -1, 0
    marks = ", ".join("?" for _ in cols.split(","))
    while misses < 10_000:  # bounded: a run of unreadable rowids ends the salvage of a table
        try:
            # Table and column names come from _TABLES, never from input.
            query = f"SELECT rowid, {cols} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT 1"  # noqa: S608
            row = old.execute(query, (after,)).fetchone()
        except sqlite3.Error:
            after, misses = after + 1, misses + 1
            continue
        if row is None:
            break
        after, misses = row[0], 0
        try:
            insert = f"INSERT OR IGNORE INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
            db.execute(insert, row[1:])
            copied += 1
        except sqlite3.Error:
            continue
    return copied


class SpoolIntegrityError(sqlite3.DatabaseError):
    """``PRAGMA quick_check`` found the file damaged."""


def _connect(path: Path) -> sqlite3.Connection:
    # The service's jobs run in a scheduler thread, not the one that opened the spool; they
    # never run two at a time on it (``agent.service`` holds a lock around every use).
    db = sqlite3.connect(
        path, isolation_level=None, timeout=30, check_same_thread=False, factory=_Connection
    )
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        (status,) = db.execute("PRAGMA quick_check").fetchone()
        if status != "ok":
            raise SpoolIntegrityError(f"spool integrity check failed: {status}")
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
