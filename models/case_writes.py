"""What a case writes to the read model, in one activity call per change: the case row's
snapshot, and what happened since the last write (audit entries, payments, promises, tasks).
Plain, frozen types that cross Temporal, as in `models.contracts`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from models.complaints import ComplaintRow
from models.contact_details import ContactChange
from models.contracts import CaseInput, ClosureReason, Stage
from models.strategy import Segment
from models.tasks import TaskRecord


@dataclass(frozen=True)
class CaseSnapshot:
    """What the database's `cases` row shows; written by an activity at every change."""

    case_id: str
    account_no: str
    customer_ref: str
    stage: Stage
    segment: Segment
    score: int
    strategy_version: str
    days_past_due: int  # as of `updated_at`
    currency: str
    outstanding_minor: int
    overdue_minor: int
    closed_reason: ClosureReason | None
    updated_at: datetime
    # What days past due are counted from, in days of `day_seconds`, so that readers count
    # them at any time (`readmodel.aging`); None: derived from `days_past_due` as of `updated_at`.
    due_origin: datetime | None = None
    day_seconds: int = 86_400


@dataclass(frozen=True)
class AuditEntry:
    case_id: str
    seq: int  # per case, increasing; (case_id, seq) makes a retried append harmless
    at: datetime
    kind: str
    detail: str
    actor: str = "workflow"
    data: dict[str, Any] | None = None  # the event's fields (`models.case_events`)


@dataclass(frozen=True)
class PaymentRow:
    payment_ref: str
    amount_minor: int
    currency: str
    received_at: datetime


@dataclass(frozen=True)
class PromiseRow:
    # `case-<account_no>/<opened>/p<n>`: the row is updated in place as it is kept or broken.
    key: str
    amount_minor: int
    currency: str
    promised_date: date
    made_at: datetime
    status: str
    resolved_at: datetime | None = None
    made_by: str = ""  # the staff id who obtained it, on its first write


@dataclass(frozen=True)
class CaseWrite:
    """One transaction of the read model: the case row with what happened since the last one."""

    snapshot: CaseSnapshot
    audit: tuple[AuditEntry, ...] = ()
    payments: tuple[PaymentRow, ...] = ()
    promises: tuple[PromiseRow, ...] = ()
    opened: CaseInput | None = None  # on the first write: the customer and account rows
    tasks: tuple[TaskRecord, ...] = ()  # human tasks, upserted by key as they change
    complaints: tuple[ComplaintRow, ...] = ()  # the register's rows, upserted by key
    contact: ContactChange | None = None  # the customer's new number or address
    # Asks for a receipt of the audit entries: a local activity's marker keeps its result but
    # not its input, and `history show` reads a case's story from these entries.
    receipt: bool = False


@dataclass(frozen=True)
class WriteReceipt:
    """What a write put in the audit log, returned when the write asked for it."""

    audit: tuple[AuditEntry, ...] = ()
