"""Reading the collectors' and supervisors' work: the task lists and one task."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import col, select

from readmodel.engine import Database
from readmodel.tables import HumanTaskRow


async def list_tasks(
    db: Database,
    *,
    queue: str | Collection[str] | None = None,
    status: str | Collection[str] | None = None,
    assignee: str | None = None,
    case_id: str | None = None,
    limit: int = 100,
) -> list[HumanTaskRow]:
    """Tasks, soonest deadline first. `queue` and `status` take one value or several; a filter
    not given (or empty) does not narrow the list."""
    query = select(HumanTaskRow).order_by(col(HumanTaskRow.deadline)).limit(limit)
    if isinstance(queue, str):
        queue = [queue] if queue else None
    if queue is not None:
        query = query.where(col(HumanTaskRow.queue).in_(queue))
    if isinstance(status, str):
        status = [status] if status else None
    if status is not None:
        query = query.where(col(HumanTaskRow.status).in_(status))
    if assignee:
        query = query.where(HumanTaskRow.assignee == assignee)
    if case_id:
        query = query.where(HumanTaskRow.case_id == case_id)
    async with db.session() as session:
        return list(await session.exec(query))


async def get_task(db: Database, *, task_key: str) -> HumanTaskRow | None:
    async with db.session() as session:
        found = await session.exec(
            select(HumanTaskRow).where(HumanTaskRow.idempotency_key == task_key)
        )
        return found.first()
