"""What a case answers when asked: its status (the `status` query), in the terms a front end
shows. Plain, frozen types that cross Temporal, as in `models.contracts`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from models.complaints import Complaint
from models.contracts import ClosureReason, Stage
from models.strategy import Channel, Segment
from models.tasks import TaskRecord


@dataclass(frozen=True)
class OpenPromise:
    amount_minor: int
    promised_date: date
    paid_since_minor: int


class NextAction(StrEnum):
    """What a case will do next by itself (or waits for), as a code a front end can translate."""

    CONTACT = "contact"
    PROMISE = "promise"
    STAGE = "stage"
    TASK_DEADLINE = "task_deadline"
    FORBEARANCE_END = "forbearance_end"
    INSTALMENT = "instalment"
    COLLECTOR_CALL = "collector_call"
    LEGAL_CHECK = "legal_check"
    RISK_DECISION = "risk_decision"  # waits for the risk department's decision
    LEGAL_OUTCOME = "legal_outcome"  # waits for the legal department
    OPEN_TASKS = "open_tasks"  # waits for the open tasks to be worked
    NONE = "none"  # nothing scheduled; the case is reviewed on its own calendar
    PAUSED = "paused"
    DISPUTE = "dispute"
    COMPLAINT = "complaint"  # waits for a supervisor to answer a complaint
    CLOSED = "closed"


@dataclass(frozen=True)
class PlanInstalmentView:
    """One instalment of a payment plan, as the case's status shows it."""

    due_date: date
    amount_minor: int
    paid_minor: int
    status: str  # due | paid | missed


@dataclass(frozen=True)
class CaseStatus:
    case_id: str
    account_no: str
    stage: Stage
    segment: Segment
    score: int
    strategy_version: str
    days_past_due: int
    currency: str
    outstanding_minor: int
    overdue_minor: int
    paid_minor: int
    next_action: str
    next_action_at: datetime | None
    open_promise: OpenPromise | None
    promises_kept: int
    promises_broken: int
    contacts_sent: int
    contacts_refused: int
    opted_out: tuple[Channel, ...]
    paused: bool
    dispute_open: bool
    closed_reason: ClosureReason | None
    open_tasks: tuple[TaskRecord, ...] = ()
    risk_review: str | None = None  # the open review's workflow id
    legal_referral: str | None = None  # the referral's workflow id while legal holds the case
    legal_accepted_by: str = ""
    next_action_kind: NextAction | None = None
    forbearance_until: date | None = None  # the customer's date the forbearance ends
    plan_status: str = ""  # "" | active | kept | broken
    plan: tuple[PlanInstalmentView, ...] = ()
    overpaid_minor: int = 0  # paid above the balance, marked as an overpayment
    open_complaints: tuple[Complaint, ...] = ()  # each waits for a supervisor's answer
    # A quiet case does not wake to count its days: they are whole days of `day_seconds` since
    # `due_origin` (None from a case started before it kept one), and `days_past_due` is their
    # count when the case last woke. `as_of` counts them when asked.
    due_origin: datetime | None = None
    day_seconds: int = 86_400

    def as_of(self, now: datetime) -> CaseStatus:
        """This status with its days past due counted at `now` (a closed case's stay put)."""
        if self.due_origin is None or self.closed_reason is not None:
            return self
        days = (now - self.due_origin) // timedelta(seconds=self.day_seconds)
        return replace(self, days_past_due=max(self.days_past_due, days))
