"""Collectors' tasks on a case, and the work the departments make due.

In the collector stage a collector call is opened with a deadline from the strategy; a task
past its deadline escalates to a supervisor; the outcome steers the case (a promise pauses
contact, not found or a wrong number sends two collectors on a field visit, reached starts the
quiet period). Claiming locks a task to its collector; completing it is an update validated
here. When the case closes, its open tasks are cancelled.

What a task becomes is decided by `task_rules`; what its outcome, and the departments' clock,
do to the case by `steering_rules`. The handlers here adopt the decision and carry out its
effects in order (`_steer`, through `case_handoffs`' `_carry_out`, which does the handoff
rules' effects too).
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.contracts import ActionResult, AttemptStatus, PromiseToPayInput
    from models.people import COLLECTORS, SUPERVISORS
    from models.permissions import taken_by
    from models.strategy import Channel
    from models.tasks import (
        AssignTaskInput,
        ClaimTaskInput,
        CompleteTaskInput,
        TaskKind,
        TaskOutcome,
        VisitCheckInput,
        VisitSlotInput,
        misfit_outcome,
    )
    from workflows import case_rules as rules
    from workflows import steering_rules as steering
    from workflows import task_rules
    from workflows.acting import current_actor_id, current_approver
    from workflows.case_base import bounded, invalid
    from workflows.case_handoffs import CaseHandoffs
    from workflows.steering_rules import (
        Steered,
    )


DEPARTMENT_ACTIONS = frozenset(
    {"task_deadline", "forbearance_end", "instalment", "collector_call", "legal_check"}
)
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
        currency = self._input.account.currency
        steered = steering.steer(
            self._live(), task, req, now, currency=currency, approver=current_approver()
        )
        return self._result(self._steer(steered, now))

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

    def _note_delivery(self, key: str, channel: Channel, status: AttemptStatus) -> None:
        """A delivered text or an answered call is an effective contact, with its evidence."""
        if status in (AttemptStatus.DELIVERED, AttemptStatus.ANSWERED):
            self._add_evidence(workflow.now(), f"{channel} {status}", key)

    def _department_due(self, now: datetime) -> list[tuple[datetime, str]]:
        return steering.department_due(self._live(), now)

    def _collector_blocked(self) -> bool:
        return steering.collector_blocked(self._live())

    async def _department_work(self, action: str, now: datetime) -> None:
        state = self._live()
        if action == "task_deadline":
            self._steer(steering.escalate_overdue(state, now), now)
        elif action == "forbearance_end":
            self._steer(steering.end_forbearance(state, now), now)
        elif action == "instalment":
            self._check_instalment(now)
        elif action == "collector_call":
            self._steer(steering.open_collector_call(state), now)
        elif action == "legal_check":
            self._check_legal(now)

    def _steer(self, steered: Steered, now: datetime) -> str:
        """Adopts what a steering rule decided (its state and events), then carries out its
        effects in the order given; answers the rule's message."""
        self._decided((steered.state, steered.events))
        self._carry_out(steered.effects, now)
        return steered.message
