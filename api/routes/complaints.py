"""The complaint register: every complaint a case received, its regulatory deadline and its
answer, for supervisors. Receiving and answering one are case actions (`POST
/cases/{account}/raise_complaint`, `.../resolve_complaint`); this lists them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from api.auth import person_of, require_roles
from api.deps import DatabaseDep
from models.complaints import ComplaintCategory, ComplaintChannel, ComplaintOutcome
from models.contracts import case_account, case_id
from operations import access
from operations.roles import Role
from readmodel.complaints import (
    ComplaintCounts,
    ComplaintRegisterRow,
    Show,
    complaint_counts,
)

router = APIRouter(prefix="/complaints", tags=["complaints"])
Supervisor = Annotated[Role, Depends(require_roles(Role.SUPERVISOR))]


class ComplaintView(BaseModel):
    key: str
    account_no: str
    category: ComplaintCategory
    channel: ComplaintChannel
    asks: str
    received_at: datetime
    deadline: datetime
    pauses_collection: bool
    overdue: bool  # open past its deadline
    outcome: ComplaintOutcome | None
    response: str | None
    resolved_at: datetime | None
    resolved_by: str | None

    @classmethod
    def of(cls, row: ComplaintRegisterRow, now: datetime) -> ComplaintView:
        return cls(
            key=row.key,
            account_no=case_account(row.case_id),
            category=ComplaintCategory(row.category),
            channel=ComplaintChannel(row.channel),
            asks=row.asks,
            received_at=row.received_at,
            deadline=row.deadline,
            pauses_collection=row.pauses_collection,
            overdue=row.overdue(now),
            outcome=ComplaintOutcome(row.outcome) if row.outcome else None,
            response=row.response,
            resolved_at=row.resolved_at,
            resolved_by=row.resolved_by,
        )


@router.get("")
async def list_complaints(
    _: Supervisor,
    request: Request,
    db: DatabaseDep,
    show: Annotated[Show, Query()] = "all",
    account_no: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ComplaintView]:
    """Soonest deadline first; `show=overdue`: open past their deadline. Each account shown is
    recorded in the access log (the customers' own words are personal data)."""
    now = datetime.now(UTC)
    person, via = person_of(request)
    rows = await access.read_complaint_register(
        db,
        person,
        via,
        show=show,
        now=now,
        case_id=case_id(account_no) if account_no else None,
        limit=limit,
        offset=offset,
    )
    return [ComplaintView.of(row, now) for row in rows]


@router.get("/counts")
async def counts(
    _: Supervisor, db: DatabaseDep, days: Annotated[int, Query(ge=1, le=3660)] = 30
) -> ComplaintCounts:
    """Received, answered and upheld in the last `days`; open and overdue now."""
    now = datetime.now(UTC)
    return await complaint_counts(db, since=now - timedelta(days=days), until=now)
