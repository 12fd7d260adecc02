"""History tables by month: native range partitions on PostgreSQL, a retention policy everywhere.

``device_readings`` and ``supply_levels`` grow by every reading of every printer.  On PostgreSQL
they are partitioned by month of ``observed_at`` (a partition per month, created ahead by the
``history_partitions`` job, plus a default partition that catches what no month holds), so
recent data stays in small, hot tables and old months leave by ``DROP`` rather than by a
``DELETE`` of millions of rows.  Partitioned tables need the partition key in every unique key:
their primary keys are ``(id, observed_at)`` (readings; supply levels too until migration 0015
keyed them by ``(reading_id, slot, observed_at)``, which is why ``_rebuild``, run by migration
0005b, still expects an ``id``), and rows elsewhere cannot hold a foreign key to them
(``supply_levels.reading_id`` and ``meter_reads.device_reading_id`` keep the id without one on
PostgreSQL; SQLite, unpartitioned, keeps every key).

Retention: raw readings are kept ``RAW_MONTHS`` months; before a month goes, each device's day
is summarised into ``device_daily`` (counters at the day's start and end), which is kept.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

from sqlalchemy import Connection, text

PARTITIONED: Final = ("device_readings", "supply_levels")
#: Foreign keys onto a partitioned table: dropped on PostgreSQL (``include_object`` skips them).
PARTITION_FKS: Final = {
    "fk_supply_levels_reading_id_device_readings": "supply_levels",
    "fk_meter_reads_device_reading_id_device_readings": "meter_reads",
}
#: Foreign keys *of* the partitioned history tables, not checked on PostgreSQL (migration
#: 0011): the intake writes ids it has just upserted or inserted in the same transaction, or
#: device ids it read from committed rows (remembered per database: ``registry._serial_ids``;
#: a restored backup means restarting the web workers), the follow-up copies supply levels' ids
#: from readings already stored, taking no lock, and devices, agents and batches are never
#: deleted, so the references hold by construction; each
#: check cost ~65 µs per row (a ``FOR KEY SHARE`` probe), ~700 a batch: more than the inserts.
UNCHECKED_FKS: Final = {
    "fk_device_readings_agent_id_agents": ("device_readings", "agent_id", "agents"),
    "fk_device_readings_batch_id_upload_batches": ("device_readings", "batch_id", "upload_batches"),
    "fk_device_readings_device_id_devices": ("device_readings", "device_id", "devices"),
    "fk_supply_levels_device_id_devices": ("supply_levels", "device_id", "devices"),
}
MONTHS_AHEAD: Final = 3
#: Raw readings older than this many months are summarised per day, then dropped.  Longer than
#: a yearly contract's true-up, so every read a bill may still need is there.
RAW_MONTHS: Final = 25


def month_start(moment: date, shift: int = 0) -> date:
    """The first day of ``moment``'s month moved by ``shift`` months."""
    index = moment.year * 12 + moment.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    """``device_readings_p202611``."""
    return f"{table}_p{month:%Y%m}"


def is_partitioned(connection: Connection, table: str) -> bool:
    """True when ``table`` is a partitioned table (PostgreSQL only)."""
    if connection.dialect.name != "postgresql":
        return False
    kind = connection.scalar(text("SELECT relkind FROM pg_class WHERE relname = :t"), {"t": table})
    return kind == "p"


def ensure_partitions(connection: Connection, now: datetime, first: date | None = None) -> int:
    """Monthly partitions from ``first`` (default: this month) to ``MONTHS_AHEAD`` ahead; the
    number created.  A month whose rows already sit in the default partition is left there."""
    created = 0
    for table in PARTITIONED:
        if not is_partitioned(connection, table):
            continue
        month = month_start(first or now.date())
        last = month_start(now.date(), MONTHS_AHEAD)
        while month <= last:
            name = partition_name(table, month)
            exists = connection.scalar(text("SELECT to_regclass(:n)"), {"n": name})
            if exists is None and not _default_holds(connection, table, month):
                connection.execute(
                    text(
                        f"CREATE TABLE {name} PARTITION OF {table} "
                        f"FOR VALUES FROM ('{month.isoformat()}') "
                        f"TO ('{month_start(month, 1).isoformat()}')"
                    )
                )
                created += 1
            month = month_start(month, 1)
    return created


def _default_holds(connection: Connection, table: str, month: date) -> bool:
    return bool(
        connection.scalar(
            text(
                f"SELECT EXISTS (SELECT 1 FROM {table}_default "  # noqa: S608 - fixed names
                "WHERE observed_at >= :a AND observed_at < :b)"
            ),
            {"a": month, "b": month_start(month, 1)},
        )
    )


def partition_table(connection: Connection, table: str) -> None:
    """Turn ``table`` into a partitioned table with the same columns, indexes, keys and rows;
    foreign keys onto it (``PARTITION_FKS``) are dropped."""
    _rebuild(connection, table, partitioned=True)


def unpartition_table(connection: Connection, table: str) -> None:
    """The way back (a downgrade): one plain table with the rows, indexes and own keys."""
    _rebuild(connection, table, partitioned=False)


def _rebuild(connection: Connection, table: str, *, partitioned: bool) -> None:
    """Copy ``table`` into a new table of the other kind under the same name: the sequence,
    indexes and the table's own foreign keys move along (those of partitions are inherited)."""
    old = f"{table}_old"
    foreign_keys = [
        f"{name} {definition}"
        for name, definition in connection.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' AND conparentid = 0"
            ),
            {"t": table},
        )
        if name not in PARTITION_FKS
    ]
    indexes = connection.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
            "AND indexname NOT LIKE 'pk_%'"
        ),
        {"t": table},
    ).all()
    sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table})
    connection.execute(text(f"ALTER TABLE {table} RENAME TO {old}"))
    connection.execute(text(f"ALTER TABLE {old} DROP CONSTRAINT pk_{table} CASCADE"))
    for name, _ in indexes:
        connection.execute(text(f"DROP INDEX {name}"))
    kind = " PARTITION BY RANGE (observed_at)" if partitioned else ""
    connection.execute(text(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS){kind}"))
    connection.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY {table}.id"))
    key = "id, observed_at" if partitioned else "id"
    connection.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({key})"))
    if partitioned:
        connection.execute(text(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT"))
        oldest = connection.scalar(text(f"SELECT min(observed_at) FROM {old}"))  # noqa: S608
        ensure_partitions(connection, datetime.now(UTC), oldest.date() if oldest else None)
    connection.execute(text(f"INSERT INTO {table} SELECT * FROM {old}"))  # noqa: S608
    connection.execute(text(f"DROP TABLE {old} CASCADE"))
    for _, definition in indexes:
        connection.execute(text(definition))
    for definition in foreign_keys:
        connection.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {definition}"))


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's filter: foreign keys onto partitioned tables exist in the models (SQLite keeps
    them) but not on PostgreSQL, nor are the history tables' own (``UNCHECKED_FKS``), and
    partitions are not models."""
    if type_ == "foreign_key_constraint" and (name in PARTITION_FKS or name in UNCHECKED_FKS):
        return False
    return not (type_ == "table" and reflected and name is not None and _is_partition_name(name))


def _is_partition_name(name: str) -> bool:
    return any(
        name == f"{table}_default" or (name.startswith(f"{table}_p") and name[-6:].isdigit())
        for table in PARTITIONED
    )
