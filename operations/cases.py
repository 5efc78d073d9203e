"""What people do with a case once `operations.intake` has started it: act on it, read its
live status and timeline, find it by its search attributes.

Each is a call through the gateway, answered by an `Answer` worded for a case ("no case
case-...", "case case-... is closed (completed)"), so every front end says the same thing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio.client import WorkflowExecution, WorkflowExecutionStatus

from models.contracts import (
    ActionResult,
    CaseStatus,
    ChannelInput,
    ContactOutcome,
    TimelineEvent,
    case_id,
)
from models.strategy import Channel
from models.visibility import BALANCE_BAND, CASE_STAGE, DAYS_PAST_DUE, SEGMENT, case_query
from operations.answers import Answer, Outcome
from operations.approvals import act_or_ask
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


async def live_status(gateway: Gateway, account_no: str) -> Answer[CaseStatus]:
    """The case's status as the workflow holds it now."""
    workflow_id = case_id(account_no)
    return as_case(workflow_id, await gateway.query(workflow_id, Case.status))


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


async def search(
    gateway: Gateway,
    *,
    stage: str | None = None,
    segment: str | None = None,
    min_dpd: int | None = None,
    limit: int = 100,
) -> Answer[list[ListedCase]]:
    """Cases by Temporal's visibility (search attributes, never personal data), newest first,
    each case once (its newest run)."""
    found = await gateway.search(case_query(stage, segment, min_dpd), limit=limit)
    if not found.ok:
        return Answer(found.outcome, message=found.message, retry_after=found.retry_after)
    newest: dict[str, WorkflowExecution] = {}
    for execution in found.unwrap():
        known = newest.get(execution.id)
        if known is None or execution.start_time > known.start_time:
            newest[execution.id] = execution
    ordered = sorted(newest.values(), key=lambda e: e.start_time, reverse=True)
    return Answer(Outcome.ACCEPTED, [_listed(e) for e in ordered])


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


def as_case(workflow_id: str, answer: Answer[T]) -> Answer[T]:
    """The gateway's answer in a case's words: unknown or finished, it is the case that is."""
    if answer.outcome is Outcome.NOT_FOUND:
        return dataclasses.replace(answer, message=f"no case {workflow_id}")
    if answer.outcome is Outcome.CLOSED and answer.ended:
        message = f"case {workflow_id} is closed ({answer.ended})"
        return dataclasses.replace(answer, message=message)
    return answer
