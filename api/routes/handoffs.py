"""The risk and legal departments' inbox: their handoffs, each one's live state and dossier,
and their answers, which go to the handoff's workflow as its updates.

A handoff's key is its department workflow's id (`risk-<account_no>-<n>`, `legal-...`), which
is also its `handoffs` row's key. The row lists the handoff; the workflow decides: its
validators refuse a bad answer (400, with their message), and a finished workflow takes none
(409).

Who acts (`decided_by`, `by`) must be the caller's own staff ID: the workflow refuses another
person's name (403), and records the caller on the timeline either way. Opening a dossier is
recorded in the access log, with `reason` (default: the department's handoff work).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from api.auth import person_of, require_roles
from api.deps import DatabaseDep, GatewayDep
from api.errors import answered
from models.contracts import case_account
from models.departments import LegalReferralStatus, RiskReviewStatus
from operations import access, departments
from operations.answers import Answer, Outcome
from operations.departments import HANDOFF_ANSWERS, READERS, Department, HandoffAnswer
from operations.gateway import Gateway
from operations.roles import Role
from readmodel import queries
from readmodel.dossier import Dossier
from readmodel.dossier_text import render_dossier_text
from readmodel.engine import Database
from readmodel.tables import HandoffRow

T = TypeVar("T")

# Supervisor first: a key holding several roles is answered as the one that sees the most.
CallerRole = Annotated[
    Role, Depends(require_roles(Role.SUPERVISOR, Role.RISK, Role.LEGAL, Role.OPERATIONS))
]

REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the workflow refused the answer; the message says why"},
    404: {"description": "no such handoff in this department"},
    409: {"description": "the handoff's workflow has finished"},
}

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
        may_read(role, department)
    readable = [department] if department else [d for d, who in READERS.items() if role in who]
    rows = await queries.list_handoffs(
        db,
        department=readable,
        status=handoff_status,
        case_id=case_id,
        newest_first=True,
        limit=limit,
        with_dossier=False,
    )
    return [HandoffView.of(row) for row in rows]


@router.get("/{key}", responses={404: {"description": "no such handoff"}})
async def read_handoff(
    key: str, role: CallerRole, db: DatabaseDep, gateway: GatewayDep
) -> HandoffDetail:
    row = await handoff_row(db, key)
    may_read(role, row.department)
    return await handoff_detail(gateway, row)


Reason = Annotated[str, Query(max_length=access.MAX_REASON)]


@router.get("/{key}/dossier", responses={404: {"description": "no such handoff or dossier"}})
async def read_dossier(
    key: str, role: CallerRole, db: DatabaseDep, request: Request, reason: Reason = ""
) -> dict[str, Any]:
    """What the department received: a legal referral's evidence dossier (see
    `readmodel.dossier`), or the case summary a risk review opened with."""
    row = await handoff_row(db, key, dossier=True)
    dossier = dossier_of(row, role)
    await record_dossier_read(db, request, row, reason)
    return dossier


@router.get(
    "/{key}/dossier.txt",
    response_class=PlainTextResponse,
    responses={404: {"description": "no such legal referral, or its dossier is not built yet"}},
)
async def print_dossier(
    key: str, role: CallerRole, db: DatabaseDep, request: Request, reason: Reason = ""
) -> PlainTextResponse:
    """A legal referral's dossier as a printable document (fixed-width columns)."""
    row = await handoff_row(db, key, dossier=True)
    dossier = dossier_of(row, role)
    if row.department != "legal":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{key} has no printable dossier")
    await record_dossier_read(db, request, row, reason)
    return PlainTextResponse(render_dossier_text(dossier))


async def record_dossier_read(db: Database, request: Request, row: HandoffRow, reason: str) -> None:
    """The access log's entry for a dossier about to be shown (the console records the same)."""
    person, via = person_of(request)
    why = reason or f"{row.department} handoff work ({row.idempotency_key})"
    await access.record(
        db, person, via, access.Looked.DOSSIER, why, account_no=case_account(row.case_id)
    )


# --- the departments' answers: one route per row of `HANDOFF_ANSWERS` ------------------------


def _add_answer_route(answer: HandoffAnswer) -> None:
    """`POST /handoffs/{key}/<answer>`: the department workflow's update, its input the body."""

    async def give(key: str, body: Any, db: DatabaseDep, gateway: GatewayDep) -> Any:
        await handoff_of(db, key, answer.department)
        return answered(await departments.answer_handoff(gateway, key, answer, body))

    give.__annotations__ = {**give.__annotations__, "body": answer.input_type}
    give.__doc__ = answer.summary
    router.add_api_route(
        f"/{{key}}/{answer.path}",
        give,
        methods=["POST"],
        name=answer.name,
        response_model=answer.result_type,
        dependencies=[Depends(require_roles(*(role for role in Role if role in answer.roles)))],
        responses=REFUSALS,
    )


for _answer in HANDOFF_ANSWERS.values():
    _add_answer_route(_answer)


# --- shared with the console ---------------------------------------------------------------------


def may_read(role: Role, department: str) -> None:
    if not departments.may_read(role, department):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"the {role} role may not read {department} handoffs"
        )


async def handoff_row(db: Database, key: str, *, dossier: bool = False) -> HandoffRow:
    row = await queries.get_handoff(db, key=key, with_dossier=dossier)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no handoff {key}")
    return row


async def handoff_of(db: Database, key: str, department: Department) -> None:
    """404 unless `key` is a handoff to `department`: a risk review takes no legal answer."""
    row = await handoff_row(db, key)
    if row.department != department:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {department} handoff {key}")


async def handoff_detail(gateway: Gateway, row: HandoffRow) -> HandoffDetail:
    """The row and its workflow's live state."""
    view = HandoffView.of(row)
    key = row.idempotency_key
    if row.department == "risk":
        review = await departments.risk_review(gateway, key)
        return HandoffDetail(handoff=view, review=_live(review))
    referral = await departments.legal_referral(gateway, key)
    return HandoffDetail(handoff=view, referral=_live(referral))


def _live(answer: Answer[T]) -> T | None:
    """The workflow's answer; None once Temporal no longer holds it (past its retention)."""
    return None if answer.outcome is Outcome.NOT_FOUND else answered(answer)


def dossier_of(row: HandoffRow, role: Role) -> Dossier:
    if not departments.may_read_dossier(role, row.department):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"the {role} role may not read {row.department} dossiers"
        )
    if row.dossier is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"the dossier of {row.idempotency_key} is not built yet"
        )
    return row.dossier
