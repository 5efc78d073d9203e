"""The handoff rules at their edges: the risk department's review and decision, a payment plan's
instalments, the legal referral's preconditions and check, the referral, what legal answers,
and what a closed case leaves its departments. No Temporal: each rule takes a state and a clock,
and leaves the state it was given as it was."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from config.settings import POLICY_DIR
from config.strategy import load_strategy
from models.case_events import StageChanged, StaleStepsSkipped
from models.contracts import Assessment, CaseState, ClosureReason, Stage
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
    TaskCancelled,
)
from models.departments import (
    AcceptReferralInput,
    ContactPermissionInput,
    DepartmentState,
    Evidence,
    Instalment,
    LegalOutcome,
    LegalOutcomeKind,
    PlanInstalment,
    Precondition,
    RiskDecision,
    RiskDecisionKind,
)
from models.strategy import Segment
from models.tasks import TaskKind, TaskRecord, TaskStatus
from workflows import handoff_rules as handoffs
from workflows.handoff_rules import (
    CancelRiskReview,
    Ended,
    Handed,
    InformLegal,
    QueueLegalReferral,
    QueueRiskReview,
)
from workflows.steering_rules import OpenTask, WriteTask

NOW = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)
TODAY = date(2026, 6, 10)
DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)
STRATEGY = load_strategy(POLICY_DIR / "default.toml")  # grace 2 days, collector 31, legal 91
STARTED = NOW - 3 * DAY
OPENED = "20260607060000"  # the case's opening time, in its handoff ids


def case(
    stage: Stage = Stage.COLLECTOR, *, dpd: int = 40, days_ago: int = 3, **dept: Any
) -> CaseState:
    assessment = Assessment(strategy=STRATEGY, score=40, segment=Segment.MEDIUM, lines=())
    return CaseState(
        started_at=NOW - DAY * days_ago,
        initial_dpd=dpd,
        assessment=assessment,
        stage=stage,
        outstanding_minor=100_000,
        overdue_minor=40_000,
        departments=DepartmentState(**dept),
    )


def task(kind: TaskKind, key: str) -> TaskRecord:
    return TaskRecord(
        key=key,
        case_id="case-1",
        kind=kind,
        queue="operations",
        deadline=NOW + 2 * DAY,
        created_at=NOW - DAY,
    )


def apply(rule: Callable[..., Handed], state: CaseState, *args: Any, **kwargs: Any) -> Handed:
    """Runs the rule, and checks it left the state it was given as it was."""
    before = deepcopy(state)
    handed = rule(state, *args, **kwargs)
    assert state == before
    return handed


def instalment(days: int, amount: int = 100, paid: int = 0, status: str = "due") -> PlanInstalment:
    return PlanInstalment(
        due_at=NOW + DAY * days,
        due_date=TODAY + DAY * days,
        amount_minor=amount,
        paid_minor=paid,
        status=status,
    )


# --- the risk department's review -------------------------------------------------------------


def test_a_risk_review_is_requested_under_the_case_s_next_handoff_id() -> None:
    handed = apply(handoffs.request_risk_review, case(handoffs=2), "hardship: ill", account_no="A1")
    review_id = f"risk-A1-{OPENED}-3"
    assert handed.state.departments.handoffs == 3
    assert handed.state.departments.risk_review == review_id
    assert handed.events == (RiskReviewRequested(review_id, "hardship: ill"),)
    assert handed.effects == (QueueRiskReview(review_id, "hardship: ill"),)


def test_a_case_has_one_risk_review_at_a_time() -> None:
    state = case(risk_review="risk-A1-1", handoffs=1)
    assert handoffs.request_risk_review(state, "again", account_no="A1") == Handed(state)


def decide(kind: RiskDecisionKind, **changes: Any) -> RiskDecision:
    return RiskDecision(kind=kind, decided_by="r-1", reason="looked at it", **changes)


@pytest.mark.parametrize(
    ("until", "days"),
    [(TODAY + 5 * DAY, 5), (TODAY + DAY, 1), (TODAY, 1), (TODAY - 3 * DAY, 1)],
)
def test_a_forbearance_pauses_contact_a_day_at_least(until: date, days: int) -> None:
    state = replace(case(risk_review="risk-A1-1"), hardship_reason="ill")
    handed = apply(
        handoffs.risk_decided,
        state,
        decide(RiskDecisionKind.FORBEARANCE, forbearance_until=until),
        NOW,
        TODAY,
    )
    dept = handed.state.departments
    assert (dept.forbearance_until, dept.forbearance_until_date) == (NOW + DAY * days, until)
    assert dept.risk_review is None and handed.state.hardship_reason == ""
    assert handed.state.stage is Stage.RISK_REVIEW
    assert handed.events == (
        RiskDecided("forbearance", "r-1", "looked at it"),
        StageChanged(Stage.COLLECTOR, Stage.RISK_REVIEW, "forbearance"),
    )
    assert handed.effects == ()


def test_a_forbearance_in_the_risk_stage_changes_no_stage() -> None:
    decision = decide(RiskDecisionKind.FORBEARANCE, forbearance_until=TODAY + DAY)
    handed = apply(handoffs.risk_decided, case(Stage.RISK_REVIEW), decision, NOW, TODAY)
    assert handed.events == (RiskDecided("forbearance", "r-1", "looked at it"),)


def test_a_forbearance_needs_its_date() -> None:
    with pytest.raises(AssertionError):
        handoffs.risk_decided(case(), decide(RiskDecisionKind.FORBEARANCE), NOW, TODAY)


def test_a_payment_plan_tracks_each_instalment_to_its_date_plus_grace() -> None:
    decision = decide(
        RiskDecisionKind.PAYMENT_PLAN,
        instalments=(Instalment(TODAY, 300), Instalment(TODAY + 30 * DAY, 700)),
    )
    handed = apply(handoffs.risk_decided, case(Stage.RISK_REVIEW), decision, NOW, TODAY)
    dept = handed.state.departments
    assert dept.plan == [
        PlanInstalment(due_at=NOW + 2 * DAY, due_date=TODAY, amount_minor=300),
        PlanInstalment(due_at=NOW + 32 * DAY, due_date=TODAY + 30 * DAY, amount_minor=700),
    ]
    assert dept.plan_status == "active"
    assert handed.events == (RiskDecided("payment_plan", "r-1", "looked at it"),)
    moved = apply(handoffs.risk_decided, case(), decision, NOW, TODAY)
    assert moved.events[1:] == (StageChanged(Stage.COLLECTOR, Stage.RISK_REVIEW, "payment plan"),)


def test_a_restructure_settles_the_case() -> None:
    handed = apply(
        handoffs.risk_decided,
        case(Stage.RISK_REVIEW),
        decide(RiskDecisionKind.RESTRUCTURE),
        NOW,
        TODAY,
    )
    assert handed.state.stage is Stage.CLOSED
    assert handed.state.closed_reason is ClosureReason.SETTLED
    assert handed.events == (
        RiskDecided("restructure", "r-1", "looked at it"),
        StageChanged(Stage.RISK_REVIEW, Stage.CLOSED, "settled: restructured: looked at it"),
    )


@pytest.mark.parametrize(("dpd", "stage"), [(28, Stage.COLLECTOR), (27, Stage.EARLY)])
def test_proceed_returns_the_case_to_the_stage_its_days_say(dpd: int, stage: Stage) -> None:
    # Three days in: 31 days past due is the collector stage.
    state = replace(case(Stage.RISK_REVIEW, dpd=dpd, risk_review="r"), hardship_reason="ill")
    handed = apply(handoffs.risk_decided, state, decide(RiskDecisionKind.PROCEED), NOW, TODAY)
    assert handed.state.stage is stage
    assert handed.state.departments.risk_review is None
    assert handed.state.hardship_reason == ""
    assert handed.events == (
        RiskDecided("proceed", "r-1", "looked at it"),
        StageChanged(Stage.RISK_REVIEW, stage, "back to collection"),
        StaleStepsSkipped(1),  # the medium ladder's 3-day step is due; the first is stale
    )


def test_a_closed_case_ignores_a_late_decision() -> None:
    state = case(Stage.CLOSED, risk_review="r")
    assert handoffs.risk_decided(state, decide(RiskDecisionKind.PROCEED), NOW, TODAY) == Handed(
        state
    )


# --- a payment plan ---------------------------------------------------------------------------


def test_a_payment_goes_to_the_instalments_still_due_the_earliest_first() -> None:
    plan = [instalment(-5, status="paid", paid=100), instalment(1, paid=30), instalment(31)]
    state = case(Stage.RISK_REVIEW, plan=plan, plan_status="active")
    handed = apply(handoffs.pay_plan, state, 150, NOW)
    assert handed.state.departments.plan == [
        plan[0],
        replace(plan[1], paid_minor=100, status="paid"),
        replace(plan[2], paid_minor=80),
    ]
    assert handed.state.departments.plan_status == "active"
    assert (handed.events, handed.effects) == ((), ())


@pytest.mark.parametrize(("amount", "status"), [(69, "due"), (70, "paid"), (71, "paid")])
def test_an_instalment_is_paid_once_paid_in_full(amount: int, status: str) -> None:
    plan = [instalment(1, paid=30), instalment(31)]
    state = case(Stage.RISK_REVIEW, plan=plan, plan_status="active")
    paid = apply(handoffs.pay_plan, state, amount, NOW).state.departments.plan
    assert (paid[0].paid_minor, paid[0].status) == (min(100, 30 + amount), status)
    assert paid[1].paid_minor == max(0, amount - 70)


def test_nothing_is_paid_into_a_missed_instalment() -> None:
    plan = [instalment(-1, status="missed"), instalment(1)]
    state = case(Stage.RISK_REVIEW, plan=plan, plan_status="active")
    paid = apply(handoffs.pay_plan, state, 40, NOW).state.departments.plan
    assert paid == [plan[0], replace(plan[1], paid_minor=40)]


def test_the_last_instalment_paid_keeps_the_plan_and_collection_resumes() -> None:
    plan = [instalment(-5, status="paid", paid=100), instalment(1, paid=60)]
    state = case(Stage.RISK_REVIEW, dpd=28, plan=plan, plan_status="active")
    handed = apply(handoffs.pay_plan, state, 40, NOW)
    assert handed.state.departments.plan_status == "kept"
    assert handed.state.departments.plan[1].status == "paid"
    assert handed.state.stage is Stage.COLLECTOR
    assert handed.events == (
        PlanKept(),
        StageChanged(Stage.RISK_REVIEW, Stage.COLLECTOR, "back to collection"),
        StaleStepsSkipped(1),
    )


@pytest.mark.parametrize("status", ["", "kept", "broken"])
def test_a_payment_leaves_a_plan_that_is_not_active_alone(status: str) -> None:
    state = case(plan=[instalment(1)], plan_status=status)
    assert handoffs.pay_plan(state, 100, NOW) == Handed(state)


def test_a_payment_used_up_leaves_the_next_instalment_as_it_was() -> None:
    # Even one of nothing, which only a later payment marks paid.
    plan = [instalment(1), instalment(31, amount=0)]
    state = case(Stage.RISK_REVIEW, plan=plan, plan_status="active")
    paid = apply(handoffs.pay_plan, state, 100, NOW).state.departments
    assert paid.plan == [replace(plan[0], paid_minor=100, status="paid"), plan[1]]
    assert paid.plan_status == "active"
    later = apply(handoffs.pay_plan, replace(state, departments=paid), 1, NOW).state
    assert later.departments.plan_status == "kept"


def test_a_payment_of_nothing_pays_nothing() -> None:
    state = case(Stage.RISK_REVIEW, plan=[instalment(1)], plan_status="active")
    assert apply(handoffs.pay_plan, state, 0, NOW).state.departments.plan == [instalment(1)]


def test_an_instalment_missed_breaks_the_plan_and_collection_resumes() -> None:
    plan = [instalment(-3, status="paid"), instalment(0, paid=40), instalment(30)]
    plan[1] = replace(plan[1], due_at=NOW)
    state = case(Stage.RISK_REVIEW, dpd=28, plan=plan, plan_status="active")
    handed = apply(handoffs.check_instalment, state, NOW, currency="CNY")
    dept = handed.state.departments
    assert dept.plan == [plan[0], replace(plan[1], status="missed"), plan[2]]
    assert dept.plan_status == "broken"
    assert handed.state.stage is Stage.COLLECTOR
    assert handed.events == (
        PlanBroken(TODAY.isoformat(), 40, 100, "CNY"),
        StageChanged(Stage.RISK_REVIEW, Stage.COLLECTOR, "back to collection"),
        StaleStepsSkipped(1),
    )


def test_an_instalment_is_missed_only_past_its_date_plus_grace() -> None:
    plan = [instalment(0)]
    plan[0] = replace(plan[0], due_at=NOW + TICK)
    state = case(Stage.RISK_REVIEW, plan=plan, plan_status="active")
    assert handoffs.check_instalment(state, NOW, currency="CNY") == Handed(state)
    paid = case(Stage.RISK_REVIEW, plan=[instalment(-1, status="paid")], plan_status="active")
    assert handoffs.check_instalment(paid, NOW, currency="CNY") == Handed(paid)


# --- the legal referral's preconditions and check ---------------------------------------------


def contacts(apart: timedelta) -> list[Evidence]:
    first = Evidence(at=NOW - 40 * DAY, how="sms delivered", key="c1")
    second = Evidence(at=first.at + apart, how="voice answered", key="c2")
    return [second, first]  # out of order: the rule sorts them


@pytest.mark.parametrize(("dpd", "met"), [(87, False), (88, True)])
def test_the_legal_threshold_is_met_at_its_days_past_due(dpd: int, met: bool) -> None:
    first = handoffs.legal_preconditions(case(dpd=dpd), NOW, "")[0]
    assert first == Precondition("past the legal threshold", met, f"{dpd + 3} days past due")


@pytest.mark.parametrize(
    ("status", "met", "shown"),
    [("active", False, "active"), ("", True, "none"), ("broken", True, "broken")],
)
def test_no_payment_plan_may_be_being_kept(status: str, met: bool, shown: str) -> None:
    plan = handoffs.legal_preconditions(case(plan_status=status), NOW, "")[1]
    assert plan == Precondition("no payment plan being kept", met, f"plan: {shown}")


def test_two_effective_contacts_thirty_days_apart_are_named() -> None:
    evidence = handoffs.legal_preconditions(case(evidence=contacts(30 * DAY)), NOW, "")[2]
    assert evidence == Precondition(
        "two effective contacts 30 days apart",
        True,
        "sms delivered on 2026-05-01 (c1); voice answered on 2026-05-31 (c2)",
    )
    near = handoffs.legal_preconditions(case(evidence=contacts(30 * DAY - TICK)), NOW, "")[2]
    assert near == Precondition(
        "two effective contacts 30 days apart",
        False,
        "2 effective contact(s), none 30 days apart",
    )


def test_a_supervisor_s_approval_is_the_last_precondition() -> None:
    assert handoffs.legal_preconditions(case(), NOW, "s-1 and s-2")[3] == Precondition(
        "supervisor approval", True, "s-1 and s-2"
    )
    assert handoffs.legal_preconditions(case(), NOW, "")[3] == Precondition(
        "supervisor approval", False, "not yet"
    )


def ready(**dept: Any) -> CaseState:
    """A case that meets every precondition but the approval."""
    return case(dpd=100, evidence=contacts(31 * DAY), **dept)


def test_a_case_ready_for_legal_asks_a_supervisor_to_approve() -> None:
    handed = apply(handoffs.check_legal, ready(legal_missing="earlier"), NOW)
    assert handed.state.departments.legal_check_at == NOW + 7 * DAY
    assert handed.state.departments.legal_missing == ""
    assert handed.events == ()
    assert handed.effects == (
        OpenTask(TaskKind.SUPERVISOR_APPROVAL, "supervisor", "approve the legal referral"),
    )


def test_what_is_missing_goes_on_record_each_time_it_changes() -> None:
    handed = apply(handoffs.check_legal, case(dpd=100, plan_status="active"), NOW)
    missing = (
        "no payment plan being kept (plan: active); two effective contacts 30 days apart "
        "(0 effective contact(s), none 30 days apart)"
    )
    assert handed.state.departments.legal_missing == missing
    assert handed.events == (LegalNotReady(missing, for_now=True),)
    assert handed.effects == ()
    again = apply(handoffs.check_legal, handed.state, NOW + 7 * DAY)
    assert again.state.departments.legal_check_at == NOW + 14 * DAY
    assert (again.events, again.effects) == ((), ())


@pytest.mark.parametrize(
    "dept",
    [
        {"approval_task": "case-1/0/t1"},
        {"legal_referral": "legal-A1-1"},
        {"approval_rejected_at": NOW - 30 * DAY + TICK},
    ],
)
def test_nothing_is_asked_while_an_approval_or_a_referral_is_open_or_just_rejected(
    dept: dict[str, Any],
) -> None:
    state = ready(**dept)
    handed = apply(handoffs.check_legal, state, NOW)
    checked = replace(state.departments, legal_check_at=NOW + 7 * DAY)
    assert handed == Handed(replace(state, departments=checked))


def test_a_rejected_approval_is_asked_again_after_thirty_days() -> None:
    handed = apply(handoffs.check_legal, ready(approval_rejected_at=NOW - 30 * DAY), NOW)
    assert [type(e) for e in handed.effects] == [OpenTask]


# --- the referral -----------------------------------------------------------------------------


def test_an_approved_referral_hands_the_case_to_legal_and_stops_the_collectors() -> None:
    call = task(TaskKind.COLLECTOR_CALL, "t1")
    complaint = task(TaskKind.COMPLAINT, "t2")
    visit = task(TaskKind.FIELD_VISIT, "t3")
    second_call = task(TaskKind.COLLECTOR_CALL, "t4")
    state = ready(
        tasks=[call, complaint, visit, second_call], handoffs=1, legal_contact_allowed=True
    )
    handed = apply(handoffs.refer_to_legal, state, "s-1 and s-2", NOW, account_no="A1")
    referral_id = f"legal-A1-{OPENED}-2"
    dept = handed.state.departments
    assert (dept.handoffs, dept.legal_referral, dept.legal_contact_allowed) == (
        2,
        referral_id,
        False,
    )
    assert dept.tasks == state.departments.tasks  # the effects cancel them
    assert handed.state.stage is Stage.LEGAL
    why = "referred to the legal department, approved by s-1 and s-2"
    assert handed.events == (StageChanged(Stage.COLLECTOR, Stage.LEGAL, why),)
    holds = "the legal department holds the case"
    cancelled = [
        WriteTask(
            replace(t, status=TaskStatus.CANCELLED, closed_at=NOW), TaskCancelled(t.kind, holds)
        )
        for t in (call, second_call, visit)
    ]
    preconditions = handoffs.legal_preconditions(state, NOW, "s-1 and s-2")
    assert all(p.met for p in preconditions)
    assert handed.effects == (
        *cancelled,
        QueueLegalReferral(referral_id, "s-1 and s-2", preconditions),
    )


def test_a_referral_short_of_a_precondition_is_refused_for_good() -> None:
    state = case(dpd=100)
    handed = apply(handoffs.refer_to_legal, state, "s-1", NOW, account_no="A1")
    missing = "two effective contacts 30 days apart (0 effective contact(s), none 30 days apart)"
    assert handed == Handed(state, (LegalNotReady(missing, for_now=False),))


def outcome(kind: LegalOutcomeKind) -> LegalOutcome:
    return LegalOutcome(kind=kind, reason="no assets")


def in_legal() -> CaseState:
    return case(
        Stage.LEGAL,
        legal_referral="legal-A1-1",
        legal_accepted_by="l-1",
        legal_contact_allowed=True,
    )


def test_a_referral_returned_goes_back_to_the_collectors() -> None:
    handed = apply(handoffs.legal_outcome, in_legal(), outcome(LegalOutcomeKind.RETURNED), NOW)
    dept = handed.state.departments
    assert (dept.legal_referral, dept.legal_accepted_by, dept.legal_contact_allowed) == (
        None,
        "",
        False,
    )
    assert dept.approval_rejected_at == NOW
    assert handed.state.stage is Stage.COLLECTOR
    assert handed.events == (
        LegalOutcomeRecorded("returned", "no assets"),
        StageChanged(Stage.LEGAL, Stage.COLLECTOR, "returned by legal: no assets"),
    )


@pytest.mark.parametrize(
    ("kind", "reason", "why"),
    [
        (LegalOutcomeKind.SETTLED, ClosureReason.SETTLED, "settled: settled in legal: no assets"),
        (LegalOutcomeKind.CLOSED, ClosureReason.LEGAL_CLOSED, "legal_closed: no assets"),
    ],
)
def test_a_referral_settled_or_closed_closes_the_case(
    kind: LegalOutcomeKind, reason: ClosureReason, why: str
) -> None:
    handed = apply(handoffs.legal_outcome, in_legal(), outcome(kind), NOW)
    assert handed.state.closed_reason is reason
    assert handed.state.departments.legal_referral is None
    assert handed.state.departments.approval_rejected_at is None
    assert handed.events == (
        LegalOutcomeRecorded(kind, "no assets"),
        StageChanged(Stage.LEGAL, Stage.CLOSED, why),
    )


def test_a_closed_case_ignores_a_late_outcome() -> None:
    state = replace(in_legal(), stage=Stage.CLOSED)
    assert handoffs.legal_outcome(state, outcome(LegalOutcomeKind.RETURNED), NOW) == Handed(state)


def test_legal_accepts_an_open_referral_only() -> None:
    state = replace(in_legal(), departments=replace(in_legal().departments, legal_accepted_by=""))
    handed = apply(handoffs.legal_accepted, state, AcceptReferralInput(by="l-2", note="ok"))
    assert handed.state.departments.legal_accepted_by == "l-2"
    assert handed.events == (LegalAccepted("l-2", "ok"),)
    none = case()
    assert handoffs.legal_accepted(none, AcceptReferralInput(by="l-2")) == Handed(none)


def test_an_acceptance_without_a_note_is_recorded_with_none() -> None:
    handed = handoffs.legal_accepted(in_legal(), AcceptReferralInput(by="l-2", note=None))  # type: ignore[arg-type]
    assert handed.events == (LegalAccepted("l-2", ""),)


def test_legal_allows_contact_and_the_collectors_go_on() -> None:
    state = case(Stage.LEGAL, tasks=[task(TaskKind.COLLECTOR_CALL, "t1")])
    permission = ContactPermissionInput(allowed=True, by="l-1", reason="talks help")
    handed = apply(handoffs.legal_contact, state, permission, NOW)
    assert handed.state.departments.legal_contact_allowed is True
    assert handed.events == (LegalContactPermission("l-1", True, "talks help"),)
    assert handed.effects == ()


def test_legal_stops_contact_and_the_collectors_calls_and_visits() -> None:
    visit, call = task(TaskKind.FIELD_VISIT, "t1"), task(TaskKind.COLLECTOR_CALL, "t2")
    dispute = task(TaskKind.DISPUTE_INVESTIGATION, "t3")
    state = case(Stage.LEGAL, tasks=[visit, call, dispute], legal_contact_allowed=True)
    permission = ContactPermissionInput(allowed=False, by="l-1", reason="court date")
    handed = apply(handoffs.legal_contact, state, permission, NOW)
    assert handed.state.departments.legal_contact_allowed is False
    assert handed.events == (LegalContactPermission("l-1", False, "court date"),)
    stopped = "legal stopped contact"
    assert handed.effects == tuple(
        WriteTask(
            replace(t, status=TaskStatus.CANCELLED, closed_at=NOW), TaskCancelled(t.kind, stopped)
        )
        for t in (call, visit)
    )


# --- a closed case's departments --------------------------------------------------------------


def end(state: CaseState, unstarted: frozenset[str] = frozenset()) -> Ended:
    before = deepcopy(state)
    ended = handoffs.end_departments(state, "case closed (paid)", unstarted)
    assert state == before
    return ended


def test_a_closed_case_cancels_its_risk_review_and_tells_legal() -> None:
    state = case(risk_review="risk-1", legal_referral="legal-2")
    ended = end(state)
    assert ended.state.departments.risk_review is None
    assert ended.state.departments.legal_referral == "legal-2"  # legal decides what follows
    assert ended.events == (
        RiskReviewCancelled("risk-1", "case closed (paid)"),
        LegalInformed("legal-2", "case closed (paid)"),
    )
    assert ended.notices == (
        CancelRiskReview("risk-1", "case closed (paid)"),
        InformLegal("legal-2", "case closed (paid)"),
    )


def test_a_department_not_yet_started_is_never_told() -> None:
    review = end(case(risk_review="risk-1"), frozenset({"risk-1"}))
    assert review.state.departments.risk_review is None
    assert review.events == (RiskReviewCancelled("risk-1", "case closed (paid)"),)
    assert review.notices == ()
    referral = end(case(legal_referral="legal-2"), frozenset({"legal-2"}))
    assert referral.state.departments.legal_referral is None
    assert (referral.events, referral.notices) == ((), ())


def test_a_case_with_no_department_ends_none() -> None:
    state = case()
    ended = end(state, frozenset({"risk-9"}))
    assert ended.state == state
    assert (ended.events, ended.notices) == ((), ())
