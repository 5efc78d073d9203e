"""Plain, frozen types that cross Temporal boundaries: inputs, results, updates, query answers.

Money is in integer minor units with an ISO currency code. Times are timezone-aware UTC.
New fields only with defaults, so that recorded histories keep decoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from models.complaints import Complaint
from models.contact_details import CurrentContact
from models.departments import DepartmentState
from models.shared_strategies import SharedStrategy
from models.strategy import Channel, Segment


class Refusal(StrEnum):
    """The types of the errors a workflow refuses a request with; the application layer reads
    them to tell a refusal from a failure."""

    INVALID_ACTION = "InvalidAction"  # the validator said no; the message says why
    CASE_CLOSED = "CaseClosed"  # the case is closed; nothing more can be done to it
    NOT_READY = "NotReady"  # the case is still being assessed; ask again in a moment
    NOT_PERMITTED = "NotPermitted"  # the person lacks the role, or a second person is needed


# What a case still being assessed answers a query; the application layer asks again on it.
NOT_READY_MESSAGE = "the case is still being assessed"


class Language(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


class Stage(StrEnum):
    ASSESSMENT = "assessment"
    EARLY = "early"
    COLLECTOR = "collector"
    RISK_REVIEW = "risk_review"
    LEGAL = "legal"
    CLOSED = "closed"


class ClosureReason(StrEnum):
    PAID = "paid"
    CURED = "cured"
    SETTLED = "settled"
    WRITTEN_OFF = "written_off"
    LEGAL_CLOSED = "legal_closed"
    DISPUTE_UPHELD = "dispute_upheld"
    MANUAL = "manual"


class AttemptStatus(StrEnum):
    """The life of one contact attempt, as recorded in the database."""

    REFUSED = "refused"  # the contact policy said no; nothing went out
    QUEUED = "queued"  # handed to the provider (or the local outbox)
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"  # the provider refused it for good (invalid number, unsubscribed ...)
    ANSWERED = "answered"  # a voice call that was picked up
    UNANSWERED = "unanswered"  # a voice call: busy, no answer
    # A call whose create's answer was lost and that the provider could not confirm or deny
    # (its calls list kept failing, or showed calls this attempt cannot be told from). It may
    # have rung: it counts against every cap, is never placed again, and a supervisor sees it.
    UNCONFIRMED = "unconfirmed"


class RefusalReason(StrEnum):
    OUTSIDE_WINDOW = "outside_window"
    DAILY_CAP = "daily_cap"
    WEEKLY_CAP = "weekly_cap"
    RECENT_CONVERSATION = "recent_conversation"
    OPTED_OUT = "opted_out"
    DISPUTE = "dispute_open"
    PAUSED = "paused"
    PROMISE = "promise_pending"
    PAID = "paid_in_full"
    CLOSED = "closed"
    LEGAL_HOLD = "legal_hold"
    CHANNEL_UNAVAILABLE = "channel_unavailable"


@dataclass(frozen=True)
class ContactPoints:
    mobile: str  # E.164, e.g. +8613800138000
    language: Language = Language.ZH_CN
    time_zone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class Account:
    account_no: str
    product: str
    currency: str
    outstanding_minor: int
    overdue_minor: int
    oldest_due_date: date


@dataclass(frozen=True)
class CaseInput:
    customer_ref: str
    contact: ContactPoints
    account: Account
    strategy_version: str = ""  # a policy name under config/policies; "" = the configured one
    customer_name: str = ""
    carried: CaseState | None = None
    # The release of the case workflow that its starter runs (`workflows.changes`): a worker of
    # that release takes its changes without recording a marker. "" from older starters.
    release: str = ""
    # The scorecard's assessment, made by the starter (intake) from the policy the case names;
    # a case started without one assesses itself. A run continued as new carries its state.
    assessment: Assessment | None = None


MAX_MINOR = 2**63 - 1  # money is stored as BIGINT: no amount may be larger
_CONTROL = {chr(c) for c in (*range(0x20), 0x7F)} - set("\t\n\r")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored and sent as text, or None. PostgreSQL refuses NUL in text
    and no driver can encode a lone surrogate (JSON allows both): taken in, either would fail
    the case's writes on every retry."""
    if any(c in _CONTROL for c in value):
        return "holds a control character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds characters that are not text (a broken encoding?)"
    return None


def case_id(account_no: str) -> str:
    return f"case-{account_no}"


def case_account(workflow_id: str) -> str:
    """The account number of a case's workflow id (`case_id`'s inverse)."""
    return workflow_id.removeprefix("case-")


# --- assessment ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessInput:
    account: Account
    strategy_version: str
    as_of: date


@dataclass(frozen=True)
class ScoreLine:
    factor: str
    points: int


@dataclass(frozen=True)
class Assessment:
    strategy: SharedStrategy
    score: int
    segment: Segment
    lines: tuple[ScoreLine, ...]
    # Where this deployment's departments listen; the case hands work to these queues.
    risk_queue: str = "risk"
    legal_queue: str = "legal"


# --- contact ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PastContact:
    """What the contact policy needs to know about an earlier attempt."""

    at: datetime
    channel: Channel
    status: AttemptStatus
    key: str = ""  # the attempt's idempotency key, so a later outcome can find it


@dataclass(frozen=True)
class SendInput:
    idempotency_key: str  # built in the workflow; unique in the attempts table
    case_id: str
    account_no: str
    channel: Channel
    to: str
    language: Language
    template: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    idempotency_key: str
    status: AttemptStatus  # QUEUED/SENT on success, FAILED when the provider refused for good
    provider_id: str = ""
    error_code: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class RefusedAttempt:
    idempotency_key: str
    case_id: str
    account_no: str
    channel: Channel
    template: str
    reason: RefusalReason
    at: datetime
    retry_at: datetime | None = None


@dataclass(frozen=True)
class ContactOutcome:
    """A delivery or call status reported by the provider (status callback) to the case."""

    idempotency_key: str
    status: AttemptStatus
    error_code: int | None = None


# --- operator actions (updates) -----------------------------------------------------------


@dataclass(frozen=True)
class RecordPaymentInput:
    amount_minor: int
    currency: str
    payment_ref: str
    note: str = ""
    # A payment above the outstanding balance is refused as a likely typo unless the operator
    # marks it as an overpayment; the excess is then recorded as such.
    overpayment: bool = False


@dataclass(frozen=True)
class PromiseToPayInput:
    amount_minor: int
    currency: str
    promised_date: date
    note: str = ""


@dataclass(frozen=True)
class ReasonInput:
    reason: str


@dataclass(frozen=True)
class ResolveDisputeInput:
    upheld: bool  # True: the customer was right; the case closes as settled by the bank
    reason: str


@dataclass(frozen=True)
class ChannelInput:
    channel: Channel
    reason: str = ""


@dataclass(frozen=True)
class CloseInput:
    reason: ClosureReason
    note: str


@dataclass(frozen=True)
class ActionResult:
    accepted: bool
    message: str
    stage: Stage


# --- state and queries --------------------------------------------------------------------


@dataclass
class Promise:
    amount_minor: int
    promised_date: date
    made_at: datetime
    check_at: datetime  # promised date plus grace, on the strategy's clock
    key: str = ""
    paid_since_minor: int = 0
    status: str = "open"  # open | kept | broken
    made_by: str = ""  # the staff id who obtained it ("" in a case from before it was kept)


@dataclass
class TimelineEvent:
    at: datetime
    kind: str
    detail: str
    actor: str = ""  # who acted (`models.people.Actor.label`), `workflow` for the case itself
    data: dict[str, Any] | None = None  # the event's fields (`models.case_events`); None before


@dataclass
class CaseState:
    """Everything a case remembers; carried whole across continue-as-new."""

    started_at: datetime
    initial_dpd: int
    assessment: Assessment
    stage: Stage = Stage.EARLY
    outstanding_minor: int = 0
    overdue_minor: int = 0
    closed_reason: ClosureReason | None = None
    ladder_index: int = 0
    attempt_seq: int = 0
    contacts: list[PastContact] = field(default_factory=list)
    sent_count: int = 0
    refused_count: int = 0
    opted_out: list[Channel] = field(default_factory=list)
    unavailable: list[Channel] = field(default_factory=list)
    paused_reason: str = ""
    dispute_reason: str = ""
    hardship_reason: str = ""
    retry_contact_at: datetime | None = None
    inflight_key: str | None = None  # a send not yet settled; retried under the same key
    legal_threshold_noted: bool = False
    audit_seq: int = 0
    promise: Promise | None = None
    promises_broken: int = 0
    promises_kept: int = 0
    payment_refs: list[str] = field(default_factory=list)
    paid_minor: int = 0
    overpaid_minor: int = 0  # paid above the balance, marked by the operator as an overpayment
    last_conversation_at: datetime | None = None
    timeline: list[TimelineEvent] = field(default_factory=list)
    runs: int = 1
    departments: DepartmentState = field(default_factory=DepartmentState)
    complaints: list[Complaint] = field(default_factory=list)  # open ones; the register has all
    contact: CurrentContact | None = None  # changed after intake: it replaces the input's
