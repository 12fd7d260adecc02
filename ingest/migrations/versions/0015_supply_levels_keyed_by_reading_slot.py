"""ingest speed: a supply level is keyed by its reading and slot; readings lose their agent index

Every upload stores four supply levels a reading.  Each took an id from a sequence (400
``nextval`` a batch) and went into two indexes: its primary key ``(id, observed_at)`` and
``ix_supply_levels_reading_id``, the one every reader goes through (a reading's levels, a
batch's levels, retention).  Nothing reads a level by its id: the key is now
``(reading_id, slot, observed_at)`` (``observed_at`` because PostgreSQL partitions by it), one
index serving those readers, no sequence.  ``ix_device_readings_agent_id`` had no reader at
all: a hundred index entries a batch for nothing.  Measured on the 2-core machine: the upload's
readings-and-levels statement went from 6.6 to 5.8 ms a 100-reading batch.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_device_readings_agent_id", table_name="device_readings")
    if op.get_bind().dialect.name == "postgresql":
        # The partitioned table's key and index are dropped and built once, on every partition.
        op.drop_constraint("pk_supply_levels", "supply_levels", type_="primary")
        op.drop_index("ix_supply_levels_reading_id", table_name="supply_levels")
        op.drop_column("supply_levels", "id")  # its sequence goes with it
        op.create_primary_key(
            "pk_supply_levels", "supply_levels", ["reading_id", "slot", "observed_at"]
        )
        return
    with op.batch_alter_table("supply_levels", recreate="always") as batch_op:
        batch_op.drop_index("ix_supply_levels_reading_id")
        batch_op.drop_constraint("pk_supply_levels", type_="primary")
        batch_op.drop_column("id")
        batch_op.create_primary_key("pk_supply_levels", ["reading_id", "slot", "observed_at"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("pk_supply_levels", "supply_levels", type_="primary")
        # A serial column, as the table had (an identity column cannot be added to a
        # partitioned table); every partition is rewritten with its ids.
        op.execute("CREATE SEQUENCE supply_levels_id_seq")
        op.execute(
            "ALTER TABLE supply_levels ADD COLUMN id integer NOT NULL "
            "DEFAULT nextval('supply_levels_id_seq')"
        )
        op.execute("ALTER SEQUENCE supply_levels_id_seq OWNED BY supply_levels.id")
        op.create_primary_key("pk_supply_levels", "supply_levels", ["id", "observed_at"])
    else:
        with op.batch_alter_table("supply_levels", recreate="always") as batch_op:
            batch_op.drop_constraint("pk_supply_levels", type_="primary")
            batch_op.add_column(sa.Column("id", sa.Integer(), nullable=True))
        op.execute("UPDATE supply_levels SET id = rowid")
        with op.batch_alter_table("supply_levels", recreate="always") as batch_op:
            batch_op.alter_column("id", nullable=False)
            batch_op.create_primary_key("pk_supply_levels", ["id"])
    op.create_index("ix_supply_levels_reading_id", "supply_levels", ["reading_id"])
    op.create_index("ix_device_readings_agent_id", "device_readings", ["agent_id"])
