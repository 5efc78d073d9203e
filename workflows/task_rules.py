"""What a case's tasks decide, as pure functions: claiming, completing, escalating and cancelling
a task, putting it in a collector's queue, booking a field visit in the customer's own hours,
and the collectors at the door.

Each takes the task and the command and answers the task as it becomes with the event that
says so, or a problem in words (the update's validator refuses with it). The case's handlers in
`workflows/case_tasks.py` keep only the shell: finding the task, writing it back, the timeline.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from models.case_events import CaseEvent
from models.department_events import (
    TaskAssigned,
    TaskCancelled,
    TaskClaimed,
    TaskDone,
    TaskEscalated,
    VisitBooked,
    VisitCheckedIn,
    VisitCheckedOut,
)
from models.strategy import ContactRules
from models.tasks import (
    AssignTaskInput,
    CompleteTaskInput,
    TaskKind,
    TaskRecord,
    TaskStatus,
    VisitCheckInput,
    VisitPlan,
    VisitSlotInput,
)
from workflows.contact_policy import zone_info

BOOKING_HORIZON = timedelta(days=14)  # a visit is booked at most two weeks ahead
LONGEST_SLOT = timedelta(hours=4)
EARLY_CHECK_IN = timedelta(minutes=30)  # at the door a little early is still the visit
REPORT_TIME = timedelta(days=1)  # after check-in, the visit's report is due within a day

Changed = tuple[TaskRecord, CaseEvent]


def claim(task: TaskRecord, collector: str) -> Changed:
    """Locked to `collector` until they complete it (or a supervisor moves it)."""
    claimed = replace(task, status=TaskStatus.CLAIMED, assignee=collector)
    return claimed, TaskClaimed(task_kind=task.kind, collector=collector)


def complete(task: TaskRecord, req: CompleteTaskInput, now: datetime) -> Changed:
    """Done with its outcome, and how the call or visit went; the case steers by the outcome."""
    done = replace(
        task,
        status=TaskStatus.DONE,
        assignee=req.collector,
        outcome=req.outcome,
        closed_at=now,
        note=req.note or task.note,
        right_party=req.right_party,
        call_seconds=req.call_seconds,
    )
    done_event = TaskDone(
        task_kind=task.kind, collector=req.collector, outcome=req.outcome, note=req.note.strip()
    )
    return done, done_event


def escalate(task: TaskRecord, now: datetime) -> Changed:
    """Past its deadline: closed as escalated (the case opens a supervisor's escalation)."""
    escalated = replace(task, status=TaskStatus.ESCALATED, closed_at=now)
    return escalated, TaskEscalated(task_kind=task.kind)


def cancel(task: TaskRecord, why: str, now: datetime) -> Changed:
    return replace(task, status=TaskStatus.CANCELLED, closed_at=now), TaskCancelled(
        task_kind=task.kind, why=why
    )


def assignment_problem(task: TaskRecord, req: AssignTaskInput) -> str:
    if not req.assignee.strip():
        return "assignee is required"
    if task.status not in (TaskStatus.OPEN, TaskStatus.CLAIMED):
        return f"task is {task.status}"
    if req.only_unassigned and task.assignee:
        return f"task is already held by {task.assignee}"
    return ""


def assign(task: TaskRecord, req: AssignTaskInput, by: str) -> Changed:
    """The task moves to `assignee`'s queue (claimed in their name: nobody else may take it)."""
    assignee = req.assignee.strip()
    moved = replace(task, status=TaskStatus.CLAIMED, assignee=assignee, assigned_by=by)
    return moved, TaskAssigned(task_kind=task.kind, assignee=assignee, reason=req.reason)


def booking_problem(
    task: TaskRecord, req: VisitSlotInput, rules: ContactRules, time_zone: str, now: datetime
) -> str:
    if task.kind is not TaskKind.FIELD_VISIT:
        return f"a {task.kind} task has no visit to book"
    if task.visit is not None and task.visit.checked_in_at is not None:
        return "the collectors are already at the door"
    names = [c.strip() for c in req.collectors if c.strip()]
    if len(set(names)) < 2:
        return "a field visit is made by two collectors: name both"
    if req.start.tzinfo is not None or req.end.tzinfo is not None:
        # Hours with an offset (or a number of seconds, which the API reads as UTC) cannot be
        # compared with the contact hours, which are the customer's own clock time.
        return "the slot's hours are the customer's own clock time: give them without an offset"
    if req.end <= req.start:
        return "the slot must end after it starts"
    # A day far from today is refused before it is read as instants: near the calendar's ends
    # (year 1, year 9999) that reading overflows. Days near the bounds get the exact checks below.
    today = now.astimezone(zone_info(time_zone)).date()
    if req.day < today - timedelta(days=1):
        return "the slot has already begun"
    if req.day > today + BOOKING_HORIZON + timedelta(days=1):
        return f"a visit is booked at most {BOOKING_HORIZON.days} days ahead"
    start, end = slot_instants(req, time_zone)
    if end - start > LONGEST_SLOT:
        return f"a slot is at most {LONGEST_SLOT.seconds // 3600} hours"
    if not (rules.window_start <= req.start and req.end <= rules.window_end):
        hours = f"{rules.window_start:%H:%M}-{rules.window_end:%H:%M}"
        return f"a visit is within the contact hours, {hours} in the customer's time"
    if start <= now:
        return "the slot has already begun"
    if start > now + BOOKING_HORIZON:
        return f"a visit is booked at most {BOOKING_HORIZON.days} days ahead"
    return ""


def book(task: TaskRecord, req: VisitSlotInput, time_zone: str) -> Changed:
    """The slot, its collectors, and a deadline at the slot's end: a visit nobody checks in to
    by then escalates to a supervisor like any task past its deadline."""
    start, end = slot_instants(req, time_zone)
    collectors = tuple(c.strip() for c in req.collectors if c.strip())
    booked = replace(
        task, visit=VisitPlan(slot_start=start, slot_end=end, collectors=collectors), deadline=end
    )
    hours = f"{req.start:%H:%M}-{req.end:%H:%M}"
    named = ",".join(collectors)
    return booked, VisitBooked(day=req.day.isoformat(), hours=hours, collectors=named)


def check_problem(task: TaskRecord, req: VisitCheckInput, now: datetime, *, leaving: bool) -> str:
    visit = task.visit
    if task.kind is not TaskKind.FIELD_VISIT or visit is None:
        return "book the visit's slot first"
    if req.collector.strip() not in visit.collectors:
        return f"{req.collector} is not one of this visit's collectors"
    if not leaving and visit.checked_in_at is not None:
        return "already checked in"
    if not leaving and now < visit.slot_start - EARLY_CHECK_IN:
        return f"the visit's slot starts at {visit.slot_start:%Y-%m-%d %H:%M} UTC"
    if leaving and visit.checked_in_at is None:
        return "check in before checking out"
    if leaving and visit.checked_out_at is not None:
        return "already checked out"
    return ""


def check_in(task: TaskRecord, req: VisitCheckInput, now: datetime) -> Changed:
    """At the door: the slot is kept; the report is due within a day."""
    assert task.visit is not None
    visit = replace(task.visit, checked_in_at=now)
    arrived = replace(task, visit=visit, deadline=max(task.deadline, now + REPORT_TIME))
    return arrived, VisitCheckedIn(collector=req.collector.strip())


def check_out(task: TaskRecord, req: VisitCheckInput, now: datetime) -> Changed:
    assert task.visit is not None
    left = replace(task, visit=replace(task.visit, checked_out_at=now))
    return left, VisitCheckedOut(collector=req.collector.strip())


def slot_instants(req: VisitSlotInput, time_zone: str) -> tuple[datetime, datetime]:
    """The slot's start and end as instants, read as the customer's wall clock on its day."""
    zone = zone_info(time_zone)
    start = datetime.combine(req.day, req.start, tzinfo=zone)
    end = datetime.combine(req.day, req.end, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
