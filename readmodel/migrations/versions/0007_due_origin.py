"""Days past due counted where they are read: `cases.due_origin` is the instant a case's days
past due are counted from, in days of `cases.day_seconds` (a demo strategy's day is a minute),
so a quiet case no longer wakes every day to rewrite `days_past_due`.

Rows written before this revision keep a NULL origin, and readers take their `days_past_due`
as it stands, until their case writes again: a case started before the workflow's patch
`quiet-case-2026-12` still writes every day, so that is within a day. No date arithmetic here:
it would differ between SQLite and PostgreSQL, and a backfill from a figure rounded down to the
day could only approximate what the case writes exactly.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("cases", sa.Column("due_origin", TIMESTAMP, nullable=True))
    op.add_column(
        "cases",
        sa.Column("day_seconds", sa.Integer(), server_default="86400", nullable=False),
    )
    op.create_index(op.f("ix_cases_due_origin"), "cases", ["due_origin"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_due_origin"), table_name="cases")
    op.drop_column("cases", "day_seconds")
    op.drop_column("cases", "due_origin")
