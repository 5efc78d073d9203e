"""Sealed personal data: the columns that hold customers' names and phone numbers, free text
and dossiers become TEXT (they hold `sealed1:...` values, see `readmodel.sealing`), and
customers get `mobile_index`, the blind index a STOP reply is matched by.

Rows written before this revision stay readable as they are (a value without the prefix is
read in clear); `collections keys reseal` seals them and fills `mobile_index`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, type before, nullable)
SEALED = (
    ("customers", "name", sa.String(), True),
    ("customers", "mobile", sa.String(), False),
    ("audit_log", "detail", sa.String(), False),
    ("handoffs", "reason", sa.String(), False),
    ("handoffs", "dossier", sa.JSON(), True),
    ("approvals", "input", sa.JSON(), False),
)


def _retype(to_sealed: bool) -> None:
    for table, column, before, nullable in SEALED:
        new, old = (sa.Text(), before) if to_sealed else (before, sa.Text())
        using = None
        if op.get_bind().dialect.name == "postgresql":
            using = (
                f"{column}::text"
                if to_sealed
                else f"{column}::{new.compile(op.get_bind().dialect)}"
            )
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=old,
                type_=new,
                existing_nullable=nullable,
                postgresql_using=using,
            )


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("mobile_index", sa.String(), nullable=True))
        batch.create_index(batch.f("ix_customers_mobile_index"), ["mobile_index"])
    _retype(to_sealed=True)


def downgrade() -> None:
    _retype(to_sealed=False)
    with op.batch_alter_table("customers") as batch:
        batch.drop_index(batch.f("ix_customers_mobile_index"))
        batch.drop_column("mobile_index")
