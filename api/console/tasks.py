"""The collectors' tasks: their own (by priority), or their queue's; claimed and completed from
the list. Supervisors also see the team's queues (`api.console.queues`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from api.console import queues as team_queues
from api.console.forms import (
    FormError,
    optional_date,
    optional_minor_units,
    optional_seconds,
    posted,
)
from api.console.i18n import translator
from api.console.listing import Columns, pager
from api.console.pages import (
    COLLECTORS,
    PAGES,
    answered,
    currency_of,
    forbidden,
    gateway_of,
    refusal,
    render,
    said,
    signed_in,
)
from api.deps import DatabaseDep, SettingsDep
from api.routes import tasks
from models.tasks import (
    OUTCOMES,
    ClaimTaskInput,
    CompleteTaskInput,
    FieldVisitReport,
    TaskOutcome,
    TaskStatus,
)
from operations import departments
from operations.catalogue import TASK_ACTIONS
from operations.roles import Role
from readmodel import queries
from readmodel.queries import TaskSort

router = APIRouter()

DUE_SOON = timedelta(hours=4)
# Soonest deadline first; the newest task first when sorted by when it was made.
COLUMNS = Columns(TaskSort.DEADLINE, frozenset({TaskSort.CREATED}))
# My tasks: by priority (overdue, the deadline's day, a promise due, balance, days past due).
MY_COLUMNS = Columns(TaskSort.PRIORITY, frozenset({TaskSort.CREATED}))
# What a claim or a completion keeps of the list it was made from, to go back to it.
LIST_FIELDS = ("view", "page", "per_page", "sort", "order")


@router.get("/tasks", response_class=HTMLResponse)
async def task_list(
    request: Request, settings: SettingsDep, db: DatabaseDep, view: str = "mine"
) -> HTMLResponse:
    operator = await signed_in(request)
    if not operator.may(PAGES["tasks"]):
        return forbidden(request, operator)
    if view == "queues":
        return await team_queues.page(request, operator, db)
    try:
        listing = (MY_COLUMNS if view == "mine" else COLUMNS).read(request.query_params)
    except FormError as error:
        code, message = refusal(error, operator)
        return render(request, "error.html", operator, status_code=code, message=message)
    active = [TaskStatus.OPEN.value, TaskStatus.CLAIMED.value]
    if view == "mine":
        where = queries.TaskFilter(status=active, assignee=operator.staff)
    else:
        queues = (
            ["operations", "supervisor"] if Role.SUPERVISOR in operator.roles else ["operations"]
        )
        where = queries.TaskFilter(status=active, queue=queues)
    found = await queries.task_page(
        db,
        where=where,
        sort=listing.sort,
        descending=listing.descending,
        page=listing.page,
        per_page=listing.per_page,
    )
    now = datetime.now(UTC)
    urgency = {
        row.idempotency_key: "overdue"
        if row.deadline < now
        else "soon"
        if row.deadline < now + DUE_SOON
        else ""
        for row in found.rows
    }
    return render(
        request,
        "tasks.html",
        operator,
        rows=found.rows,
        view=view,
        pager=pager("/console/tasks", {"view": view}, listing, found),
        urgency=urgency,
        outcomes={kind.value: [o.value for o in allowed] for kind, allowed in OUTCOMES.items()},
    )


@router.post("/tasks/{verb}", response_class=HTMLResponse)
async def task_action(
    request: Request, verb: str, settings: SettingsDep, db: DatabaseDep
) -> Response:
    operator = await signed_in(request)
    if not operator.may(PAGES["tasks"]) or verb not in ("claim", "complete"):
        return forbidden(request, operator)
    form = await posted(request)
    key = form.get("task_key", "")
    kept = urlencode({k: form[k] for k in LIST_FIELDS if form.get(k)})
    back = f"/console/tasks?{kept}" if kept else "/console/tasks"
    role = operator.acting_as(COLLECTORS)
    gateway = gateway_of(request, operator)
    try:
        await tasks.task_for(db, key, role)
        req: ClaimTaskInput | CompleteTaskInput
        if verb == "claim":
            req = ClaimTaskInput(task_key=key, collector=operator.staff)
        else:
            currency = await currency_of(db, task_key=key)
            req = completion(form, key, operator.staff, currency)
        action = TASK_ACTIONS[verb]
        message = said(await departments.act_on_task(gateway, db, action, req, role=role))
    except (FormError, HTTPException) as error:
        _, message = refusal(error, operator)
        return answered(back, f"{translator(operator.language)('error')}: {message}")
    return answered(back, message)


def completion(form: dict[str, str], key: str, collector: str, currency: str) -> CompleteTaskInput:
    """A task's completion as typed into its form, the list's or the work page's (amounts in
    `currency`); `FormError` for a value that cannot be read: the rest is the case's to refuse."""
    outcome = form.get("outcome", "")
    if outcome not in TaskOutcome.__members__.values():
        raise FormError("outcome", "not_an_outcome")
    visit = None
    if form.get("second_collector", "").strip():
        visit = FieldVisitReport(
            collectors=(collector, form["second_collector"].strip()),
            consent_to_enter=form.get("consent") == "on",
        )
    right_party = form.get("right_party", "")
    if right_party not in ("", "yes", "no"):
        raise FormError("right_party", "not_a_choice")
    return CompleteTaskInput(
        task_key=key,
        collector=collector,
        outcome=TaskOutcome(outcome),
        note=form.get("note", ""),
        promised_amount_minor=optional_minor_units(form.get("promised_amount", ""), currency),
        promised_date=optional_date(form.get("promised_date", ""), "promised_date"),
        visit=visit,
        right_party={"yes": True, "no": False}.get(right_party),
        call_seconds=optional_seconds(form.get("call_length", ""), "call_length"),
    )


@router.post("/tasks/queues/{verb}", response_class=HTMLResponse)
async def queue_action(request: Request, verb: str, db: DatabaseDep) -> Response:
    """Supervisors: `move` a whole queue, or `allocate` now (`api.console.queues`)."""
    return await team_queues.act(request, await signed_in(request), verb, db)
