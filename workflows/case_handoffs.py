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
"""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from models.contracts import (
        ClosureReason,
        Stage,
    )
    from models.department_events import (
        LegalAccepted,
        LegalContactPermission,
        LegalInformed,
        LegalNotReady,
        LegalOutcomeRecorded,
        PlanBroken,
        PlanKept,
        RiskDecided,
        RiskReviewCancelled,
        RiskReviewRequested,
    )
    from models.departments import (
        AcceptReferralInput,
        CaseClosedNotice,
        CaseSummary,
        ContactPermissionInput,
        LegalOutcome,
        LegalOutcomeKind,
        LegalReferralInput,
        PlanInstalment,
        Precondition,
        RiskDecision,
        RiskDecisionKind,
        RiskReviewInput,
        handoff_id,
    )
    from models.tasks import TaskKind
    from workflows import case_rules as rules
    from workflows.case_base import CaseBase
    from workflows.legal_referral import LegalReferralWorkflow
    from workflows.steering_rules import SUPERVISOR


EVIDENCE_GAP_DAYS = 30  # two effective contacts at least this far apart before suing
LEGAL_RECHECK_DAYS = 7
APPROVAL_RETRY_DAYS = 30


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

    def _next_handoff_id(self, department: str) -> str:
        dept = self._dept()
        dept.handoffs += 1
        opened = f"{self._live().started_at:%Y%m%d%H%M%S}"
        return handoff_id(department, f"{self._input.account.account_no}-{opened}", dept.handoffs)

    def _start_risk_review(self, reason: str) -> None:
        dept = self._dept()
        if dept.risk_review is not None:
            return
        review_id = self._next_handoff_id("risk")
        strategy = self._live().assessment.strategy
        dept.risk_review = review_id
        self._pending_children.append(
            (
                "RiskReview",
                RiskReviewInput(
                    summary=self._summary(workflow.now()),
                    reason=reason,
                    deadline_days=strategy.task_deadline_days,
                    day_seconds=strategy.day_seconds,
                ),
                review_id,
                self._live().assessment.risk_queue,
            )
        )
        self._emit(RiskReviewRequested(review_id=review_id, reason=reason))

    @workflow.signal
    def risk_decided(self, decision: RiskDecision) -> None:
        """The risk department's decision, sent by its review workflow."""
        state = self._state
        if state is None or state.stage is Stage.CLOSED:
            return
        dept = state.departments
        dept.risk_review = None
        state.hardship_reason = ""
        now = workflow.now()
        strategy = state.assessment.strategy
        self._emit(RiskDecided(decision.kind, decision.decided_by, decision.reason))
        match decision.kind:
            case RiskDecisionKind.FORBEARANCE:
                assert decision.forbearance_until is not None
                days = (decision.forbearance_until - self._customer_today()).days
                dept.forbearance_until = now + rules.day(strategy) * max(1, days)
                dept.forbearance_until_date = decision.forbearance_until
                self._set_stage(Stage.RISK_REVIEW, "forbearance")
            case RiskDecisionKind.PAYMENT_PLAN:
                grace = strategy.promise.grace_days
                dept.plan = [
                    PlanInstalment(
                        due_at=now
                        + rules.day(strategy)
                        * ((i.due_date - self._customer_today()).days + grace),
                        due_date=i.due_date,
                        amount_minor=i.amount_minor,
                    )
                    for i in decision.instalments
                ]
                dept.plan_status = "active"
                self._set_stage(Stage.RISK_REVIEW, "payment plan")
            case RiskDecisionKind.RESTRUCTURE:
                self._close(ClosureReason.SETTLED, f"restructured: {decision.reason}")
            case RiskDecisionKind.PROCEED:
                self._return_to_collection(now)
        self._changed = True

    def _apply_plan_payment(self, amount_minor: int) -> None:
        dept = self._dept()
        if dept.plan_status != "active":
            return
        for instalment in dept.plan:
            if instalment.status != "due" or amount_minor <= 0:
                continue
            taken = min(amount_minor, instalment.amount_minor - instalment.paid_minor)
            instalment.paid_minor += taken
            amount_minor -= taken
            if instalment.paid_minor >= instalment.amount_minor:
                instalment.status = "paid"
        if all(i.status == "paid" for i in dept.plan):
            dept.plan_status = "kept"
            self._emit(PlanKept())
            self._return_to_collection(workflow.now())

    def _check_instalment(self, now: datetime) -> None:
        dept = self._dept()
        due = next((i for i in dept.plan if i.status == "due"), None)
        if due is None or now < due.due_at:
            return
        due.status = "missed"
        dept.plan_status = "broken"
        self._emit(
            PlanBroken(
                due_date=due.due_date.isoformat(),
                paid_minor=due.paid_minor,
                amount_minor=due.amount_minor,
                currency=self._input.account.currency,
            )
        )
        self._return_to_collection(now)

    def _legal_preconditions(self, now: datetime, approved_by: str) -> tuple[Precondition, ...]:
        state = self._live()
        dept = self._dept()
        legal_dpd = state.assessment.strategy.stages.legal_dpd
        dpd = rules.days_past_due(state, now)
        gap = rules.day(state.assessment.strategy) * EVIDENCE_GAP_DAYS
        evidence = sorted(dept.evidence, key=lambda e: e.at)
        apart = next(
            ((a, b) for a in evidence for b in evidence if b.at - a.at >= gap),
            None,
        )
        contacts = (
            f"{apart[0].how} on {apart[0].at:%Y-%m-%d} ({apart[0].key}); "
            f"{apart[1].how} on {apart[1].at:%Y-%m-%d} ({apart[1].key})"
            if apart
            else f"{len(evidence)} effective contact(s), none {EVIDENCE_GAP_DAYS} days apart"
        )
        return (
            Precondition("past the legal threshold", dpd >= legal_dpd, f"{dpd} days past due"),
            Precondition(
                "no payment plan being kept",
                dept.plan_status != "active",
                f"plan: {dept.plan_status or 'none'}",
            ),
            Precondition("two effective contacts 30 days apart", apart is not None, contacts),
            Precondition("supervisor approval", bool(approved_by), approved_by or "not yet"),
        )

    def _check_legal(self, now: datetime) -> None:
        state = self._live()
        dept = self._dept()
        strategy = state.assessment.strategy
        dept.legal_check_at = now + rules.day(strategy) * LEGAL_RECHECK_DAYS
        if dept.approval_task is not None or dept.legal_referral is not None:
            return
        if dept.approval_rejected_at is not None and now - dept.approval_rejected_at < (
            rules.day(strategy) * APPROVAL_RETRY_DAYS
        ):
            return
        missing = [p for p in self._legal_preconditions(now, "")[:3] if not p.met]
        text = "; ".join(f"{p.name} ({p.evidence})" for p in missing)
        if missing:
            if text != dept.legal_missing:
                dept.legal_missing = text
                self._emit(LegalNotReady(missing=text, for_now=True))
            return
        dept.legal_missing = ""
        self._open_task(TaskKind.SUPERVISOR_APPROVAL, SUPERVISOR, "approve the legal referral")

    def _start_legal_referral(self, approved_by: str, now: datetime) -> None:
        state = self._live()
        dept = self._dept()
        preconditions = self._legal_preconditions(now, approved_by)
        missing = [p for p in preconditions if not p.met]
        if missing:
            text = "; ".join(f"{p.name} ({p.evidence})" for p in missing)
            self._emit(LegalNotReady(missing=text, for_now=False))
            return
        referral_id = self._next_handoff_id("legal")
        dept.legal_referral = referral_id
        dept.legal_contact_allowed = False
        self._set_stage(Stage.LEGAL, f"referred to the legal department, approved by {approved_by}")
        self._stop_collector_work("the legal department holds the case")
        self._pending_children.append(
            (
                "LegalReferral",
                LegalReferralInput(
                    summary=self._summary(now),
                    approved_by=approved_by,
                    preconditions=preconditions,
                    day_seconds=state.assessment.strategy.day_seconds,
                ),
                referral_id,
                self._live().assessment.legal_queue,
            )
        )

    @workflow.signal
    def legal_outcome(self, outcome: LegalOutcome) -> None:
        """The legal department's end of a referral, sent by its referral workflow."""
        state = self._state
        if state is None or state.stage is Stage.CLOSED:
            return
        dept = state.departments
        dept.legal_referral = None
        dept.legal_accepted_by = ""
        dept.legal_contact_allowed = False
        self._emit(LegalOutcomeRecorded(outcome=outcome.kind, reason=outcome.reason))
        match outcome.kind:
            case LegalOutcomeKind.RETURNED:
                dept.approval_rejected_at = workflow.now()
                self._set_stage(Stage.COLLECTOR, f"returned by legal: {outcome.reason}")
            case LegalOutcomeKind.SETTLED:
                self._close(ClosureReason.SETTLED, f"settled in legal: {outcome.reason}")
            case LegalOutcomeKind.CLOSED:
                self._close(ClosureReason.LEGAL_CLOSED, outcome.reason)
        self._changed = True

    @workflow.signal
    def legal_accepted(self, acceptance: AcceptReferralInput) -> None:
        """Legal took the referral: proceedings follow, and the case waits for their end."""
        state = self._state
        if state is None or state.departments.legal_referral is None:
            return
        state.departments.legal_accepted_by = acceptance.by
        self._emit(LegalAccepted(by=acceptance.by, note=acceptance.note or ""))

    @workflow.signal
    def legal_contact_permission(self, permission: ContactPermissionInput) -> None:
        state = self._state
        if state is None:
            return
        state.departments.legal_contact_allowed = permission.allowed
        self._emit(LegalContactPermission(permission.by, permission.allowed, permission.reason))
        if not permission.allowed:
            self._stop_collector_work("legal stopped contact")
        self._changed = True

    def _stop_collector_work(self, why: str) -> None:
        for kind in (TaskKind.COLLECTOR_CALL, TaskKind.FIELD_VISIT):
            self._cancel_open_tasks(why, kind=kind)

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
        """A closed case leaves no department working on it: an open risk review is cancelled
        with the reason; a legal referral is told, and legal decides what follows. Returns the
        notices to send; the case's timeline already says what was done."""
        dept = self._dept()
        unstarted = {child_id for _, _, child_id, _ in self._pending_children}
        self._pending_children.clear()
        notices: list[Coroutine[Any, Any, None]] = []
        if dept.risk_review is not None:
            review, dept.risk_review = dept.risk_review, None
            if review not in unstarted:
                notices.append(_cancel(review, why))
            self._emit(RiskReviewCancelled(review_id=review, why=why))
        if dept.legal_referral in unstarted:
            dept.legal_referral = None
        elif dept.legal_referral is not None:
            notices.append(_tell_legal(dept.legal_referral, CaseClosedNotice(reason=why)))
            self._emit(LegalInformed(referral_id=dept.legal_referral, why=why))
        return notices

    def _legal_hold(self) -> bool:
        dept = self._dept()
        return dept.legal_referral is not None and not dept.legal_contact_allowed


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
