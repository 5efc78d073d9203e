"""The complaint register as a page, for supervisors: open ones first by deadline, overdue
marked, each linked to its case, where it is answered."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.console.pages import PAGES, forbidden, render, signed_in
from api.deps import DatabaseDep
from models.contracts import case_account
from operations import access
from readmodel.complaints import SHOWN, Show

router = APIRouter()


@router.get("/complaints", response_class=HTMLResponse)
async def complaints_page(
    request: Request,
    db: DatabaseDep,
    show: Show = "open",
) -> HTMLResponse:
    operator = await signed_in(request)
    if not operator.may(PAGES["complaints"]):
        return forbidden(request, operator)
    now = datetime.now(UTC)
    rows = await access.read_complaint_register(
        db, operator.person, "console", show=show, now=now, limit=500
    )
    return render(
        request,
        "complaints.html",
        operator,
        rows=[(row, case_account(row.case_id), row.overdue(now)) for row in rows],
        show=show,
        shown=SHOWN,
    )
