"""Reading the collectors' and supervisors' work: the task lists and one task.

A collector's queue by priority (`TaskSort.PRIORITY`): overdue tasks first; then by the day
the deadline falls in (whole days from now: within a day, within two ...), where what is
worth most comes first: a promise on the case falling due within two days, then the larger
outstanding balance, then the more days past due (`readmodel.aging`), then the exact deadline.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, asc, case, desc, exists, func
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.tasks import TaskKind, TaskStatus
from readmodel.aging import days_past_due_at
from readmodel.engine import Database
from readmodel.queries.paging import Column, Page, in_order_of, ordered, page_of
from readmodel.tables import CaseRow, HumanTaskRow, PromiseRecordRow

PROMISE_SOON = timedelta(days=2)  # a promise falling due this soon puts its case's task first
DAYS_AHEAD = 14  # deadlines further off than this are ordered by the deadline alone


class TaskSort(StrEnum):
    """The columns the task lists sort by, as a query string names them."""

    DEADLINE = "deadline"
    CREATED = "created"
    KIND = "kind"
    STATUS = "status"
    PRIORITY = "priority"  # a collector's queue: see the module's docstring


@dataclass(frozen=True)
class TaskFilter:
    """What narrows a task list; a filter not given (or an empty string) does not."""

    queue: str | Collection[str] | None = None
    status: str | Collection[str] | None = None
    assignee: str | None = None
    case_id: str | None = None


async def list_tasks(
    db: Database,
    *,
    queue: str | Collection[str] | None = None,
    status: str | Collection[str] | None = None,
    assignee: str | None = None,
    case_id: str | None = None,
    sort: TaskSort = TaskSort.DEADLINE,
    descending: bool = False,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> list[HumanTaskRow]:
    """Tasks, soonest deadline first unless `sort` says otherwise (see `TaskFilter`); `now`
    (the clock's) is when a priority is judged."""
    where = TaskFilter(queue=queue, status=status, assignee=assignee, case_id=case_id)
    query = _sorted(_filtered(select(HumanTaskRow), where), sort, descending, now)
    async with db.session() as session:
        return list(await session.exec(query.limit(limit).offset(offset)))


async def task_page(
    db: Database,
    *,
    where: TaskFilter,
    sort: TaskSort = TaskSort.DEADLINE,
    descending: bool = False,
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> Page[HumanTaskRow]:
    """Page `page` (from 1) of the tasks `where` selects, in `sort`'s order, with how many
    there are in all; a page past the last is empty."""
    counted = _filtered(select(func.count()).select_from(HumanTaskRow), where)
    query = _sorted(_filtered(select(HumanTaskRow), where), sort, descending, now)
    async with db.session() as session:
        return await page_of(session, counted, query, page=page, per_page=per_page)


Q = TypeVar("Q", SelectOfScalar[HumanTaskRow], SelectOfScalar[int])


def _filtered(query: Q, where: TaskFilter) -> Q:
    queue, status = _values(where.queue), _values(where.status)
    if queue is not None:
        query = query.where(col(HumanTaskRow.queue).in_(queue))
    if status is not None:
        query = query.where(col(HumanTaskRow.status).in_(status))
    if where.assignee:
        query = query.where(HumanTaskRow.assignee == where.assignee)
    if where.case_id:
        query = query.where(HumanTaskRow.case_id == where.case_id)
    return query


def _values(given: str | Collection[str] | None) -> Collection[str] | None:
    """One value or several; an empty string is no filter, an empty collection matches none."""
    if isinstance(given, str):
        return [given] if given else None
    return given


def _sorted(
    query: SelectOfScalar[HumanTaskRow],
    sort: TaskSort,
    descending: bool,
    now: datetime | None = None,
) -> SelectOfScalar[HumanTaskRow]:
    if sort is TaskSort.PRIORITY:
        return _by_priority(query, now or datetime.now(UTC), descending)
    keys: dict[TaskSort, Column] = {
        TaskSort.DEADLINE: col(HumanTaskRow.deadline),
        TaskSort.CREATED: col(HumanTaskRow.created_at),
        TaskSort.KIND: in_order_of(col(HumanTaskRow.kind), list(TaskKind)),
        TaskSort.STATUS: in_order_of(col(HumanTaskRow.status), list(TaskStatus)),
    }
    return ordered(query, keys[sort], col(HumanTaskRow.id), descending=descending)


def _by_priority(
    query: SelectOfScalar[HumanTaskRow], now: datetime, descending: bool
) -> SelectOfScalar[HumanTaskRow]:
    """The priority's keys, each first-is-most-urgent; `descending` turns the whole order round.
    A task whose case has no row yet sorts as one with no balance and no days past due."""
    deadline = col(HumanTaskRow.deadline)
    # 0 overdue, 1 due within a day from now, 2 within two days ... DAYS_AHEAD + 1 further off.
    day = case(
        (deadline < now, 0),
        *((deadline < now + timedelta(days=n), n) for n in range(1, DAYS_AHEAD + 1)),
        else_=DAYS_AHEAD + 1,
    )
    promised = exists().where(
        and_(
            col(PromiseRecordRow.case_id) == col(HumanTaskRow.case_id),
            col(PromiseRecordRow.status) == "open",
            col(PromiseRecordRow.promised_date) <= (now + PROMISE_SOON).date(),
        )
    )
    first: list[ColumnElement[object] | Column] = [
        day,
        case((promised, 0), else_=1),
        -func.coalesce(col(CaseRow.outstanding_minor), 0),
        -func.coalesce(days_past_due_at(now), 0),
        deadline,
        col(HumanTaskRow.id),
    ]
    joined = query.outerjoin(CaseRow, col(CaseRow.case_id) == col(HumanTaskRow.case_id))
    return joined.order_by(*(desc(key) if descending else asc(key) for key in first))


async def get_task(db: Database, *, task_key: str) -> HumanTaskRow | None:
    async with db.session() as session:
        found = await session.exec(
            select(HumanTaskRow).where(HumanTaskRow.idempotency_key == task_key)
        )
        return found.first()
