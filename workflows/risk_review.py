"""RiskReviewWorkflow: the risk department's review of one case, on the `risk` task queue.

Id: `handoff_id("risk", account_no, n)`, started by the case as a child; the id is also the key
of the review's `handoffs` row, which is the risk team's inbox.

Lifecycle: open (the row is written with the case summary as its dossier) -> waits for the
risk team -> decided (the row says what, by whom and why; the case, the parent workflow, hears
the decision by the signal `risk_decided` and acts on it; it is also the workflow's result).
A review without a decision `deadline_days` after it opened escalates: the row turns
`escalated` and the review keeps waiting, escalating again at every further deadline. It
never decides on the team's behalf. Cancelled (the case closed or moved on), it marks its row
`cancelled` and ends cancelled.

Update: `decide(RiskDecision) -> RiskDecision`, checked before it enters history (see
`decision_problem`); once decided, another decision is refused. It returns once the row says
`decided` and the case has been told. Query: `review -> RiskReviewStatus`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict
from datetime import date, timedelta
from enum import Enum

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from models.departments import (
        CaseSummary,
        HandoffWrite,
        Instalment,
        RiskDecision,
        RiskDecisionKind,
        RiskReviewInput,
        RiskReviewState,
        RiskReviewStatus,
    )
    from models.permissions import RISK_OFFICERS, taken_by
    from workflows.case_base import bounded, invalid, store

DECISION_SIGNAL = "risk_decided"
MAX_FORBEARANCE_DAYS = 180
MAX_INSTALMENTS = 36
# The last instalment at most about three years ahead (36 monthly ones). A date near the
# calendar's end would overflow the case's reading of it as an instant (its due date plus grace).
MAX_PLAN_DAYS = 3 * 366


def decision_problem(decision: RiskDecision, summary: CaseSummary, today: date) -> str | None:
    """Why the risk team's decision cannot be taken, or None when it can."""
    if not decision.decided_by.strip():
        return "decided_by is required"
    if not decision.reason.strip():
        return "a reason is required"
    kind = decision.kind
    if kind != RiskDecisionKind.FORBEARANCE and decision.forbearance_until is not None:
        return f"forbearance_until belongs to a forbearance, not to {kind}"
    if kind != RiskDecisionKind.PAYMENT_PLAN and decision.instalments:
        return f"instalments belong to a payment plan, not to {kind}"
    if kind == RiskDecisionKind.FORBEARANCE:
        return _forbearance_problem(decision.forbearance_until, today)
    if kind == RiskDecisionKind.PAYMENT_PLAN:
        return _plan_problem(decision.instalments, summary, today)
    return None


def _forbearance_problem(until: date | None, today: date) -> str | None:
    if until is None:
        return "a forbearance needs forbearance_until"
    if until <= today:
        return f"forbearance_until {until} must be in the future (today is {today})"
    latest = today + timedelta(days=MAX_FORBEARANCE_DAYS)
    if until > latest:
        return (
            f"forbearance_until {until} is more than {MAX_FORBEARANCE_DAYS} days ahead "
            f"(latest {latest})"
        )
    return None


def _plan_problem(
    instalments: tuple[Instalment, ...], summary: CaseSummary, today: date
) -> str | None:
    if not 1 <= len(instalments) <= MAX_INSTALMENTS:
        return f"a payment plan needs 1 to {MAX_INSTALMENTS} instalments, got {len(instalments)}"
    previous: date | None = None
    latest = today + timedelta(days=MAX_PLAN_DAYS)
    for n, instalment in enumerate(instalments, start=1):
        if instalment.amount_minor <= 0:
            return f"instalment {n}: amount must be positive, got {instalment.amount_minor}"
        if instalment.due_date < today:
            return f"instalment {n}: due date {instalment.due_date} is in the past (today {today})"
        if instalment.due_date > latest:
            return (
                f"instalment {n}: due date {instalment.due_date} is more than {MAX_PLAN_DAYS} "
                f"days ahead (latest {latest})"
            )
        if previous is not None and instalment.due_date <= previous:
            return (
                f"instalment {n}: due date {instalment.due_date} is not after {previous}; "
                "due dates must strictly increase"
            )
        previous = instalment.due_date
    total = sum(i.amount_minor for i in instalments)
    currency = summary.currency
    if total < summary.overdue_minor:
        return (
            f"the instalments total {total} {currency}, less than the overdue "
            f"{summary.overdue_minor} {currency}"
        )
    if total > summary.outstanding_minor:
        return (
            f"the instalments total {total} {currency}, more than the outstanding "
            f"{summary.outstanding_minor} {currency}"
        )
    return None


def _dossier(summary: CaseSummary) -> dict[str, object]:
    fields = asdict(summary)
    return {"summary": {k: v.value if isinstance(v, Enum) else v for k, v in fields.items()}}


@workflow.defn(name="RiskReview")
class RiskReviewWorkflow:
    @workflow.init
    def __init__(self, input: RiskReviewInput) -> None:
        self._input = input
        self._period = timedelta(seconds=input.deadline_days * input.day_seconds)
        self._deadline = workflow.now() + self._period
        self._escalations = 0
        self._decision: RiskDecision | None = None
        self._recorded = False  # the row says `decided`
        self._cancelled = False

    @workflow.run
    async def run(self, input: RiskReviewInput) -> RiskDecision:
        try:
            await self._write(RiskReviewState.OPEN, input.reason, _dossier(input.summary))
            while not await self._decided_by_deadline():
                await self._escalate()
            decision = self._decision
            assert decision is not None
            why = f"{decision.kind} by {decision.decided_by}: {decision.reason}"
            await self._write(RiskReviewState.DECIDED, why)
            await self._tell_the_case(decision)
        except asyncio.CancelledError:
            # The case closed or moved on: the inbox must not keep showing a live review.
            self._cancelled = True
            why = workflow.cancellation_reason() or "the case closed or moved on"
            await self._write(RiskReviewState.CANCELLED, f"cancelled: {why}")
            raise
        self._recorded = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return decision

    @workflow.update
    @taken_by(RISK_OFFICERS)
    async def decide(self, decision: RiskDecision) -> RiskDecision:
        # Checked again: two decisions in one activation both pass the validator.
        self._check_decision(decision)
        self._decision = decision
        # The team's answer comes back once its inbox shows the decision.
        await workflow.wait_condition(lambda: self._recorded)
        return decision

    @decide.validator
    def _check_decision(self, decision: RiskDecision) -> None:
        bounded(decision)
        if self._cancelled:
            raise invalid("the review was cancelled: the case closed or moved on")
        taken = self._decision
        if taken is not None:
            raise invalid(f"already decided: {taken.kind} by {taken.decided_by}")
        problem = decision_problem(decision, self._input.summary, workflow.now().date())
        if problem:
            raise invalid(problem)

    @workflow.query
    def review(self) -> RiskReviewStatus:
        if self._cancelled:
            status = RiskReviewState.CANCELLED
        elif self._decision is not None:
            status = RiskReviewState.DECIDED
        elif self._escalations:
            status = RiskReviewState.ESCALATED
        else:
            status = RiskReviewState.OPEN
        return RiskReviewStatus(
            status=status,
            escalations=self._escalations,
            deadline=self._deadline,
            decision=self._decision,
            summary=self._input.summary,
        )

    async def _decided_by_deadline(self) -> bool:
        left = self._deadline - workflow.now()
        if left > timedelta(0):
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(lambda: self._decision is not None, timeout=left)
        return self._decision is not None

    async def _escalate(self) -> None:
        self._escalations += 1
        missed = self._deadline
        # Deadlines keep their rhythm from the opening, however long a write took.
        self._deadline = missed + self._period
        why = (
            f"no decision by the deadline {missed.isoformat(timespec='seconds')} "
            f"({self._input.deadline_days} day(s) each; escalation {self._escalations}): "
            f"{self._input.reason}"
        )
        await self._write(RiskReviewState.ESCALATED, why)

    async def _tell_the_case(self, decision: RiskDecision) -> None:
        parent = workflow.info().parent
        if parent is None:
            return
        # By workflow id alone: the case may have continued as new since it started us.
        case = workflow.get_external_workflow_handle(parent.workflow_id)
        try:
            await case.signal(DECISION_SIGNAL, decision)
        except FailureError:
            workflow.logger.warning("the case has ended; the decision stays on record here")

    async def _write(
        self, status: RiskReviewState, reason: str, dossier: dict[str, object] | None = None
    ) -> None:
        write = HandoffWrite(
            key=workflow.info().workflow_id,
            case_id=self._input.summary.case_id,
            department="risk",
            status=status.value,
            reason=reason,
            at=workflow.now(),
            dossier=dossier,
        )
        await store("write_handoff", write)
