"""Contracts of a case's human tasks: their kinds, outcomes and statuses, the task as the case
keeps and writes it, and what collectors and supervisors send to work one (claim, complete,
assign, book a visit, check in and out, click-to-call).

Plain, frozen types that cross Temporal boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum


class TaskKind(StrEnum):
    COLLECTOR_CALL = "collector_call"
    FIELD_VISIT = "field_visit"  # face to face: two collectors, and consent to enter
    SUPERVISOR_APPROVAL = "supervisor_approval"  # a legal referral, a promise beyond limits
    DISPUTE_INVESTIGATION = "dispute_investigation"
    ESCALATION = "escalation"  # a task past its deadline, for a supervisor
    COMPLAINT = "complaint"  # answer a customer's complaint by its regulatory deadline


class TaskOutcome(StrEnum):
    REACHED = "reached"
    PROMISE_MADE = "promise_made"
    REFUSED = "refused"
    NOT_FOUND = "not_found"
    WRONG_NUMBER = "wrong_number"
    APPROVED = "approved"
    REJECTED = "rejected"
    DISPUTE_UPHELD = "dispute_upheld"
    DISPUTE_REJECTED = "dispute_rejected"
    REASSIGNED = "reassigned"


# The outcomes of a conversation with the customer themself: the case counts them as effective
# contacts (the quiet period after a conversation, the legal referral's evidence), the KPIs as
# right-party contacts, and the collector's page as the last conversation.
CONVERSATION = frozenset({TaskOutcome.REACHED, TaskOutcome.PROMISE_MADE, TaskOutcome.REFUSED})

OUTCOMES: dict[TaskKind, frozenset[TaskOutcome]] = {
    TaskKind.COLLECTOR_CALL: frozenset(
        {
            TaskOutcome.REACHED,
            TaskOutcome.PROMISE_MADE,
            TaskOutcome.REFUSED,
            TaskOutcome.NOT_FOUND,
            TaskOutcome.WRONG_NUMBER,
        }
    ),
    TaskKind.FIELD_VISIT: frozenset(
        {TaskOutcome.REACHED, TaskOutcome.PROMISE_MADE, TaskOutcome.REFUSED, TaskOutcome.NOT_FOUND}
    ),
    TaskKind.SUPERVISOR_APPROVAL: frozenset({TaskOutcome.APPROVED, TaskOutcome.REJECTED}),
    TaskKind.DISPUTE_INVESTIGATION: frozenset(
        {TaskOutcome.DISPUTE_UPHELD, TaskOutcome.DISPUTE_REJECTED}
    ),
    TaskKind.ESCALATION: frozenset({TaskOutcome.REASSIGNED, TaskOutcome.REJECTED}),
    TaskKind.COMPLAINT: frozenset(),  # answered by `resolve_complaint`, with its outcome
}


def misfit_outcome(kind: TaskKind, outcome: TaskOutcome) -> str:
    """Why `outcome` cannot complete a task of `kind` ("" when it can)."""
    allowed = OUTCOMES[kind]
    if outcome in allowed:
        return ""
    if not allowed:
        return f"a {kind} task is not completed: it is answered with resolve_{kind}"
    return f"{outcome} is not an outcome of a {kind}; one of: {', '.join(sorted(allowed))}"


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    ESCALATED = "escalated"  # past its deadline; a supervisor has it
    CANCELLED = "cancelled"  # the case closed or moved on


@dataclass(frozen=True)
class TaskRecord:
    """A task as the case workflow knows it and writes it to `human_tasks`."""

    key: str  # `<case_id>/<opened>/t<n>`; the row's idempotency key
    case_id: str
    kind: TaskKind
    queue: str  # the role that works it: operations | supervisor
    deadline: datetime
    created_at: datetime
    status: TaskStatus = TaskStatus.OPEN
    assignee: str | None = None
    outcome: TaskOutcome | None = None
    closed_at: datetime | None = None
    note: str = ""
    reopens: TaskKind | None = None  # an escalation: the kind reassigning it opens again
    reopens_queue: str = ""
    assigned_by: str = ""  # who put it in the assignee's queue ("" when they claimed it)
    right_party: bool | None = None  # a call or visit: did they speak with the customer?
    call_seconds: int | None = None  # how long the call lasted, as the collector recorded it
    visit: VisitPlan | None = None  # a field visit, once its slot is booked


@dataclass(frozen=True)
class VisitPlan:
    """A field visit's booking and what happened at the door: the slot is in the customer's
    own time (kept as instants), the two collectors named when it is booked."""

    slot_start: datetime
    slot_end: datetime
    collectors: tuple[str, ...]
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None


@dataclass(frozen=True)
class ClaimTaskInput:
    task_key: str
    collector: str


@dataclass(frozen=True)
class FieldVisitReport:
    collectors: tuple[str, ...]  # who went; a home visit needs two
    consent_to_enter: bool


@dataclass(frozen=True)
class CompleteTaskInput:
    task_key: str
    collector: str
    outcome: TaskOutcome
    note: str = ""
    promised_amount_minor: int | None = None  # with PROMISE_MADE
    promised_date: date | None = None
    visit: FieldVisitReport | None = None  # with a FIELD_VISIT
    right_party: bool | None = None  # spoke with the customer themself (not a relative)
    call_seconds: int | None = None  # the call's length, when the collector recorded it


@dataclass(frozen=True)
class AssignTaskInput:
    """A supervisor (or the allocator) puts an open task in one collector's queue; the
    front end checks the person is active and holds the task's role before asking."""

    task_key: str
    assignee: str
    reason: str = ""
    # The allocator's: only a task nobody holds (a collector's claim that reached the case
    # before the allocator's read of the row wins).
    only_unassigned: bool = False


@dataclass(frozen=True)
class VisitSlotInput:
    """Books a field visit: a day and hours in the customer's own time, and who goes."""

    task_key: str
    day: date
    start: time
    end: time
    collectors: tuple[str, ...]


@dataclass(frozen=True)
class PlaceCallInput:
    """Click-to-call: the customer's phone rings, and once they answer, the collector's own
    phone (`agent_phone`, E.164) is dialled into the call. Checked by the contact policy like
    any contact; the collector's number is never written to the case's record."""

    task_key: str
    collector: str
    agent_phone: str


@dataclass(frozen=True)
class VisitCheckInput:
    """A collector at the door (`check_in`) or leaving it (`check_out`)."""

    task_key: str
    collector: str
