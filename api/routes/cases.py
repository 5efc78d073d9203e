"""Cases: look one up (the read model's row and, while it runs, the workflow's live status)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel
from sqlmodel import col, select
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities.case_store import get_case
from api.auth import Role, require_roles
from api.deps import DatabaseDep, SessionDep, TemporalDep
from models.contracts import CaseStatus, case_id
from models.tables import CaseRow

log = logging.getLogger(__name__)

EVERY_ROLE = (Role.OPERATIONS, Role.SUPERVISOR, Role.RISK, Role.LEGAL, Role.ENGINEER)
router = APIRouter(
    prefix="/cases", tags=["cases"], dependencies=[Depends(require_roles(*EVERY_ROLE))]
)


class CaseView(BaseModel):
    case: CaseRow | None
    status: CaseStatus | None  # None once the workflow has finished or while it is assessed


@router.get("/{account_no}")
async def read_case(account_no: str, db: DatabaseDep, client: TemporalDep) -> CaseView:
    """404 when neither the read model nor Temporal knows the account."""
    row = await get_case(db, account_no=account_no)
    live = await _live_status(client, case_id(account_no))
    if row is None and live is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case for account {account_no}")
    return CaseView(case=row, status=live)


@router.get("")
async def list_cases(
    session: SessionDep,
    stage: str | None = None,
    segment: str | None = None,
    min_dpd: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseRow]:
    query = select(CaseRow).order_by(col(CaseRow.updated_at).desc()).limit(limit)
    if stage:
        query = query.where(CaseRow.stage == stage)
    if segment:
        query = query.where(CaseRow.segment == segment)
    if min_dpd is not None:
        query = query.where(CaseRow.days_past_due >= min_dpd)
    return list(await session.exec(query))


async def _live_status(client: TemporalDep, workflow_id: str) -> CaseStatus | None:
    handle = client.get_workflow_handle(workflow_id)
    try:
        live: CaseStatus = await handle.query("status", result_type=CaseStatus)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    except WorkflowQueryFailedError as error:
        log.info("status of %s not available: %s", workflow_id, error)
        return None
    return live
