"""Maker-checker: the requests that wait for a second person, and their decisions.

Writing off, settling, resolving a dispute for the customer and approving a legal referral
come back 202 with a request id instead of being done (`operations.approvals`); another
supervisor approves it here (the action then runs, under both names) or rejects it with a
reason. The person who asked cannot decide their own request (403).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from api.auth import person_of, require_roles
from api.deps import DatabaseDep, GatewayDep
from api.errors import answered
from operations import approvals
from operations.roles import Role
from readmodel.tables import ApprovalRow

router = APIRouter(
    prefix="/approvals", tags=["approvals"], dependencies=[Depends(require_roles(Role.SUPERVISOR))]
)
REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "your own request, or a role that may not approve it"},
    404: {"description": "no such request"},
    409: {"description": "the request is already decided"},
}


class ApprovalView(BaseModel):
    approval_id: int
    case_id: str
    action: str
    needs: str
    input: dict[str, Any]
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    result: str

    @classmethod
    def of(cls, row: ApprovalRow) -> ApprovalView:
        assert row.id is not None
        return cls(
            approval_id=row.id,
            case_id=row.case_id,
            action=row.action,
            needs=row.needs,
            input=row.input,
            status=row.status,
            requested_by=row.requested_by,
            requested_at=row.requested_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            result=row.result,
        )


class RejectBody(BaseModel):
    reason: str


@router.get("")
async def list_pending(db: DatabaseDep, case_id: str | None = None) -> list[ApprovalView]:
    """Pending requests, oldest first."""
    return [ApprovalView.of(row) for row in await approvals.pending(db, case_id=case_id)]


@router.post("/{approval_id}/approve", responses=REFUSALS)
async def approve(approval_id: int, request: Request, db: DatabaseDep, gateway: GatewayDep) -> Any:
    """Runs the request as its maker, approved by you: the workflow's answer."""
    person, _ = person_of(request)
    return answered(await approvals.approve(gateway, db, approval_id, person))


@router.post("/{approval_id}/reject", responses=REFUSALS)
async def reject(
    approval_id: int, body: RejectBody, request: Request, db: DatabaseDep
) -> ApprovalView:
    person, _ = person_of(request)
    return ApprovalView.of(answered(await approvals.reject(db, approval_id, person, body.reason)))
