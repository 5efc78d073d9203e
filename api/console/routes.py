"""The web console: server-rendered pages over the application layer.

Every action a page takes is a row of the same catalogue its API route is made from
(`operations.catalogue.CASE_ACTIONS`, `operations.departments.HANDOFF_ANSWERS`) and goes
through the same use cases (`operations.cases`, `operations.departments`), so the console
follows the same rules and the workflows' validators refuse bad input for both; a refusal
is shown beside the form that caused it, with what was typed kept. After an action the page
redirects (post/redirect/get) and shows the workflow's answer once, so a reload never sends
an action twice.

Sign-in takes a role's key, as the API does, and a staff ID: keys are shared per role, so the
staff ID is what the console records as who claimed, completed, decided or accepted.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api import errors
from api.auth import SESSION_COOKIE, roles_of
from api.console import charts
from api.console.forms import (
    FormError,
    a_date,
    minor_units,
    optional_date,
    optional_minor_units,
)
from api.console.i18n import DEFAULT_LANGUAGE, LANGUAGES, STAGES, next_action, translator
from api.deps import DatabaseDep, SettingsDep, get_gateway, get_gateway_or_none
from api.routes import handoffs, tasks
from api.routes.cases import MAX_DAYS_PAST_DUE, case_timeline, case_view
from config.settings import Settings
from models.contracts import (
    ChannelInput,
    CloseInput,
    ClosureReason,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
    Stage,
    case_id,
)
from models.departments import (
    OUTCOMES,
    AcceptReferralInput,
    CompleteTaskInput,
    ContactPermissionInput,
    FieldVisitReport,
    Instalment,
    ProceedingInput,
    ProceedingKind,
    ReturnReferralInput,
    RiskDecision,
    RiskDecisionKind,
    TaskOutcome,
    TaskStatus,
)
from models.money import amounts_in_words, money
from models.strategy import Channel, Segment
from models.visibility import BANDS, band_range
from operations import cases, departments
from operations.catalogue import CASE_ACTIONS, CaseAction
from operations.departments import HANDOFF_ANSWERS, READERS, HandoffAnswer
from operations.gateway import Gateway
from operations.roles import Role
from readmodel import queries
from readmodel.dossier_text import render_dossier_text
from readmodel.engine import Database
from readmodel.kpis import DELINQUENT


def same_site_forms(request: Request) -> None:
    """Refuses a form posted from another site's page, behind the `SameSite=Strict` cookie (which
    older or misconfigured browsers may not honour). A browser names the page a form came from
    (`Origin`, else `Referer`); a page of this console has this host (or the host a balancer
    says it forwarded). A request that names no page is not a browser's form: its key decides."""
    if request.method != "POST":
        return
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return
    hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")} - {None}
    if urlsplit(source).netloc not in hosts:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a form posted from another site")


router = APIRouter(
    prefix="/console", include_in_schema=False, dependencies=[Depends(same_site_forms)]
)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["money"] = money
templates.env.globals["next_action"] = next_action
templates.env.filters["amounts"] = amounts_in_words
templates.env.filters["unquote"] = unquote

STAFF_COOKIE = "collections_staff"
LANGUAGE_COOKIE = "collections_lang"
FLASH_COOKIE = "collections_flash"
COOKIE_LIFETIME = 8 * 3600  # a working day
DUE_SOON = timedelta(hours=4)
PAGE_SIZE = 200

COLLECTORS = frozenset({Role.OPERATIONS, Role.SUPERVISOR})
EVERYONE = frozenset(Role)
# Who opens which page; the inboxes follow the API's own readers.
PAGES: dict[str, frozenset[Role]] = {
    "cases": EVERYONE,
    "tasks": COLLECTORS,
    "risk": READERS["risk"],
    "legal": READERS["legal"],
    "dashboard": EVERYONE,
}
# The role an API function is called as, when a key holds several: the one that sees the most.
ROLE_ORDER = (Role.SUPERVISOR, Role.OPERATIONS, Role.RISK, Role.LEGAL, Role.ENGINEER)


@dataclass(frozen=True)
class Operator:
    roles: frozenset[Role]
    staff: str
    language: str

    def may(self, allowed: frozenset[Role]) -> bool:
        return bool(self.roles & allowed)

    def acting_as(self, allowed: frozenset[Role] = EVERYONE) -> Role:
        return next(role for role in ROLE_ORDER if role in self.roles and role in allowed)


class SignInFirst(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


def _language(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE, DEFAULT_LANGUAGE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def signed_in(request: Request, settings: Settings) -> Operator:
    key = request.cookies.get(SESSION_COOKIE, "")
    roles = frozenset(Role(r) for r in roles_of(settings, key) if r in Role.__members__.values())
    staff = request.cookies.get(STAFF_COOKIE, "")
    if not roles or not staff:
        raise SignInFirst(request.url.path)
    return Operator(roles=roles, staff=staff, language=_language(request))


async def sign_in_first(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInFirst)
    return RedirectResponse(
        f"/console/signin?{urlencode({'next': exc.path})}", status.HTTP_303_SEE_OTHER
    )


def render(
    request: Request,
    template: str,
    operator: Operator | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    language = operator.language if operator else _language(request)
    nav = [page for page, who in PAGES.items() if operator and operator.may(who)]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "op": operator,
            "t": translator(language),
            "language": language,
            "nav": nav,
            "path": request.url.path,
            "flash": request.cookies.get(FLASH_COOKIE, ""),
            "stages": STAGES,
            **context,
        },
        status_code=status_code,
    )
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/console")
    return response


def forbidden(request: Request, operator: Operator) -> HTMLResponse:
    return render(request, "forbidden.html", operator, status_code=status.HTTP_403_FORBIDDEN)


def refusal(error: FormError | HTTPException, operator: Operator) -> tuple[int, str]:
    """The status and the message to show beside the form: the console's own reading of a
    field, or the API's (the workflow's) refusal as it stands."""
    if isinstance(error, FormError):
        t = translator(operator.language)
        return status.HTTP_400_BAD_REQUEST, f"{t(error.field)}: {t(error.reason)}"
    return error.status_code, str(error.detail)


def answered(to: str, message: str) -> RedirectResponse:
    """Back to the page, with the workflow's answer shown there once."""
    response = RedirectResponse(to, status.HTTP_303_SEE_OTHER)
    response.set_cookie(FLASH_COOKIE, quote(message), path="/console", httponly=True)
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


# --- sign-in ------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def home() -> Response:
    return RedirectResponse("/console/cases", status.HTTP_303_SEE_OTHER)


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, next: str = "/console/cases") -> HTMLResponse:
    return render(request, "signin.html", None, next=_local(next))


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request, settings: SettingsDep) -> Response:
    form = await request.form()
    key, staff = str(form.get("key", "")), str(form.get("staff", "")).strip()
    target = _local(str(form.get("next", "/console/cases")))
    if not roles_of(settings, key) or not staff or len(staff) > 64:
        return render(
            request, "signin.html", None, status_code=403, next=target, error="unknown_key"
        )
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    for name, value in ((SESSION_COOKIE, key), (STAFF_COOKIE, staff)):
        response.set_cookie(
            name,
            value,
            max_age=COOKIE_LIFETIME,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
        )
    return response


@router.post("/signout")
async def signout() -> Response:
    response = RedirectResponse("/console/signin", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(STAFF_COOKIE)
    return response


@router.get("/language/{language}")
async def choose_language(language: str, next: str = "/console/cases") -> Response:
    response = RedirectResponse(_local(next), status.HTTP_303_SEE_OTHER)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


def _local(path: str) -> str:
    """Only a path of this console: a sign-in link cannot send anyone elsewhere."""
    return path if path.startswith("/console") and "//" not in path else "/console/cases"


# --- cases --------------------------------------------------------------------------------------


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
    operator = signed_in(request, settings)
    if not operator.may(PAGES["cases"]):
        return forbidden(request, operator)
    try:
        low_dpd, high_dpd = _days_past_due(min_dpd, "min_dpd"), _days_past_due(max_dpd, "max_dpd")
    except FormError as error:
        code, message = refusal(error, operator)
        return render(request, "error.html", operator, status_code=code, message=message)
    low, high = band_range(band) if band in BANDS else (None, None)
    rows = await queries.search_cases(
        db,
        account_prefix=account.strip(),
        stage=stage if stage in STAGES else None,
        segment=segment if segment in Segment.__members__.values() else None,
        min_dpd=low_dpd,
        max_dpd=high_dpd,
        min_outstanding_minor=low,
        below_outstanding_minor=high,
        limit=PAGE_SIZE,
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
        rows=rows,
        filters=filters,
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


# The operator actions are `operations.catalogue.CASE_ACTIONS`; a form is read by its input type.
MANUAL_CLOSURES = [
    r.value for r in ClosureReason if r not in (ClosureReason.PAID, ClosureReason.CURED)
]


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
    if kind is CloseInput:
        closure = form.get("closure", "")
        if closure not in MANUAL_CLOSURES:
            raise FormError("closure", "not_a_closure")
        return CloseInput(ClosureReason(closure), form.get("note", ""))
    raise FormError("action", "unknown")


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
    allowed = [name for name, action in CASE_ACTIONS.items() if operator.may(action.roles)]
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
    )


@router.get("/cases/{account_no}", response_class=HTMLResponse)
async def case_page(
    request: Request, account_no: str, settings: SettingsDep, db: DatabaseDep
) -> HTMLResponse:
    operator = signed_in(request, settings)
    if not operator.may(PAGES["cases"]):
        return forbidden(request, operator)
    return await _case_page(request, operator, account_no, db, _gateway(request), settings)


@router.post("/cases/{account_no}/{name}", response_class=HTMLResponse)
async def case_action(
    request: Request, account_no: str, name: str, settings: SettingsDep, db: DatabaseDep
) -> Response:
    operator = signed_in(request, settings)
    action = CASE_ACTIONS.get(name)
    if action is None or not operator.may(action.roles):
        return forbidden(request, operator)
    form = {k: str(v) for k, v in (await request.form()).items()}
    gateway = _gateway(request)
    row = await queries.get_case(db, account_no=account_no)
    currency = row.currency if row else "CNY"
    try:
        body = _case_input(action, form, currency)
        result = errors.answered(await cases.act(gateway, account_no, action, body))
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
    return answered(f"/console/cases/{quote(account_no)}", result.message)


def _gateway(request: Request) -> Gateway:
    """The API's gateway (503 while Temporal is unreachable), asked for only once the operator
    is known to be signed in and allowed: a signed-out browser is sent to sign in either way."""
    return get_gateway(get_gateway_or_none(request))


# --- tasks --------------------------------------------------------------------------------------


@router.get("/tasks", response_class=HTMLResponse)
async def task_list(
    request: Request, settings: SettingsDep, db: DatabaseDep, view: str = "mine"
) -> HTMLResponse:
    operator = signed_in(request, settings)
    if not operator.may(PAGES["tasks"]):
        return forbidden(request, operator)
    active = [TaskStatus.OPEN.value, TaskStatus.CLAIMED.value]
    if view == "mine":
        rows = await queries.list_tasks(db, status=active, assignee=operator.staff, limit=PAGE_SIZE)
    else:
        queues = (
            ["operations", "supervisor"] if Role.SUPERVISOR in operator.roles else ["operations"]
        )
        rows = await queries.list_tasks(db, status=active, queue=queues, limit=PAGE_SIZE)
    now = datetime.now(UTC)
    urgency = {
        row.idempotency_key: "overdue"
        if row.deadline < now
        else "soon"
        if row.deadline < now + DUE_SOON
        else ""
        for row in rows
    }
    return render(
        request,
        "tasks.html",
        operator,
        rows=rows,
        view=view,
        urgency=urgency,
        outcomes={kind.value: [o.value for o in found] for kind, found in OUTCOMES.items()},
    )


@router.post("/tasks/{verb}", response_class=HTMLResponse)
async def task_action(
    request: Request, verb: str, settings: SettingsDep, db: DatabaseDep
) -> Response:
    operator = signed_in(request, settings)
    if not operator.may(PAGES["tasks"]) or verb not in ("claim", "complete"):
        return forbidden(request, operator)
    form = {k: str(v) for k, v in (await request.form()).items()}
    key = form.get("task_key", "")
    back = f"/console/tasks?view={quote(form.get('view', 'mine'))}"
    role = operator.acting_as(COLLECTORS)
    gateway = _gateway(request)
    try:
        row = await tasks.task_for(db, key, role)
        if verb == "claim":
            claimed = await departments.claim_task(gateway, row.case_id, key, operator.staff)
            result = errors.answered(claimed)
        else:
            outcome = form.get("outcome", "")
            if outcome not in TaskOutcome.__members__.values():
                raise FormError("outcome", "not_an_outcome")
            visit = None
            if form.get("second_collector", "").strip():
                visit = FieldVisitReport(
                    collectors=(operator.staff, form["second_collector"].strip()),
                    consent_to_enter=form.get("consent") == "on",
                )
            report = CompleteTaskInput(
                task_key=key,
                collector=operator.staff,
                outcome=TaskOutcome(outcome),
                note=form.get("note", ""),
                promised_amount_minor=optional_minor_units(
                    form.get("promised_amount", ""), await _currency_of(db, task_key=key)
                ),
                promised_date=optional_date(form.get("promised_date", ""), "promised_date"),
                visit=visit,
            )
            result = errors.answered(await departments.complete_task(gateway, row.case_id, report))
    except (FormError, HTTPException) as error:
        _, message = refusal(error, operator)
        return answered(back, f"{translator(operator.language)('error')}: {message}")
    return answered(back, result.message)


# --- the risk and legal inboxes ------------------------------------------------------------------


@router.get("/inbox/{department}", response_class=HTMLResponse)
async def inbox(
    request: Request, department: str, settings: SettingsDep, db: DatabaseDep
) -> HTMLResponse:
    operator = signed_in(request, settings)
    if department not in READERS or not operator.may(PAGES[department]):
        return forbidden(request, operator)
    found = await queries.list_handoffs(
        db, department=[department], newest_first=True, limit=PAGE_SIZE, with_dossier=False
    )
    rows = [handoffs.HandoffView.of(row) for row in found]
    return render(request, "inbox.html", operator, department=department, rows=rows)


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
        detail = await handoffs.handoff_detail(_gateway(request), row)
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
    answers = [
        answer.path
        for answer in HANDOFF_ANSWERS.values()
        if answer.department == department
        and operator.may(answer.roles)
        and departments.still_takes(answer, review=detail.review, referral=detail.referral)
    ]
    currency = await _currency_of(db, handoff_key=key)
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


async def _currency_of(
    db: Database, *, task_key: str | None = None, handoff_key: str | None = None
) -> str:
    """The currency of the account whose case holds the task or handoff: amounts on its
    forms are typed in it."""
    found = await queries.case_currency(db, task_key=task_key, handoff_key=handoff_key)
    return found or "CNY"


@router.get("/inbox/{department}/{key}", response_class=HTMLResponse)
async def handoff_page(
    request: Request, department: str, key: str, settings: SettingsDep, db: DatabaseDep
) -> HTMLResponse:
    operator = signed_in(request, settings)
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
    operator = signed_in(request, settings)
    answer = HANDOFF_ANSWERS.get(path)
    if answer is None or answer.department != department or not operator.may(answer.roles):
        return forbidden(request, operator)
    form = {k: str(v) for k, v in (await request.form()).items()}
    currency = await _currency_of(db, handoff_key=key)
    t = translator(operator.language)
    try:
        body = _answer_input(answer, form, operator.staff, currency)
        await handoffs.handoff_of(db, key, answer.department)
        errors.answered(await departments.answer_handoff(_gateway(request), key, answer, body))
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


# --- the dashboard ------------------------------------------------------------------------------


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request, settings: SettingsDep, db: DatabaseDep, window: int = 30
) -> HTMLResponse:
    operator = signed_in(request, settings)
    if not operator.may(PAGES["dashboard"]):
        return forbidden(request, operator)
    days = min(max(window, 1), 3660)
    kpis = await queries.center_kpis(db, now=datetime.now(UTC), window=timedelta(days=days))
    t = translator(operator.language)
    rates = [
        ("cure_rate", kpis.cure),
        ("promise_kept_rate", kpis.promise_kept),
        ("rpc_rate", kpis.right_party_contact),
    ]
    drawn = {
        "stage": charts.bar_chart(
            "stage", [(t(stage), float(n)) for stage, n in kpis.by_stage.items()]
        ),
        "bucket": charts.bar_chart(
            "bucket", [(bucket, float(n)) for bucket, n in kpis.by_bucket.items()]
        ),
        "roll": charts.bar_chart(
            "roll",
            [(f"{r.bucket} →", r.rolled.value or 0.0) for r in kpis.roll_rates],
            shown=[_rate_text(r.rolled.numerator, r.rolled.denominator) for r in kpis.roll_rates],
            maximum=1.0,
        ),
        "rates": charts.bar_chart(
            "rates",
            [(t(name), rate.value or 0.0) for name, rate in rates],
            shown=[_rate_text(rate.numerator, rate.denominator) for _, rate in rates],
            maximum=1.0,
        ),
        "refusals": charts.bar_chart(
            "refusals", [(t(reason, "refusal"), float(n)) for reason, n in kpis.refusals.items()]
        ),
    }
    return render(
        request,
        "dashboard.html",
        operator,
        kpis=kpis,
        charts=drawn,
        window=days,
        delinquent=[b.value for b in DELINQUENT],
        stage_names=[s.value for s in Stage],
    )


def _rate_text(numerator: int, denominator: int) -> str:
    if not denominator:
        return "–"
    return f"{numerator / denominator:.0%} ({numerator}/{denominator})"
