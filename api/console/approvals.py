"""Maker-checker for supervisors: the requests that wait for a second person, in pages, the
longest waiting first, approved (the action then runs under both names) or rejected with a
reason, through `operations.approvals` with the signed-in person as the checker. What came of
it, or why not (their own request, a request already decided), is shown once on the page of the
list it was decided from.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console.forms import FormError, posted
from api.console.i18n import translator
from api.console.listing import Columns, pager
from api.console.pages import (
    PAGES,
    answered,
    forbidden,
    gateway_of,
    refusal,
    render,
    signed_in,
)
from api.deps import DatabaseDep
from models.contracts import case_account
from operations import approvals
from operations.answers import Answer

router = APIRouter()

BACK = "/console/approvals"
# What a decision keeps of the list it was made from, to go back to it.
LIST_FIELDS = ("page", "per_page", "order")


class ApprovalSort(StrEnum):
    REQUESTED = "requested"


# The request that has waited longest first: checkers work the queue from its front.
COLUMNS = Columns(ApprovalSort.REQUESTED, frozenset())


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
    try:
        listing = COLUMNS.read(request.query_params)
    except FormError as error:
        code, message = refusal(error, operator)
        return render(request, "error.html", operator, status_code=code, message=message)
    found = await approvals.pending_page(
        db, descending=listing.descending, page=listing.page, per_page=listing.per_page
    )
    rows = [(row, case_account(row.case_id), summary(row.input)) for row in found.rows]
    return render(
        request, "approvals.html", operator, rows=rows, pager=pager(BACK, {}, listing, found)
    )


@router.post("/approvals/{approval_id}/{decision}", response_class=HTMLResponse)
async def decide(request: Request, approval_id: int, decision: str, db: DatabaseDep) -> Response:
    """`approve` runs the request as its maker, approved by the signed-in supervisor;
    `reject` declines it with the reason typed."""
    operator = await signed_in(request)
    if not operator.may(PAGES["approvals"]) or decision not in ("approve", "reject"):
        return forbidden(request, operator)
    t = translator(operator.language)
    form = await posted(request)
    kept = urlencode({k: form[k] for k in LIST_FIELDS if form.get(k)})
    back = f"{BACK}?{kept}" if kept else BACK
    answer: Answer[Any]
    if decision == "approve":
        gateway = gateway_of(request, operator)
        answer = await approvals.approve(gateway, db, approval_id, operator.person)
        done = answer.unwrap().message if answer.ok else ""
    else:
        answer = await approvals.reject(db, approval_id, operator.person, form.get("reason", ""))
        done = t("request_rejected")
    if not answer.ok:
        return answered(back, f"{t('error')}: {answer.message}")
    return answered(back, f"{approval_id}: {done}")
