"""What people do with a case once `operations.intake` has started it: act on it, read its
live status and timeline, find it by its search attributes.

Each is a call through the gateway, answered by an `Answer` worded for a case ("no case
case-...", "case case-... is closed (completed)"), so every front end says the same thing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from temporalio.client import WorkflowExecution, WorkflowExecutionStatus

from models.case_status import CaseStatus
from models.contracts import ActionResult, ChannelInput, ContactOutcome, TimelineEvent, case_id
from models.strategy import Channel
from models.visibility import (
    BALANCE_BAND,
    CASE_STAGE,
    DAYS_PAST_DUE,
    OLDEST_DUE_DATE,
    SEGMENT,
    case_query,
)
from operations.answers import Answer, Outcome
from operations.approvals import act_or_ask
from operations.case_search import CALENDAR_DAY, SearchError, translate
from operations.catalogue import CaseAction
from operations.gateway import Gateway
from readmodel.engine import Database
from workflows.case import CollectionCaseWorkflow as Case

T = TypeVar("T")


async def act(
    gateway: Gateway, db: Database, account_no: str, action: CaseAction, arg: Any
) -> Answer[ActionResult]:
    """Takes an operator action (a row of `operations.catalogue.CASE_ACTIONS`) on the case, or
    asks a second person to approve it where it needs one (AWAITING_APPROVAL)."""
    workflow_id = case_id(account_no)
    return as_case(workflow_id, await act_or_ask(gateway, db, workflow_id, action.update, arg))


async def live_status(
    gateway: Gateway, account_no: str, *, now: datetime | None = None
) -> Answer[CaseStatus]:
    """The case's status as the workflow holds it now, its days past due counted at `now`
    (default: the clock's): a quiet case does not wake to count them."""
    workflow_id = case_id(account_no)
    answer = as_case(workflow_id, await gateway.query(workflow_id, Case.status))
    if not answer.ok:
        return answer
    return dataclasses.replace(answer, value=answer.unwrap().as_of(now or datetime.now(UTC)))


async def timeline(gateway: Gateway, account_no: str) -> Answer[list[TimelineEvent]]:
    """The case's own timeline, while Temporal holds the workflow."""
    workflow_id = case_id(account_no)
    return as_case(workflow_id, await gateway.query(workflow_id, Case.timeline))


async def customer_replied(
    gateway: Gateway, workflow_id: str, *, opt_in: bool, keyword: str
) -> Answer[ActionResult]:
    """A customer's SMS keyword: contact by SMS stops (or is allowed again) on the case."""
    update = Case.opt_in if opt_in else Case.opt_out
    reply = ChannelInput(channel=Channel.SMS, reason=f"customer replied {keyword}")
    return as_case(workflow_id, await gateway.update(workflow_id, update, reply))


async def report_contact_outcome(
    gateway: Gateway, workflow_id: str, outcome: ContactOutcome
) -> Answer[None]:
    """A provider's delivery report, for the case that sent the message."""
    return as_case(workflow_id, await gateway.signal(workflow_id, Case.contact_outcome, outcome))


@dataclass(frozen=True)
class ListedCase:
    case_id: str
    stage: str | None
    segment: str | None
    days_past_due: int | None
    balance_band: str | None
    running: bool
    started_at: datetime | None = None
    status: str | None = None  # the workflow's: running, completed, terminated ...


async def search(
    gateway: Gateway,
    *,
    stage: str | None = None,
    segment: str | None = None,
    min_dpd: int | None = None,
    typed: str | None = None,
    limit: int = 100,
    day: timedelta = CALENDAR_DAY,
    now: datetime | None = None,
) -> Answer[list[ListedCase]]:
    """Cases by Temporal's visibility (search attributes, never personal data), newest first,
    each case once (its newest run). `typed`: a search a person wrote, `DaysPastDue` in it
    counted in `day`s at `now` (`operations.case_search`); REFUSED when it cannot be asked."""
    now = now or datetime.now(UTC)
    try:
        query = translate(case_query(stage, segment, min_dpd, typed), now=now, day=day)
    except SearchError as error:
        return Answer(Outcome.REFUSED, message=str(error))
    found = await gateway.search(query, limit=limit)
    if not found.ok:
        return Answer(found.outcome, message=found.message, retry_after=found.retry_after)
    newest: dict[str, WorkflowExecution] = {}
    for execution in found.unwrap():
        known = newest.get(execution.id)
        if known is None or execution.start_time > known.start_time:
            newest[execution.id] = execution
    ordered = sorted(newest.values(), key=lambda e: e.start_time, reverse=True)
    return Answer(Outcome.ACCEPTED, [_listed(e, now, day) for e in ordered])


def _listed(execution: WorkflowExecution, now: datetime, day: timedelta) -> ListedCase:
    found = execution.typed_search_attributes
    running = execution.status == WorkflowExecutionStatus.RUNNING
    origin = found.get(OLDEST_DUE_DATE)
    days_past_due = found.get(DAYS_PAST_DUE)  # a run from before the quiet case
    if origin is not None:
        # A finished case counts no further than its end.
        until = now if running or execution.close_time is None else execution.close_time
        days_past_due = max(0, (until - origin) // day)
    return ListedCase(
        case_id=execution.id,
        stage=found.get(CASE_STAGE),
        segment=found.get(SEGMENT),
        days_past_due=days_past_due,
        balance_band=found.get(BALANCE_BAND),
        running=running,
        started_at=execution.start_time,
        status=execution.status.name.lower() if execution.status else None,
    )


def as_case(workflow_id: str, answer: Answer[T]) -> Answer[T]:
    """The gateway's answer in a case's words: unknown or finished, it is the case that is."""
    if answer.outcome is Outcome.NOT_FOUND:
        return dataclasses.replace(answer, message=f"no case {workflow_id}")
    if answer.outcome is Outcome.CLOSED and answer.ended:
        message = f"case {workflow_id} is closed ({answer.ended})"
        return dataclasses.replace(answer, message=message)
    return answer
