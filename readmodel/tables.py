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

from sqlalchemy import BigInteger, Column, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from readmodel import sealing
from readmodel.sealing import Sealed, SealedJSON

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


def _sealed(purpose: str, *, nullable: bool = False) -> Any:
    """A text column sealed at rest (`readmodel.sealing`): personal data, free text."""
    return Field(sa_column=Column(Sealed(purpose), nullable=nullable))


class CustomerRow(SQLModel, table=True):
    """A debtor. `name` and `mobile` are personal data: sealed at rest, never logged;
    `mobile_index` (a keyed hash) finds a customer by phone number."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("customer_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_ref: str
    name: str | None = _sealed("customers.name", nullable=True)
    language: str
    time_zone: str
    mobile: str = _sealed("customers.mobile")
    mobile_index: str | None = Field(default=None, index=True)
    address: str | None = _sealed("customers.address", nullable=True)  # for a field visit
    updated_at: datetime


@event.listens_for(CustomerRow, "before_insert")
@event.listens_for(CustomerRow, "before_update")
def _index_mobile(_mapper: Any, _connection: Any, customer: CustomerRow) -> None:
    """A customer saved through a session keeps its phone number's blind index with it (the
    case store's upsert sets it itself: `readmodel.writes`)."""
    customer.mobile_index = sealing.current().index(customer.mobile) if customer.mobile else None


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
    """One row per case (`case-<account_no>`), rewritten by `write_case` at every change.

    An open case's days past due run on between writes: they are whole days of `day_seconds`
    since `due_origin`, counted where they are read (`readmodel.aging`). `days_past_due` is the
    figure as of `updated_at`: a closed case's last, and the only one a row written before
    revision 0007 has until its case writes again (its `due_origin` is None)."""

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
    due_origin: datetime | None = Field(default=None, index=True)
    day_seconds: int = Field(default=86_400, sa_column_kwargs={"server_default": "86400"})
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
    duration_seconds: int | None = None  # a call's length, from the provider's callback


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
    made_by: str | None = Field(default=None, index=True)  # who obtained it (a staff id)


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
    assigned_by: str | None = None  # a supervisor or the allocator; None: claimed by the assignee
    right_party: bool | None = None  # a call or a visit that spoke with the customer themself
    call_seconds: int | None = None
    visit_start: datetime | None = None  # a field visit's booked slot, and its door times
    visit_end: datetime | None = None
    visit_collectors: str | None = None  # staff ids, comma-separated
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None


class HandoffRow(SQLModel, table=True):
    """A case handed to the risk or the legal department, with the dossier sent along."""

    __tablename__ = "handoffs"
    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str
    case_id: str = Field(index=True)
    department: str = Field(index=True)  # risk | legal
    status: str = Field(index=True)
    reason: str = _sealed("handoffs.reason")
    dossier: dict[str, Any] | None = Field(
        default=None, sa_column=Column(SealedJSON("handoffs.dossier"), nullable=True)
    )
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
    detail: str = _sealed("audit_log.detail")
    actor: str
    # The typed event's fields (`models.case_events`); None on entries written before them.
    data: dict[str, Any] | None = Field(
        default=None, sa_column=Column(SealedJSON("audit_log.data"), nullable=True)
    )


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


# --- staff: who signs in, their sessions and tokens, what they looked at, what waits for a second
# person. Secrets are never stored: a password as its argon2 hash, a session id and a token's
# secret as their SHA-256 (both are 256 random bits, so a fast hash loses nothing).


class StaffRow(SQLModel, table=True):
    """A person, or a service account (`kind`), of the staff directory. `roles` and `languages`
    are comma-separated; `person_id` is how they sign in and how every record names them."""

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("person_id"), UniqueConstraint("oidc_subject"))

    id: int | None = Field(default=None, primary_key=True)
    person_id: str
    display_name: str
    kind: str = "person"  # person | service
    roles: str
    team: str = ""
    languages: str = ""
    products: str = ""  # comma-separated; empty: works every product
    capacity: int = 40  # open tasks the allocator gives them at most
    active: bool = True
    password_hash: str | None = None  # None: no local password (SSO only, or a service)
    must_change_password: bool = False
    oidc_subject: str | None = None  # the identity provider's `sub`, once signed in by SSO
    created_at: datetime
    updated_at: datetime


class StaffSessionRow(SQLModel, table=True):
    """A signed-in browser. The cookie holds the random id; the row holds its hash."""

    __tablename__ = "staff_sessions"
    __table_args__ = (UniqueConstraint("session_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str
    person_id: str = Field(index=True)
    method: str  # password | oidc
    created_at: datetime
    last_seen_at: datetime


class ApiTokenRow(SQLModel, table=True):
    """A personal or a service account's API token: `col_<token_id>_<secret>`, shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_id"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: str
    secret_hash: str
    person_id: str = Field(index=True)
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class SignInFailureRow(SQLModel, table=True):
    """A failed sign-in, counted per account (`person:<id>`, known or not) and per address
    (`address:<ip>`) for the lockout and the rate limit."""

    __tablename__ = "signin_failures"

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(index=True)
    at: datetime = Field(index=True)


class SignInFlowRow(SQLModel, table=True):
    """A single sign-on in progress: what the callback checks the identity provider's answer
    against. Lives ten minutes."""

    __tablename__ = "signin_flows"
    __table_args__ = (UniqueConstraint("state"),)

    id: int | None = Field(default=None, primary_key=True)
    state: str
    nonce: str
    code_verifier: str
    next_path: str
    created_at: datetime


class AccessLogRow(SQLModel, table=True):
    """A person's read of a customer's personal data or evidence: contact details revealed, a
    dossier opened, payloads decoded. Append-only."""

    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    person_id: str = Field(index=True)
    via: str
    account_no: str = Field(index=True)  # "" for payloads decoded outside a case
    what: str  # contact_details | dossier | payloads | customer_record
    reason: str


class ApprovalRow(SQLModel, table=True):
    """An action that needs a second person (maker-checker): asked by one, approved or
    rejected by another, then run with both names. `input` is the update's input as JSON."""

    __tablename__ = "approvals"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True)
    action: str  # the update's name: close, resolve_dispute, complete_task
    input: dict[str, Any] = Field(sa_column=Column(SealedJSON("approvals.input"), nullable=False))
    needs: str  # what it is: "writing off a case"
    status: str = Field(index=True)  # pending | approved | rejected | failed
    requested_by: str
    requested_via: str
    requested_roles: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    result: str = ""  # the workflow's answer to the approved action, or why it was rejected


class IntakeFileRow(SQLModel, table=True):
    """A file the daily intake loaded (`workflows.daily_intake`), by the SHA-256 of its
    content: unique, so the same file under another name is never loaded twice. Counts and
    paths only: no row's content."""

    __tablename__ = "intake_files"
    __table_args__ = (UniqueConstraint("checksum"),)

    id: int | None = Field(default=None, primary_key=True)
    checksum: str
    name: str
    received_at: datetime
    processed_at: datetime = Field(index=True)
    rows: int
    started: int
    refreshed: int
    rejected: int
    failed: int
    errors_file: str | None = None  # None when every row went through
    stored_as: str


# Tables kept beside the code that reads them register on import; the metadata holds them all.
from readmodel.complaints import ComplaintRegisterRow  # noqa: E402, F401
