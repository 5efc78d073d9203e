"""Writes to the read model; the case store's activities are thin wrappers around them.

Every write is idempotent, so a retried activity, or one that a timed-out attempt finishes
late, changes nothing twice:
- a case, customer or account row is upserted by its business key, and only by a write at
  least as new as the one stored (`updated_at`), so a late retry never rolls a row back;
- audit entries are inserted or ignored on (case_id, seq), payments on (account_no,
  payment_ref), refused attempts on their idempotency key;
- a promise is upserted by its key, and only while it is open: kept and broken are final;
- a task is upserted by its key until it is closed: a closed task is final.
The upserts use `INSERT .. ON CONFLICT`, which SQLite and PostgreSQL spell alike. Each
statement is built once per table and database (`statement`) and executed with a write's values
as parameters: built around each write's values, through the ORM, a statement cost two to three
times its execution in the worker (BENCHMARKS.md, issue 16).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam
from sqlalchemy import select as select_columns
from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from models.case_writes import (
    AuditEntry,
    CaseSnapshot,
    CaseWrite,
    PaymentRow,
    PromiseRow,
    WriteReceipt,
)
from models.complaints import ComplaintRow
from models.contact_details import ContactChange
from models.contracts import (
    AttemptStatus,
    CaseInput,
    RefusedAttempt,
)
from models.departments import HandoffWrite
from models.tasks import TaskRecord
from readmodel import aging, sealing
from readmodel.complaints import ComplaintRegisterRow
from readmodel.engine import Database
from readmodel.kpis import Bucket, bucket_of
from readmodel.statements import (
    complaint_upsert,
    execute,
    new_attempt,
    new_audit_entry,
    new_bucket_move,
    new_payment,
    promise_upsert,
    statement,
    table_of,
    task_upsert,
    upsert,
    values_of,
)
from readmodel.tables import (
    AccountRow,
    AuditLogRow,
    BucketMoveRow,
    CaseRow,
    ContactAttemptRow,
    CustomerRow,
    HandoffRow,
    HumanTaskRow,
    PaymentRecordRow,
    PromiseRecordRow,
)


async def write_case(db: Database, *, write: CaseWrite) -> WriteReceipt | None:
    """The case row and what happened since the last write, in one transaction."""
    snapshot = write.snapshot
    async with db.session() as session:
        if write.opened is not None:
            await upsert_customer_and_account(session, opened=write.opened, snapshot=snapshot)
        await upsert_case(session, snapshot=snapshot)
        await append_audit(session, entries=write.audit)
        for payment in write.payments:
            await record_payment(session, snapshot=snapshot, payment=payment)
        for promise in write.promises:
            await record_promise(session, snapshot=snapshot, promise=promise)
        for task in write.tasks:
            await upsert_task(session, task=task)
        for complaint in write.complaints:
            await upsert_complaint(session, complaint=complaint)
        if write.contact is not None:
            await change_contact(session, change=write.contact, at=snapshot.updated_at)
    return WriteReceipt(audit=write.audit) if write.receipt else None


async def write_handoff(db: Database, *, write: HandoffWrite) -> None:
    """A department's handoff row: created once, then its status moves on."""
    row = HandoffRow(
        idempotency_key=write.key,
        case_id=write.case_id,
        department=write.department,
        status=write.status,
        reason=write.reason,
        dossier=write.dossier,
        created_at=write.at,
        updated_at=write.at,
    )
    keep = ("created_at",) if write.dossier is not None else ("created_at", "dossier")
    async with db.session() as session:
        await upsert(session, row, "idempotency_key", keep=keep)


async def store_dossier(db: Database, *, handoff_key: str, dossier: dict[str, Any]) -> bool:
    """Puts `dossier` on the handoff row `handoff_key`; False when there is no such row."""
    async with db.session() as session:
        result = await session.exec(
            update(HandoffRow)
            .where(col(HandoffRow.idempotency_key) == handoff_key)
            .values(dossier=dossier)
        )
        return bool(result.rowcount)


async def record_refused_attempt(db: Database, *, attempt: RefusedAttempt) -> bool:
    """A contact the policy refused: kept with its reason, once per idempotency key; True
    when this call recorded it (False: it was already)."""
    row = ContactAttemptRow(
        idempotency_key=attempt.idempotency_key,
        case_id=attempt.case_id,
        account_no=attempt.account_no,
        channel=attempt.channel.value,
        template=attempt.template,
        status=AttemptStatus.REFUSED.value,
        reason=attempt.reason.value,
        retry_at=attempt.retry_at,
        created_at=attempt.at,
        updated_at=attempt.at,
    )
    async with db.session() as session:
        return await insert_attempt(session, row=row)


async def insert_attempt(session: AsyncSession, *, row: ContactAttemptRow) -> bool:
    """Inserts the attempt's row unless one with its idempotency key exists; True when this
    call inserted it (and `row.id` is then set)."""
    stmt = statement(session, new_attempt)
    # RETURNING, not rowcount: psycopg's async cursor does not report an insert that
    # conflicted as 0 rows.
    added = (await execute(session, stmt, values_of(row))).first()
    if added is None:
        return False
    row.id = added.id
    return True


async def upsert_customer_and_account(
    session: AsyncSession, *, opened: CaseInput, snapshot: CaseSnapshot
) -> None:
    customer = CustomerRow(
        customer_ref=opened.customer_ref,
        name=opened.customer_name or None,
        language=opened.contact.language.value,
        time_zone=opened.contact.time_zone,
        mobile=opened.contact.mobile,
        mobile_index=sealing.current().index(opened.contact.mobile),
        updated_at=snapshot.updated_at,
    )
    account = opened.account
    account_row = AccountRow(
        account_no=account.account_no,
        customer_ref=opened.customer_ref,
        product=account.product,
        currency=account.currency,
        outstanding_minor=account.outstanding_minor,
        overdue_minor=account.overdue_minor,
        oldest_due_date=account.oldest_due_date,
        updated_at=snapshot.updated_at,
    )
    await upsert(session, customer, "customer_ref")
    await upsert(session, account_row, "account_no")


async def change_contact(session: AsyncSession, *, change: ContactChange, at: datetime) -> None:
    """The customer's new number (with its blind index, so a STOP from it finds them) or
    address, as a collector recorded it on one of their cases."""
    values: dict[str, Any] = {"updated_at": at}
    if change.mobile:
        values |= {"mobile": change.mobile, "mobile_index": sealing.current().index(change.mobile)}
    if change.address:
        values["address"] = change.address
    await session.exec(
        update(CustomerRow)
        .where(col(CustomerRow.customer_ref) == change.customer_ref)
        .values(values)
    )


async def upsert_case(session: AsyncSession, *, snapshot: CaseSnapshot) -> None:
    """The case row, and a bucket move when the write moves the case to another delinquency
    bucket than the stored row had come to by then (moves by aging alone are counted from the
    origin: `readmodel.queries.kpis`)."""
    day = timedelta(seconds=snapshot.day_seconds)
    row = CaseRow(
        case_id=snapshot.case_id,
        account_no=snapshot.account_no,
        customer_ref=snapshot.customer_ref,
        stage=snapshot.stage.value,
        segment=snapshot.segment.value,
        score=snapshot.score,
        strategy_version=snapshot.strategy_version,
        days_past_due=snapshot.days_past_due,
        due_origin=snapshot.due_origin or snapshot.updated_at - day * snapshot.days_past_due,
        day_seconds=snapshot.day_seconds,
        currency=snapshot.currency,
        outstanding_minor=snapshot.outstanding_minor,
        overdue_minor=snapshot.overdue_minor,
        closed_reason=snapshot.closed_reason.value if snapshot.closed_reason else None,
        opened_at=snapshot.updated_at,  # the first write is the case's opening
        updated_at=snapshot.updated_at,
    )
    stored = await execute(session, _STORED_CASE, {"case_id": snapshot.case_id})
    before = stored.first()
    await upsert(session, row, "case_id", keep=("opened_at",))
    await record_bucket_move(session, snapshot=snapshot, before=before)


class StoredCase(Protocol):
    """What a bucket move needs of the stored case row (a `CaseRow` has it)."""

    @property
    def updated_at(self) -> datetime: ...
    @property
    def days_past_due(self) -> int: ...
    @property
    def due_origin(self) -> datetime | None: ...
    @property
    def day_seconds(self) -> int: ...
    @property
    def closed_reason(self) -> str | None: ...


_CASES = table_of(CaseRow)
# The stored row's columns a bucket move reads, not the whole row through the ORM.
_STORED_CASE = select_columns(
    _CASES.c.updated_at,
    _CASES.c.days_past_due,
    _CASES.c.due_origin,
    _CASES.c.day_seconds,
    _CASES.c.closed_reason,
).where(_CASES.c.case_id == bindparam("case_id"))


async def record_bucket_move(
    session: AsyncSession,
    *,
    snapshot: CaseSnapshot,
    before: StoredCase | None,
) -> None:
    """A row in `bucket_moves` when this write puts the case in another bucket than the stored
    row had come to by the write's time (or is its first): an opening, a closure. A write older
    than the stored row (a retry that lost a race) moves nothing."""
    now = bucket_of(snapshot.days_past_due, closed=snapshot.closed_reason is not None)
    was: Bucket | None = None
    if before is not None:
        if before.updated_at > snapshot.updated_at:
            return
        closed = before.closed_reason is not None
        dpd = aging.count(
            before.days_past_due,
            before.due_origin,
            before.day_seconds,
            closed=closed,
            at=snapshot.updated_at,
        )
        was = bucket_of(dpd, closed=closed)
        if was == now:
            return
    move = BucketMoveRow(
        case_id=snapshot.case_id,
        from_bucket=was.value if was else None,
        to_bucket=now.value,
        at=snapshot.updated_at,
    )
    await execute(session, statement(session, new_bucket_move), values_of(move))


async def append_audit(session: AsyncSession, *, entries: Sequence[AuditEntry]) -> None:
    if not entries:
        return
    rows = [
        values_of(
            AuditLogRow(
                case_id=entry.case_id,
                seq=entry.seq,
                at=entry.at,
                kind=entry.kind,
                detail=entry.detail,
                actor=entry.actor,
                data=entry.data,
            )
        )
        for entry in entries
    ]
    await execute(session, statement(session, new_audit_entry), rows)


async def record_payment(
    session: AsyncSession, *, snapshot: CaseSnapshot, payment: PaymentRow
) -> None:
    row = PaymentRecordRow(
        account_no=snapshot.account_no,
        payment_ref=payment.payment_ref,
        case_id=snapshot.case_id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        received_at=payment.received_at,
    )
    await execute(session, statement(session, new_payment), values_of(row))


async def record_promise(
    session: AsyncSession, *, snapshot: CaseSnapshot, promise: PromiseRow
) -> None:
    row = PromiseRecordRow(
        idempotency_key=promise.key,
        case_id=snapshot.case_id,
        amount_minor=promise.amount_minor,
        currency=promise.currency,
        promised_date=promise.promised_date,
        made_at=promise.made_at,
        status=promise.status,
        resolved_at=promise.resolved_at,
        made_by=promise.made_by or None,
    )
    await execute(session, statement(session, promise_upsert), values_of(row))


async def upsert_task(session: AsyncSession, *, task: TaskRecord) -> None:
    row = HumanTaskRow(
        idempotency_key=task.key,
        case_id=task.case_id,
        kind=task.kind.value,
        queue=task.queue,
        assignee=task.assignee,
        status=task.status.value,
        outcome=task.outcome.value if task.outcome else None,
        deadline=task.deadline,
        created_at=task.created_at,
        closed_at=task.closed_at,
        assigned_by=task.assigned_by or None,
        right_party=task.right_party,
        call_seconds=task.call_seconds,
    )
    if (visit := task.visit) is not None:
        row.visit_start, row.visit_end = visit.slot_start, visit.slot_end
        row.visit_collectors = ",".join(visit.collectors)
        row.checked_in_at, row.checked_out_at = visit.checked_in_at, visit.checked_out_at
    await execute(session, statement(session, task_upsert), values_of(row))


async def upsert_complaint(session: AsyncSession, *, complaint: ComplaintRow) -> None:
    """Received, then answered: an answered row is final, a late retry never reopens it."""
    row = ComplaintRegisterRow(
        key=complaint.key,
        case_id=complaint.case_id,
        category=complaint.category.value,
        channel=complaint.channel.value,
        asks=complaint.asks,
        received_at=complaint.received_at,
        deadline=complaint.deadline,
        pauses_collection=complaint.pauses_collection,
        outcome=complaint.outcome.value if complaint.outcome else None,
        response=complaint.response or None,
        resolved_at=complaint.resolved_at,
        resolved_by=complaint.resolved_by or None,
    )
    await execute(session, statement(session, complaint_upsert), values_of(row))
