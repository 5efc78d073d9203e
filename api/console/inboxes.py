"""The risk and legal inboxes: a department's handoffs in pages (the newest first), a
handoff's page with its dossier (each showing recorded in the access log, as the department's
handoff work), and the department's answers to it.

The answers are `operations.departments.HANDOFF_ANSWERS`; a form's fields and how it is read
follow the answer's input type.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from api import errors
from api.console.forms import (
    FormError,
    a_date,
    minor_units,
    optional_date,
    optional_minor_units,
    posted,
)
from api.console.i18n import translator
from api.console.listing import Columns, pager
from api.console.pages import (
    PAGES,
    Operator,
    answered,
    currency_of,
    forbidden,
    gateway_of,
    refusal,
    render,
    signed_in,
)
from api.deps import DatabaseDep, SettingsDep
from api.routes import handoffs
from models.contracts import case_account
from models.departments import (
    AcceptReferralInput,
    ContactPermissionInput,
    Instalment,
    ProceedingInput,
    ProceedingKind,
    ReturnReferralInput,
    RiskDecision,
    RiskDecisionKind,
)
from operations import access, departments
from operations.departments import HANDOFF_ANSWERS, READERS, HandoffAnswer
from readmodel import queries
from readmodel.dossier_text import render_dossier_text
from readmodel.engine import Database
from readmodel.queries import HandoffSort

router = APIRouter()

# The newest handoff first; by status, in the order a handoff moves through them.
COLUMNS = Columns(HandoffSort.CREATED, frozenset({HandoffSort.CREATED}))

# The form each input type is typed into (`handoff.html` draws its fields by this name).
FORMS: dict[type, str] = {
    RiskDecision: "decision",
    AcceptReferralInput: "accept",
    ReturnReferralInput: "return",
    ProceedingInput: "proceeding",
    ContactPermissionInput: "permission",
}


@router.get("/inbox/{department}", response_class=HTMLResponse)
async def inbox(
    request: Request, department: str, settings: SettingsDep, db: DatabaseDep
) -> HTMLResponse:
    operator = await signed_in(request)
    if department not in READERS or not operator.may(PAGES[department]):
        return forbidden(request, operator)
    try:
        listing = COLUMNS.read(request.query_params)
    except FormError as error:
        code, message = refusal(error, operator)
        return render(request, "error.html", operator, status_code=code, message=message)
    found = await queries.handoff_page(
        db,
        department=department,
        sort=listing.sort,
        descending=listing.descending,
        page=listing.page,
        per_page=listing.per_page,
    )
    return render(
        request,
        "inbox.html",
        operator,
        department=department,
        rows=[handoffs.HandoffView.of(row) for row in found.rows],
        pager=pager(f"/console/inbox/{department}", {}, listing, found),
    )


async def _handoff_page(
    request: Request,
    operator: Operator,
    department: str,
    key: str,
    db: Database,
    *,
    status_code: int = 200,
    refused: dict[str, str] | None = None,
    typed: dict[str, dict[str, str]] | None = None,
) -> HTMLResponse:
    role = operator.acting_as(PAGES[department])
    try:
        row = await handoffs.handoff_row(db, key, dossier=True)
        handoffs.may_read(role, row.department)
        detail = await handoffs.handoff_detail(gateway_of(request, operator), row)
    except HTTPException as error:
        return render(
            request, "error.html", operator, status_code=error.status_code, message=error.detail
        )
    if row.department != department:
        return render(
            request,
            "error.html",
            operator,
            status_code=404,
            message=f"no {department} handoff {key}",
        )
    dossier: dict[str, Any] | None = None
    with contextlib.suppress(HTTPException):
        dossier = handoffs.dossier_of(row, role)
    if dossier is not None:  # about to be shown: recorded first, as the API records it
        why = f"{department} handoff work ({key})"
        await access.record(
            db,
            operator.person,
            "console",
            access.Looked.DOSSIER,
            why,
            account_no=case_account(row.case_id),
        )
    answers = [
        (answer.path, FORMS[answer.input_type])
        for answer in HANDOFF_ANSWERS.values()
        if answer.department == department
        and operator.may(answer.roles)
        and departments.still_takes(answer, review=detail.review, referral=detail.referral)
    ]
    currency = await currency_of(db, handoff_key=key)
    return render(
        request,
        "handoff.html",
        operator,
        status_code=status_code,
        department=department,
        detail=detail,
        dossier=dossier,
        printed=render_dossier_text(dossier) if dossier and department == "legal" else None,
        answers=answers,
        errors=refused or {},
        typed=typed or {},
        decisions=[k.value for k in RiskDecisionKind],
        proceeding_kinds=[k.value for k in ProceedingKind],
        today=datetime.now(UTC).date().isoformat(),
        currency=currency,
    )


@router.get("/inbox/{department}/{key}", response_class=HTMLResponse)
async def handoff_page(
    request: Request, department: str, key: str, settings: SettingsDep, db: DatabaseDep
) -> HTMLResponse:
    operator = await signed_in(request)
    if department not in READERS or not operator.may(PAGES[department]):
        return forbidden(request, operator)
    return await _handoff_page(request, operator, department, key, db)


def _answer_input(answer: HandoffAnswer, form: dict[str, str], staff: str, currency: str) -> object:
    """The update's input from the form, by its type; `FormError` for a value it cannot read."""
    kind = answer.input_type
    if kind is RiskDecision:
        decision = form.get("kind", "")
        if decision not in RiskDecisionKind.__members__.values():
            raise FormError("decision", "not_a_decision")
        instalments = []
        for line in filter(None, (s.strip() for s in form.get("instalments", "").splitlines())):
            when, _, amount = line.partition(" ")
            due = a_date(when, "instalments")
            instalments.append(Instalment(due, minor_units(amount, currency, "instalments")))
        return RiskDecision(
            kind=RiskDecisionKind(decision),
            decided_by=staff,
            reason=form.get("reason", ""),
            forbearance_until=optional_date(form.get("forbearance_until", ""), "forbearance_until"),
            instalments=tuple(instalments),
        )
    if kind is AcceptReferralInput:
        return AcceptReferralInput(by=staff, note=form.get("note", ""))
    if kind is ReturnReferralInput:
        return ReturnReferralInput(by=staff, reason=form.get("reason", ""))
    if kind is ProceedingInput:
        proceeding = form.get("kind", "")
        if proceeding not in ProceedingKind.__members__.values():
            raise FormError("proceeding", "not_a_proceeding")
        return ProceedingInput(
            kind=ProceedingKind(proceeding),
            on=a_date(form.get("on", ""), "on_date"),
            by=staff,
            note=form.get("note", ""),
            amount_minor=optional_minor_units(form.get("amount", ""), currency),
        )
    if kind is ContactPermissionInput:
        return ContactPermissionInput(
            allowed=form.get("allowed") == "on", by=staff, reason=form.get("reason", "")
        )
    raise FormError("action", "unknown")


@router.post("/inbox/{department}/{key}/{path}", response_class=HTMLResponse)
async def handoff_answer(
    request: Request,
    department: str,
    key: str,
    path: str,
    settings: SettingsDep,
    db: DatabaseDep,
) -> Response:
    operator = await signed_in(request)
    answer = HANDOFF_ANSWERS.get(path)
    if answer is None or answer.department != department or not operator.may(answer.roles):
        return forbidden(request, operator)
    form = await posted(request)
    currency = await currency_of(db, handoff_key=key)
    t = translator(operator.language)
    try:
        body = _answer_input(answer, form, operator.staff, currency)
        await handoffs.handoff_of(db, key, answer.department)
        errors.answered(
            await departments.answer_handoff(gateway_of(request, operator), key, answer, body)
        )
    except (FormError, HTTPException) as error:
        code, message = refusal(error, operator)
        return await _handoff_page(
            request,
            operator,
            department,
            key,
            db,
            status_code=code,
            refused={path: message},
            typed={path: form},
        )
    label = t("proceeding") if path == "proceedings" else t(path.replace("-", "_"))
    return answered(f"/console/inbox/{department}/{quote(key)}", f"{label}: {t('done')}")
