"""Reading cases and what the read model holds about them: the list and its filters, a case's
row, its audit log, contact attempts and payments, its customer, the cases of a phone number."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models.contracts import Stage
from models.contracts import case_id as case_id_of
from readmodel import sealing
from readmodel.aging import aged, at_least, day_lengths, days_past_due_at
from readmodel.engine import Database
from readmodel.queries.paging import Column, Page, in_order_of, ordered, page_of
from readmodel.tables import (
    AuditLogRow,
    CaseRow,
    ContactAttemptRow,
    CustomerRow,
    HandoffRow,
    HumanTaskRow,
    PaymentRecordRow,
)


async def get_case(db: Database, *, account_no: str, now: datetime | None = None) -> CaseRow | None:
    """The account's case row, its days past due counted at `now` (default: the clock's);
    None when the read model holds no case for it."""
    async with db.session() as session:
        result = await session.exec(
            select(CaseRow).where(CaseRow.case_id == case_id_of(account_no))
        )
        row = result.first()
    return aged([row], now or datetime.now(UTC))[0] if row is not None else None


async def open_case_ids(db: Database, *, case_ids: Collection[str]) -> set[str]:
    """Which of `case_ids` the read model holds open (not closed)."""
    if not case_ids:
        return set()
    async with db.session() as session:
        found = await session.exec(
            select(CaseRow.case_id).where(
                col(CaseRow.case_id).in_(case_ids), CaseRow.stage != Stage.CLOSED
            )
        )
        return set(found)


class CaseSort(StrEnum):
    """The columns the case list sorts by, as a query string names them."""

    DAYS_PAST_DUE = "dpd"
    OUTSTANDING = "outstanding"
    OVERDUE = "overdue"
    STAGE = "stage"
    UPDATED = "updated"


@dataclass(frozen=True)
class CaseFilter:
    """What narrows the case list; a filter left None (or an empty string) does not."""

    account_prefix: str | None = None
    stage: str | None = None
    segment: str | None = None
    min_dpd: int | None = None
    max_dpd: int | None = None
    min_outstanding_minor: int | None = None
    below_outstanding_minor: int | None = None


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
    sort: CaseSort = CaseSort.UPDATED,
    descending: bool = True,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> list[CaseRow]:
    """Cases, most recently changed first unless `sort` says otherwise, days past due counted
    at `now` (default: the clock's); each filter given narrows the list."""
    where = CaseFilter(
        account_prefix=account_prefix,
        stage=stage,
        segment=segment,
        min_dpd=min_dpd,
        max_dpd=max_dpd,
        min_outstanding_minor=min_outstanding_minor,
        below_outstanding_minor=below_outstanding_minor,
    )
    now = now or datetime.now(UTC)
    async with db.session() as session:
        query = _sorted(
            await _filtered(session, select(CaseRow), where, now), sort, descending, now
        )
        rows = list(await session.exec(query.limit(limit).offset(offset)))
    return aged(rows, now)


async def count_cases(db: Database, *, where: CaseFilter, now: datetime | None = None) -> int:
    """How many cases `where` selects, days past due counted at `now`."""
    now = now or datetime.now(UTC)
    async with db.session() as session:
        return (await session.exec(await _counted(session, where, now))).one()


async def case_page(
    db: Database,
    *,
    where: CaseFilter,
    sort: CaseSort = CaseSort.UPDATED,
    descending: bool = True,
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> Page[CaseRow]:
    """Page `page` (from 1) of the cases `where` selects, in `sort`'s order, with how many
    there are in all; a page past the last is empty."""
    now = now or datetime.now(UTC)
    async with db.session() as session:
        query = _sorted(
            await _filtered(session, select(CaseRow), where, now), sort, descending, now
        )
        found = await page_of(
            session, await _counted(session, where, now), query, page=page, per_page=per_page
        )
    return Page(aged(found.rows, now), found.total, page, per_page)


async def _counted(session: AsyncSession, where: CaseFilter, now: datetime) -> SelectOfScalar[int]:
    return await _filtered(session, select(func.count()).select_from(CaseRow), where, now)


Q = TypeVar("Q", SelectOfScalar[CaseRow], SelectOfScalar[int])


async def _filtered(session: AsyncSession, query: Q, where: CaseFilter, now: datetime) -> Q:
    if where.account_prefix:
        query = query.where(col(CaseRow.account_no).startswith(where.account_prefix))
    if where.stage:
        query = query.where(CaseRow.stage == where.stage)
    if where.segment:
        query = query.where(CaseRow.segment == where.segment)
    if where.min_outstanding_minor is not None:
        query = query.where(col(CaseRow.outstanding_minor) >= where.min_outstanding_minor)
    if where.below_outstanding_minor is not None:
        query = query.where(col(CaseRow.outstanding_minor) < where.below_outstanding_minor)
    if where.min_dpd is not None or where.max_dpd is not None:
        lengths = await day_lengths(session)
        if where.min_dpd is not None:
            query = query.where(at_least(where.min_dpd, now=now, lengths=lengths))
        if where.max_dpd is not None:
            query = query.where(~at_least(where.max_dpd + 1, now=now, lengths=lengths))
    return query


def _sorted(
    query: SelectOfScalar[CaseRow], sort: CaseSort, descending: bool, now: datetime
) -> SelectOfScalar[CaseRow]:
    keys: dict[CaseSort, Column] = {
        CaseSort.DAYS_PAST_DUE: days_past_due_at(now),
        CaseSort.OUTSTANDING: col(CaseRow.outstanding_minor),
        CaseSort.OVERDUE: col(CaseRow.overdue_minor),
        CaseSort.STAGE: in_order_of(col(CaseRow.stage), list(Stage)),
        CaseSort.UPDATED: col(CaseRow.updated_at),
    }
    return ordered(query, keys[sort], col(CaseRow.id), descending=descending)


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
    db: Database, *, case_id: str, now: datetime | None = None
) -> tuple[CaseRow, CustomerRow | None] | None:
    """The case's row (days past due counted at `now`, default the clock's) and its
    customer's (personal data: mask before showing); None without a case row."""
    async with db.session() as session:
        case = (await session.exec(select(CaseRow).where(CaseRow.case_id == case_id))).first()
        if case is None:
            return None
        customer = (
            await session.exec(
                select(CustomerRow).where(CustomerRow.customer_ref == case.customer_ref)
            )
        ).first()
    return aged([case], now or datetime.now(UTC))[0], customer


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
