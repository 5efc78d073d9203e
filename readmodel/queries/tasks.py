"""Reading the collectors' and supervisors' work: the task lists and one task."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.departments import TaskKind, TaskStatus
from readmodel.engine import Database
from readmodel.queries.paging import Column, Page, in_order_of, ordered
from readmodel.tables import HumanTaskRow


class TaskSort(StrEnum):
    """The columns the task lists sort by, as a query string names them."""

    DEADLINE = "deadline"
    CREATED = "created"
    KIND = "kind"
    STATUS = "status"


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
) -> list[HumanTaskRow]:
    """Tasks, soonest deadline first unless `sort` says otherwise (see `TaskFilter`)."""
    where = TaskFilter(queue=queue, status=status, assignee=assignee, case_id=case_id)
    query = _sorted(_filtered(select(HumanTaskRow), where), sort, descending)
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
) -> Page[HumanTaskRow]:
    """Page `page` (from 1) of the tasks `where` selects, in `sort`'s order, with how many
    there are in all; a page past the last is empty."""
    offset = (page - 1) * per_page
    rows: list[HumanTaskRow] = []
    async with db.session() as session:
        counted = _filtered(select(func.count()).select_from(HumanTaskRow), where)
        total = (await session.exec(counted)).one()
        if offset < total:  # past the end, no offset reaches the database, however large
            query = _sorted(_filtered(select(HumanTaskRow), where), sort, descending)
            rows = list(await session.exec(query.limit(per_page).offset(offset)))
    return Page(rows, total, page, per_page)


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
    query: SelectOfScalar[HumanTaskRow], sort: TaskSort, descending: bool
) -> SelectOfScalar[HumanTaskRow]:
    keys: dict[TaskSort, Column] = {
        TaskSort.DEADLINE: col(HumanTaskRow.deadline),
        TaskSort.CREATED: col(HumanTaskRow.created_at),
        TaskSort.KIND: in_order_of(col(HumanTaskRow.kind), list(TaskKind)),
        TaskSort.STATUS: in_order_of(col(HumanTaskRow.status), list(TaskStatus)),
    }
    return ordered(query, keys[sort], col(HumanTaskRow.id), descending=descending)


async def get_task(db: Database, *, task_key: str) -> HumanTaskRow | None:
    async with db.session() as session:
        found = await session.exec(
            select(HumanTaskRow).where(HumanTaskRow.idempotency_key == task_key)
        )
        return found.first()
