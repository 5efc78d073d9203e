"""Staff: the directory, sessions, API tokens, sign-in failures and flows, the access log of
reads of personal data, and the approvals that wait for a second person.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("via", sa.String(), nullable=False),
        sa.Column("account_no", sa.String(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index(op.f("ix_access_log_account_no"), "access_log", ["account_no"])
    op.create_index(op.f("ix_access_log_at"), "access_log", ["at"])
    op.create_index(op.f("ix_access_log_person_id"), "access_log", ["person_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.String(), nullable=False),
        sa.Column("secret_hash", sa.String(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_id", name=op.f("uq_api_tokens_token_id")),
    )
    op.create_index(op.f("ix_api_tokens_person_id"), "api_tokens", ["person_id"])
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("needs", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("requested_via", sa.String(), nullable=False),
        sa.Column("requested_roles", sa.String(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index(op.f("ix_approvals_case_id"), "approvals", ["case_id"])
    op.create_index(op.f("ix_approvals_status"), "approvals", ["status"])
    op.create_table(
        "signin_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_failures")),
    )
    op.create_index(op.f("ix_signin_failures_at"), "signin_failures", ["at"])
    op.create_index(op.f("ix_signin_failures_subject"), "signin_failures", ["subject"])
    op.create_table(
        "signin_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("nonce", sa.String(), nullable=False),
        sa.Column("code_verifier", sa.String(), nullable=False),
        sa.Column("next_path", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_flows")),
        sa.UniqueConstraint("state", name=op.f("uq_signin_flows_state")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("roles", sa.String(), nullable=False),
        sa.Column("team", sa.String(), nullable=False),
        sa.Column("languages", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=True),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("oidc_subject", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("oidc_subject", name=op.f("uq_staff_oidc_subject")),
        sa.UniqueConstraint("person_id", name=op.f("uq_staff_person_id")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_staff_sessions_session_hash")),
    )
    op.create_index(op.f("ix_staff_sessions_person_id"), "staff_sessions", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_sessions_person_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff")
    op.drop_table("signin_flows")
    op.drop_index(op.f("ix_signin_failures_subject"), table_name="signin_failures")
    op.drop_index(op.f("ix_signin_failures_at"), table_name="signin_failures")
    op.drop_table("signin_failures")
    op.drop_index(op.f("ix_approvals_status"), table_name="approvals")
    op.drop_index(op.f("ix_approvals_case_id"), table_name="approvals")
    op.drop_table("approvals")
    op.drop_index(op.f("ix_api_tokens_person_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_access_log_person_id"), table_name="access_log")
    op.drop_index(op.f("ix_access_log_at"), table_name="access_log")
    op.drop_index(op.f("ix_access_log_account_no"), table_name="access_log")
    op.drop_table("access_log")
