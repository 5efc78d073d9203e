"""The complaint register: one row per complaint a case received (by its key), with its
category, channel, what the customer asks (sealed), its deadline and, once answered, the
outcome, the answer (sealed), when and by whom.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("asks", sa.Text(), nullable=False),  # sealed
        sa.Column("received_at", moment, nullable=False),
        sa.Column("deadline", moment, nullable=False),
        sa.Column("pauses_collection", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),  # sealed
        sa.Column("resolved_at", moment, nullable=True),
        sa.Column("resolved_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("key", name=op.f("uq_complaints_key")),
    )
    for column in ("case_id", "received_at", "deadline", "resolved_at"):
        op.create_index(op.f(f"ix_complaints_{column}"), "complaints", [column])


def downgrade() -> None:
    for column in ("case_id", "received_at", "deadline", "resolved_at"):
        op.drop_index(op.f(f"ix_complaints_{column}"), table_name="complaints")
    op.drop_table("complaints")
