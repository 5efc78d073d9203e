"""Intake files: each file the daily intake loaded from its drop folder, by the SHA-256 of its
content (unique: a file is loaded once, under any name), with its counts, its errors file and
where it was moved.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("started", sa.Integer(), nullable=False),
        sa.Column("refreshed", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("errors_file", sa.String(), nullable=True),
        sa.Column("stored_as", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_files")),
        sa.UniqueConstraint("checksum", name=op.f("uq_intake_files_checksum")),
    )
    op.create_index(op.f("ix_intake_files_processed_at"), "intake_files", ["processed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_intake_files_processed_at"), table_name="intake_files")
    op.drop_table("intake_files")
