"""Cases: start one, look one up, read its timeline, and act on it as an operator.

Every operator action is a row of `operations.catalogue.CASE_ACTIONS`: its route is made from
the row (path, body type, roles) and runs the case workflow's update of the same name, so the
API, the console and the CLI take the same actions and the workflow's validators refuse bad
input for all (see `api.errors` for how an answer becomes a status). Starting a case checks
the body exactly as the daily file's rows are checked (`models.intake`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from api.auth import person_of, require_roles
from api.deps import DatabaseDep, GatewayDep, SettingsDep
from api.errors import answered, http_error
from config.settings import POLICY_DIR
from config.strategy import Assessor
from models.case_status import CaseStatus
from models.contracts import ActionResult, Stage, TimelineEvent, case_id
from models.intake import COLUMNS, REQUIRED, RowError, parse_intake
from models.strategy import Segment
from operations import access, cases
from operations.answers import Answer, Outcome
from operations.case_search import search_day
from operations.catalogue import CASE_ACTIONS, CaseAction
from operations.gateway import RETRY_AFTER_SECONDS, Gateway
from operations.intake import Outcome as Started
from operations.intake import run_intake
from operations.roles import Role
from readmodel import queries
from readmodel.engine import Database
from readmodel.queries import CaseSort
from readmodel.tables import CaseRow

log = logging.getLogger(__name__)

EVERY_ROLE = (Role.OPERATIONS, Role.SUPERVISOR, Role.RISK, Role.LEGAL, Role.ENGINEER)
COLLECTORS = Depends(require_roles(Role.OPERATIONS, Role.SUPERVISOR))
# For the OpenAPI document of the routes that act on a case.
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the case refused the input; the message says why"},
    404: {"description": "no such case"},
    409: {"description": "the case is closed"},
}
# A hundred years: an age beyond any debt, and well inside the database's 64-bit integers.
MAX_DAYS_PAST_DUE = 36_500
DaysPastDue = Annotated[int | None, Query(ge=0, le=MAX_DAYS_PAST_DUE)]
# A list's direction, and how far into it a page starts (a million pages of the largest).
Order = Literal["asc", "desc"]
Offset = Annotated[int, Query(ge=0, le=500_000_000)]

router = APIRouter(
    prefix="/cases", tags=["cases"], dependencies=[Depends(require_roles(*EVERY_ROLE))]
)


class CaseView(BaseModel):
    case: CaseRow | None
    status: CaseStatus | None  # None once the workflow has finished or while it is assessed


def _minor_units(value: object) -> object:
    """The daily file's cells are text; JSON may give an amount as a whole number too."""
    if isinstance(value, bool | float):
        raise ValueError("is not a whole number of minor units")
    return str(value) if isinstance(value, int) else value


MinorUnits = Annotated[
    str,
    BeforeValidator(_minor_units),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+$"}]}),
]


class IntakeRow(BaseModel):
    """One row of the daily overdue file, as JSON; the columns are described in the README."""

    model_config = ConfigDict(extra="forbid")

    account_no: str
    customer_ref: str
    customer_name: str
    mobile: str
    language: str
    time_zone: str
    product: str
    currency: str
    outstanding_minor: MinorUnits
    overdue_minor: MinorUnits
    oldest_due_date: str
    strategy: str = ""

    def as_csv(self) -> str:
        names = [column.name for column in COLUMNS]
        values = self.model_dump()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(names)
        writer.writerow([values[name] for name in names])
        return out.getvalue()


class CaseStarted(BaseModel):
    case_id: str
    account_no: str


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[COLLECTORS],
    responses={409: {"description": "a case for the account is already running"}},
)
async def start_case(row: IntakeRow, gateway: GatewayDep, settings: SettingsDep) -> CaseStarted:
    """Starts one case; 422 names each bad field with the reason the daily file would give."""
    parsed = parse_intake(row.as_csv(), as_of=date.today(), strategies=policy_names())
    if not parsed.valid:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _row_errors(parsed.errors))
    summary = await run_intake(
        gateway,
        parsed.valid,
        task_queue=settings.task_queues.collections,
        concurrency=1,
        refresh=False,
        assessor=Assessor.configured(settings),
    )
    [outcome] = summary.outcomes
    if outcome.outcome is Started.ALREADY_RUNNING:
        running = f"a case for account {outcome.account_no} is already running"
        message = f"{running} ({outcome.workflow_id})"
        raise http_error(Answer[None](Outcome.ALREADY_RUNNING, message=message))
    if outcome.outcome is Started.FAILED:  # Temporal refused or could not be reached: retry
        note, retry = outcome.note, RETRY_AFTER_SECONDS
        raise http_error(Answer[None](Outcome.UNREACHABLE, message=note, retry_after=retry))
    return CaseStarted(case_id=outcome.workflow_id, account_no=outcome.account_no)


def policy_names() -> frozenset[str]:
    return frozenset(path.stem for path in POLICY_DIR.glob("*.toml"))


def _row_errors(errors: list[RowError]) -> list[dict[str, object]]:
    """FastAPI's shape of a validation error (`loc`, `msg`, `type`), plus `field` and `reason`
    as `collections intake --json` reports a rejected row."""
    # A row whose every cell is blank reads as a blank line: no error, and no case.
    pairs = [(e.field, e.reason) for e in errors] or [(name, "is missing") for name in REQUIRED]
    return [
        {
            "type": "invalid_row",
            "loc": ["body", field],
            "msg": reason,
            "field": field,
            "reason": reason,
        }
        for field, reason in pairs
    ]


@router.get("/search")
async def search_cases(
    gateway: GatewayDep,
    settings: SettingsDep,
    stage: Stage | None = None,
    segment: Segment | None = None,
    min_dpd: DaysPastDue = None,
    query: Annotated[str | None, Query(max_length=2_000)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[cases.ListedCase]:
    """Cases by stage, segment and days past due, from Temporal's visibility (newest first);
    the search attributes carry no personal data. `query`: a visibility query over them, e.g.
    `CaseStage = 'collector' AND DaysPastDue > 60` (400 with what to write when it cannot be
    asked)."""
    found = await cases.search(
        gateway,
        stage=stage.value if stage else None,
        segment=segment.value if segment else None,
        min_dpd=min_dpd,
        typed=query,
        limit=limit,
        day=search_day(settings),
    )
    return answered(found)


@router.get("/{account_no}")
async def read_case(account_no: str, db: DatabaseDep, gateway: GatewayDep) -> CaseView:
    """404 when neither the read model nor Temporal knows the account."""
    return await case_view(db, gateway, account_no)


async def case_view(db: Database, gateway: Gateway, account_no: str) -> CaseView:
    """The row and the live status (the console shows the same)."""
    row = await queries.get_case(db, account_no=account_no)
    live = await cases.live_status(gateway, account_no)
    if live.outcome is Outcome.NOT_FOUND:
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case for account {account_no}")
        return CaseView(case=row, status=None)  # Temporal no longer holds it; the read model does
    if live.outcome is Outcome.FAILED:
        log.info("status of %s not available: %s", account_no, live.message)
        return CaseView(case=row, status=None)
    return CaseView(case=row, status=answered(live))


@router.get("")
async def list_cases(
    db: DatabaseDep,
    response: Response,
    stage: str | None = None,
    segment: str | None = None,
    min_dpd: DaysPastDue = None,
    sort: CaseSort = CaseSort.UPDATED,
    order: Order = "desc",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[CaseRow]:
    """From the read model, most recently changed first; `sort` by days past due (`dpd`, counted
    now), `outstanding`, `overdue`, `stage` (in the order a case moves) or `updated`; equal
    values by when the row was first written, in the same direction; `offset` skips that many.
    `X-Total-Count` says how many cases the filters select in all, for paging."""
    now = datetime.now(UTC)
    where = queries.CaseFilter(stage=stage, segment=segment, min_dpd=min_dpd)
    response.headers["X-Total-Count"] = str(await queries.count_cases(db, where=where, now=now))
    return await queries.search_cases(
        db,
        stage=stage,
        segment=segment,
        min_dpd=min_dpd,
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=offset,
        now=now,
    )


@router.get("/{account_no}/timeline", responses={404: {"description": "no case for the account"}})
async def read_timeline(
    account_no: str, gateway: GatewayDep, db: DatabaseDep
) -> list[TimelineEvent]:
    """The case's own timeline; the audit log once Temporal no longer holds the workflow."""
    return await case_timeline(db, gateway, account_no)


async def case_timeline(db: Database, gateway: Gateway, account_no: str) -> list[TimelineEvent]:
    live = await cases.timeline(gateway, account_no)
    if live.outcome is not Outcome.NOT_FOUND:
        return answered(live)
    rows = await queries.list_audit(db, case_id=case_id(account_no))
    events = [
        TimelineEvent(at=r.at, kind=r.kind, detail=r.detail, actor=r.actor, data=r.data)
        for r in rows
    ]
    if not events:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case for account {account_no}")
    return events


# --- personal data: revealed for a reason, and on record ------------------------------------


class ContactDetailsView(BaseModel):
    account_no: str
    name: str | None
    mobile: str
    language: str
    time_zone: str
    address: str | None = None


class AccessView(BaseModel):
    at: datetime
    person_id: str
    via: str
    what: str
    reason: str


@router.get(
    "/{account_no}/contact-details",
    dependencies=[Depends(require_roles(Role.OPERATIONS, Role.SUPERVISOR, Role.LEGAL))],
    responses={404: {"description": "no customer for the account"}},
)
async def reveal_contact_details(
    account_no: str,
    reason: Annotated[str, Query(min_length=1, max_length=access.MAX_REASON)],
    request: Request,
    db: DatabaseDep,
) -> ContactDetailsView:
    """The customer's name and phone number, recorded in the access log with who and why
    (`reason`: what the console offers, e.g. "calling the customer", or your own words)."""
    person, via = person_of(request)
    try:
        found = await access.reveal_contact_details(db, person, via, account_no, reason)
    except access.ReasonRequired as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no customer for account {account_no}")
    return ContactDetailsView(**dataclasses.asdict(found))


@router.get("/{account_no}/access-log", dependencies=[Depends(require_roles(Role.SUPERVISOR))])
async def read_access_log(account_no: str, db: DatabaseDep) -> list[AccessView]:
    """Who saw this customer's contact details, dossier or payloads, when and why (newest
    first)."""
    rows = await access.who_saw(db, account_no)
    return [
        AccessView(at=r.at, person_id=r.person_id, via=r.via, what=r.what, reason=r.reason)
        for r in rows
    ]


# --- operator actions: one route per row of the catalogue --------------------------------------


class ApprovalRequested(BaseModel):
    """202: the action needs a second person; it waits as request `approval_id` (see
    `/approvals`)."""

    approval_id: int
    message: str


def awaiting_or_answered(
    answer: Answer[ActionResult], response: Response
) -> ActionResult | ApprovalRequested:
    """The workflow's answer, or 202 with the request that waits for a second person."""
    if answer.outcome is Outcome.AWAITING_APPROVAL and answer.approval_id is not None:
        response.status_code = status.HTTP_202_ACCEPTED
        return ApprovalRequested(approval_id=answer.approval_id, message=answer.message)
    return answered(answer)


def _add_action_route(action: CaseAction) -> None:
    """`POST /cases/{account_no}/<action>`: its body is the update's input type, and only the
    catalogue's roles may call it."""

    async def take(
        account_no: str, body: Any, gateway: GatewayDep, db: DatabaseDep, response: Response
    ) -> ActionResult | ApprovalRequested:
        return awaiting_or_answered(
            await cases.act(gateway, db, account_no, action, body), response
        )

    take.__annotations__ = {**take.__annotations__, "body": action.input_type}
    take.__doc__ = action.summary
    router.add_api_route(
        f"/{{account_no}}/{action.name}",
        take,
        methods=["POST"],
        name=action.name,
        response_model=ActionResult | ApprovalRequested,
        dependencies=[Depends(require_roles(*(role for role in Role if role in action.roles)))],
        responses={**REFUSALS, 202: {"model": ApprovalRequested}},
    )


for _action in CASE_ACTIONS.values():
    _add_action_route(_action)
