"""What happened on a case around its departments: tasks, the risk department's review and
plan, the legal department's referral. Typed events as in `models.case_events`, which holds
the base, the registry of kinds and the readers' functions."""

from __future__ import annotations

from models.case_events import CaseEvent, event
from models.money import money

# --- tasks ----------------------------------------------------------------------------------


@event("task_opened")
class TaskOpened(CaseEvent):
    task_kind: str
    queue: str
    deadline: str  # `YYYY-MM-DD HH:MM`, UTC
    note: str

    def detail(self) -> str:
        return f"{self.task_kind} for {self.queue}, due {self.deadline}: {self.note}"


@event("task_cancelled")
class TaskCancelled(CaseEvent):
    task_kind: str
    why: str

    def detail(self) -> str:
        return f"{self.task_kind}: {self.why}"


@event("task_claimed")
class TaskClaimed(CaseEvent):
    task_kind: str
    collector: str

    def detail(self) -> str:
        return f"{self.task_kind} by {self.collector}"


@event("task_done")
class TaskDone(CaseEvent):
    task_kind: str
    collector: str
    outcome: str
    note: str = ""  # the collector's note or a visit's report, sealed at rest with the entry

    def detail(self) -> str:
        said = f" ({self.note})" if self.note else ""
        return f"{self.task_kind} by {self.collector}: {self.outcome}{said}"


@event("task_assigned")
class TaskAssigned(CaseEvent):
    task_kind: str
    assignee: str
    reason: str

    def detail(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"{self.task_kind} to {self.assignee}{why}"


@event("visit_booked")
class VisitBooked(CaseEvent):
    day: str  # the customer's calendar day, ISO
    hours: str  # `HH:MM-HH:MM` in the customer's time
    collectors: str  # staff ids, comma-separated

    def detail(self) -> str:
        return f"field visit on {self.day}, {self.hours} (customer's time), by {self.collectors}"


@event("visit_checked_in")
class VisitCheckedIn(CaseEvent):
    collector: str

    def detail(self) -> str:
        return f"at the door: {self.collector}"


@event("visit_checked_out")
class VisitCheckedOut(CaseEvent):
    collector: str

    def detail(self) -> str:
        return f"left: {self.collector}"


@event("task_escalated")
class TaskEscalated(CaseEvent):
    task_kind: str

    def detail(self) -> str:
        return f"{self.task_kind} missed its deadline"


# --- risk and legal -------------------------------------------------------------------------


@event("forbearance_ended")
class ForbearanceEnded(CaseEvent):
    def detail(self) -> str:
        return "contact resumes"


@event("risk_review")
class RiskReviewRequested(CaseEvent):
    review_id: str
    reason: str

    def detail(self) -> str:
        return f"handed to the risk department ({self.review_id}): {self.reason}"


@event("risk_decision")
class RiskDecided(CaseEvent):
    decision: str
    decided_by: str
    reason: str

    def detail(self) -> str:
        return f"{self.decision} by {self.decided_by}: {self.reason}"


@event("risk_review_cancelled")
class RiskReviewCancelled(CaseEvent):
    review_id: str
    why: str

    def detail(self) -> str:
        return f"{self.review_id}: {self.why}"


@event("plan_kept")
class PlanKept(CaseEvent):
    def detail(self) -> str:
        return "every instalment paid"


@event("plan_broken")
class PlanBroken(CaseEvent):
    due_date: str
    paid_minor: int
    amount_minor: int
    currency: str

    def detail(self) -> str:
        paid, due = money(self.paid_minor, self.currency), money(self.amount_minor, self.currency)
        return f"instalment of {self.due_date} missed ({paid} of {due} paid)"


@event("legal_not_ready")
class LegalNotReady(CaseEvent):
    missing: str
    for_now: bool  # the legal department's preconditions may still be met later

    def detail(self) -> str:
        return f"referral refused{' for now' if self.for_now else ''}: {self.missing}"


@event("legal_outcome")
class LegalOutcomeRecorded(CaseEvent):
    outcome: str
    reason: str

    def detail(self) -> str:
        return f"{self.outcome}: {self.reason}"


@event("legal_accepted")
class LegalAccepted(CaseEvent):
    by: str
    note: str = ""

    def detail(self) -> str:
        return f"accepted by {self.by}" + (f": {self.note}" if self.note else "")


@event("legal_contact")
class LegalContactPermission(CaseEvent):
    by: str
    allowed: bool
    reason: str

    def detail(self) -> str:
        verb = "allows" if self.allowed else "stops"
        return f"legal ({self.by}) {verb} contact: {self.reason}"


@event("legal_informed")
class LegalInformed(CaseEvent):
    referral_id: str
    why: str

    def detail(self) -> str:
        return f"{self.referral_id}: {self.why}"
