"""Reading the departments' handoffs: the inboxes, one handoff, its dossier."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import col, select

from readmodel.engine import Database
from readmodel.tables import HandoffRow

# A legal dossier holds every contact of years of collection: an inbox never loads it.
_WITHOUT_DOSSIER = defer(cast("QueryableAttribute[Any]", HandoffRow.dossier))


async def list_handoffs(
    db: Database,
    *,
    department: str | Collection[str],
    status: str | None = None,
    case_id: str | None = None,
    newest_first: bool = False,
    limit: int | None = None,
    with_dossier: bool = True,
) -> list[HandoffRow]:
    """A department's inbox (or several departments'), oldest first unless `newest_first`,
    optionally of one status or one case."""
    departments = [department] if isinstance(department, str) else list(department)
    query = select(HandoffRow).where(col(HandoffRow.department).in_(departments))
    if status:
        query = query.where(HandoffRow.status == status)
    if case_id:
        query = query.where(HandoffRow.case_id == case_id)
    if newest_first:
        query = query.order_by(col(HandoffRow.created_at).desc(), col(HandoffRow.id).desc())
    else:
        query = query.order_by(col(HandoffRow.created_at), col(HandoffRow.id))
    if limit is not None:
        query = query.limit(limit)
    if not with_dossier:
        query = query.options(_WITHOUT_DOSSIER)
    async with db.session() as session:
        return list((await session.exec(query)).all())


async def get_handoff(db: Database, *, key: str, with_dossier: bool = True) -> HandoffRow | None:
    query = select(HandoffRow).where(HandoffRow.idempotency_key == key)
    if not with_dossier:
        query = query.options(_WITHOUT_DOSSIER)
    async with db.session() as session:
        return (await session.exec(query)).first()


async def get_dossier(db: Database, *, handoff_key: str) -> dict[str, Any] | None:
    """The dossier stored on a handoff row; None if the row or its dossier is missing."""
    row = await get_handoff(db, key=handoff_key)
    return row.dossier if row is not None else None
