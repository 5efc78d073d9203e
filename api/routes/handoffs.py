"""The risk and legal departments' inbox: their handoffs, each one's live state and dossier,
and their answers, which go to the handoff's workflow as its updates.

A handoff's key is its department workflow's id (`risk-<account_no>-<n>`, `legal-...`), which
is also its `handoffs` row's key. The row lists the handoff; the workflow decides: its
validators refuse a bad answer (400, with their message), and a finished workflow takes none
(409).

Who acts (`decided_by`, `by`) is taken from the body as given: API keys are shared per role,
so a key cannot tell one risk officer from another. A deployment with per-user sign-in should
set these fields from the authenticated user instead of trusting the body.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, cast

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import col, select
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.dossier import Dossier, render_dossier_text
from api.auth import require_roles
from api.deps import DatabaseDep, TemporalDep
from api.errors import (
    ANSWER_TIMEOUT,
    INVALID_ACTION,
    CaseNotFound,
    no_answer,
    query_case,
    rpc_error,
)
from models.departments import (
    AcceptReferralInput,
    ContactPermissionInput,
    LegalReferralStatus,
    ProceedingInput,
    ReturnReferralInput,
    RiskDecision,
    RiskReviewStatus,
)
from operations.roles import Role
from readmodel.engine import Database
from readmodel.tables import HandoffRow

T = TypeVar("T")
Department = Literal["risk", "legal"]

# Collectors follow the reviews their hardship reports opened; legal files stay with legal.
READERS: dict[str, frozenset[Role]] = {
    "risk": frozenset({Role.SUPERVISOR, Role.RISK, Role.OPERATIONS}),
    "legal": frozenset({Role.SUPERVISOR, Role.LEGAL}),
}
DOSSIER_READERS: dict[str, frozenset[Role]] = {
    "risk": frozenset({Role.SUPERVISOR, Role.RISK}),
    "legal": frozenset({Role.SUPERVISOR, Role.LEGAL}),
}

# Supervisor first: a key holding several roles is answered as the one that sees the most.
CallerRole = Annotated[
    Role, Depends(require_roles(Role.SUPERVISOR, Role.RISK, Role.LEGAL, Role.OPERATIONS))
]
RISK = Depends(require_roles(Role.RISK))
LEGAL = Depends(require_roles(Role.LEGAL))

REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the workflow refused the answer; the message says why"},
    404: {"description": "no such handoff in this department"},
    409: {"description": "the handoff's workflow has finished"},
}

# A legal dossier holds every contact of years of collection: the inbox never loads it.
_WITHOUT_DOSSIER = defer(cast("QueryableAttribute[Any]", HandoffRow.dossier))

router = APIRouter(prefix="/handoffs", tags=["handoffs"])


class HandoffView(BaseModel):
    """A row of the inbox, without its dossier."""

    handoff_key: str
    case_id: str
    department: str
    status: str
    reason: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: HandoffRow) -> HandoffView:
        return cls(
            handoff_key=row.idempotency_key,
            case_id=row.case_id,
            department=row.department,
            status=row.status,
            reason=row.reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class HandoffDetail(BaseModel):
    """The row and its workflow's live answer: `review` for risk, `referral` for legal. The
    live answer is None once Temporal no longer holds the workflow (past its retention)."""

    handoff: HandoffView
    review: RiskReviewStatus | None = None
    referral: LegalReferralStatus | None = None


@router.get("")
async def list_handoffs(
    role: CallerRole,
    db: DatabaseDep,
    department: Department | None = None,
    handoff_status: Annotated[str | None, Query(alias="status")] = None,
    case_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[HandoffView]:
    """Newest first. Without `department`, every department the caller may read."""
    if department is not None:
        _may(role, READERS, department)
    departments = [department] if department else [d for d, who in READERS.items() if role in who]
    query = (
        select(HandoffRow)
        .options(_WITHOUT_DOSSIER)
        .where(col(HandoffRow.department).in_(departments))
        .order_by(col(HandoffRow.created_at).desc(), col(HandoffRow.id).desc())
        .limit(limit)
    )
    if handoff_status:
        query = query.where(HandoffRow.status == handoff_status)
    if case_id:
        query = query.where(HandoffRow.case_id == case_id)
    async with db.session() as session:
        return [HandoffView.of(row) for row in await session.exec(query)]


@router.get("/{key}", responses={404: {"description": "no such handoff"}})
async def read_handoff(
    key: str, role: CallerRole, db: DatabaseDep, client: TemporalDep
) -> HandoffDetail:
    row = await _row(db, key)
    _may(role, READERS, row.department)
    view = HandoffView.of(row)
    if row.department == "risk":
        return HandoffDetail(handoff=view, review=await _live(client, key, "review"))
    return HandoffDetail(handoff=view, referral=await _live(client, key, "referral"))


@router.get("/{key}/dossier", responses={404: {"description": "no such handoff or dossier"}})
async def read_dossier(key: str, role: CallerRole, db: DatabaseDep) -> dict[str, Any]:
    """What the department received: a legal referral's evidence dossier (see
    `activities.dossier`), or the case summary a risk review opened with."""
    row = await _row(db, key, dossier=True)
    return _dossier(row, role)


@router.get(
    "/{key}/dossier.txt",
    response_class=PlainTextResponse,
    responses={404: {"description": "no such legal referral, or its dossier is not built yet"}},
)
async def print_dossier(key: str, role: CallerRole, db: DatabaseDep) -> PlainTextResponse:
    """A legal referral's dossier as a printable document (fixed-width columns)."""
    row = await _row(db, key, dossier=True)
    dossier = _dossier(row, role)
    if row.department != "legal":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{key} has no printable dossier")
    return PlainTextResponse(render_dossier_text(dossier))


# --- the departments' answers: each is its workflow's update -----------------------------------


@router.post("/{key}/decide", dependencies=[RISK], responses=REFUSALS)
async def decide(
    key: str, body: RiskDecision, db: DatabaseDep, client: TemporalDep
) -> RiskDecision:
    """Forbearance, payment plan, restructure or proceed; answered once the row is decided."""
    await _handoff_of(db, key, "risk")
    return await _update(client, key, "decide", body, RiskDecision)


@router.post("/{key}/accept", dependencies=[LEGAL], responses=REFUSALS)
async def accept(
    key: str, body: AcceptReferralInput, db: DatabaseDep, client: TemporalDep
) -> LegalReferralStatus:
    await _handoff_of(db, key, "legal")
    return await _update(client, key, "accept", body, LegalReferralStatus)


@router.post("/{key}/return", dependencies=[LEGAL], responses=REFUSALS)
async def return_referral(
    key: str, body: ReturnReferralInput, db: DatabaseDep, client: TemporalDep
) -> LegalReferralStatus:
    """Back to the collectors, with a reason; the referral ends."""
    await _handoff_of(db, key, "legal")
    return await _update(client, key, "return_referral", body, LegalReferralStatus)


@router.post("/{key}/proceedings", dependencies=[LEGAL], responses=REFUSALS)
async def record_proceeding(
    key: str, body: ProceedingInput, db: DatabaseDep, client: TemporalDep
) -> LegalReferralStatus:
    """In a lawsuit's order (filed, hearings, judgment, enforcement); settled or closed ends it."""
    await _handoff_of(db, key, "legal")
    return await _update(client, key, "record_proceeding", body, LegalReferralStatus)


@router.post("/{key}/contact-permission", dependencies=[LEGAL], responses=REFUSALS)
async def set_contact_permission(
    key: str, body: ContactPermissionInput, db: DatabaseDep, client: TemporalDep
) -> LegalReferralStatus:
    """Lets the collection center contact the customer while legal holds the case, or stops it."""
    await _handoff_of(db, key, "legal")
    return await _update(client, key, "set_contact_permission", body, LegalReferralStatus)


# --- helpers -----------------------------------------------------------------------------------


def _may(role: Role, grants: dict[str, frozenset[Role]], department: str) -> None:
    if role not in grants.get(department, frozenset()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"the {role} role may not read {department} handoffs"
        )


async def _row(db: Database, key: str, *, dossier: bool = False) -> HandoffRow:
    query = select(HandoffRow).where(HandoffRow.idempotency_key == key)
    if not dossier:
        query = query.options(_WITHOUT_DOSSIER)
    async with db.session() as session:
        row = (await session.exec(query)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no handoff {key}")
    return row


async def _handoff_of(db: Database, key: str, department: Department) -> None:
    """404 unless `key` is a handoff to `department`: a risk review takes no legal answer."""
    row = await _row(db, key)
    if row.department != department:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {department} handoff {key}")


def _dossier(row: HandoffRow, role: Role) -> Dossier:
    if role not in DOSSIER_READERS.get(row.department, frozenset()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"the {role} role may not read {row.department} dossiers"
        )
    if row.dossier is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"the dossier of {row.idempotency_key} is not built yet"
        )
    return row.dossier


async def _live(client: Client, key: str, query: Literal["review", "referral"]) -> Any:
    result_type = RiskReviewStatus if query == "review" else LegalReferralStatus
    try:
        return await query_case(client, key, query, result_type)
    except CaseNotFound:
        return None


async def _update(client: Client, key: str, update: str, body: object, result_type: type[T]) -> T:
    """`api.errors.execute_action`'s mapping, for updates that answer other than `ActionResult`:
    400 for the workflow's refusal, 404 unknown, 409 finished, 503 / 504 / 502 otherwise."""
    handle = client.get_workflow_handle(key)
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT):
            result: T = await handle.execute_update(update, body, result_type=result_type)
            return result
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type == INVALID_ACTION:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, cause.message) from None
        raise await _failed(client, key, cause) from None
    except RPCError as error:  # NOT_FOUND: unknown, or finished (`rpc_error` tells which)
        raise await rpc_error(client, key, error) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        task = asyncio.current_task()
        if task is not None and task.cancelling():  # the caller went away: not a timeout
            raise asyncio.CancelledError from None
        raise no_answer(key) from None


async def _failed(client: Client, key: str, cause: BaseException | None) -> HTTPException:
    """An update that failed other than by refusal: 409 if the workflow finished meanwhile."""
    try:
        description = await client.get_workflow_handle(key).describe()
    except RPCError as error:
        return await rpc_error(client, key, error)
    if description.status != WorkflowExecutionStatus.RUNNING:
        return HTTPException(status.HTTP_409_CONFLICT, f"{key} has finished")
    kind = cause.type if isinstance(cause, ApplicationError) and cause.type else type(cause)
    return HTTPException(status.HTTP_502_BAD_GATEWAY, f"{key} failed the update ({kind})")
