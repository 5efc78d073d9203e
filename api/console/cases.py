"""The cases: the search, a case's page and the operator actions on it.

The actions are `operations.catalogue.CASE_ACTIONS`; a form's fields and how it is read follow
the action's input type, so an action taking a type already here needs no change in this
module or its template.

A customer's name and phone number are not on the case's page until asked for with a reason;
the access log records the look first (`operations.access`), and supervisors see on the page
who looked, when and why.
"""

from __future__ import annotations

import contextlib
from enum import StrEnum
from typing import TypeVar
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from api.console.forms import FormError, a_date, minor_units, posted
from api.console.i18n import STAGES
from api.console.listing import Columns, pager
from api.console.pages import (
    PAGES,
    Operator,
    answered,
    forbidden,
    gateway_of,
    refusal,
    render,
    said,
    signed_in,
)
from api.deps import DatabaseDep, SettingsDep
from api.routes.cases import MAX_DAYS_PAST_DUE, case_timeline, case_view
from config.settings import Settings
from models.complaints import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintInput,
    ComplaintOutcome,
    ResolveComplaintInput,
)
from models.contact_details import (
    ChangeAddressInput,
    ChangeMobileInput,
    ContactSource,
    WrongNumberInput,
)
from models.contracts import (
    ChannelInput,
    CloseInput,
    ClosureReason,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
    case_id,
)
from models.strategy import Channel, Segment
from models.visibility import BANDS, band_range
from operations import access, cases
from operations.access import ContactDetails
from operations.catalogue import CASE_ACTIONS, CaseAction
from operations.gateway import Gateway
from operations.roles import Role
from readmodel import queries
from readmodel.engine import Database
from readmodel.queries import CaseSort

router = APIRouter()

# The form each input type is typed into (`case.html` draws its fields by this name).
FORMS: dict[type, str] = {
    RecordPaymentInput: "payment",
    PromiseToPayInput: "promise",
    ReasonInput: "reason",
    ChannelInput: "channel",
    ResolveDisputeInput: "resolve",
    CloseInput: "close",
    ComplaintInput: "complaint",
    ResolveComplaintInput: "answer",
    ChangeMobileInput: "mobile",
    ChangeAddressInput: "address",
    WrongNumberInput: "wrong_number",
}
MANUAL_CLOSURES = [
    r.value for r in ClosureReason if r not in (ClosureReason.PAID, ClosureReason.CURED)
]
# Who may see a customer's name and phone number (each look recorded), and who sees the record.
REVEALERS = frozenset({Role.OPERATIONS, Role.SUPERVISOR, Role.LEGAL})
AUDITORS = frozenset({Role.SUPERVISOR})
OTHER_REASON = "other"
# Most recently changed first; a column first sorted from the oldest, largest debts down.
COLUMNS = Columns(
    CaseSort.UPDATED,
    frozenset({CaseSort.DAYS_PAST_DUE, CaseSort.OUTSTANDING, CaseSort.OVERDUE, CaseSort.UPDATED}),
)


@router.get("/cases", response_class=HTMLResponse)
async def case_list(
    request: Request,
    settings: SettingsDep,
    db: DatabaseDep,
    account: str = "",
    stage: str = "",
    segment: str = "",
    min_dpd: str = "",
    max_dpd: str = "",
    band: str = "",
) -> HTMLResponse:
    operator = await signed_in(request)
    if not operator.may(PAGES["cases"]):
        return forbidden(request, operator)
    try:
        low_dpd, high_dpd = _days_past_due(min_dpd, "min_dpd"), _days_past_due(max_dpd, "max_dpd")
        listing = COLUMNS.read(request.query_params)
    except FormError as error:
        code, message = refusal(error, operator)
        return render(request, "error.html", operator, status_code=code, message=message)
    low, high = band_range(band) if band in BANDS else (None, None)
    where = queries.CaseFilter(
        account_prefix=account.strip(),
        stage=stage if stage in STAGES else None,
        segment=segment if segment in Segment.__members__.values() else None,
        min_dpd=low_dpd,
        max_dpd=high_dpd,
        min_outstanding_minor=low,
        below_outstanding_minor=high,
    )
    found = await queries.case_page(
        db,
        where=where,
        sort=listing.sort,
        descending=listing.descending,
        page=listing.page,
        per_page=listing.per_page,
    )
    filters = {
        "account": account,
        "stage": stage,
        "segment": segment,
        "min_dpd": min_dpd,
        "max_dpd": max_dpd,
        "band": band,
    }
    return render(
        request,
        "cases.html",
        operator,
        rows=found.rows,
        filters=filters,
        pager=pager("/console/cases", filters, listing, found),
        segments=[s.value for s in Segment],
        bands=BANDS,
    )


def _days_past_due(raw: str, field: str) -> int | None:
    """A days-past-due filter, blank for none; out of the API's range it names the range."""
    text = raw.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_DAYS_PAST_DUE:
        raise FormError(field, f"0–{MAX_DAYS_PAST_DUE}")
    return int(text)


def _case_input(action: CaseAction, form: dict[str, str], currency: str) -> object:
    """The update's input from the form; `FormError` for a value that cannot be read."""
    reason = form.get("reason", "")
    kind = action.input_type
    if kind is RecordPaymentInput:
        return RecordPaymentInput(
            minor_units(form.get("amount", ""), currency),
            currency,
            form.get("payment_ref", "").strip(),
            overpayment=form.get("overpayment") == "on",
        )
    if kind is PromiseToPayInput:
        amount = minor_units(form.get("amount", ""), currency)
        promised = a_date(form.get("promised_date", ""), "promised_date")
        return PromiseToPayInput(amount, currency, promised, form.get("note", ""))
    if kind is ReasonInput:
        return ReasonInput(reason=reason)
    if kind is ChannelInput:
        channel = form.get("channel", "")
        if channel not in Channel.__members__.values():
            raise FormError("channel", "not_a_channel")
        return ChannelInput(Channel(channel), reason)
    if kind is ResolveDisputeInput:
        return ResolveDisputeInput(upheld=form.get("upheld") == "on", reason=reason)
    if kind is ComplaintInput:
        category = _choice(form, "category", ComplaintCategory)
        channel = _choice(form, "complaint_channel", ComplaintChannel)
        return ComplaintInput(category, channel, form.get("asks", ""))
    if kind is ResolveComplaintInput:
        outcome = _choice(form, "outcome", ComplaintOutcome)
        return ResolveComplaintInput(form.get("key", ""), outcome, form.get("response", ""))
    if kind is ChangeMobileInput:
        source = _choice(form, "source", ContactSource)
        return ChangeMobileInput(form.get("mobile", "").strip(), source, "verified" in form)
    if kind is ChangeAddressInput:
        source = _choice(form, "source", ContactSource)
        return ChangeAddressInput(form.get("address", "").strip(), source, "verified" in form)
    if kind is WrongNumberInput:
        return WrongNumberInput(reason)
    if kind is CloseInput:
        closure = form.get("closure", "")
        if closure not in MANUAL_CLOSURES:
            raise FormError("closure", "not_a_closure")
        return CloseInput(ClosureReason(closure), form.get("note", ""))
    raise FormError("action", "unknown")


E = TypeVar("E", bound=StrEnum)


def _choice(form: dict[str, str], name: str, choices: type[E]) -> E:
    """One of `choices` from a select; `FormError` naming the field for anything else."""
    value = form.get(name, "")
    if value not in choices.__members__.values():
        raise FormError(name, "not_a_choice")
    return choices(value)


async def _case_page(
    request: Request,
    operator: Operator,
    account_no: str,
    db: Database,
    gateway: Gateway,
    settings: Settings,
    *,
    status_code: int = 200,
    refused: dict[str, str] | None = None,
    typed: dict[str, dict[str, str]] | None = None,
    contact: ContactDetails | None = None,
) -> HTMLResponse:
    try:
        view = await case_view(db, gateway, account_no)
    except HTTPException as error:
        return render(
            request,
            "error.html",
            operator,
            status_code=error.status_code,
            message=error.detail,
        )
    timeline = []
    with contextlib.suppress(HTTPException):
        timeline = await case_timeline(db, gateway, account_no)
    attempts = await queries.list_attempts(db, case_id=case_id(account_no))
    row, live = view.case, view.status
    currency = live.currency if live else row.currency if row else "CNY"
    history = (
        f"{settings.web_ui_url}/namespaces/{quote(settings.temporal_namespace)}"
        f"/workflows/{quote(case_id(account_no))}"
    )
    unanswered = bool(live and live.open_complaints)
    allowed = [
        (name, FORMS[action.input_type])
        for name, action in CASE_ACTIONS.items()
        if operator.may(action.roles)
        and (action.input_type is not ResolveComplaintInput or unanswered)
    ]
    return render(
        request,
        "case.html",
        operator,
        status_code=status_code,
        account_no=account_no,
        row=row,
        live=live,
        currency=currency,
        timeline=list(reversed(timeline)),
        attempts=attempts,
        history_url=history,
        actions=allowed if live is not None else [],
        errors=refused or {},
        typed=typed or {},
        channels=[c.value for c in Channel],
        closures=MANUAL_CLOSURES,
        complaint_categories=[c.value for c in ComplaintCategory],
        complaint_channels=[c.value for c in ComplaintChannel],
        complaint_outcomes=[c.value for c in ComplaintOutcome],
        contact_sources=[c.value for c in ContactSource],
        reveal=operator.may(REVEALERS),
        reasons=access.REASONS,
        contact=contact,
        seen=await access.who_saw(db, account_no) if operator.may(AUDITORS) else None,
    )


@router.get("/cases/{account_no}", response_class=HTMLResponse)
async def case_page(
    request: Request, account_no: str, settings: SettingsDep, db: DatabaseDep
) -> HTMLResponse:
    operator = await signed_in(request)
    if not operator.may(PAGES["cases"]):
        return forbidden(request, operator)
    return await _case_page(
        request, operator, account_no, db, gateway_of(request, operator), settings
    )


@router.post("/cases/{account_no}/contact-details", response_class=HTMLResponse)
async def contact_details(
    request: Request, account_no: str, settings: SettingsDep, db: DatabaseDep
) -> HTMLResponse:
    """The customer's name and phone number, on this answer's page only (never in a redirect,
    a cookie or the flash), once the access log has recorded who looked and why."""
    operator = await signed_in(request)
    if not operator.may(REVEALERS):
        return forbidden(request, operator)
    form = await posted(request)
    chosen = form.get("reason", "")
    reason = form.get("other_reason", "") if chosen == OTHER_REASON else chosen
    gateway = gateway_of(request, operator)
    try:
        found = await access.reveal_contact_details(
            db, operator.person, "console", account_no, reason
        )
    except access.ReasonRequired as error:
        return await _case_page(
            request,
            operator,
            account_no,
            db,
            gateway,
            settings,
            status_code=400,
            refused={"contact": str(error)},
            typed={"contact": form},
        )
    if found is None:
        missing = {"contact": f"no customer for account {account_no}"}
        return await _case_page(
            request, operator, account_no, db, gateway, settings, status_code=404, refused=missing
        )
    page = await _case_page(request, operator, account_no, db, gateway, settings, contact=found)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.post("/cases/{account_no}/{name}", response_class=HTMLResponse)
async def case_action(
    request: Request, account_no: str, name: str, settings: SettingsDep, db: DatabaseDep
) -> Response:
    operator = await signed_in(request)
    action = CASE_ACTIONS.get(name)
    if action is None or not operator.may(action.roles):
        return forbidden(request, operator)
    form = await posted(request)
    gateway = gateway_of(request, operator)
    row = await queries.get_case(db, account_no=account_no)
    currency = row.currency if row else "CNY"
    try:
        body = _case_input(action, form, currency)
        message = said(await cases.act(gateway, db, account_no, action, body))
    except (FormError, HTTPException) as error:
        code, message = refusal(error, operator)
        return await _case_page(
            request,
            operator,
            account_no,
            db,
            gateway,
            settings,
            status_code=code,
            refused={name: message},
            typed={name: form},
        )
    return answered(f"/console/cases/{quote(account_no)}", message)
