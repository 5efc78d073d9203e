"""Collectors' tasks on a case, and the work the departments make due.

In the collector stage a collector call is opened with a deadline from the strategy; a task
past its deadline escalates to a supervisor; the outcome steers the case (a promise pauses
contact, not found or a wrong number sends two collectors on a field visit, reached starts the
quiet period). Claiming locks a task to its collector; completing it is an update validated
here. When the case closes, its open tasks are cancelled.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.contact_details import WrongNumberInput
    from models.contracts import (
        ActionResult,
        AttemptStatus,
        ClosureReason,
        PromiseToPayInput,
        Stage,
    )
    from models.department_events import ForbearanceEnded
    from models.people import COLLECTORS, SUPERVISORS
    from models.permissions import taken_by
    from models.strategy import Channel
    from models.tasks import (
        CONVERSATION,
        AssignTaskInput,
        ClaimTaskInput,
        CompleteTaskInput,
        TaskKind,
        TaskOutcome,
        TaskRecord,
        VisitCheckInput,
        VisitSlotInput,
        misfit_outcome,
    )
    from workflows import case_rules as rules
    from workflows import complaint_rules, contact_rules, task_rules
    from workflows.acting import current_actor_id, current_approver
    from workflows.case_base import OPERATIONS, SUPERVISOR, bounded, invalid
    from workflows.case_handoffs import CaseHandoffs


DEPARTMENT_ACTIONS = frozenset(
    {"task_deadline", "forbearance_end", "instalment", "collector_call", "legal_check"}
)
# One collector task at a time; an escalated one waits for its supervisor.
COLLECTOR_WORK = frozenset({TaskKind.COLLECTOR_CALL, TaskKind.FIELD_VISIT, TaskKind.ESCALATION})
LONGEST_CALL = 4 * 3600  # seconds; a longer figure is a typing slip


class CaseTasks(CaseHandoffs):
    @workflow.update
    @taken_by(COLLECTORS)
    async def claim_task(self, req: ClaimTaskInput) -> ActionResult:
        await self._ready()
        self._validate_claim(req)
        self._adopt_task(task_rules.claim(self._find_task(req.task_key), req.collector))
        return self._result(f"task claimed by {req.collector}")

    @claim_task.validator
    def _validate_claim(self, req: ClaimTaskInput) -> None:
        bounded(req)
        if not req.collector.strip():
            raise invalid("collector is required")
        if self._open_state() is None:
            return
        task = self._find_task(req.task_key)
        if task.assignee and task.assignee != req.collector:
            raise invalid(f"task is locked to {task.assignee}")

    @workflow.update
    @taken_by(SUPERVISORS)
    async def assign_task(self, req: AssignTaskInput) -> ActionResult:
        await self._ready()
        self._validate_assignment(req)
        changed = task_rules.assign(self._find_task(req.task_key), req, current_actor_id())
        task = self._adopt_task(changed)
        return self._result(f"task assigned to {task.assignee}")

    @assign_task.validator
    def _validate_assignment(self, req: AssignTaskInput) -> None:
        bounded(req)
        if self._open_state() is None:
            return
        if problem := task_rules.assignment_problem(self._find_task(req.task_key), req):
            raise invalid(problem)

    @workflow.update
    @taken_by(COLLECTORS)
    async def book_visit(self, req: VisitSlotInput) -> ActionResult:
        await self._ready()
        self._validate_booking(req)
        self._adopt_task(task_rules.book(self._find_task(req.task_key), req, self._time_zone()))
        return self._result("visit booked; it escalates if nobody checks in by the slot's end")

    @book_visit.validator
    def _validate_booking(self, req: VisitSlotInput) -> None:
        bounded(req)
        state = self._open_state()
        if state is None:
            return
        task = self._find_task(req.task_key)
        rules_ = state.assessment.strategy.contact
        problem = task_rules.booking_problem(task, req, rules_, self._time_zone(), workflow.now())
        if problem:
            raise invalid(problem)

    @workflow.update
    @taken_by(COLLECTORS)
    async def check_in_visit(self, req: VisitCheckInput) -> ActionResult:
        await self._ready()
        self._validate_check_in(req)
        self._adopt_task(task_rules.check_in(self._find_task(req.task_key), req, workflow.now()))
        return self._result("checked in; the visit's report is due within a day")

    @check_in_visit.validator
    def _validate_check_in(self, req: VisitCheckInput) -> None:
        self._validate_check(req, leaving=False)

    @workflow.update
    @taken_by(COLLECTORS)
    async def check_out_visit(self, req: VisitCheckInput) -> ActionResult:
        await self._ready()
        self._validate_check_out(req)
        self._adopt_task(task_rules.check_out(self._find_task(req.task_key), req, workflow.now()))
        return self._result("checked out; complete the task with the visit's report")

    @check_out_visit.validator
    def _validate_check_out(self, req: VisitCheckInput) -> None:
        self._validate_check(req, leaving=True)

    def _validate_check(self, req: VisitCheckInput, *, leaving: bool) -> None:
        bounded(req)
        if self._open_state() is None:
            return
        task = self._find_task(req.task_key)
        problem = task_rules.check_problem(task, req, workflow.now(), leaving=leaving)
        if problem:
            raise invalid(problem)

    def _time_zone(self) -> str:
        return self._input.contact.time_zone

    @workflow.update
    @taken_by(COLLECTORS)
    async def complete_task(self, req: CompleteTaskInput) -> ActionResult:
        await self._ready()
        self._validate_completion(req)
        task = self._find_task(req.task_key)
        now = workflow.now()
        self._adopt_task(task_rules.complete(task, req, now))
        message = self._steer_by_outcome(task, req, now)
        return self._result(message)

    @complete_task.validator
    def _validate_completion(self, req: CompleteTaskInput) -> None:
        bounded(req)
        if not req.collector.strip():
            raise invalid("collector is required")
        state = self._open_state()
        if state is None:
            return
        task = self._find_task(req.task_key)
        if task.assignee and task.assignee != req.collector:
            raise invalid(f"task is locked to {task.assignee}")
        if misfit := misfit_outcome(task.kind, req.outcome):
            raise invalid(misfit)
        if task.kind is TaskKind.FIELD_VISIT and req.outcome is not TaskOutcome.NOT_FOUND:
            visit = req.visit
            if visit is None or len(set(visit.collectors)) < 2:
                raise invalid("a field visit is made by two collectors: name both")
        if req.call_seconds is not None and not 0 <= req.call_seconds <= LONGEST_CALL:
            raise invalid(f"call_seconds must be between 0 and {LONGEST_CALL}")
        if req.outcome is TaskOutcome.PROMISE_MADE:
            if req.promised_amount_minor is None or req.promised_date is None:
                raise invalid("a promise needs its amount and date")
            promise = PromiseToPayInput(
                amount_minor=req.promised_amount_minor,
                currency=self._input.account.currency,
                promised_date=req.promised_date,
            )
            if not 0 < promise.amount_minor <= state.outstanding_minor:
                raise invalid(
                    "promised amount must be positive and at most the outstanding balance"
                )
            problem = rules.promise_problem(state, promise, self._customer_today())
            if problem:
                raise invalid(problem)

    def _steer_by_outcome(self, task: TaskRecord, req: CompleteTaskInput, now: datetime) -> str:
        state = self._live()
        dept = self._dept()
        strategy = state.assessment.strategy
        quiet = rules.day(strategy) * strategy.contact.quiet_days_after_conversation
        if req.outcome in CONVERSATION:
            state.last_conversation_at = now
            self._add_evidence(now, f"{task.kind} {req.outcome} by {req.collector}", task.key)
            dept.next_call_at = now + quiet
        match req.outcome:
            case TaskOutcome.PROMISE_MADE:
                assert req.promised_amount_minor is not None and req.promised_date is not None
                promise = PromiseToPayInput(
                    amount_minor=req.promised_amount_minor,
                    currency=self._input.account.currency,
                    promised_date=req.promised_date,
                )
                self._make_promise(promise, by=req.collector)
                return "promise recorded; contact paused until it is due"
            case TaskOutcome.WRONG_NUMBER:
                wrong = WrongNumberInput(f"{task.kind} by {req.collector}")
                self._decided(contact_rules.mark_number_wrong(state, wrong))
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
                # Both supervisors are named: the one who approved and the one who confirmed.
                # (A history from before approvals had no second person: the same input.)
                second = current_approver()
                approvers = f"{req.collector} and {second}" if second else req.collector
                self._start_legal_referral(approvers, now)
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

    def _note_delivery(self, key: str, channel: Channel, status: AttemptStatus) -> None:
        """A delivered text or an answered call is an effective contact, with its evidence."""
        if status in (AttemptStatus.DELIVERED, AttemptStatus.ANSWERED):
            self._add_evidence(workflow.now(), f"{channel} {status}", key)

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
        collecting = state.stage is Stage.COLLECTOR or (
            state.stage is Stage.LEGAL and dept.legal_contact_allowed
        )
        # One collector task at a time; an escalated one waits for its supervisor.
        idle = not any(t.kind in COLLECTOR_WORK for t in dept.tasks)
        if collecting and idle and not self._collector_blocked():
            due.append((dept.next_call_at or now, "collector_call"))
        legal_dpd = state.assessment.strategy.stages.legal_dpd
        if (
            state.stage is Stage.COLLECTOR
            and not self._collector_blocked()
            and rules.days_past_due(state, now) >= legal_dpd
        ):
            due.append((dept.legal_check_at or now, "legal_check"))
        return due

    def _collector_blocked(self) -> bool:
        state = self._live()
        dept = self._dept()
        return bool(
            state.paused_reason
            or complaint_rules.pausing(state)
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
                self._adopt_task(task_rules.escalate(task, now))
                self._open_task(
                    TaskKind.ESCALATION,
                    SUPERVISOR,
                    f"{task.kind} missed its deadline",
                    escalates=task,
                )
                if task.kind is TaskKind.SUPERVISOR_APPROVAL:
                    dept.approval_task = None
        elif action == "forbearance_end":
            dept.forbearance_until = dept.forbearance_until_date = None
            self._emit(ForbearanceEnded())
            self._return_to_collection(now)
        elif action == "instalment":
            self._check_instalment(now)
        elif action == "collector_call":
            dept.next_call_at = None
            self._open_task(TaskKind.COLLECTOR_CALL, OPERATIONS, "call the customer")
        elif action == "legal_check":
            self._check_legal(now)
