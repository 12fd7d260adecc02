"""ingest speed: devices lose the index on customer_id alone; history's foreign keys unchecked

The unique (customer_id, identity) index covers lookups by customer.

With both indexes, a batch's device lookup (``customer_id = $1 and identity = any($2)``) could be
planned on the customer index and test every key against every device of the customer (40 ms a
batch at 3,500 devices); with only the unique index every key is one probe.

On PostgreSQL the foreign keys of the partitioned history tables are dropped
(``ingest.history.UNCHECKED_FKS`` says why); SQLite keeps them, as the models declare.

Revision ID: 0011
Revises: 0013
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

from ingest.history import UNCHECKED_FKS

revision = "0011"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_customer_id"))
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _, _) in UNCHECKED_FKS.items():
            op.drop_constraint(name, table, type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, column, target) in UNCHECKED_FKS.items():
            op.create_foreign_key(name, table, target, [column], ["id"])
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_customer_id"), ["customer_id"], unique=False)
