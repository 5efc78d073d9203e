"""Audit entries carry their typed event: `audit_log.data` holds the event's fields (sealed
JSON: reasons and notes are free text), so that every reader renders an entry from its fields,
amounts in the currency's own decimals, and never reads them back out of the text. Entries
written before this revision have no data; readers tell them apart by that.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Sealed values are text at rest (`readmodel.sealing.SealedJSON`).
    op.add_column("audit_log", sa.Column("data", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_log", "data")
