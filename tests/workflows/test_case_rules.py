"""The case's pure rules at their exact boundaries: promises, payments, the carried contact
history. No Temporal: the rules take a state and a clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from config.settings import POLICY_DIR
from config.strategy import load_strategy
from models.contracts import (
    Assessment,
    AttemptStatus,
    CaseState,
    ClosureReason,
    PastContact,
    PromiseToPayInput,
    RecordPaymentInput,
)
from models.strategy import Channel, Segment
from workflows import case_rules as rules
from workflows.contact_policy import ContactContext, decide

NOW = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
TODAY = date(2026, 6, 10)
STRATEGY = load_strategy(POLICY_DIR / "default.toml")
PROMISE = STRATEGY.promise


def state(*, outstanding: int = 100_000, overdue: int = 40_000) -> CaseState:
    assessment = Assessment(strategy=STRATEGY, score=0, segment=Segment.MEDIUM, lines=())
    return CaseState(
        started_at=NOW - timedelta(days=3),
        initial_dpd=10,
        assessment=assessment,
        outstanding_minor=outstanding,
        overdue_minor=overdue,
    )


def promise_of(amount: int, on: date) -> PromiseToPayInput:
    return PromiseToPayInput(amount_minor=amount, currency="CNY", promised_date=on)


def pay(amount: int, ref: str = "P", *, overpayment: bool = False) -> RecordPaymentInput:
    return RecordPaymentInput(
        amount_minor=amount, currency="CNY", payment_ref=ref, overpayment=overpayment
    )


# --- promises ---------------------------------------------------------------------------------


def test_a_promise_dated_today_is_taken_and_yesterday_is_refused() -> None:
    case = state()
    assert rules.promise_problem(case, promise_of(10_000, TODAY), TODAY) is None
    yesterday = TODAY - timedelta(days=1)
    assert rules.promise_problem(case, promise_of(10_000, yesterday), TODAY) == (
        f"promised date {yesterday.isoformat()} is in the past"
    )


def test_a_promise_exactly_at_the_horizon_is_taken_and_a_day_beyond_is_refused() -> None:
    case = state()
    horizon = TODAY + timedelta(days=PROMISE.max_horizon_days)
    assert rules.promise_problem(case, promise_of(10_000, horizon), TODAY) is None
    beyond = horizon + timedelta(days=1)
    problem = rules.promise_problem(case, promise_of(10_000, beyond), TODAY)
    assert problem is not None and f"{PROMISE.max_horizon_days}-day horizon" in problem


def test_a_second_promise_while_one_is_open_is_refused_not_swapped() -> None:
    case = state()
    first = rules.open_promise(case, promise_of(10_000, TODAY + timedelta(days=5)), NOW, TODAY)
    problem = rules.promise_problem(case, promise_of(20_000, TODAY + timedelta(days=2)), TODAY)
    assert problem == f"a promise is already open until {first.promised_date.isoformat()}"
    assert case.promise is first and case.promise.amount_minor == 10_000


def test_the_promise_after_the_last_allowed_broken_one_is_refused() -> None:
    case = state()
    case.promises_broken = PROMISE.max_broken - 1
    assert rules.promise_problem(case, promise_of(10_000, TODAY), TODAY) is None
    case.promises_broken = PROMISE.max_broken
    problem = rules.promise_problem(case, promise_of(10_000, TODAY), TODAY)
    assert problem == f"{PROMISE.max_broken} promises already broken; a new one needs approval"


def test_a_promise_waits_its_grace_days_past_the_promised_date() -> None:
    case = state()
    promise = rules.open_promise(case, promise_of(10_000, TODAY + timedelta(days=4)), NOW, TODAY)
    assert promise.check_at == NOW + timedelta(days=4 + PROMISE.grace_days)


@pytest.mark.parametrize(
    ("paid", "kept"),
    [
        (10_000 * (100 - PROMISE.tolerance_percent) // 100, True),  # exactly the tolerance
        (10_000 * (100 - PROMISE.tolerance_percent) // 100 - 1, False),  # a fen short of it
        (10_000, True),
    ],
)
def test_a_promise_paid_exactly_to_its_tolerance_is_kept(paid: int, kept: bool) -> None:
    case = state()
    rules.open_promise(case, promise_of(10_000, TODAY + timedelta(days=3)), NOW, TODAY)
    effect = rules.apply_payment(case, pay(paid))
    assert case.promise is not None
    assert effect.promise_kept is kept
    assert (case.promise.status == "kept") is kept
    assert case.promises_kept == (1 if kept else 0)
    assert case.promise.paid_since_minor == paid


# --- payments ---------------------------------------------------------------------------------


def test_paying_the_arrears_exactly_cures_and_the_whole_balance_pays() -> None:
    case = state(outstanding=100_000, overdue=40_000)
    assert rules.apply_payment(case, pay(39_999, "a")).closes_as is None
    assert rules.apply_payment(case, pay(1, "b")).closes_as is ClosureReason.CURED
    case = state(outstanding=100_000, overdue=40_000)
    assert rules.apply_payment(case, pay(100_000)).closes_as is ClosureReason.PAID
    assert (case.outstanding_minor, case.overdue_minor, case.overpaid_minor) == (0, 0, 0)


def test_a_payment_above_the_balance_needs_to_be_marked_and_its_excess_is_kept() -> None:
    case = state(outstanding=100_000)
    assert rules.payment_problem(case, pay(100_000)) is None  # exactly the balance
    problem = rules.payment_problem(case, pay(100_001))
    assert problem is not None and "mark it as an overpayment" in problem
    assert rules.payment_problem(case, pay(100_001, overpayment=True)) is None
    effect = rules.apply_payment(case, pay(100_001, overpayment=True))
    assert effect.overpaid_minor == 1 and case.overpaid_minor == 1
    assert effect.closes_as is ClosureReason.PAID and case.paid_minor == 100_001


# --- what a case carries across continue-as-new -----------------------------------------------


def test_the_carried_contact_history_keeps_every_contact_the_caps_still_count() -> None:
    """Dropping the last week's contacts would reset the daily and weekly caps and the quiet
    period after a conversation; keeping everything would grow without bound."""
    case = state()
    ages = [timedelta(days=d) for d in (0, 1, 6, 7, 8)] + [
        timedelta(days=8, seconds=1),
        timedelta(days=30),
    ]
    case.contacts = [
        PastContact(at=NOW - age, channel=Channel.VOICE, status=AttemptStatus.UNANSWERED)
        for age in ages
    ]
    rules.trim_for_carry(case, NOW)
    assert [NOW - c.at for c in case.contacts] == ages[:5]


def test_a_weekly_voice_cap_reached_before_a_new_run_still_holds_after_it() -> None:
    rules_ = replace(STRATEGY.contact, window_start=datetime.min.time())
    case = state()
    cap = rules_.voice_attempts_per_7_days
    case.contacts = [
        PastContact(
            at=NOW - timedelta(days=6, hours=i), channel=Channel.VOICE, status=AttemptStatus.SENT
        )
        for i in range(cap)
    ]
    rules.trim_for_carry(case, NOW)
    context = ContactContext(
        now=NOW,
        channel=Channel.VOICE,
        time_zone="Asia/Shanghai",
        rules=rules_,
        history=tuple(case.contacts),
    )
    decision = decide(context)
    assert not decision.allowed and decision.reason == "weekly_cap"
