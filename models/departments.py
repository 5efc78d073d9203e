"""Contracts of the departments a case hands work to: risk reviews and legal referrals (a case's
human tasks are `models.tasks`).

Plain, frozen types that cross Temporal boundaries. A handoff's workflow id is also the
idempotency key of its `handoffs` row, so the API can route a department's answer to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from models.strategy import Segment
from models.tasks import TaskRecord

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
