"""languages of users and customers, customer codes, what a DDT carries

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_customers_code"), ["code"])
    # Existing customers get the code new ones get: their id, five digits.
    customers = sa.table("customers", sa.column("id", sa.Integer), sa.column("code", sa.String))
    connection = op.get_bind()
    for (ident,) in connection.execute(sa.select(customers.c.id)).all():
        connection.execute(
            customers.update().where(customers.c.id == ident).values(code=f"{ident:05d}")
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("delivery_notes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "transport_reason", sa.String(length=32), server_default="sale", nullable=False
            )
        )
        batch_op.add_column(sa.Column("packages", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("goods_appearance", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("carried_by", sa.String(length=16), server_default="sender", nullable=False)
        )
        batch_op.add_column(sa.Column("carrier_name", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("freight", sa.String(length=16), server_default="paid", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery_notes", schema=None) as batch_op:
        for column in (
            "freight",
            "carrier_name",
            "carried_by",
            "goods_appearance",
            "packages",
            "transport_reason",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_customers_code"), type_="unique")
        batch_op.drop_column("language")
        batch_op.drop_column("code")
