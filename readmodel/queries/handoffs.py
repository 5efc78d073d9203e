"""Reading the departments' handoffs: the inboxes (whole, or a page at a time), one handoff,
its dossier."""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import func
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import col, select

from models.departments import RiskReviewState
from readmodel.engine import Database
from readmodel.queries.paging import Column, Page, in_order_of, ordered, page_of
from readmodel.tables import HandoffRow

# A legal dossier holds every contact of years of collection: an inbox never loads it.
_WITHOUT_DOSSIER = defer(cast("QueryableAttribute[Any]", HandoffRow.dossier))
# A handoff's statuses in the order a handoff moves through them: a risk review's, then a legal
# referral's (`models.departments.LegalState`).
STATUSES = (*RiskReviewState, "referred", "accepted", "returned", "closed")


class HandoffSort(StrEnum):
    """The columns an inbox sorts by, as a query string names them."""

    CREATED = "created"
    STATUS = "status"


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


async def handoff_page(
    db: Database,
    *,
    department: str,
    status: str | None = None,
    sort: HandoffSort = HandoffSort.CREATED,
    descending: bool = True,
    page: int = 1,
    per_page: int = 50,
) -> Page[HandoffRow]:
    """Page `page` (from 1) of a department's inbox, optionally of one status, newest first
    unless `sort` and `descending` say otherwise, with how many there are in all; without the
    dossiers. A page past the last is empty."""
    where = [col(HandoffRow.department) == department]
    if status:
        where.append(col(HandoffRow.status) == status)
    keys: dict[HandoffSort, Column] = {
        HandoffSort.CREATED: col(HandoffRow.created_at),
        HandoffSort.STATUS: in_order_of(col(HandoffRow.status), STATUSES),
    }
    query = ordered(
        select(HandoffRow).where(*where).options(_WITHOUT_DOSSIER),
        keys[sort],
        col(HandoffRow.id),
        descending=descending,
    )
    counted = select(func.count()).select_from(HandoffRow).where(*where)
    async with db.session() as session:
        return await page_of(session, counted, query, page=page, per_page=per_page)


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
