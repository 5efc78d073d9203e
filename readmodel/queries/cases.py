"""Reading cases and what the read model holds about them: the list and its filters, a case's
row, its audit log, contact attempts and payments, its customer, the cases of a phone number."""

from __future__ import annotations

from sqlmodel import col, select

from models.contracts import Stage
from models.contracts import case_id as case_id_of
from readmodel import sealing
from readmodel.engine import Database
from readmodel.tables import (
    AuditLogRow,
    CaseRow,
    ContactAttemptRow,
    CustomerRow,
    HandoffRow,
    HumanTaskRow,
    PaymentRecordRow,
)


async def get_case(db: Database, *, account_no: str) -> CaseRow | None:
    """The account's case row; None when the read model holds no case for it."""
    async with db.session() as session:
        result = await session.exec(
            select(CaseRow).where(CaseRow.case_id == case_id_of(account_no))
        )
        return result.first()


async def search_cases(
    db: Database,
    *,
    account_prefix: str | None = None,
    stage: str | None = None,
    segment: str | None = None,
    min_dpd: int | None = None,
    max_dpd: int | None = None,
    min_outstanding_minor: int | None = None,
    below_outstanding_minor: int | None = None,
    limit: int = 100,
) -> list[CaseRow]:
    """Cases, most recently changed first; each filter given narrows the list (an empty
    string is no filter)."""
    query = select(CaseRow).order_by(col(CaseRow.updated_at).desc()).limit(limit)
    if account_prefix:
        query = query.where(col(CaseRow.account_no).startswith(account_prefix))
    if stage:
        query = query.where(CaseRow.stage == stage)
    if segment:
        query = query.where(CaseRow.segment == segment)
    if min_dpd is not None:
        query = query.where(col(CaseRow.days_past_due) >= min_dpd)
    if max_dpd is not None:
        query = query.where(col(CaseRow.days_past_due) <= max_dpd)
    if min_outstanding_minor is not None:
        query = query.where(col(CaseRow.outstanding_minor) >= min_outstanding_minor)
    if below_outstanding_minor is not None:
        query = query.where(col(CaseRow.outstanding_minor) < below_outstanding_minor)
    async with db.session() as session:
        return list(await session.exec(query))


async def list_audit(db: Database, *, case_id: str) -> list[AuditLogRow]:
    """A case's audit log, in order: its timeline once Temporal no longer holds the case."""
    async with db.session() as session:
        result = await session.exec(
            select(AuditLogRow).where(AuditLogRow.case_id == case_id).order_by(col(AuditLogRow.seq))
        )
        return list(result.all())


async def list_attempts(db: Database, *, case_id: str) -> list[ContactAttemptRow]:
    """A case's contact attempts, sent and refused, oldest first."""
    async with db.session() as session:
        result = await session.exec(
            select(ContactAttemptRow)
            .where(ContactAttemptRow.case_id == case_id)
            .order_by(col(ContactAttemptRow.created_at), col(ContactAttemptRow.id))
        )
        return list(result.all())


async def list_payments(db: Database, *, case_id: str) -> list[PaymentRecordRow]:
    """A case's payments, oldest first."""
    async with db.session() as session:
        result = await session.exec(
            select(PaymentRecordRow)
            .where(PaymentRecordRow.case_id == case_id)
            .order_by(col(PaymentRecordRow.received_at), col(PaymentRecordRow.id))
        )
        return list(result.all())


async def get_case_customer(
    db: Database, *, case_id: str
) -> tuple[CaseRow, CustomerRow | None] | None:
    """The case's row and its customer's (personal data: mask before showing); None without
    a case row."""
    async with db.session() as session:
        case = (await session.exec(select(CaseRow).where(CaseRow.case_id == case_id))).first()
        if case is None:
            return None
        customer = (
            await session.exec(
                select(CustomerRow).where(CustomerRow.customer_ref == case.customer_ref)
            )
        ).first()
    return case, customer


async def open_cases_for_mobile(db: Database, *, mobile: str) -> list[str]:
    """Ids of the cases not closed whose customer has `mobile` (an inbound SMS's sender), found
    by its blind index: the number is sealed at rest, and only its keyed hash is compared."""
    if not mobile:
        return []
    query = (
        select(CaseRow.case_id)
        .join(CustomerRow, col(CustomerRow.customer_ref) == col(CaseRow.customer_ref))
        .where(
            col(CustomerRow.mobile_index).in_(sealing.current().indexes(mobile)),
            col(CaseRow.stage) != Stage.CLOSED.value,
            col(CaseRow.closed_reason).is_(None),
        )
        .order_by(col(CaseRow.case_id))
    )
    async with db.session() as session:
        return list((await session.exec(query)).all())


async def case_currency(
    db: Database, *, task_key: str | None = None, handoff_key: str | None = None
) -> str | None:
    """The currency of the case that holds the task `task_key` (or the handoff `handoff_key`);
    None when there is no such task or handoff, or no row for its case."""
    table: type[HumanTaskRow | HandoffRow] = HumanTaskRow if task_key is not None else HandoffRow
    key = task_key if task_key is not None else handoff_key
    async with db.session() as session:
        found = await session.exec(
            select(CaseRow.currency)
            .join(table, col(table.case_id) == col(CaseRow.case_id))
            .where(col(table.idempotency_key) == key)
        )
        return found.first()
