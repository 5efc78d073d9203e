"""A risk review on the time-skipping server: decisions, refused decisions, escalation; the
`handoffs` row read back as the risk inbox shows it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select
from temporalio import activity, workflow
from temporalio.client import (
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.workflow import ParentClosePolicy

from activities.case_store import CaseStoreActivities
from models.departments import (
    CaseSummary,
    HandoffWrite,
    Instalment,
    RiskDecision,
    RiskDecisionKind,
    RiskReviewInput,
    RiskReviewState,
    handoff_id,
)
from models.strategy import Segment
from readmodel.engine import Database
from readmodel.tables import HandoffRow
from tests.time_skip import skip
from workers.runners import CHECKED
from workflows.risk_review import DECISION_SIGNAL
from workflows.risk_review import RiskReviewWorkflow as Review

Handle = WorkflowHandle[Review, RiskDecision]
_accounts = itertools.count(1)


def new_review(
    *,
    reason: str = "hardship: job loss",
    outstanding: int = 500_000,
    overdue: int = 120_000,
    deadline_days: int = 3,
) -> tuple[str, RiskReviewInput]:
    """A review's workflow id and input, as the case hands them over."""
    account_no = f"62229999{next(_accounts):08d}"
    summary = CaseSummary(
        case_id=f"case-{account_no}",
        account_no=account_no,
        customer_ref="CUST000001",
        product="card",
        currency="CNY",
        outstanding_minor=outstanding,
        overdue_minor=overdue,
        days_past_due=40,
        segment=Segment.HIGH,
        score=512,
        promises_kept=1,
        promises_broken=2,
        contacts_sent=9,
    )
    review = RiskReviewInput(summary=summary, reason=reason, deadline_days=deadline_days)
    return handoff_id("risk", account_no, 1), review


@dataclass
class RiskDesk:
    env: WorkflowEnvironment
    queue: str
    db: Database
    started: list[str] = field(default_factory=list)

    async def today(self) -> date:
        return (await self.env.get_current_time()).date()

    async def start(self, **review: Any) -> Handle:
        """A review, once the risk inbox shows it."""
        review_id, start = new_review(**review)
        handle = await self.env.client.start_workflow(
            Review.run, start, id=review_id, task_queue=self.queue
        )
        self.started.append(handle.id)
        await self.row_once(handle, "open")
        return handle

    async def row(self, handle: Handle) -> HandoffRow | None:
        async with self.db.session() as session:
            rows = await session.exec(
                select(HandoffRow).where(HandoffRow.idempotency_key == handle.id)
            )
            return rows.first()

    async def row_once(self, handle: Handle, status: str) -> HandoffRow:
        """The row once it has reached `status` (the write is an activity, done a moment
        after the workflow moves on)."""
        for _ in range(200):
            row = await self.row(handle)
            if row is not None and row.status == status:
                return row
            await asyncio.sleep(0.02)
        raise AssertionError(f"handoff {handle.id} never reached {status}: {row}")

    async def sleep_days(self, days: float) -> None:
        await skip(self.env, timedelta(days=days), self.started)


def review_worker(env: WorkflowEnvironment, queue: str, store: Callable[..., Any]) -> Worker:
    """A worker like the `risk` queue's (the review workflow and the handoff store), also
    hosting a stand-in for the case that hands reviews over."""
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[Review, StandInCase],
        activities=[store],
        workflow_runner=CHECKED,
    )


@pytest.fixture
async def desk(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database
) -> AsyncIterator[RiskDesk]:
    async with review_worker(ts_env, task_queue, CaseStoreActivities(sqlite_db).write_handoff):
        yield RiskDesk(env=ts_env, queue=task_queue, db=sqlite_db)


def plan(today: date, *amounts: int, gap: int = 30) -> tuple[Instalment, ...]:
    return tuple(
        Instalment(due_date=today + timedelta(days=gap * n), amount_minor=amount)
        for n, amount in enumerate(amounts, start=1)
    )


async def refusal(handle: Handle, decision: RiskDecision) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(Review.decide, decision)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidAction"
    return cause.message


async def test_hardship_review_decided_as_forbearance(desk: RiskDesk) -> None:
    handle = await desk.start(reason="hardship: hospitalised")
    opened = await desk.row_once(handle, "open")
    assert opened.department == "risk" and opened.reason == "hardship: hospitalised"
    assert opened.case_id == (await handle.query(Review.review)).summary.case_id
    assert opened.dossier is not None
    summary = opened.dossier["summary"]
    assert summary["segment"] == "high" and summary["overdue_minor"] == 120_000
    assert "mobile" not in summary and "name" not in summary

    until = await desk.today() + timedelta(days=90)
    decision = RiskDecision(
        kind=RiskDecisionKind.FORBEARANCE,
        decided_by="risk.li",
        reason="income back in three months",
        forbearance_until=until,
    )
    assert await handle.execute_update(Review.decide, decision) == decision
    # The update returns once the inbox shows the decision.
    decided = await desk.row(handle)
    assert decided is not None and decided.status == "decided"
    assert decided.reason == "forbearance by risk.li: income back in three months"
    assert decided.dossier == opened.dossier  # kept from the opening write
    assert await handle.result() == decision

    review = await handle.query(Review.review)
    assert review.status is RiskReviewState.DECIDED
    assert review.decision == decision and review.escalations == 0


async def test_a_payment_plan_within_the_balance_is_taken(desk: RiskDesk) -> None:
    handle = await desk.start(outstanding=300_000, overdue=100_000)
    today = await desk.today()
    decision = RiskDecision(
        kind=RiskDecisionKind.PAYMENT_PLAN,
        decided_by="risk.wang",
        reason="steady income, smaller instalments",
        instalments=(Instalment(due_date=today, amount_minor=40_000), *plan(today, 30_000, 30_000)),
    )
    await handle.execute_update(Review.decide, decision)
    result = await handle.result()
    assert result.kind is RiskDecisionKind.PAYMENT_PLAN
    assert sum(i.amount_minor for i in result.instalments) == 100_000
    row = await desk.row(handle)
    assert row is not None and row.reason.startswith("payment_plan by risk.wang: ")


@pytest.mark.parametrize(
    ("amounts", "shape", "message"),
    [
        ((30_000, 30_000), "monthly", "less than the overdue 100000 CNY"),
        ((100_000, 100_000, 200_000), "monthly", "more than the outstanding 300000 CNY"),
        ((50_000, 50_000), "same day", "due dates must strictly increase"),
        ((50_000, 50_000), "backwards", "due dates must strictly increase"),
        ((50_000, 50_000), "yesterday", "is in the past"),
        # The case reads a due date as an instant: near the calendar's end it overflowed there
        # (an OverflowError in the case's signal handler: a poisoned case) after a 200 here.
        ((100_000, 200_000), "calendar's end", "instalment 2: due date 9999-12-31 is more than"),
        ((100_000, 200_000), "past the horizon", "is more than 1098 days ahead"),
        ((100_000, 0), "monthly", "instalment 2: amount must be positive, got 0"),
        ((), "monthly", "needs 1 to 36 instalments, got 0"),
        ((3_000,) * 37, "monthly", "needs 1 to 36 instalments, got 37"),
    ],
)
async def test_bad_payment_plans_are_refused_before_history(
    desk: RiskDesk, amounts: tuple[int, ...], shape: str, message: str
) -> None:
    handle = await desk.start(outstanding=300_000, overdue=100_000)
    today = await desk.today()
    instalments = list(plan(today, *amounts))
    if shape == "same day":
        instalments[1] = Instalment(due_date=instalments[0].due_date, amount_minor=amounts[1])
    elif shape == "backwards":
        instalments.reverse()
    elif shape == "yesterday":
        instalments[0] = Instalment(due_date=today - timedelta(days=1), amount_minor=amounts[0])
    elif shape == "calendar's end":
        instalments[1] = Instalment(due_date=date.max, amount_minor=amounts[1])
    elif shape == "past the horizon":
        instalments[1] = Instalment(today + timedelta(days=1099), amount_minor=amounts[1])
    bad = RiskDecision(
        kind=RiskDecisionKind.PAYMENT_PLAN,
        decided_by="risk.wang",
        reason="plan",
        instalments=tuple(instalments),
    )
    assert message in await refusal(handle, bad)

    history = await handle.fetch_history()
    assert not [
        e
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert (await handle.query(Review.review)).status is RiskReviewState.OPEN


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (RiskDecision(RiskDecisionKind.PROCEED, decided_by="", reason="x"), "decided_by"),
        (RiskDecision(RiskDecisionKind.PROCEED, decided_by="risk.li", reason=" "), "reason"),
        # Text no database stores (a NUL) or too long to carry: the review's writes would fail.
        (
            RiskDecision(RiskDecisionKind.PROCEED, decided_by="risk.li\x00", reason="x"),
            "decided_by holds a control character",
        ),
        (
            RiskDecision(RiskDecisionKind.PROCEED, decided_by="risk.li", reason="x" * 2_001),
            "reason is longer than 2000 characters",
        ),
        (RiskDecision(RiskDecisionKind.FORBEARANCE, "risk.li", "x"), "needs forbearance_until"),
        (
            RiskDecision(RiskDecisionKind.FORBEARANCE, "risk.li", "x", forbearance_until=date.min),
            "must be in the future",
        ),
        (
            RiskDecision(RiskDecisionKind.FORBEARANCE, "risk.li", "x", forbearance_until=date.max),
            "more than 180 days ahead",
        ),
        (
            RiskDecision(RiskDecisionKind.RESTRUCTURE, "risk.li", "x", forbearance_until=date.max),
            "forbearance_until belongs to a forbearance, not to restructure",
        ),
        (
            RiskDecision(
                RiskDecisionKind.PROCEED,
                "risk.li",
                "x",
                instalments=(Instalment(date.max, 100_000),),
            ),
            "instalments belong to a payment plan, not to proceed",
        ),
    ],
)
async def test_incomplete_decisions_are_refused(
    desk: RiskDesk, decision: RiskDecision, message: str
) -> None:
    handle = await desk.start()
    assert message in await refusal(handle, decision)


async def test_forbearance_may_reach_180_days_and_no_further(desk: RiskDesk) -> None:
    handle = await desk.start()
    today = await desk.today()
    too_far = RiskDecision(
        RiskDecisionKind.FORBEARANCE, "risk.li", "x", forbearance_until=today + timedelta(181)
    )
    assert "more than 180 days ahead" in await refusal(handle, too_far)
    limit = RiskDecision(
        RiskDecisionKind.FORBEARANCE, "risk.li", "x", forbearance_until=today + timedelta(180)
    )
    assert await handle.execute_update(Review.decide, limit) == limit


async def test_missing_decision_escalates_at_each_deadline(desk: RiskDesk) -> None:
    handle = await desk.start(reason="high-risk segment", deadline_days=3)
    await desk.row_once(handle, "open")
    first_deadline = (await handle.query(Review.review)).deadline

    await desk.sleep_days(2)
    assert (await handle.query(Review.review)).status is RiskReviewState.OPEN

    await desk.sleep_days(1.1)
    row = await desk.row_once(handle, "escalated")
    assert f"no decision by the deadline {first_deadline.isoformat(timespec='seconds')}" in (
        row.reason
    )
    review = await handle.query(Review.review)
    assert review.status is RiskReviewState.ESCALATED and review.escalations == 1
    assert review.deadline == first_deadline + timedelta(days=3)
    assert review.decision is None  # never decided on the team's behalf

    await desk.sleep_days(3)
    for _ in range(200):
        review = await handle.query(Review.review)
        if review.escalations == 2:
            break
        await asyncio.sleep(0.02)
    assert review.status is RiskReviewState.ESCALATED and review.escalations == 2
    row = await desk.row_once(handle, "escalated")
    assert "escalation 2" in row.reason

    late = RiskDecision(RiskDecisionKind.PROCEED, "risk.zhao", "no hardship evidence")
    await handle.execute_update(Review.decide, late)
    assert await handle.result() == late
    decided = await desk.row_once(handle, "decided")
    assert decided.reason == "proceed by risk.zhao: no hardship evidence"
    assert (await handle.query(Review.review)).escalations == 2


class GatedStore:
    """The real store, holding the `decided` write until released: the review stays running
    with its decision taken, as it does while a slow database write is retried."""

    def __init__(self, db: Database) -> None:
        self._store = CaseStoreActivities(db)
        self.release = asyncio.Event()

    @activity.defn(name="write_handoff")
    async def write_handoff(self, write: HandoffWrite) -> None:
        if write.status == "decided":
            await self.release.wait()
        await self._store.write_handoff(write)


async def test_a_second_decision_is_refused(
    ts_env: WorkflowEnvironment, sqlite_db: Database
) -> None:
    store = GatedStore(sqlite_db)
    queue = f"risk-gated-{next(_accounts)}"
    async with review_worker(ts_env, queue, store.write_handoff):
        desk = RiskDesk(env=ts_env, queue=queue, db=sqlite_db)
        handle = await desk.start()
        first = RiskDecision(RiskDecisionKind.RESTRUCTURE, "risk.li", "new terms agreed")
        pending = await handle.start_update(
            Review.decide, first, wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        assert (await handle.query(Review.review)).status is RiskReviewState.DECIDED
        second = RiskDecision(RiskDecisionKind.PROCEED, "risk.zhao", "changed my mind")
        assert "already decided: restructure by risk.li" in await refusal(handle, second)

        store.release.set()
        assert await pending.result() == first
        assert await handle.result() == first
        row = await desk.row(handle)
        assert row is not None and row.reason == "restructure by risk.li: new terms agreed"


async def test_a_cancelled_review_leaves_the_inbox(desk: RiskDesk) -> None:
    handle = await desk.start()
    await desk.row_once(handle, "open")
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as ended:
        await handle.result()
    assert isinstance(ended.value.cause, CancelledError)
    row = await desk.row_once(handle, "cancelled")
    assert row.reason == "cancelled: the case closed or moved on"
    assert (await handle.query(Review.review)).status is RiskReviewState.CANCELLED


@dataclass(frozen=True)
class StandInCaseInput:
    review_id: str
    review: RiskReviewInput


@workflow.defn(name="StandInCase", sandboxed=False)
class StandInCase:
    """Hands a review over as the case does (an abandoned child) and waits for its signal."""

    def __init__(self) -> None:
        self.decision: RiskDecision | None = None

    @workflow.run
    async def run(self, start: StandInCaseInput) -> RiskDecision:
        await workflow.start_child_workflow(
            "RiskReview",
            start.review,
            id=start.review_id,
            task_queue=workflow.info().task_queue,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        await workflow.wait_condition(lambda: self.decision is not None)
        assert self.decision is not None
        return self.decision

    @workflow.signal(name=DECISION_SIGNAL)
    def risk_decided(self, decision: RiskDecision) -> None:
        self.decision = decision


async def hand_over(desk: RiskDesk) -> tuple[WorkflowHandle[StandInCase, RiskDecision], Handle]:
    review_id, review = new_review()
    case = await desk.env.client.start_workflow(
        StandInCase.run,
        StandInCaseInput(review_id=review_id, review=review),
        id=review.summary.case_id,
        task_queue=desk.queue,
    )
    await desk.row_once(desk.env.client.get_workflow_handle(review_id), "open")
    return case, desk.env.client.get_workflow_handle_for(Review.run, review_id)


async def test_the_case_hears_the_decision_by_signal(desk: RiskDesk) -> None:
    case, handle = await hand_over(desk)
    decision = RiskDecision(RiskDecisionKind.PROCEED, "risk.li", "no hardship evidence")
    await handle.execute_update(Review.decide, decision)
    assert await case.result() == decision
    assert await handle.result() == decision


async def test_a_decision_outlives_an_ended_case(desk: RiskDesk) -> None:
    case, handle = await hand_over(desk)
    await case.terminate("closed while the review was open")
    decision = RiskDecision(RiskDecisionKind.PROCEED, "risk.li", "no hardship evidence")
    assert await handle.execute_update(Review.decide, decision) == decision
    assert await handle.result() == decision
    row = await desk.row(handle)
    assert row is not None and row.status == "decided"
