"""What a case's handoffs to the risk and legal departments decide, as pure functions: the
risk department's review and its decision, a payment plan's instalments, the legal referral's
preconditions, the referral itself and what legal answers. No Temporal, no I/O.

As in `steering_rules`, a rule takes the case's state and leaves it as it was: it answers
`Handed`, the new state, the events that say what changed, and the effects the workflow carries
out after adopting them, in order: steering's `OpenTask` and `WriteTask`, and the department
workflow to start (`QueueRiskReview`, `QueueLegalReferral`), whose input the workflow builds
from its own (the case's summary, the department's queue). The case's handlers in
`workflows/case_handoffs.py` keep only the shell.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from models.case_events import CaseEvent
from models.contracts import CaseState, ClosureReason, Stage
from models.department_events import (
    LegalAccepted,
    LegalContactPermission,
    LegalInformed,
    LegalNotReady,
    LegalOutcomeRecorded,
    PlanBroken,
    PlanKept,
    RiskDecided,
    RiskReviewCancelled,
    RiskReviewRequested,
)
from models.departments import (
    AcceptReferralInput,
    ContactPermissionInput,
    LegalOutcome,
    LegalOutcomeKind,
    PlanInstalment,
    Precondition,
    RiskDecision,
    RiskDecisionKind,
    handoff_id,
)
from models.tasks import TaskKind
from workflows import case_rules as rules
from workflows import steering_rules as steering
from workflows import task_rules
from workflows.steering_rules import SUPERVISOR, OpenTask, WriteTask

EVIDENCE_GAP_DAYS = 30  # two effective contacts at least this far apart before suing
LEGAL_RECHECK_DAYS = 7
APPROVAL_RETRY_DAYS = 30
STOPPED_BY_LEGAL = (TaskKind.COLLECTOR_CALL, TaskKind.FIELD_VISIT)  # cancelled in this order


@dataclass(frozen=True)
class QueueRiskReview:
    """The risk department's review `review_id`, for `reason`."""

    review_id: str
    reason: str


@dataclass(frozen=True)
class QueueLegalReferral:
    """The legal referral `referral_id`, approved by `approved_by`, with the preconditions
    that were met."""

    referral_id: str
    approved_by: str
    preconditions: tuple[Precondition, ...]


HandoffEffect = OpenTask | WriteTask | QueueRiskReview | QueueLegalReferral


@dataclass(frozen=True)
class Handed:
    state: CaseState
    events: tuple[CaseEvent, ...] = ()
    effects: tuple[HandoffEffect, ...] = ()


def _handed(decided: rules.Decided) -> Handed:
    state, events = decided
    return Handed(state, events)


# --- risk -------------------------------------------------------------------------------------


def request_risk_review(state: CaseState, reason: str, *, account_no: str) -> Handed:
    """Hardship, or a high-risk segment, hands the case to the risk department: one review at
    a time."""
    if state.departments.risk_review is not None:
        return Handed(state)
    counted, review_id = _next_handoff(state, "risk", account_no)
    requested = RiskReviewRequested(review_id=review_id, reason=reason)
    return Handed(
        _dept(counted, risk_review=review_id),
        (requested,),
        (QueueRiskReview(review_id, reason),),
    )


def risk_decided(state: CaseState, decision: RiskDecision, now: datetime, today: date) -> Handed:
    """The risk department's decision ends its review and the hardship it was asked about:
    forbearance pauses contact until the customer's date (`today` is theirs), a day at least;
    a payment plan tracks its instalments, each due at its date plus the promise's grace;
    a restructure settles the case; proceed returns it to collection. A closed case ignores
    a late decision."""
    if state.stage is Stage.CLOSED:
        return Handed(state)
    strategy = state.assessment.strategy
    day = rules.day(strategy)
    cleared = replace(_dept(state, risk_review=None), hardship_reason="")
    decided = (RiskDecided(decision.kind, decision.decided_by, decision.reason),)
    match decision.kind:
        case RiskDecisionKind.FORBEARANCE:
            until = decision.forbearance_until
            assert until is not None
            held = _dept(
                cleared,
                forbearance_until=now + day * max(1, (until - today).days),
                forbearance_until_date=until,
            )
            return _handed(steering.set_stage(held, Stage.RISK_REVIEW, "forbearance", decided))
        case RiskDecisionKind.PAYMENT_PLAN:
            grace = strategy.promise.grace_days
            plan = [
                PlanInstalment(
                    due_at=now + day * ((i.due_date - today).days + grace),
                    due_date=i.due_date,
                    amount_minor=i.amount_minor,
                )
                for i in decision.instalments
            ]
            planned = _dept(cleared, plan=plan, plan_status="active")
            return _handed(steering.set_stage(planned, Stage.RISK_REVIEW, "payment plan", decided))
        case RiskDecisionKind.RESTRUCTURE:
            why = f"restructured: {decision.reason}"
            return _handed(rules.close(cleared, ClosureReason.SETTLED, why, decided))
        case RiskDecisionKind.PROCEED:
            return _handed(steering.return_to_collection(cleared, now, decided))


def pay_plan(state: CaseState, amount_minor: int, now: datetime) -> Handed:
    """A payment goes to an active plan's instalments still due, the earliest first; once
    every one is paid the plan is kept, and the case returns to collection."""
    if state.departments.plan_status != "active":
        return Handed(state)
    left = amount_minor
    plan: list[PlanInstalment] = []
    for instalment in state.departments.plan:
        if instalment.status != "due" or left <= 0:
            plan.append(instalment)
            continue
        taken = min(left, instalment.amount_minor - instalment.paid_minor)
        left -= taken
        paid = instalment.paid_minor + taken
        status = "paid" if paid >= instalment.amount_minor else instalment.status
        plan.append(replace(instalment, paid_minor=paid, status=status))
    paid_into = _dept(state, plan=plan)
    if any(i.status != "paid" for i in plan):
        return Handed(paid_into)
    kept = _dept(paid_into, plan_status="kept")
    return _handed(steering.return_to_collection(kept, now, (PlanKept(),)))


def check_instalment(state: CaseState, now: datetime, *, currency: str) -> Handed:
    """The plan's next instalment, past its date plus grace and not paid in full, is missed:
    the plan is broken, and the case returns to collection."""
    plan = state.departments.plan
    n = next((n for n, i in enumerate(plan) if i.status == "due"), None)
    if n is None or now < plan[n].due_at:
        return Handed(state)
    due = plan[n]
    missed = [*plan[:n], replace(due, status="missed"), *plan[n + 1 :]]
    broken = _dept(state, plan=missed, plan_status="broken")
    event = PlanBroken(
        due_date=due.due_date.isoformat(),
        paid_minor=due.paid_minor,
        amount_minor=due.amount_minor,
        currency=currency,
    )
    return _handed(steering.return_to_collection(broken, now, (event,)))


# --- legal ------------------------------------------------------------------------------------


def legal_preconditions(
    state: CaseState, now: datetime, approved_by: str
) -> tuple[Precondition, ...]:
    """What the legal department needs before it takes a case, each with what shows it: those
    a supervisor is asked to approve on (`before_approval`), and the approval."""
    approval = Precondition("supervisor approval", bool(approved_by), approved_by or "not yet")
    return (*before_approval(state, now), approval)


def before_approval(state: CaseState, now: datetime) -> tuple[Precondition, ...]:
    """Past the legal threshold, no payment plan being kept, and two effective contacts
    EVIDENCE_GAP_DAYS apart (the first such pair)."""
    dept = state.departments
    strategy = state.assessment.strategy
    legal_dpd = strategy.stages.legal_dpd
    dpd = rules.days_past_due(state, now)
    gap = rules.day(strategy) * EVIDENCE_GAP_DAYS
    evidence = sorted(dept.evidence, key=lambda e: e.at)
    apart = next(((a, b) for a in evidence for b in evidence if b.at - a.at >= gap), None)
    contacts = (
        f"{apart[0].how} on {apart[0].at:%Y-%m-%d} ({apart[0].key}); "
        f"{apart[1].how} on {apart[1].at:%Y-%m-%d} ({apart[1].key})"
        if apart
        else f"{len(evidence)} effective contact(s), none {EVIDENCE_GAP_DAYS} days apart"
    )
    return (
        Precondition("past the legal threshold", dpd >= legal_dpd, f"{dpd} days past due"),
        Precondition(
            "no payment plan being kept",
            dept.plan_status != "active",
            f"plan: {dept.plan_status or 'none'}",
        ),
        Precondition("two effective contacts 30 days apart", apart is not None, contacts),
    )


def missing(preconditions: tuple[Precondition, ...]) -> str:
    """The preconditions not met, in words ("" when all are)."""
    return "; ".join(f"{p.name} ({p.evidence})" for p in preconditions if not p.met)


def check_legal(state: CaseState, now: datetime) -> Handed:
    """The legal referral's check, again in LEGAL_RECHECK_DAYS: unless an approval is asked
    or a referral open, or an approval was rejected less than APPROVAL_RETRY_DAYS ago, a
    supervisor is asked to approve once all but the approval are met; what is missing goes
    on record each time it changes."""
    dept = state.departments
    day = rules.day(state.assessment.strategy)
    checked = _dept(state, legal_check_at=now + day * LEGAL_RECHECK_DAYS)
    if dept.approval_task is not None or dept.legal_referral is not None:
        return Handed(checked)
    rejected = dept.approval_rejected_at
    if rejected is not None and now - rejected < day * APPROVAL_RETRY_DAYS:
        return Handed(checked)
    lacking = missing(before_approval(state, now))
    if lacking:
        if lacking == dept.legal_missing:
            return Handed(checked)
        not_ready = LegalNotReady(missing=lacking, for_now=True)
        return Handed(_dept(checked, legal_missing=lacking), (not_ready,))
    approval = OpenTask(TaskKind.SUPERVISOR_APPROVAL, SUPERVISOR, "approve the legal referral")
    return Handed(_dept(checked, legal_missing=""), effects=(approval,))


def refer_to_legal(state: CaseState, approved_by: str, now: datetime, *, account_no: str) -> Handed:
    """Approved, and every precondition met (else the referral is refused for good, with what
    is missing): the legal department holds the case, contact stops unless it allows it, and
    the collectors' calls and visits are cancelled."""
    preconditions = legal_preconditions(state, now, approved_by)
    if lacking := missing(preconditions):
        return Handed(state, (LegalNotReady(missing=lacking, for_now=False),))
    counted, referral_id = _next_handoff(state, "legal", account_no)
    held = _dept(counted, legal_referral=referral_id, legal_contact_allowed=False)
    why = f"referred to the legal department, approved by {approved_by}"
    moved, events = steering.set_stage(held, Stage.LEGAL, why)
    stops = stop_collector_work(state, "the legal department holds the case", now)
    refer = QueueLegalReferral(referral_id, approved_by, preconditions)
    return Handed(moved, events, (*stops, refer))


def legal_outcome(state: CaseState, outcome: LegalOutcome, now: datetime) -> Handed:
    """The legal department's end of a referral: returned, the case goes back to the
    collectors (and the referral is not asked for again before APPROVAL_RETRY_DAYS); settled
    or closed, so is the case. A closed case ignores a late outcome."""
    if state.stage is Stage.CLOSED:
        return Handed(state)
    ended = _dept(state, legal_referral=None, legal_accepted_by="", legal_contact_allowed=False)
    recorded = (LegalOutcomeRecorded(outcome=outcome.kind, reason=outcome.reason),)
    match outcome.kind:
        case LegalOutcomeKind.RETURNED:
            returned = _dept(ended, approval_rejected_at=now)
            why = f"returned by legal: {outcome.reason}"
            return _handed(steering.set_stage(returned, Stage.COLLECTOR, why, recorded))
        case LegalOutcomeKind.SETTLED:
            why = f"settled in legal: {outcome.reason}"
            return _handed(rules.close(ended, ClosureReason.SETTLED, why, recorded))
        case LegalOutcomeKind.CLOSED:
            reason = ClosureReason.LEGAL_CLOSED
            return _handed(rules.close(ended, reason, outcome.reason, recorded))


def legal_accepted(state: CaseState, acceptance: AcceptReferralInput) -> Handed:
    """Legal took the referral (ignored when none is open)."""
    if state.departments.legal_referral is None:
        return Handed(state)
    accepted = LegalAccepted(by=acceptance.by, note=acceptance.note or "")
    return Handed(_dept(state, legal_accepted_by=acceptance.by), (accepted,))


def legal_contact(state: CaseState, permission: ContactPermissionInput, now: datetime) -> Handed:
    """Legal lets the collection center contact the customer while it holds the case, or
    stops it: then the collectors' calls and visits are cancelled."""
    allowed = _dept(state, legal_contact_allowed=permission.allowed)
    event = LegalContactPermission(permission.by, permission.allowed, permission.reason)
    stops = () if permission.allowed else stop_collector_work(state, "legal stopped contact", now)
    return Handed(allowed, (event,), stops)


@dataclass(frozen=True)
class CancelRiskReview:
    review_id: str
    why: str


@dataclass(frozen=True)
class InformLegal:
    """The legal referral `referral_id` is told the case closed; legal decides what follows."""

    referral_id: str
    why: str


@dataclass(frozen=True)
class Ended:
    """What a closed case leaves its departments: the state, its events, the notices to send."""

    state: CaseState
    events: tuple[CaseEvent, ...] = ()
    notices: tuple[CancelRiskReview | InformLegal, ...] = ()


def end_departments(state: CaseState, why: str, unstarted: frozenset[str]) -> Ended:
    """A closed case leaves no department working on it: an open risk review is cancelled,
    a legal referral told. A department's workflow not yet started (in `unstarted`, the
    workflow's own list) is never started, so it is not told; a referral so dropped leaves no
    trace on the timeline."""
    dept = state.departments
    events: list[CaseEvent] = []
    notices: list[CancelRiskReview | InformLegal] = []
    changes: dict[str, Any] = {}
    if dept.risk_review is not None:
        changes["risk_review"] = None
        if dept.risk_review not in unstarted:
            notices.append(CancelRiskReview(dept.risk_review, why))
        events.append(RiskReviewCancelled(review_id=dept.risk_review, why=why))
    if dept.legal_referral in unstarted:
        changes["legal_referral"] = None
    elif dept.legal_referral is not None:
        notices.append(InformLegal(dept.legal_referral, why))
        events.append(LegalInformed(referral_id=dept.legal_referral, why=why))
    return Ended(_dept(state, **changes), tuple(events), tuple(notices))


def stop_collector_work(state: CaseState, why: str, now: datetime) -> tuple[WriteTask, ...]:
    """The collectors' open calls, then their visits, cancelled."""
    tasks = state.departments.tasks
    return tuple(
        WriteTask(*task_rules.cancel(task, why, now))
        for kind in STOPPED_BY_LEGAL
        for task in tasks
        if task.kind is kind
    )


def _next_handoff(state: CaseState, department: str, account_no: str) -> tuple[CaseState, str]:
    """The department's workflow id for the case's next handoff (the opening time keeps it
    unique when a closed account's case is opened again)."""
    n = state.departments.handoffs + 1
    opened = f"{state.started_at:%Y%m%d%H%M%S}"
    return _dept(state, handoffs=n), handoff_id(department, f"{account_no}-{opened}", n)


def _dept(state: CaseState, **changes: Any) -> CaseState:
    return replace(state, departments=replace(state.departments, **changes))
