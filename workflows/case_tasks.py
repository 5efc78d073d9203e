"""Collectors' tasks on a case: the handlers and validators of the task updates, as functions
over the case's shell (`CaseShell`); the workflow class declares each update and calls them.

In the collector stage a collector call is opened with a deadline from the strategy; a task
past its deadline escalates to a supervisor; the outcome steers the case (a promise pauses
contact, not found or a wrong number sends two collectors on a field visit, reached starts the
quiet period). Claiming locks a task to its collector; completing it is an update validated
here. When the case closes, its open tasks are cancelled.

What a task becomes is decided by `task_rules`; what its outcome does to the case by
`steering_rules`. The shell adopts the decision and carries out its effects in order
(`CaseShell.adopt_task`, `CaseShell.steer`).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.contracts import ActionResult, PromiseToPayInput
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
    from workflows.case_shell import CaseShell

LONGEST_CALL = 4 * 3600  # seconds; a longer figure is a typing slip


async def claim_task(shell: CaseShell, req: ClaimTaskInput) -> ActionResult:
    await shell.ready()
    validate_claim(shell, req)
    shell.adopt_task(task_rules.claim(shell.find_task(req.task_key), req.collector))
    return shell.result(f"task claimed by {req.collector}")


def validate_claim(shell: CaseShell, req: ClaimTaskInput) -> None:
    bounded(req)
    if not req.collector.strip():
        raise invalid("collector is required")
    if shell.open_state() is None:
        return
    task = shell.find_task(req.task_key)
    if task.assignee and task.assignee != req.collector:
        raise invalid(f"task is locked to {task.assignee}")


async def assign_task(shell: CaseShell, req: AssignTaskInput) -> ActionResult:
    await shell.ready()
    validate_assignment(shell, req)
    changed = task_rules.assign(shell.find_task(req.task_key), req, current_actor_id())
    task = shell.adopt_task(changed)
    return shell.result(f"task assigned to {task.assignee}")


def validate_assignment(shell: CaseShell, req: AssignTaskInput) -> None:
    bounded(req)
    if shell.open_state() is None:
        return
    if problem := task_rules.assignment_problem(shell.find_task(req.task_key), req):
        raise invalid(problem)


async def book_visit(shell: CaseShell, req: VisitSlotInput) -> ActionResult:
    await shell.ready()
    validate_booking(shell, req)
    shell.adopt_task(task_rules.book(shell.find_task(req.task_key), req, shell.time_zone))
    return shell.result("visit booked; it escalates if nobody checks in by the slot's end")


def validate_booking(shell: CaseShell, req: VisitSlotInput) -> None:
    bounded(req)
    state = shell.open_state()
    if state is None:
        return
    task = shell.find_task(req.task_key)
    rules_ = state.assessment.strategy.contact
    problem = task_rules.booking_problem(task, req, rules_, shell.time_zone, workflow.now())
    if problem:
        raise invalid(problem)


async def check_in_visit(shell: CaseShell, req: VisitCheckInput) -> ActionResult:
    await shell.ready()
    validate_check(shell, req, leaving=False)
    shell.adopt_task(task_rules.check_in(shell.find_task(req.task_key), req, workflow.now()))
    return shell.result("checked in; the visit's report is due within a day")


async def check_out_visit(shell: CaseShell, req: VisitCheckInput) -> ActionResult:
    await shell.ready()
    validate_check(shell, req, leaving=True)
    shell.adopt_task(task_rules.check_out(shell.find_task(req.task_key), req, workflow.now()))
    return shell.result("checked out; complete the task with the visit's report")


def validate_check(shell: CaseShell, req: VisitCheckInput, *, leaving: bool) -> None:
    bounded(req)
    if shell.open_state() is None:
        return
    task = shell.find_task(req.task_key)
    problem = task_rules.check_problem(task, req, workflow.now(), leaving=leaving)
    if problem:
        raise invalid(problem)


async def complete_task(shell: CaseShell, req: CompleteTaskInput) -> ActionResult:
    await shell.ready()
    validate_completion(shell, req)
    task = shell.find_task(req.task_key)
    now = workflow.now()
    shell.adopt_task(task_rules.complete(task, req, now))
    currency = shell.input.account.currency
    steered = steering.steer(
        shell.live(), task, req, now, currency=currency, approver=current_approver()
    )
    return shell.result(shell.steer(steered, now))


def validate_completion(shell: CaseShell, req: CompleteTaskInput) -> None:
    bounded(req)
    if not req.collector.strip():
        raise invalid("collector is required")
    state = shell.open_state()
    if state is None:
        return
    task = shell.find_task(req.task_key)
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
            currency=shell.input.account.currency,
            promised_date=req.promised_date,
        )
        if not 0 < promise.amount_minor <= state.outstanding_minor:
            raise invalid("promised amount must be positive and at most the outstanding balance")
        problem = rules.promise_problem(state, promise, shell.customer_today())
        if problem:
            raise invalid(problem)
