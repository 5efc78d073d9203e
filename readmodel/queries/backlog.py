"""The center's backlog right now, for the metrics endpoint: counts by stage, queue and action
only, never a case id, an account number or a name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from models.tasks import TaskStatus
from readmodel.engine import Database
from readmodel.tables import ApprovalRow, CaseRow, HumanTaskRow

OPEN_TASK = (TaskStatus.OPEN.value, TaskStatus.CLAIMED.value, TaskStatus.ESCALATED.value)
PENDING_APPROVAL = "pending"  # `ApprovalRow.status`: pending | approved | rejected | failed


@dataclass(frozen=True)
class Backlog:
    open_cases: dict[str, int]  # by stage
    open_tasks: dict[str, int]  # by queue
    overdue_tasks: dict[str, int]  # by queue: open past their deadline (SLA breaches)
    pending_approvals: dict[str, int]  # by action (the update's name)


async def backlog(db: Database, *, now: datetime) -> Backlog:
    """What is open at `now`, counted in four grouped queries."""
    open_task = col(HumanTaskRow.status).in_(OPEN_TASK)
    async with db.session() as session:
        cases = await session.exec(
            select(CaseRow.stage, func.count())
            .where(col(CaseRow.closed_reason).is_(None))
            .group_by(CaseRow.stage)
        )
        open_cases = dict(cases.all())
        tasks = await session.exec(
            select(HumanTaskRow.queue, func.count()).where(open_task).group_by(HumanTaskRow.queue)
        )
        open_tasks = dict(tasks.all())
        overdue = await session.exec(
            select(HumanTaskRow.queue, func.count())
            .where(open_task, col(HumanTaskRow.deadline) < now)
            .group_by(HumanTaskRow.queue)
        )
        overdue_tasks = dict(overdue.all())
        approvals = await session.exec(
            select(ApprovalRow.action, func.count())
            .where(ApprovalRow.status == PENDING_APPROVAL)
            .group_by(ApprovalRow.action)
        )
        pending = dict(approvals.all())
    return Backlog(open_cases, open_tasks, overdue_tasks, pending)
