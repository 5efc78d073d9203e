"""A task worked on one page (`/console/tasks/<task>/work`): the task and who holds it, the case
in brief, its past attempts and tasks, whether the customer may be called now and when next
(`api.console.call_window`, which says where each of its inputs comes from), the call script for
the case's stage in the customer's language (`config/scripts.toml`), and the forms: the outcome
(right-party contact, the call's length, a promise, a note) and, for a field visit, its booking
and the collectors at the door. Each form goes through the same use case as the API's route
(`operations.departments`); a refusal shows beside its form with what was typed.

The customer's name and number are not on the page until the collector presses "Reveal": the
access log records who looked and for which task first (`operations.access`, as a case's page
does), and they are then on that answer's page only: never in a URL, a redirect, the flash or a
log. Whoever opens the task list opens a task's page, for the queues they work (a collector the
operations queue only), as the list and the API decide (`api.routes.tasks.task_for`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlmodel import select

from api.console.call_window import CallWindow, call_window, rules_of_case
from api.console.cases import REVEALERS
from api.console.forms import FormError, a_date, posted
from api.console.pages import (
    COLLECTORS,
    PAGES,
    Operator,
    answered,
    currency_of,
    forbidden,
    gateway_of,
    refusal,
    render,
    said,
    signed_in,
)
from api.console.tasks import completion
from api.deps import DatabaseDep, SettingsDep
from api.routes.cases import case_view
from api.routes.tasks import task_for
from config.scripts import Line, current_scripts
from config.settings import Settings
from models.contracts import ActionResult
from models.money import money
from models.tasks import (
    OUTCOMES,
    ClaimTaskInput,
    PlaceCallInput,
    TaskKind,
    TaskStatus,
    VisitCheckInput,
    VisitSlotInput,
)
from operations import access, departments
from operations.access import ContactDetails
from operations.answers import Answer
from operations.catalogue import TASK_ACTIONS
from operations.gateway import Gateway
from readmodel import queries
from readmodel.engine import Database
from readmodel.queries import TaskSort
from readmodel.tables import AccountRow, HumanTaskRow

router = APIRouter()

# Why the collector looks at the customer's details, as the access log records it.
PURPOSES: dict[str, str] = {
    TaskKind.COLLECTOR_CALL: "calling the customer",
    TaskKind.FIELD_VISIT: "a field visit",
    TaskKind.DISPUTE_INVESTIGATION: "a complaint or dispute",
    TaskKind.COMPLAINT: "a complaint or dispute",
}
OUTCOMES_OF = {kind.value: sorted(o.value for o in allowed) for kind, allowed in OUTCOMES.items()}
ACTIVE = frozenset({TaskStatus.OPEN.value, TaskStatus.CLAIMED.value})
VERBS = ("claim", "call", "outcome", "visit", "check-in", "check-out")
HISTORY = 100  # past attempts and tasks shown, newest first


def work_path(task_key: str) -> str:
    return f"/console/tasks/{quote(task_key)}/work"


@router.get("/tasks/{task_key:path}/work", response_class=HTMLResponse)
async def work_page(
    request: Request, task_key: str, settings: SettingsDep, db: DatabaseDep
) -> HTMLResponse:
    operator = await signed_in(request)
    row = await _worked(request, operator, db, task_key)
    if isinstance(row, HTMLResponse):
        return row
    return await _page(request, operator, row, db, settings)


@router.post("/tasks/{task_key:path}/reveal", response_class=HTMLResponse)
async def reveal(
    request: Request, task_key: str, settings: SettingsDep, db: DatabaseDep
) -> HTMLResponse:
    """The customer's name and number on this answer's page, once the access log records who
    looked, why (the task's purpose) and for which task."""
    operator = await signed_in(request)
    row = await _worked(request, operator, db, task_key)
    if isinstance(row, HTMLResponse):
        return row
    if not operator.may(REVEALERS):
        return forbidden(request, operator)
    account_no = row.case_id.removeprefix("case-")
    purpose = PURPOSES.get(row.kind, "working a task")
    reason = f"{purpose} (task {row.idempotency_key})"
    found = await access.reveal_contact_details(db, operator.person, "console", account_no, reason)
    if found is None:
        missing = {"contact": f"no customer for account {account_no}"}
        return await _page(request, operator, row, db, settings, status_code=404, errors=missing)
    page = await _page(request, operator, row, db, settings, contact=found)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.post("/tasks/{task_key:path}/{verb}", response_class=HTMLResponse)
async def task_work(
    request: Request, task_key: str, verb: str, settings: SettingsDep, db: DatabaseDep
) -> Response:
    """Claim, the outcome, a visit's booking, check-in and check-out, from the page; back to it
    with the case's answer, or the page again with the refusal beside its form."""
    operator = await signed_in(request)
    if verb not in VERBS:
        return forbidden(request, operator)
    row = await _worked(request, operator, db, task_key)
    if isinstance(row, HTMLResponse):
        return row
    form = await posted(request)
    try:
        gateway = gateway_of(request, operator)
        message = said(await _act(verb, form, row, operator, gateway, db))
    except (FormError, HTTPException) as error:
        code, message = refusal(error, operator)
        return await _page(
            request,
            operator,
            row,
            db,
            settings,
            status_code=code,
            errors={verb: message},
            typed={verb: form},
        )
    return answered(work_path(row.idempotency_key), message)


async def _act(
    verb: str,
    form: dict[str, str],
    row: HumanTaskRow,
    operator: Operator,
    gateway: Gateway,
    db: Database,
) -> Answer[ActionResult]:
    key, me = row.idempotency_key, operator.staff

    async def take(word: str, req: object) -> Answer[ActionResult]:
        """The catalogue's task action `word`, as the API's route takes it."""
        role = operator.acting_as(COLLECTORS)
        return await departments.act_on_task(gateway, db, TASK_ACTIONS[word], req, role=role)

    if verb == "claim":
        return await take("claim", ClaimTaskInput(task_key=key, collector=me))
    if verb == "call":
        bridge = PlaceCallInput(task_key=key, collector=me, agent_phone=form.get("agent_phone", ""))
        return await take("call", bridge)
    if verb == "outcome":
        report = completion(form, key, me, await currency_of(db, task_key=key))
        return await take("complete", report)
    if verb == "visit":
        slot = VisitSlotInput(
            task_key=key,
            day=a_date(form.get("day", ""), "visit_day"),
            start=_clock(form.get("start", ""), "slot_start"),
            end=_clock(form.get("end", ""), "slot_end"),
            collectors=(me, form.get("second_collector", "").strip()),
        )
        return await take("book-visit", slot)
    return await take(verb, VisitCheckInput(task_key=key, collector=me))  # check-in, check-out


def _clock(raw: str, field: str) -> time:
    try:
        return time.fromisoformat(raw.strip())
    except ValueError:
        raise FormError(field, "not_a_time") from None


async def _worked(
    request: Request, operator: Operator, db: Database, task_key: str
) -> HumanTaskRow | HTMLResponse:
    """The task's row when the operator works its queue; else the page that says why not."""
    if not operator.may(PAGES["tasks"]):
        return forbidden(request, operator)
    try:
        return await task_for(db, task_key, operator.acting_as(COLLECTORS))
    except HTTPException as error:
        if error.status_code == status.HTTP_403_FORBIDDEN:
            return forbidden(request, operator)
        code, message = error.status_code, str(error.detail)
        return render(request, "error.html", operator, status_code=code, message=message)


async def _page(
    request: Request,
    operator: Operator,
    row: HumanTaskRow,
    db: Database,
    settings: Settings,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, dict[str, str]] | None = None,
    contact: ContactDetails | None = None,
) -> HTMLResponse:
    account_no = row.case_id.removeprefix("case-")
    try:
        view = await case_view(db, gateway_of(request, operator), account_no)
    except HTTPException as error:
        code, message = error.status_code, str(error.detail)
        return render(request, "error.html", operator, status_code=code, message=message)
    case, live = view.case, view.status
    now = datetime.now(UTC)
    found = await queries.get_case_customer(db, case_id=row.case_id)
    # Only where the customer lives and what they speak: the rest waits for "Reveal".
    zone, language = (found[1].time_zone, found[1].language) if found and found[1] else ("", "")
    runs = live.strategy_version if live else case.strategy_version if case else ""
    rules = await rules_of_case(settings, runs)
    window = (
        await call_window(
            db, case_id=row.case_id, status=live, rules=rules, time_zone=zone, now=now
        )
        if zone
        else CallWindow(known=False, time_zone="UTC", now=now)
    )
    summary = live or case
    currency = summary.currency if summary else "CNY"
    product = await _product(db, account_no)
    script: tuple[Line, ...] = ()
    if summary is not None:
        scripts = await asyncio.to_thread(current_scripts)
        values = {
            "collector": operator.person.name or operator.staff,
            "bank": rules.strategy.sender_name,
            "account_tail": account_no[-4:],
            "product": product,
            "dpd": str(summary.days_past_due),
            "overdue": money(summary.overdue_minor, currency),
            "outstanding": money(summary.outstanding_minor, currency),
        }
        script = scripts.for_call(summary.stage, language or "zh", values)
    attempts = (await queries.list_attempts(db, case_id=row.case_id))[::-1][:HISTORY]
    past = await queries.list_tasks(
        db, case_id=row.case_id, sort=TaskSort.CREATED, descending=True, limit=HISTORY
    )
    return render(
        request,
        "work.html",
        operator,
        status_code=status_code,
        task=row,
        task_path=quote(row.idempotency_key),
        active=row.status in ACTIVE,
        overdue=row.deadline < now and row.status in ACTIVE,
        account_no=account_no,
        product=product,
        summary=summary,
        live=live,
        currency=currency,
        window=window,
        rules=rules,
        script=script,
        attempts=attempts,
        past=past,
        outcomes=OUTCOMES_OF.get(row.kind, []),
        reveal=operator.may(REVEALERS),
        contact=contact,
        errors=errors or {},
        typed=typed or {},
    )


async def _product(db: Database, account_no: str) -> str:
    async with db.session() as session:
        found = await session.exec(
            select(AccountRow.product).where(AccountRow.account_no == account_no)
        )
        return found.first() or ""
