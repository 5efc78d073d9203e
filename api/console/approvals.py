"""Maker-checker for supervisors: the requests that wait for a second person, approved (the
action then runs under both names) or rejected with a reason, through `operations.approvals`
with the signed-in person as the checker. What came of it, or why not (their own request, a
request already decided), is shown once on the list.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console.i18n import translator
from api.console.pages import (
    PAGE_SIZE,
    PAGES,
    answered,
    forbidden,
    gateway_of,
    render,
    signed_in,
)
from api.deps import DatabaseDep
from models.contracts import case_account
from operations import approvals
from operations.answers import Answer

router = APIRouter()

BACK = "/console/approvals"


def summary(fields: dict[str, Any]) -> str:
    """An action's input in a line: its fields that say something."""
    return " · ".join(
        f"{name}: {value}" for name, value in fields.items() if value not in (None, "", [], {})
    )


@router.get("/approvals", response_class=HTMLResponse)
async def approvals_page(request: Request, db: DatabaseDep) -> HTMLResponse:
    operator = await signed_in(request)
    if not operator.may(PAGES["approvals"]):
        return forbidden(request, operator)
    rows = [
        (row, case_account(row.case_id), summary(row.input))
        for row in await approvals.pending(db, limit=PAGE_SIZE)
    ]
    return render(request, "approvals.html", operator, rows=rows)


@router.post("/approvals/{approval_id}/{decision}", response_class=HTMLResponse)
async def decide(request: Request, approval_id: int, decision: str, db: DatabaseDep) -> Response:
    """`approve` runs the request as its maker, approved by the signed-in supervisor;
    `reject` declines it with the reason typed."""
    operator = await signed_in(request)
    if not operator.may(PAGES["approvals"]) or decision not in ("approve", "reject"):
        return forbidden(request, operator)
    t = translator(operator.language)
    answer: Answer[Any]
    if decision == "approve":
        gateway = gateway_of(request, operator)
        answer = await approvals.approve(gateway, db, approval_id, operator.person)
        done = answer.unwrap().message if answer.ok else ""
    else:
        reason = str((await request.form()).get("reason", ""))
        answer = await approvals.reject(db, approval_id, operator.person, reason)
        done = t("request_rejected")
    if not answer.ok:
        return answered(BACK, f"{t('error')}: {answer.message}")
    return answered(BACK, f"{approval_id}: {done}")
