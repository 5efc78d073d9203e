"""Bucket moves: a case entering a delinquency bucket, for the console's roll rates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bucket_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("from_bucket", sa.String(), nullable=True),
        sa.Column("to_bucket", sa.String(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bucket_moves")),
        sa.UniqueConstraint("case_id", "at", name=op.f("uq_bucket_moves_case_id_at")),
    )
    op.create_index(op.f("ix_bucket_moves_case_id"), "bucket_moves", ["case_id"])
    op.create_index(op.f("ix_bucket_moves_at"), "bucket_moves", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_bucket_moves_at"), table_name="bucket_moves")
    op.drop_index(op.f("ix_bucket_moves_case_id"), table_name="bucket_moves")
    op.drop_table("bucket_moves")
