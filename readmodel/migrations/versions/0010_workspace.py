"""The collector's workspace: who obtained a promise, how a call or a visit went, a field
visit's slot and door times, and what the allocator needs of each collector (the products
they work, how many open tasks they take).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TASK_COLUMNS = (
    sa.Column("assigned_by", sa.String(), nullable=True),
    sa.Column("right_party", sa.Boolean(), nullable=True),
    sa.Column("call_seconds", sa.Integer(), nullable=True),
    sa.Column("visit_start", sa.DateTime(timezone=True), nullable=True),
    sa.Column("visit_end", sa.DateTime(timezone=True), nullable=True),
    sa.Column("visit_collectors", sa.String(), nullable=True),
    sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
)


def upgrade() -> None:
    with op.batch_alter_table("human_tasks") as table:
        for column in TASK_COLUMNS:
            table.add_column(column)
    with op.batch_alter_table("promises") as table:
        table.add_column(sa.Column("made_by", sa.String(), nullable=True))
        table.create_index("ix_promises_made_by", ["made_by"])
    with op.batch_alter_table("staff") as table:
        table.add_column(sa.Column("products", sa.String(), nullable=False, server_default=""))
        table.add_column(sa.Column("capacity", sa.Integer(), nullable=False, server_default="40"))


def downgrade() -> None:
    with op.batch_alter_table("staff") as table:
        table.drop_column("capacity")
        table.drop_column("products")
    with op.batch_alter_table("promises") as table:
        table.drop_index("ix_promises_made_by")
        table.drop_column("made_by")
    with op.batch_alter_table("human_tasks") as table:
        for column in reversed(TASK_COLUMNS):
            table.drop_column(column.name)
