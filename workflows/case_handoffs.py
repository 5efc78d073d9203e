"""Handoffs of a case to the risk and legal departments.

Risk: reported hardship (or a high-risk segment) starts a `RiskReviewWorkflow` on the risk
queue; its decision (forbearance, payment plan, restructure, proceed) comes back as the signal
`risk_decided`, and the case acts on it: contact paused until a date, instalments tracked (a
missed one breaks the plan), closed as settled, or collection goes on.

Legal: past the legal threshold, with no plan being kept and two effective contacts at least 30
days apart, a supervisor is asked to approve; approved, a `LegalReferralWorkflow` on the legal
queue takes the case, contact stops (unless legal allows it), and its outcome comes back as the
signal `legal_outcome`: returned (back to the collectors), settled or closed.

Department workflows are started with ParentClosePolicy.ABANDON and report by signal to the
case's id, so a case may continue as new while a referral lives on for years.

What each of these decides is `handoff_rules`'; the handlers here adopt the decision and carry
out its effects in order (`_hand_off`): tasks opened and cancelled, and a department's workflow
queued with the case's summary, for the run loop to start.
"""

from __future__ import annotations

from collections.abc import Coroutine, Iterable
from datetime import datetime
from typing import Any, assert_never

from temporalio import workflow
from temporalio.exceptions import FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from models.departments import (
        AcceptReferralInput,
        CaseClosedNotice,
        CaseSummary,
        ContactPermissionInput,
        LegalOutcome,
        LegalReferralInput,
        Precondition,
        RiskDecision,
        RiskReviewInput,
    )
    from workflows import case_rules as rules
    from workflows import handoff_rules as handoffs
    from workflows.case_base import CaseBase
    from workflows.handoff_rules import (
        CancelRiskReview,
        Handed,
        HandoffEffect,
        InformLegal,
        QueueLegalReferral,
        QueueRiskReview,
    )
    from workflows.legal_referral import LegalReferralWorkflow
    from workflows.steering_rules import (
        Effect,
        MakePromise,
        OpenTask,
        StartLegalReferral,
        WriteTask,
    )

# Read here by the run loop (`case._legal_due`) and the integration tests.
APPROVAL_RETRY_DAYS = handoffs.APPROVAL_RETRY_DAYS
EVIDENCE_GAP_DAYS = handoffs.EVIDENCE_GAP_DAYS


class CaseHandoffs(CaseBase):
    def _summary(self, now: datetime) -> CaseSummary:
        state = self._live()
        account = self._input.account
        return CaseSummary(
            case_id=self._id,
            account_no=account.account_no,
            customer_ref=self._input.customer_ref,
            product=account.product,
            currency=account.currency,
            outstanding_minor=state.outstanding_minor,
            overdue_minor=state.overdue_minor,
            days_past_due=rules.days_past_due(state, now),
            segment=state.assessment.segment,
            score=state.assessment.score,
            promises_kept=state.promises_kept,
            promises_broken=state.promises_broken,
            contacts_sent=state.sent_count,
        )

    def _hand_off(self, handed: Handed, now: datetime) -> None:
        """Adopts what a handoff rule decided (its state and events), then carries out its
        effects in the order given."""
        self._decided((handed.state, handed.events))
        self._carry_out(handed.effects, now)

    def _carry_out(self, effects: Iterable[Effect | HandoffEffect], now: datetime) -> None:
        """What a rule named for the workflow itself to do, in order: a task opened or written
        back, a promise taken, a department's workflow queued for the run loop to start (with
        the case's summary as it stands at `now`)."""
        for effect in effects:
            match effect:
                case OpenTask():
                    self._open_task(
                        effect.kind, effect.queue, effect.note, escalates=effect.escalates
                    )
                case WriteTask():
                    self._adopt_task((effect.task, effect.event))
                case MakePromise():
                    self._make_promise(effect.promise, by=effect.by)
                case StartLegalReferral():
                    self._start_legal_referral(effect.approved_by, now)
                case QueueRiskReview():
                    self._queue_risk_review(effect, now)
                case QueueLegalReferral():
                    self._queue_legal_referral(effect, now)
                case _:
                    assert_never(effect)

    def _queue_risk_review(self, review: QueueRiskReview, now: datetime) -> None:
        assessment = self._live().assessment
        ask = RiskReviewInput(
            summary=self._summary(now),
            reason=review.reason,
            deadline_days=assessment.strategy.task_deadline_days,
            day_seconds=assessment.strategy.day_seconds,
        )
        self._pending_children.append(("RiskReview", ask, review.review_id, assessment.risk_queue))

    def _queue_legal_referral(self, referral: QueueLegalReferral, now: datetime) -> None:
        assessment = self._live().assessment
        refer = LegalReferralInput(
            summary=self._summary(now),
            approved_by=referral.approved_by,
            preconditions=referral.preconditions,
            day_seconds=assessment.strategy.day_seconds,
        )
        child = ("LegalReferral", refer, referral.referral_id, assessment.legal_queue)
        self._pending_children.append(child)

    def _start_risk_review(self, reason: str) -> None:
        account_no = self._input.account.account_no
        requested = handoffs.request_risk_review(self._live(), reason, account_no=account_no)
        self._hand_off(requested, workflow.now())

    @workflow.signal
    def risk_decided(self, decision: RiskDecision) -> None:
        """The risk department's decision, sent by its review workflow."""
        if self._state is None:
            return
        now, today = workflow.now(), self._customer_today()
        self._hand_off(handoffs.risk_decided(self._state, decision, now, today), now)

    def _apply_plan_payment(self, amount_minor: int) -> None:
        now = workflow.now()
        self._hand_off(handoffs.pay_plan(self._live(), amount_minor, now), now)

    def _check_instalment(self, now: datetime) -> None:
        currency = self._input.account.currency
        self._hand_off(handoffs.check_instalment(self._live(), now, currency=currency), now)

    def _legal_preconditions(self, now: datetime, approved_by: str) -> tuple[Precondition, ...]:
        return handoffs.legal_preconditions(self._live(), now, approved_by)

    def _check_legal(self, now: datetime) -> None:
        self._hand_off(handoffs.check_legal(self._live(), now), now)

    def _start_legal_referral(self, approved_by: str, now: datetime) -> None:
        account_no = self._input.account.account_no
        referred = handoffs.refer_to_legal(self._live(), approved_by, now, account_no=account_no)
        self._hand_off(referred, now)

    @workflow.signal
    def legal_outcome(self, outcome: LegalOutcome) -> None:
        """The legal department's end of a referral, sent by its referral workflow."""
        if self._state is None:
            return
        now = workflow.now()
        self._hand_off(handoffs.legal_outcome(self._state, outcome, now), now)

    @workflow.signal
    def legal_accepted(self, acceptance: AcceptReferralInput) -> None:
        """Legal took the referral: proceedings follow, and the case waits for their end."""
        if self._state is None:
            return
        self._hand_off(handoffs.legal_accepted(self._state, acceptance), workflow.now())

    @workflow.signal
    def legal_contact_permission(self, permission: ContactPermissionInput) -> None:
        if self._state is None:
            return
        now = workflow.now()
        self._hand_off(handoffs.legal_contact(self._state, permission, now), now)

    async def _start_pending_children(self) -> None:
        while self._pending_children:
            name, arg, child_id, queue = self._pending_children.pop(0)
            await workflow.start_child_workflow(
                name,
                arg,
                id=child_id,
                task_queue=queue,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )

    def _end_departments(self, why: str) -> list[Coroutine[Any, Any, None]]:
        """A closed case leaves no department working on it (`handoff_rules.end_departments`).
        Returns the notices to send; the case's timeline already says what was done."""
        unstarted = frozenset(child_id for _, _, child_id, _ in self._pending_children)
        self._pending_children.clear()
        ended = handoffs.end_departments(self._live(), why, unstarted)
        self._decided((ended.state, ended.events))
        return [_send_notice(notice) for notice in ended.notices]


def _send_notice(notice: CancelRiskReview | InformLegal) -> Coroutine[Any, Any, None]:
    match notice:
        case CancelRiskReview():
            return _cancel(notice.review_id, notice.why)
        case InformLegal():
            return _tell_legal(notice.referral_id, CaseClosedNotice(reason=notice.why))
        case _:
            assert_never(notice)


async def _cancel(workflow_id: str, why: str) -> None:
    try:
        await workflow.get_external_workflow_handle(workflow_id).cancel(reason=why)
    except FailureError:
        workflow.logger.info("the department's workflow had already ended")


async def _tell_legal(workflow_id: str, notice: CaseClosedNotice) -> None:
    handle = workflow.get_external_workflow_handle_for(LegalReferralWorkflow.run, workflow_id)
    try:
        await handle.signal(LegalReferralWorkflow.case_closed, notice)
    except FailureError:
        workflow.logger.info("the legal referral had already ended")
