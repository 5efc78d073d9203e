"""Cases: start one, look one up, read its timeline, and act on it as an operator.

Every operator action is the case workflow's update of the same name, with the same input
type, so the API and the CLI take the same actions and the workflow's validators refuse bad
input for both (see `api.errors` for how a refusal becomes a status). Starting a case checks
the body exactly as the daily file's rows are checked (`models.intake`).
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema
from sqlmodel import col, select
from temporalio.client import (
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.case_store import get_case
from api.auth import require_roles
from api.deps import DatabaseDep, SessionDep, SettingsDep, TemporalDep
from api.errors import (
    ANSWER_TIMEOUT,
    REFUSALS,
    CaseNotFound,
    execute_action,
    no_answer,
    not_now,
    query_case,
    rpc_error,
    unavailable,
)
from cli.intake_run import Outcome, run_intake
from config.settings import POLICY_DIR
from models.contracts import (
    ActionResult,
    CaseStatus,
    ChannelInput,
    CloseInput,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
    Stage,
    TimelineEvent,
    case_id,
)
from models.intake import COLUMNS, REQUIRED, RowError, parse_intake
from models.strategy import Segment
from models.visibility import BALANCE_BAND, CASE_STAGE, DAYS_PAST_DUE, SEGMENT, case_query
from operations.roles import Role
from readmodel.tables import AuditLogRow, CaseRow

log = logging.getLogger(__name__)

EVERY_ROLE = (Role.OPERATIONS, Role.SUPERVISOR, Role.RISK, Role.LEGAL, Role.ENGINEER)
COLLECTORS = Depends(require_roles(Role.OPERATIONS, Role.SUPERVISOR))
SUPERVISORS = Depends(require_roles(Role.SUPERVISOR))
# A hundred years: an age beyond any debt, and well inside the database's 64-bit integers.
MAX_DAYS_PAST_DUE = 36_500
DaysPastDue = Annotated[int | None, Query(ge=0, le=MAX_DAYS_PAST_DUE)]

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
async def start_case(row: IntakeRow, client: TemporalDep, settings: SettingsDep) -> CaseStarted:
    """Starts one case; 422 names each bad field with the reason the daily file would give."""
    parsed = parse_intake(row.as_csv(), as_of=date.today(), strategies=policy_names())
    if not parsed.valid:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _row_errors(parsed.errors))
    summary = await run_intake(
        client,
        parsed.valid,
        task_queue=settings.task_queues.collections,
        concurrency=1,
        refresh=False,
    )
    [outcome] = summary.outcomes
    if outcome.outcome is Outcome.ALREADY_RUNNING:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"a case for account {outcome.account_no} is already running ({outcome.workflow_id})",
        )
    if outcome.outcome is Outcome.FAILED:
        raise unavailable(outcome.note)
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


class ListedCase(BaseModel):
    case_id: str
    stage: str | None
    segment: str | None
    days_past_due: int | None
    balance_band: str | None
    running: bool


@router.get("/search")
async def search_cases(
    client: TemporalDep,
    stage: Stage | None = None,
    segment: Segment | None = None,
    min_dpd: DaysPastDue = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ListedCase]:
    """Cases by stage, segment and days past due, from Temporal's visibility (newest first);
    the search attributes carry no personal data."""
    query = case_query(stage.value if stage else None, segment.value if segment else None, min_dpd)
    newest: dict[str, WorkflowExecution] = {}
    try:
        async for execution in client.list_workflows(query, limit=limit):
            known = newest.get(execution.id)
            if known is None or execution.start_time > known.start_time:
                newest[execution.id] = execution
    except RPCError as error:
        raise not_now(error) or HTTPException(
            status.HTTP_502_BAD_GATEWAY, f"Temporal refused the search ({error.status.name})"
        ) from None
    ordered = sorted(newest.values(), key=lambda e: e.start_time, reverse=True)
    return [_listed(e) for e in ordered]


def _listed(execution: WorkflowExecution) -> ListedCase:
    found = execution.typed_search_attributes
    return ListedCase(
        case_id=execution.id,
        stage=found.get(CASE_STAGE),
        segment=found.get(SEGMENT),
        days_past_due=found.get(DAYS_PAST_DUE),
        balance_band=found.get(BALANCE_BAND),
        running=execution.status == WorkflowExecutionStatus.RUNNING,
    )


@router.get("/{account_no}")
async def read_case(account_no: str, db: DatabaseDep, client: TemporalDep) -> CaseView:
    """404 when neither the read model nor Temporal knows the account."""
    row = await get_case(db, account_no=account_no)
    try:
        live = await _live_status(client, case_id(account_no))
    except CaseNotFound:
        if row is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no case for account {account_no}"
            ) from None
        live = None  # Temporal no longer holds it; the read model still does
    return CaseView(case=row, status=live)


@router.get("")
async def list_cases(
    session: SessionDep,
    stage: str | None = None,
    segment: str | None = None,
    min_dpd: DaysPastDue = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseRow]:
    query = select(CaseRow).order_by(col(CaseRow.updated_at).desc()).limit(limit)
    if stage:
        query = query.where(CaseRow.stage == stage)
    if segment:
        query = query.where(CaseRow.segment == segment)
    if min_dpd is not None:
        query = query.where(CaseRow.days_past_due >= min_dpd)
    return list(await session.exec(query))


@router.get("/{account_no}/timeline", responses={404: {"description": "no case for the account"}})
async def read_timeline(
    account_no: str, client: TemporalDep, session: SessionDep
) -> list[TimelineEvent]:
    """The case's own timeline; the audit log once Temporal no longer holds the workflow."""
    workflow_id = case_id(account_no)
    try:
        events: list[TimelineEvent] = await query_case(
            client, workflow_id, "timeline", list[TimelineEvent]
        )
    except CaseNotFound:
        rows = await session.exec(
            select(AuditLogRow)
            .where(AuditLogRow.case_id == workflow_id)
            .order_by(col(AuditLogRow.seq))
        )
        events = [TimelineEvent(at=r.at, kind=r.kind, detail=r.detail) for r in rows]
        if not events:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no case for account {account_no}"
            ) from None
    return events


# --- operator actions: each is the case's update of the same name ----------------------------


async def _act(client: TemporalDep, account_no: str, update: str, body: object) -> ActionResult:
    return await execute_action(client, case_id(account_no), update, body)


@router.post("/{account_no}/record_payment", dependencies=[COLLECTORS], responses=REFUSALS)
async def record_payment(
    account_no: str, body: RecordPaymentInput, client: TemporalDep
) -> ActionResult:
    """A repeated payment_ref is answered with accepted=false and changes nothing."""
    return await _act(client, account_no, "record_payment", body)


@router.post("/{account_no}/promise_to_pay", dependencies=[COLLECTORS], responses=REFUSALS)
async def promise_to_pay(
    account_no: str, body: PromiseToPayInput, client: TemporalDep
) -> ActionResult:
    return await _act(client, account_no, "promise_to_pay", body)


@router.post("/{account_no}/raise_dispute", dependencies=[COLLECTORS], responses=REFUSALS)
async def raise_dispute(account_no: str, body: ReasonInput, client: TemporalDep) -> ActionResult:
    return await _act(client, account_no, "raise_dispute", body)


@router.post("/{account_no}/resolve_dispute", dependencies=[SUPERVISORS], responses=REFUSALS)
async def resolve_dispute(
    account_no: str, body: ResolveDisputeInput, client: TemporalDep
) -> ActionResult:
    return await _act(client, account_no, "resolve_dispute", body)


@router.post("/{account_no}/report_hardship", dependencies=[COLLECTORS], responses=REFUSALS)
async def report_hardship(account_no: str, body: ReasonInput, client: TemporalDep) -> ActionResult:
    return await _act(client, account_no, "report_hardship", body)


@router.post("/{account_no}/opt_out", dependencies=[COLLECTORS], responses=REFUSALS)
async def opt_out(account_no: str, body: ChannelInput, client: TemporalDep) -> ActionResult:
    """Taken even on a case that is closing: a customer's "stop" is never refused."""
    return await _act(client, account_no, "opt_out", body)


@router.post("/{account_no}/opt_in", dependencies=[COLLECTORS], responses=REFUSALS)
async def opt_in(account_no: str, body: ChannelInput, client: TemporalDep) -> ActionResult:
    return await _act(client, account_no, "opt_in", body)


@router.post("/{account_no}/pause", dependencies=[COLLECTORS], responses=REFUSALS)
async def pause(account_no: str, body: ReasonInput, client: TemporalDep) -> ActionResult:
    return await _act(client, account_no, "pause", body)


@router.post("/{account_no}/resume", dependencies=[COLLECTORS], responses=REFUSALS)
async def resume(account_no: str, body: ReasonInput, client: TemporalDep) -> ActionResult:
    return await _act(client, account_no, "resume", body)


@router.post("/{account_no}/close", dependencies=[SUPERVISORS], responses=REFUSALS)
async def close(account_no: str, body: CloseInput, client: TemporalDep) -> ActionResult:
    """Settled, written off, manual ...; a payment, not this, closes a case as paid or cured."""
    return await _act(client, account_no, "close", body)


async def _live_status(client: TemporalDep, workflow_id: str) -> CaseStatus | None:
    """The case's live status; None while it is being assessed (it cannot answer yet).
    `CaseNotFound` when Temporal does not know it; 503/504 when Temporal or its worker is
    not answering."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT):
            live: CaseStatus = await handle.query("status", result_type=CaseStatus)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise CaseNotFound(workflow_id) from None
        raise await rpc_error(client, workflow_id, error) from None
    except WorkflowQueryFailedError as error:
        log.info("status of %s not available yet: %s", workflow_id, error)
        return None
    except TimeoutError:
        raise no_answer(workflow_id) from None
    return live
