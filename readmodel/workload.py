"""The collectors' workload as the allocator reads it: the open tasks to place, with the
customer's language, the account's product, its balance and days past due, and how many open
tasks each person holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select

from models.allocation import QUEUE, OpenTask
from models.tasks import TaskStatus
from readmodel.aging import days_past_due
from readmodel.engine import Database
from readmodel.tables import AccountRow, CaseRow, CustomerRow, HumanTaskRow

ACTIVE = (TaskStatus.OPEN.value, TaskStatus.CLAIMED.value)


async def open_tasks(db: Database, *, assignee: str | None, now: datetime) -> list[OpenTask]:
    """The open tasks of `assignee` (None: the operations queue's tasks nobody holds), with
    their customer's language, their account's product, balance and days past due."""
    where: list[ColumnElement[bool]] = (
        [
            col(HumanTaskRow.queue) == QUEUE,
            col(HumanTaskRow.status) == TaskStatus.OPEN.value,
            col(HumanTaskRow.assignee).is_(None),
        ]
        if assignee is None
        else [col(HumanTaskRow.status).in_(ACTIVE), col(HumanTaskRow.assignee) == assignee]
    )
    query = (
        select(HumanTaskRow, CaseRow, AccountRow.product, CustomerRow.language)
        .outerjoin(CaseRow, col(CaseRow.case_id) == col(HumanTaskRow.case_id))
        .outerjoin(AccountRow, col(AccountRow.account_no) == col(CaseRow.account_no))
        .outerjoin(CustomerRow, col(CustomerRow.customer_ref) == col(CaseRow.customer_ref))
        .where(*where)
        .order_by(col(HumanTaskRow.id))
    )
    async with db.session() as session:
        rows = (await session.exec(query)).all()
    found = []
    for task, case, product, language in rows:
        known = case is not None  # an outer join: a task written before its case's row
        found.append(
            OpenTask(
                task_key=task.idempotency_key,
                queue=task.queue,
                deadline=task.deadline,
                language=language or "",
                product=product or "",
                outstanding_minor=case.outstanding_minor if known else 0,
                days_past_due=days_past_due(case, now) if known else 0,
            )
        )
    return found


async def open_loads(db: Database) -> dict[str, int]:
    """How many open tasks each person holds."""
    async with db.session() as session:
        counted = await session.exec(
            select(HumanTaskRow.assignee, func.count())
            .where(col(HumanTaskRow.status).in_(ACTIVE), col(HumanTaskRow.assignee).is_not(None))
            .group_by(col(HumanTaskRow.assignee))
        )
        return {person: n for person, n in counted.all() if person}
