"""Contracts of the departments a case hands work to: human tasks, risk reviews, legal referrals.

Plain, frozen types that cross Temporal boundaries. A handoff's workflow id is also the
idempotency key of its `handoffs` row, so the API can route a department's answer to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from models.strategy import Segment

# --- human tasks --------------------------------------------------------------------------


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


# --- risk department ----------------------------------------------------------------------


class RiskDecisionKind(StrEnum):
    FORBEARANCE = "forbearance"  # contact paused until a date
    PAYMENT_PLAN = "payment_plan"  # instalments tracked by the case
    RESTRUCTURE = "restructure"  # new terms: the case closes as settled
    PROCEED = "proceed"  # collection goes on


@dataclass(frozen=True)
class CaseSummary:
    """What a department sees of a case: no contact details, no name."""

    case_id: str
    account_no: str
    customer_ref: str
    product: str
    currency: str
    outstanding_minor: int
    overdue_minor: int
    days_past_due: int
    segment: Segment
    score: int
    promises_kept: int
    promises_broken: int
    contacts_sent: int


@dataclass(frozen=True)
class Instalment:
    due_date: date
    amount_minor: int


@dataclass(frozen=True)
class RiskDecision:
    kind: RiskDecisionKind
    decided_by: str
    reason: str
    forbearance_until: date | None = None
    instalments: tuple[Instalment, ...] = ()


@dataclass(frozen=True)
class RiskReviewInput:
    summary: CaseSummary
    reason: str  # "hardship: ..." or "high-risk segment"
    deadline_days: int = 3
    day_seconds: int = 86_400


# --- legal department ---------------------------------------------------------------------


class ProceedingKind(StrEnum):
    FILED = "filed"
    HEARING = "hearing"
    JUDGMENT = "judgment"
    ENFORCEMENT = "enforcement"
    SETTLED = "settled"
    CLOSED = "closed"


@dataclass(frozen=True)
class Precondition:
    name: str
    met: bool
    evidence: str  # what shows it: attempt keys and dates, the approving supervisor ...


@dataclass(frozen=True)
class LegalReferralInput:
    summary: CaseSummary
    approved_by: str
    preconditions: tuple[Precondition, ...]
    day_seconds: int = 86_400
    carried: LegalState | None = None
    history_limit: int = 2000  # events in one run before it continues as new


@dataclass(frozen=True)
class AcceptReferralInput:
    by: str
    note: str = ""


@dataclass(frozen=True)
class ReturnReferralInput:
    by: str
    reason: str


@dataclass(frozen=True)
class ProceedingInput:
    kind: ProceedingKind
    on: date
    by: str
    note: str = ""
    amount_minor: int | None = None  # a judgment's or settlement's amount


@dataclass(frozen=True)
class ContactPermissionInput:
    """Legal may let the collection center keep contacting the customer while it holds the case."""

    allowed: bool
    by: str
    reason: str


@dataclass(frozen=True)
class Proceeding:
    kind: ProceedingKind
    on: date
    by: str
    note: str
    amount_minor: int | None
    recorded_at: datetime


@dataclass
class LegalState:
    """Carried across continue-as-new: a referral can live for years."""

    status: str = "referred"  # referred | accepted | returned | closed
    accepted_by: str = ""
    proceedings: list[Proceeding] | None = None
    contact_allowed: bool = False
    case_closed: str = ""  # why the case closed while legal held it; legal decides what follows


@dataclass(frozen=True)
class CaseClosedNotice:
    """A case tells the legal referral that holds it that it closed (a payment in full, a
    write-off): legal decides whether proceedings end."""

    reason: str


class LegalOutcomeKind(StrEnum):
    RETURNED = "returned"  # back to the collector stage, with a reason
    SETTLED = "settled"
    CLOSED = "closed"


@dataclass(frozen=True)
class LegalOutcome:
    kind: LegalOutcomeKind
    reason: str
    amount_minor: int | None = None


def handoff_id(department: str, account_no: str, n: int) -> str:
    """Workflow id of a department's handoff; also its `handoffs` row key."""
    return f"{department}-{account_no}-{n}"


@dataclass(frozen=True)
class HandoffWrite:
    """A department's handoff row, upserted by its key (the department workflow's id)."""

    key: str
    case_id: str
    department: str  # risk | legal
    status: str
    reason: str
    at: datetime
    dossier: dict[str, object] | None = None  # written when given, kept otherwise


# --- risk review: what its query answers --------------------------------------------------


class RiskReviewState(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"  # past a deadline without a decision; still waiting for one
    DECIDED = "decided"
    CANCELLED = "cancelled"  # the case closed or moved on before a decision was recorded


@dataclass(frozen=True)
class RiskReviewStatus:
    """The `review` query of a risk review: what the risk inbox shows of it."""

    status: RiskReviewState
    escalations: int
    deadline: datetime  # when it escalates (again) without a decision
    decision: RiskDecision | None
    summary: CaseSummary


@dataclass(frozen=True)
class Evidence:
    """An effective collection contact: the customer was reached, and this shows it."""

    at: datetime
    how: str  # "sms delivered", "voice answered", "collector reached" ...
    key: str  # the attempt's or task's key


@dataclass
class PlanInstalment:
    due_at: datetime  # the due date plus grace, on the strategy's clock
    due_date: date
    amount_minor: int
    paid_minor: int = 0
    status: str = "due"  # due | paid | missed


@dataclass
class DepartmentState:
    """What a case tracks of its human tasks and its risk and legal handoffs."""

    tasks: list[TaskRecord] = field(default_factory=list)  # not yet closed
    next_call_at: datetime | None = None
    evidence: list[Evidence] = field(default_factory=list)
    handoffs: int = 0
    risk_review: str | None = None  # the open review's workflow id
    high_risk_referred: bool = False
    forbearance_until: datetime | None = None  # on the strategy's clock
    forbearance_until_date: date | None = None  # the customer's date, as the risk team set it
    plan: list[PlanInstalment] = field(default_factory=list)
    plan_status: str = ""  # "" | active | kept | broken
    approval_task: str | None = None
    approval_rejected_at: datetime | None = None
    legal_referral: str | None = None
    legal_accepted_by: str = ""
    legal_contact_allowed: bool = False
    legal_check_at: datetime | None = None
    legal_missing: str = ""


# --- legal referral: the dossier and what the legal inbox sees ----------------------------


@dataclass(frozen=True)
class BuildDossierInput:
    """What `build_dossier` needs: the handoff row to store the dossier on, the case to read."""

    handoff_key: str
    case_id: str
    account_no: str
    approved_by: str
    preconditions: tuple[Precondition, ...] = ()


@dataclass(frozen=True)
class DossierBuilt:
    """`build_dossier`'s answer. The dossier itself stays on the handoff row, out of history:
    it grows with every contact, and a case can collect for years before it reaches legal."""

    handoff_key: str
    built_at: datetime
    contacts: int
    payments: int
    promises: int


@dataclass(frozen=True)
class LegalReferralStatus:
    """The `referral` query of a legal referral, and what its updates answer."""

    key: str  # the workflow id, also the handoff row's key
    case_id: str
    status: str  # referred | accepted | returned | closed
    approved_by: str
    accepted_by: str
    proceedings: tuple[Proceeding, ...]
    contact_allowed: bool
    preconditions: tuple[Precondition, ...]
    outcome: LegalOutcome | None = None
    case_closed: str = ""  # why the case closed while legal held it
