"""A customer's address, for field visits: recorded by collectors after intake, sealed at rest
like their name and number.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as table:
        table.add_column(sa.Column("address", sa.Text(), nullable=True))  # sealed


def downgrade() -> None:
    with op.batch_alter_table("customers") as table:
        table.drop_column("address")
