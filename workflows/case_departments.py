"""The second half of a case: collectors' tasks, and handoffs to the risk and legal departments.

Tasks: in the collector stage a collector call is opened with a deadline from the strategy; a
task past its deadline escalates to a supervisor; the outcome steers the case (a promise pauses
contact, not found or a wrong number sends a field visit, reached starts the quiet period). When
the case closes, its open tasks are cancelled.

Risk: reported hardship (or a high-risk segment) starts a `RiskReviewWorkflow` child on the risk
queue; its decision (forbearance, payment plan, restructure, proceed) comes back as the signal
`risk_decided`, and the case acts on it.

Legal: past the legal threshold, with no plan being kept and two effective contacts at least 30
days apart, a supervisor is asked to approve; approved, a `LegalReferralWorkflow` child on the
legal queue takes the case, contact stops (unless legal allows it), and its outcome comes back
as the signal `legal_outcome`.

Children are started with ParentClosePolicy.ABANDON and report by signal, so a case may continue
as new while a referral lives on for years.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from models.contracts import (
        ActionResult,
        AttemptStatus,
        ClosureReason,
        PromiseToPayInput,
        Stage,
    )
    from models.departments import (
        OUTCOMES,
        CaseSummary,
        ClaimTaskInput,
        CompleteTaskInput,
        ContactPermissionInput,
        DepartmentState,
        Evidence,
        LegalOutcome,
        LegalOutcomeKind,
        LegalReferralInput,
        PlanInstalment,
        Precondition,
        RiskDecision,
        RiskDecisionKind,
        RiskReviewInput,
        TaskKind,
        TaskOutcome,
        TaskRecord,
        TaskStatus,
        handoff_id,
    )
    from models.strategy import Channel
    from workflows import case_rules as rules
    from workflows.case_base import CaseBase, invalid

OPERATIONS = "operations"
SUPERVISOR = "supervisor"
EVIDENCE_KEPT = 50
EVIDENCE_GAP_DAYS = 30  # two effective contacts at least this far apart before suing
LEGAL_RECHECK_DAYS = 7
APPROVAL_RETRY_DAYS = 30
DEPARTMENT_ACTIONS = frozenset(
    {"task_deadline", "forbearance_end", "instalment", "collector_call", "legal_check"}
)
COLLECTOR_WORK = frozenset({TaskKind.COLLECTOR_CALL, TaskKind.FIELD_VISIT, TaskKind.ESCALATION})
EFFECTIVE_OUTCOMES = {TaskOutcome.REACHED, TaskOutcome.PROMISE_MADE, TaskOutcome.REFUSED}


class CaseDepartments(CaseBase):
    # --- tasks ----------------------------------------------------------------------------

    def _dept(self) -> DepartmentState:
        return self._live().departments

    def _open_task(
        self, kind: TaskKind, queue: str, note: str, *, escalates: TaskRecord | None = None
    ) -> TaskRecord:
        state = self._live()
        now = workflow.now()
        strategy = state.assessment.strategy
        task = TaskRecord(
            key=self._next_key("t"),
            case_id=self._id,
            kind=kind,
            queue=queue,
            deadline=now + rules.day(strategy) * strategy.task_deadline_days,
            created_at=now,
            note=note,
            reopens=escalates.kind if escalates else None,
            reopens_queue=escalates.queue if escalates else "",
        )
        self._dept().tasks.append(task)
        if kind is TaskKind.SUPERVISOR_APPROVAL:
            self._dept().approval_task = task.key
        self._tasks_out.append(task)
        self._event(
            "task_opened", f"{kind} for {queue}, due {task.deadline:%Y-%m-%d %H:%M}: {note}"
        )
        return task

    def _replace_task(self, task: TaskRecord) -> None:
        dept = self._dept()
        dept.tasks = [t for t in dept.tasks if t.key != task.key]
        if task.status in (TaskStatus.OPEN, TaskStatus.CLAIMED):
            dept.tasks.append(task)
        self._tasks_out.append(task)

    def _find_task(self, key: str) -> TaskRecord:
        for task in self._dept().tasks:
            if task.key == key:
                return task
        raise invalid(f"no open task {key} on this case")

    def _cancel_open_tasks(self, why: str, kind: TaskKind | None = None) -> None:
        now = workflow.now()
        for task in [t for t in self._dept().tasks if kind is None or t.kind is kind]:
            self._replace_task(
                TaskRecord(**{**task.__dict__, "status": TaskStatus.CANCELLED, "closed_at": now})
            )
            self._event("task_cancelled", f"{task.kind}: {why}")

    @workflow.update
    async def claim_task(self, req: ClaimTaskInput) -> ActionResult:
        await self._ready()
        self._validate_claim(req)
        task = self._find_task(req.task_key)
        self._replace_task(
            TaskRecord(**{**task.__dict__, "status": TaskStatus.CLAIMED, "assignee": req.collector})
        )
        self._event("task_claimed", f"{task.kind} by {req.collector}")
        return self._result(f"task claimed by {req.collector}")

    @claim_task.validator
    def _validate_claim(self, req: ClaimTaskInput) -> None:
        if not req.collector.strip():
            raise invalid("collector is required")
        if self._open_state() is None:
            return
        task = self._find_task(req.task_key)
        if task.assignee and task.assignee != req.collector:
            raise invalid(f"task is locked to {task.assignee}")

    @workflow.update
    async def complete_task(self, req: CompleteTaskInput) -> ActionResult:
        await self._ready()
        self._validate_completion(req)
        task = self._find_task(req.task_key)
        now = workflow.now()
        self._replace_task(
            TaskRecord(
                **{
                    **task.__dict__,
                    "status": TaskStatus.DONE,
                    "assignee": req.collector,
                    "outcome": req.outcome,
                    "closed_at": now,
                    "note": req.note or task.note,
                }
            )
        )
        self._event("task_done", f"{task.kind} by {req.collector}: {req.outcome}")
        message = self._steer_by_outcome(task, req, now)
        return self._result(message)

    @complete_task.validator
    def _validate_completion(self, req: CompleteTaskInput) -> None:
        if not req.collector.strip():
            raise invalid("collector is required")
        state = self._open_state()
        if state is None:
            return
        task = self._find_task(req.task_key)
        if task.assignee and task.assignee != req.collector:
            raise invalid(f"task is locked to {task.assignee}")
        allowed = OUTCOMES[task.kind]
        if req.outcome not in allowed:
            raise invalid(
                f"{req.outcome} is not an outcome of a {task.kind}; "
                f"one of: {', '.join(sorted(allowed))}"
            )
        if task.kind is TaskKind.FIELD_VISIT and req.outcome is not TaskOutcome.NOT_FOUND:
            visit = req.visit
            if visit is None or len(set(visit.collectors)) < 2:
                raise invalid("a field visit is made by two collectors: name both")
        if req.outcome is TaskOutcome.PROMISE_MADE:
            if req.promised_amount_minor is None or req.promised_date is None:
                raise invalid("a promise needs its amount and date")
            promise = PromiseToPayInput(
                amount_minor=req.promised_amount_minor,
                currency=self._input.account.currency,
                promised_date=req.promised_date,
            )
            if promise.amount_minor <= 0:
                raise invalid("promised amount must be positive")
            problem = rules.promise_problem(state, promise, workflow.now().date())
            if problem:
                raise invalid(problem)

    def _steer_by_outcome(self, task: TaskRecord, req: CompleteTaskInput, now: datetime) -> str:
        state = self._live()
        dept = self._dept()
        strategy = state.assessment.strategy
        quiet = rules.day(strategy) * strategy.contact.quiet_days_after_conversation
        if req.outcome in EFFECTIVE_OUTCOMES:
            state.last_conversation_at = now
            self._add_evidence(now, f"{task.kind} {req.outcome} by {req.collector}", task.key)
            dept.next_call_at = now + quiet
        match req.outcome:
            case TaskOutcome.PROMISE_MADE:
                assert req.promised_amount_minor is not None and req.promised_date is not None
                promise = rules.open_promise(
                    state,
                    PromiseToPayInput(
                        amount_minor=req.promised_amount_minor,
                        currency=self._input.account.currency,
                        promised_date=req.promised_date,
                    ),
                    now,
                )
                promise.key = self._next_key("p")
                self._promise_row(promise)
                self._event("promise", f"{promise.amount_minor} by {promise.promised_date}")
                return "promise recorded; contact paused until it is due"
            case TaskOutcome.WRONG_NUMBER:
                for channel in (Channel.SMS, Channel.VOICE):
                    if channel not in state.unavailable:
                        state.unavailable.append(channel)
                self._open_task(TaskKind.FIELD_VISIT, OPERATIONS, "the number is wrong")
                return "number marked wrong; a field visit is planned"
            case TaskOutcome.NOT_FOUND if task.kind is TaskKind.COLLECTOR_CALL:
                self._open_task(TaskKind.FIELD_VISIT, OPERATIONS, "not found by phone")
                return "not found; a field visit is planned"
            case TaskOutcome.NOT_FOUND:
                dept.next_call_at = now + rules.day(strategy) * strategy.task_deadline_days
                return "not found at home; calls resume"
            case TaskOutcome.APPROVED if task.kind is TaskKind.SUPERVISOR_APPROVAL:
                dept.approval_task = None
                self._start_legal_referral(req.collector, now)
                return "approved; the case is referred to the legal department"
            case TaskOutcome.REJECTED if task.kind is TaskKind.SUPERVISOR_APPROVAL:
                dept.approval_task = None
                dept.approval_rejected_at = now
                return "referral not approved; collection goes on"
            case TaskOutcome.DISPUTE_UPHELD:
                state.dispute_reason = ""
                self._close(ClosureReason.DISPUTE_UPHELD, req.note or "investigation upheld it")
                return "dispute upheld; case closed"
            case TaskOutcome.DISPUTE_REJECTED:
                state.dispute_reason = ""
                self._skip_stale(now)
                return "dispute rejected; collection resumes"
            case TaskOutcome.REJECTED if task.kind is TaskKind.ESCALATION:
                dept.next_call_at = now
                return "escalation closed; calls resume"
            case TaskOutcome.REASSIGNED:
                kind = task.reopens or TaskKind.COLLECTOR_CALL
                self._open_task(kind, task.reopens_queue or OPERATIONS, f"reassigned: {req.note}")
                return "task reassigned"
        return f"task done: {req.outcome}"

    def _add_evidence(self, at: datetime, how: str, key: str) -> None:
        dept = self._dept()
        dept.evidence.append(Evidence(at=at, how=how, key=key))
        del dept.evidence[:-EVIDENCE_KEPT]

    def _note_delivery(self, key: str, channel: Channel, status: AttemptStatus) -> None:
        """A delivered text or an answered call is an effective contact, with its evidence."""
        if status in (AttemptStatus.DELIVERED, AttemptStatus.ANSWERED):
            self._add_evidence(workflow.now(), f"{channel} {status}", key)

    # --- what the departments make due ------------------------------------------------------

    def _department_due(self, now: datetime) -> list[tuple[datetime, str]]:
        state = self._live()
        dept = self._dept()
        due: list[tuple[datetime, str]] = [
            (task.deadline, "task_deadline")
            for task in dept.tasks
            if task.kind is not TaskKind.ESCALATION
        ]
        if dept.forbearance_until is not None:
            due.append((dept.forbearance_until, "forbearance_end"))
        pending = [i for i in dept.plan if i.status == "due"]
        if dept.plan_status == "active" and pending:
            due.append((pending[0].due_at, "instalment"))
        if state.stage is Stage.COLLECTOR and not self._collector_blocked():
            # One collector task at a time; an escalated one waits for its supervisor.
            if not any(t.kind in COLLECTOR_WORK for t in dept.tasks):
                due.append((dept.next_call_at or now, "collector_call"))
            if rules.days_past_due(state, now) >= state.assessment.strategy.stages.legal_dpd:
                due.append((dept.legal_check_at or now, "legal_check"))
        return due

    def _collector_blocked(self) -> bool:
        state = self._live()
        dept = self._dept()
        return bool(
            state.paused_reason
            or state.dispute_reason
            or state.hardship_reason
            or dept.forbearance_until
            or dept.plan_status == "active"
            or (state.promise is not None and state.promise.status == "open")
        )

    async def _department_work(self, action: str, now: datetime) -> None:
        dept = self._dept()
        if action == "task_deadline":
            for task in [t for t in dept.tasks if t.deadline <= now]:
                if task.kind is TaskKind.ESCALATION:
                    continue
                self._replace_task(
                    TaskRecord(
                        **{**task.__dict__, "status": TaskStatus.ESCALATED, "closed_at": now}
                    )
                )
                self._event("task_escalated", f"{task.kind} missed its deadline")
                self._open_task(
                    TaskKind.ESCALATION,
                    SUPERVISOR,
                    f"{task.kind} missed its deadline",
                    escalates=task,
                )
                if task.kind is TaskKind.SUPERVISOR_APPROVAL:
                    dept.approval_task = None
        elif action == "forbearance_end":
            dept.forbearance_until = None
            self._event("forbearance_ended", "contact resumes")
            self._return_to_collection(now)
        elif action == "instalment":
            self._check_instalment(now)
        elif action == "collector_call":
            dept.next_call_at = None
            self._open_task(TaskKind.COLLECTOR_CALL, OPERATIONS, "call the customer")
        elif action == "legal_check":
            self._check_legal(now)

    def _return_to_collection(self, now: datetime) -> None:
        state = self._live()
        self._set_stage(rules.stage_by_dpd(state, now), "back to collection")
        self._skip_stale(now)

    # --- risk ---------------------------------------------------------------------------

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
        self._event("risk_review", f"handed to the risk department ({review_id}): {reason}")

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
        self._event("risk_decision", f"{decision.kind} by {decision.decided_by}: {decision.reason}")
        match decision.kind:
            case RiskDecisionKind.FORBEARANCE:
                assert decision.forbearance_until is not None
                days = (decision.forbearance_until - now.date()).days
                dept.forbearance_until = now + rules.day(strategy) * max(1, days)
                self._set_stage(Stage.RISK_REVIEW, "forbearance")
            case RiskDecisionKind.PAYMENT_PLAN:
                grace = strategy.promise.grace_days
                dept.plan = [
                    PlanInstalment(
                        due_at=now + rules.day(strategy) * ((i.due_date - now.date()).days + grace),
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
            self._event("plan_kept", "every instalment paid")
            self._return_to_collection(workflow.now())

    def _check_instalment(self, now: datetime) -> None:
        dept = self._dept()
        due = next((i for i in dept.plan if i.status == "due"), None)
        if due is None or now < due.due_at:
            return
        due.status = "missed"
        dept.plan_status = "broken"
        self._event(
            "plan_broken",
            f"instalment of {due.due_date} missed ({due.paid_minor} of {due.amount_minor} paid)",
        )
        self._return_to_collection(now)

    # --- legal --------------------------------------------------------------------------

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
                self._event("legal_not_ready", f"referral refused for now: {text}")
            return
        dept.legal_missing = ""
        self._open_task(TaskKind.SUPERVISOR_APPROVAL, SUPERVISOR, "approve the legal referral")

    def _start_legal_referral(self, approved_by: str, now: datetime) -> None:
        state = self._live()
        dept = self._dept()
        preconditions = self._legal_preconditions(now, approved_by)
        missing = [p for p in preconditions if not p.met]
        if missing:
            self._event(
                "legal_not_ready",
                "referral refused: " + "; ".join(f"{p.name} ({p.evidence})" for p in missing),
            )
            return
        referral_id = self._next_handoff_id("legal")
        dept.legal_referral = referral_id
        dept.legal_contact_allowed = False
        self._set_stage(Stage.LEGAL, f"referred to the legal department, approved by {approved_by}")
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
        dept.legal_contact_allowed = False
        self._event("legal_outcome", f"{outcome.kind}: {outcome.reason}")
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
    def legal_contact_permission(self, permission: ContactPermissionInput) -> None:
        state = self._state
        if state is None:
            return
        state.departments.legal_contact_allowed = permission.allowed
        verb = "allows" if permission.allowed else "stops"
        self._event("legal_contact", f"legal ({permission.by}) {verb} contact: {permission.reason}")

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

    def _legal_hold(self) -> bool:
        dept = self._dept()
        return dept.legal_referral is not None and not dept.legal_contact_allowed
