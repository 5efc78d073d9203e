"""SQLModel tables: the read model people list and search. Alembic owns the schema.

Temporal holds the process state; these rows are written by activities and read by the API.
Money is integer minor units beside a 3-letter currency. Every `datetime` column is SQLModel's
`UTCDateTime`: it refuses naive values and gives back aware UTC datetimes, on SQLite too.
Statuses and stages are plain strings holding `StrEnum` values, so that adding a value never
needs a migration. Names of indexes and constraints follow `NAMING_CONVENTION`, which keeps
SQLite and PostgreSQL schemas identical and migrations diffable.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata


def _money() -> Any:
    """Minor units can pass 2**31 (21 million in fen), hence BIGINT."""
    return Field(sa_type=BigInteger)


def _currency() -> Any:
    return Field(max_length=3)


class CustomerRow(SQLModel, table=True):
    """A debtor. `name` and `mobile` are personal data: never log them."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("customer_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_ref: str
    name: str | None = None
    language: str
    time_zone: str
    mobile: str
    updated_at: datetime


class AccountRow(SQLModel, table=True):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("account_no"),)

    id: int | None = Field(default=None, primary_key=True)
    account_no: str
    customer_ref: str = Field(index=True)
    product: str
    currency: str = _currency()
    outstanding_minor: int = _money()
    overdue_minor: int = _money()
    oldest_due_date: date
    updated_at: datetime


class CaseRow(SQLModel, table=True):
    """One row per case (`case-<account_no>`), rewritten by `write_case` at every change."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str
    account_no: str = Field(index=True)
    customer_ref: str = Field(index=True)
    stage: str = Field(index=True)
    segment: str
    score: int
    strategy_version: str
    days_past_due: int
    currency: str = _currency()
    outstanding_minor: int = _money()
    overdue_minor: int = _money()
    closed_reason: str | None = None
    opened_at: datetime
    updated_at: datetime


class ContactAttemptRow(SQLModel, table=True):
    """Every contact, sent or refused by the policy; `status` holds `AttemptStatus` values."""

    __tablename__ = "contact_attempts"
    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str
    case_id: str = Field(index=True)
    account_no: str
    channel: str
    template: str
    status: str = Field(index=True)
    reason: str = ""
    provider_id: str | None = Field(default=None, index=True)
    error_code: int | None = None
    retry_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class PaymentRecordRow(SQLModel, table=True):
    """A payment is identified by its reference within the account; it is stored once."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("account_no", "payment_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    account_no: str
    payment_ref: str
    case_id: str = Field(index=True)
    amount_minor: int = _money()
    currency: str = _currency()
    received_at: datetime


class PromiseRecordRow(SQLModel, table=True):
    """A promise to pay, found by its key (`case-<account_no>/p<n>`) when it is kept or broken.
    `status` is open, kept or broken; only an open promise changes."""

    __tablename__ = "promises"
    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str
    case_id: str = Field(index=True)
    amount_minor: int = _money()
    currency: str = _currency()
    promised_date: date
    made_at: datetime
    status: str = Field(index=True)
    resolved_at: datetime | None = None


class HumanTaskRow(SQLModel, table=True):
    """Work for a collector or supervisor, on a named queue, with a deadline."""

    __tablename__ = "human_tasks"
    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str
    case_id: str = Field(index=True)
    kind: str
    queue: str = Field(index=True)
    assignee: str | None = Field(default=None, index=True)
    status: str = Field(index=True)
    outcome: str | None = None
    deadline: datetime
    created_at: datetime
    closed_at: datetime | None = None


class HandoffRow(SQLModel, table=True):
    """A case handed to the risk or the legal department, with the dossier sent along."""

    __tablename__ = "handoffs"
    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str
    case_id: str = Field(index=True)
    department: str = Field(index=True)  # risk | legal
    status: str = Field(index=True)
    reason: str
    dossier: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime
    updated_at: datetime


class AuditLogRow(SQLModel, table=True):
    """What happened to a case, in order. Append-only: the store inserts rows and never updates
    or deletes them. `seq` numbers a case's entries (the workflow counts them from a base taken
    from the case's opening time, so a case reopened under the same id never reuses one), so
    (case_id, seq) is both the timeline's order and the key that makes a retried append add
    nothing."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str
    seq: int = Field(sa_type=BigInteger)
    at: datetime
    kind: str
    detail: str
    actor: str


class BucketMoveRow(SQLModel, table=True):
    """A case entering a delinquency bucket (`readmodel.kpis.Bucket`): at its first write, at each
    change of bucket, and at its close (`closed`). Roll rates are counted from these rows.
    Append-only, one row per (case_id, at): a retried write adds nothing."""

    __tablename__ = "bucket_moves"
    __table_args__ = (UniqueConstraint("case_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True)
    from_bucket: str | None = None  # None at the case's first write
    to_bucket: str
    at: datetime = Field(index=True)
