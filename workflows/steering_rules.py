"""What a completed task's outcome does to a case, and what the departments' own clock makes
due on it, as pure functions. No Temporal, no I/O.

As in `case_rules`, a rule takes the case's state and leaves it as it was: it answers `Steered`,
the new state, the events that say what changed, and the effects the workflow carries out
after adopting them, in order. Effects are what needs the workflow itself: a task's key, a
patch marker, a child workflow (open a task, write back an escalated one, take a promise,
start the legal referral). `steer` also answers the collector's message. The case's handlers
in `workflows/case_tasks.py` keep only the shell: adopting the decision, doing its effects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from models.case_events import CaseEvent, StageChanged
from models.contact_details import WrongNumberInput
from models.contracts import CaseState, ClosureReason, PromiseToPayInput, Stage
from models.department_events import ForbearanceEnded
from models.departments import Evidence
from models.people import Role
from models.tasks import CONVERSATION, CompleteTaskInput, TaskKind, TaskOutcome, TaskRecord
from workflows import case_rules as rules
from workflows import complaint_rules, contact_rules, task_rules

OPERATIONS = Role.OPERATIONS.value  # the queues (roles) human tasks go to
SUPERVISOR = Role.SUPERVISOR.value
EVIDENCE_KEPT = 50  # effective contacts a case keeps
# One collector task at a time; an escalated one waits for its supervisor.
COLLECTOR_WORK = frozenset({TaskKind.COLLECTOR_CALL, TaskKind.FIELD_VISIT, TaskKind.ESCALATION})


@dataclass(frozen=True)
class OpenTask:
    """A task of `kind` for `queue`, noted `note`; `escalates`: the task it escalates (its
    kind and queue are what reassigning the escalation opens again)."""

    kind: TaskKind
    queue: str
    note: str
    escalates: TaskRecord | None = None


@dataclass(frozen=True)
class WriteTask:
    """A task as a task rule changed it, written back with its event."""

    task: TaskRecord
    event: CaseEvent


@dataclass(frozen=True)
class MakePromise:
    """A promise to pay, obtained by the collector `by` (its key and row are the workflow's)."""

    promise: PromiseToPayInput
    by: str


@dataclass(frozen=True)
class StartLegalReferral:
    """The legal referral, approved by `approved_by` (its preconditions checked there)."""

    approved_by: str


Effect = OpenTask | WriteTask | MakePromise | StartLegalReferral


@dataclass(frozen=True)
class Steered:
    state: CaseState
    events: tuple[CaseEvent, ...] = ()
    effects: tuple[Effect, ...] = ()
    message: str = ""  # the collector's answer, when a task was completed


# --- a completed task's outcome ---------------------------------------------------------------


def steer(
    state: CaseState,
    task: TaskRecord,
    req: CompleteTaskInput,
    now: datetime,
    *,
    currency: str,
    approver: str,
) -> Steered:
    """What the outcome of `task` (as it was before completion) does to the case. A
    conversation is an effective contact and starts the quiet period; a promise is taken; a
    wrong number, or nobody found by phone, sends collectors to the door; nobody found there,
    calls resume after the task deadline; an approval starts the legal referral (approved by
    the completing supervisor and `approver`, the second person who confirmed it, if any); a
    rejected one waits before it is asked again; a dispute upheld closes the case, rejected
    resumes it; an escalation rejected resumes calls now, reassigned opens its task again."""
    strategy = state.assessment.strategy
    talked = conversed(state, task, req, now) if req.outcome in CONVERSATION else state
    match req.outcome:
        case TaskOutcome.PROMISE_MADE:
            assert req.promised_amount_minor is not None and req.promised_date is not None
            promise = PromiseToPayInput(
                amount_minor=req.promised_amount_minor,
                currency=currency,
                promised_date=req.promised_date,
            )
            made = MakePromise(promise, by=req.collector)
            return Steered(
                talked, effects=(made,), message="promise recorded; contact paused until it is due"
            )
        case TaskOutcome.WRONG_NUMBER:
            wrong = WrongNumberInput(f"{task.kind} by {req.collector}")
            marked, events = contact_rules.mark_number_wrong(talked, wrong)
            visit = OpenTask(TaskKind.FIELD_VISIT, OPERATIONS, "the number is wrong")
            return Steered(
                marked, events, (visit,), "number marked wrong; a field visit is planned"
            )
        case TaskOutcome.NOT_FOUND if task.kind is TaskKind.COLLECTOR_CALL:
            visit = OpenTask(TaskKind.FIELD_VISIT, OPERATIONS, "not found by phone")
            return Steered(talked, effects=(visit,), message="not found; a field visit is planned")
        case TaskOutcome.NOT_FOUND:
            resumes = now + rules.day(strategy) * strategy.task_deadline_days
            return Steered(
                _dept(talked, next_call_at=resumes), message="not found at home; calls resume"
            )
        case TaskOutcome.APPROVED if task.kind is TaskKind.SUPERVISOR_APPROVAL:
            # Both supervisors are named: the one who approved and the one who confirmed.
            # (A history from before approvals had no second person: the same input.)
            approvers = f"{req.collector} and {approver}" if approver else req.collector
            refer = StartLegalReferral(approvers)
            return Steered(
                _dept(talked, approval_task=None),
                effects=(refer,),
                message="approved; the case is referred to the legal department",
            )
        case TaskOutcome.REJECTED if task.kind is TaskKind.SUPERVISOR_APPROVAL:
            declined = _dept(talked, approval_task=None, approval_rejected_at=now)
            return Steered(declined, message="referral not approved; collection goes on")
        case TaskOutcome.DISPUTE_UPHELD:
            why = req.note or "investigation upheld it"
            closed, events = rules.close(
                replace(talked, dispute_reason=""), ClosureReason.DISPUTE_UPHELD, why
            )
            return Steered(closed, events, message="dispute upheld; case closed")
        case TaskOutcome.DISPUTE_REJECTED:
            resumed, events = rules.resume_ladder(replace(talked, dispute_reason=""), now, ())
            return Steered(resumed, events, message="dispute rejected; collection resumes")
        case TaskOutcome.REJECTED if task.kind is TaskKind.ESCALATION:
            return Steered(
                _dept(talked, next_call_at=now), message="escalation closed; calls resume"
            )
        case TaskOutcome.REASSIGNED:
            kind = task.reopens or TaskKind.COLLECTOR_CALL
            again = OpenTask(kind, task.reopens_queue or OPERATIONS, f"reassigned: {req.note}")
            return Steered(talked, effects=(again,), message="task reassigned")
    return Steered(talked, message=f"task done: {req.outcome}")


def conversed(
    state: CaseState, task: TaskRecord, req: CompleteTaskInput, now: datetime
) -> CaseState:
    """A conversation with the customer themself: the last one, an effective contact on
    record (the legal referral's evidence), and no call before the quiet period ends."""
    strategy = state.assessment.strategy
    quiet = rules.day(strategy) * strategy.contact.quiet_days_after_conversation
    contact = Evidence(at=now, how=f"{task.kind} {req.outcome} by {req.collector}", key=task.key)
    noted = _dept(add_evidence(state, contact), next_call_at=now + quiet)
    return replace(noted, last_conversation_at=now)


def add_evidence(state: CaseState, evidence: Evidence) -> CaseState:
    """An effective contact on record, the legal referral's evidence: the latest
    EVIDENCE_KEPT of them."""
    kept = [*state.departments.evidence, evidence][-EVIDENCE_KEPT:]
    return _dept(state, evidence=kept)


# --- the departments' own clock -----------------------------------------------------------------


def escalate_overdue(state: CaseState, now: datetime) -> Steered:
    """Every task past its deadline (but an escalation, which waits for its supervisor) is
    closed as escalated, and a supervisor's escalation opened for it, one after the other; an
    approval so closed no longer stands for the legal referral."""
    overdue = [
        task
        for task in state.departments.tasks
        if task.deadline <= now and task.kind is not TaskKind.ESCALATION
    ]
    effects: list[Effect] = []
    for task in overdue:
        escalated, event = task_rules.escalate(task, now)
        missed = f"{task.kind} missed its deadline"
        effects += [
            WriteTask(escalated, event),
            OpenTask(TaskKind.ESCALATION, SUPERVISOR, missed, escalates=task),
        ]
    approval = any(task.kind is TaskKind.SUPERVISOR_APPROVAL for task in overdue)
    changed = _dept(state, approval_task=None) if approval else state
    return Steered(changed, effects=tuple(effects))


def end_forbearance(state: CaseState, now: datetime) -> Steered:
    """The risk department's forbearance is over: back to collection."""
    ended = _dept(state, forbearance_until=None, forbearance_until_date=None)
    returned, events = return_to_collection(ended, now, (ForbearanceEnded(),))
    return Steered(returned, events)


def set_stage(
    state: CaseState, stage: Stage, why: str, events: Sequence[CaseEvent] = ()
) -> rules.Decided:
    """The case moves to `stage` for `why`; nothing changes when it is there already.
    `events` are what led to it."""
    if state.stage is stage:
        return state, tuple(events)
    moved = StageChanged(from_stage=state.stage, to_stage=stage, why=why)
    return replace(state, stage=stage), (*events, moved)


def return_to_collection(
    state: CaseState, now: datetime, events: tuple[CaseEvent, ...] = ()
) -> rules.Decided:
    """The stage its days past due say, the reminders that went stale meanwhile skipped."""
    stage = rules.stage_by_dpd(state, now)
    if state.stage is not stage:
        events = (*events, StageChanged(state.stage, stage, "back to collection"))
    return rules.resume_ladder(replace(state, stage=stage), now, events)


def open_collector_call(state: CaseState) -> Steered:
    call = OpenTask(TaskKind.COLLECTOR_CALL, OPERATIONS, "call the customer")
    return Steered(_dept(state, next_call_at=None), effects=(call,))


def department_due(state: CaseState, now: datetime) -> list[tuple[datetime, str]]:
    """What the departments' clock makes due, each with when: a task's deadline, the end of a
    forbearance, a plan's next instalment, a collector's call, the legal referral's check."""
    dept = state.departments
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
    idle = not any(t.kind in COLLECTOR_WORK for t in dept.tasks)
    if collecting and idle and not collector_blocked(state):
        due.append((dept.next_call_at or now, "collector_call"))
    legal_dpd = state.assessment.strategy.stages.legal_dpd
    if (
        state.stage is Stage.COLLECTOR
        and not collector_blocked(state)
        and rules.days_past_due(state, now) >= legal_dpd
    ):
        due.append((dept.legal_check_at or now, "legal_check"))
    return due


def collector_blocked(state: CaseState) -> bool:
    """Whatever stops collectors' calls (and the legal referral's check) for now."""
    dept = state.departments
    return bool(
        state.paused_reason
        or complaint_rules.pausing(state)
        or state.dispute_reason
        or state.hardship_reason
        or dept.forbearance_until
        or dept.plan_status == "active"
        or (state.promise is not None and state.promise.status == "open")
    )


def _dept(state: CaseState, **changes: Any) -> CaseState:
    return replace(state, departments=replace(state.departments, **changes))
