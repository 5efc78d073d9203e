"""The case's pure rules at their exact boundaries: promises, payments, the carried contact
history. No Temporal: the rules take a state and a clock."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from config.settings import POLICY_DIR
from config.strategy import load_strategy
from models.case_events import (
    Overpaid,
    PaymentRecorded,
    PromiseBroken,
    PromiseKept,
    PromiseMade,
    StageChanged,
)
from models.complaints import ComplaintCategory, ComplaintChannel, ComplaintInput
from models.contact_details import ChangeMobileInput, ContactSource, WrongNumberInput
from models.contracts import (
    Account,
    Assessment,
    AttemptStatus,
    CaseState,
    ClosureReason,
    PastContact,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    Stage,
)
from models.strategy import Channel, Segment
from workflows import case_rules as rules
from workflows import complaint_rules, contact_rules
from workflows.contact_policy import ContactContext, decide

COMPLAINT = ComplaintInput(ComplaintCategory.FEES, ComplaintChannel.LETTER, "refund the fee")
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
    case, _ = rules.make_promise(state(), promise_of(10_000, TODAY + timedelta(days=5)), NOW, TODAY)
    first = case.promise
    assert first is not None
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
    on = TODAY + timedelta(days=4)
    case, events = rules.make_promise(
        state(), promise_of(10_000, on), NOW, TODAY, time_zone="Asia/Shanghai"
    )
    assert case.promise is not None
    # When the last grace day ends for the customer: midnight in Shanghai, 16:00 UTC.
    last_day = on + timedelta(days=PROMISE.grace_days)
    assert case.promise.check_at == datetime.combine(last_day, datetime.min.time(), UTC) + (
        timedelta(hours=16)
    )
    assert events == (
        PromiseMade(10_000, "CNY", on.isoformat(), case.promise.check_at.isoformat()),
    )
    assert events[0].detail() == (
        f"100.00 CNY by {on.isoformat()}; contact paused until {case.promise.check_at.isoformat()}"
    )


def test_on_its_date_a_promise_short_of_its_tolerance_is_broken_and_contact_resumes() -> None:
    promised = promise_of(10_000, TODAY)
    case, _ = rules.make_promise(state(), promised, NOW, TODAY)
    case, _ = rules.record_payment(case, pay(5_000))
    assert case.promise is not None
    due = case.promise.check_at
    assert rules.check_promise(case, due - timedelta(seconds=1), "CNY") == (case, ())
    after, events = rules.check_promise(case, due, "CNY")
    assert after.promise is not None and after.promise.status == "broken"
    assert after.promises_broken == 1 and case.promises_broken == 0
    assert events[0] == PromiseBroken(paid_minor=5_000, amount_minor=10_000, currency="CNY")
    assert events[0].detail() == "50.00 CNY of 100.00 CNY paid; contact resumes"


@pytest.mark.parametrize(
    ("paid", "kept"),
    [
        (10_000 * (100 - PROMISE.tolerance_percent) // 100, True),  # exactly the tolerance
        (10_000 * (100 - PROMISE.tolerance_percent) // 100 - 1, False),  # a fen short of it
        (10_000, True),
    ],
)
def test_a_promise_paid_exactly_to_its_tolerance_is_kept(paid: int, kept: bool) -> None:
    case, _ = rules.make_promise(state(), promise_of(10_000, TODAY + timedelta(days=3)), NOW, TODAY)
    case, events = rules.record_payment(case, pay(paid))
    assert case.promise is not None
    assert any(isinstance(e, PromiseKept) for e in events) is kept
    assert (case.promise.status == "kept") is kept
    assert case.promises_kept == (1 if kept else 0)
    assert case.promise.paid_since_minor == paid


# --- payments ---------------------------------------------------------------------------------


def test_paying_the_arrears_exactly_cures_and_the_whole_balance_pays() -> None:
    case, _ = rules.record_payment(state(outstanding=100_000, overdue=40_000), pay(39_999, "a"))
    assert case.stage is Stage.EARLY and case.closed_reason is None
    case, events = rules.record_payment(case, pay(1, "b"))
    assert case.stage is Stage.CLOSED and case.closed_reason is ClosureReason.CURED
    assert events[-1] == StageChanged(Stage.EARLY, Stage.CLOSED, "cured: payment b")
    case, _ = rules.record_payment(state(outstanding=100_000, overdue=40_000), pay(100_000))
    assert case.closed_reason is ClosureReason.PAID
    assert (case.outstanding_minor, case.overdue_minor, case.overpaid_minor) == (0, 0, 0)


def test_a_payment_above_the_balance_needs_to_be_marked_and_its_excess_is_kept() -> None:
    case = state(outstanding=100_000)
    assert rules.payment_problem(case, pay(100_000)) is None  # exactly the balance
    problem = rules.payment_problem(case, pay(100_001))
    assert problem is not None and "mark it as an overpayment" in problem
    assert rules.payment_problem(case, pay(100_001, overpayment=True)) is None
    case, events = rules.record_payment(case, pay(100_001, overpayment=True))
    assert Overpaid(1, "CNY", "P") in events and case.overpaid_minor == 1
    assert case.closed_reason is ClosureReason.PAID and case.paid_minor == 100_001


def test_a_payment_is_told_in_the_currency_s_own_decimals_never_in_minor_units() -> None:
    _, events = rules.record_payment(state(), pay(120_050, "BANK-7"))
    assert events[0] == PaymentRecorded(120_050, "CNY", "BANK-7")
    assert events[0].detail() == "1,200.50 CNY ref BANK-7"
    yen = RecordPaymentInput(amount_minor=1_200, currency="JPY", payment_ref="paid 500 USD")
    _, events = rules.record_payment(state(), yen)
    assert events[0].detail() == "1,200 JPY ref paid 500 USD"  # a reference is left as typed


@pytest.mark.parametrize(
    "decide",
    [
        lambda case: rules.record_payment(case, pay(100_001, overpayment=True)),
        lambda case: rules.make_promise(case, promise_of(5_000, TODAY), NOW, TODAY),
        lambda case: rules.close(case, ClosureReason.WRITTEN_OFF, "board decision"),
        lambda case: rules.refresh_balances(
            case, Account("A1", "loan", "CNY", 0, 0, TODAY - timedelta(days=10))
        ),
        lambda case: complaint_rules.receive(case, COMPLAINT, NOW, "k1", "t1"),
        lambda case: contact_rules.change_mobile(
            case, ChangeMobileInput("+8613912345678", ContactSource.CUSTOMER), NOW
        ),
        lambda case: contact_rules.mark_number_wrong(case, WrongNumberInput("a stranger")),
        lambda case: rules.pause(case, ReasonInput("asked")),
        lambda case: rules.resume_ladder(case, NOW + timedelta(days=60), ()),
    ],
)
def test_a_rule_returns_a_new_state_and_leaves_the_one_it_was_given_as_it_was(
    decide: Callable[[CaseState], rules.Decided],
) -> None:
    case, _ = rules.make_promise(state(), promise_of(10_000, TODAY), NOW, TODAY)
    before = deepcopy(case)
    after, events = decide(case)
    assert case == before
    assert after != before and events


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
