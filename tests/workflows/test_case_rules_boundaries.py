"""The case's rules (`case_rules`, `complaint_rules`, `contact_rules`) at their exact edges, as
a customer or an operator meets them: the instant a day past due is counted, the reminder that
goes after a pause, the payment that cures, the bank's file that closes a case, a complaint
answered while another still holds collection, a wrong number and a new one. Each test names
the events the timeline shows, whole, so a dropped field or a reworded reason fails here.

MUTATION.md tells which mutants these kill. No Temporal: the rules take a state and a clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.settings import POLICY_DIR
from config.strategy import load_strategy
from models.case_events import (
    BalancesRefreshed,
    CaseEvent,
    ComplaintReceived,
    ComplaintResolved,
    DisputeRaised,
    DisputeResolved,
    HardshipReported,
    OptedIn,
    OptedOut,
    Paused,
    PaymentRecorded,
    PromiseBroken,
    PromiseKept,
    Resumed,
    StageChanged,
    StaleStepsSkipped,
    fields_of,
)
from models.case_status import OpenPromise
from models.complaints import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintInput,
    ComplaintOutcome,
    ResolveComplaintInput,
)
from models.contact_details import (
    ChangeAddressInput,
    ChangeMobileInput,
    ContactSource,
    WrongNumberInput,
)
from models.contact_events import AddressChanged, MobileChanged, NumberMarkedWrong
from models.contracts import (
    Account,
    Assessment,
    CaseState,
    ChannelInput,
    ClosureReason,
    Promise,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
    Stage,
    TimelineEvent,
)
from models.strategy import Channel, ComplaintRules, PromiseRules, Segment, Strategy
from workflows import case_rules as rules
from workflows import complaint_rules, contact_rules

STRATEGY = load_strategy(POLICY_DIR / "default.toml")
START = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
# The medium segment's reminders go 0, 3, 7, 14 and 21 days after the case starts.
OFFSETS = [step.offset_days for step in STRATEGY.ladders[Segment.MEDIUM]]


def case(
    *, strategy: Strategy = STRATEGY, outstanding: int = 100_000, overdue: int = 40_000
) -> CaseState:
    """A medium-segment case opened at START, 10 days past due."""
    assessment = Assessment(strategy=strategy, score=0, segment=Segment.MEDIUM, lines=())
    return CaseState(
        started_at=START,
        initial_dpd=10,
        assessment=assessment,
        outstanding_minor=outstanding,
        overdue_minor=overdue,
    )


def pay(amount: int, ref: str = "P") -> RecordPaymentInput:
    return RecordPaymentInput(amount_minor=amount, currency="CNY", payment_ref=ref)


def account(outstanding: int, overdue: int) -> Account:
    return Account("A1", "loan", "CNY", outstanding, overdue, date(2026, 5, 22))


def closing(reason: ClosureReason, why: str) -> StageChanged:
    return StageChanged(Stage.EARLY, Stage.CLOSED, f"{reason}: {why}")


def test_amounts_travel_in_events_as_whole_minor_units() -> None:
    """Readers render amounts from the fields; a float there would show as `120.5`."""
    events: list[CaseEvent] = [
        *rules.record_payment(case(), pay(12_050))[1],
        *rules.refresh_balances(case(), account(90_000, 30_000))[1],
    ]
    minor = [(k, v) for e in events for k, v in fields_of(e).items() if k.endswith("_minor")]
    assert minor == [
        ("amount_minor", 12_050),
        ("outstanding_minor", 90_000),
        ("overdue_minor", 30_000),
    ]
    assert all(type(v) is int for _, v in minor)


# --- days past due and the stage they set ---------------------------------------------------------


def test_a_day_past_due_is_counted_at_its_exact_instant_from_the_case_start() -> None:
    opened = case()
    assert rules.days_past_due(opened, START) == 10
    assert rules.days_past_due(opened, START + DAY - SECOND) == 10
    assert rules.days_past_due(opened, START + DAY) == 11
    assert rules.days_past_due(opened, START + 40 * DAY) == 50
    # Readers count from the origin themselves: whole days since it are the days past due.
    origin = rules.due_origin(opened)
    assert origin == START - 10 * DAY
    assert rules.days_past_due(opened, origin + 50 * DAY) == 50


def test_a_threshold_is_reached_at_the_instant_its_day_starts_or_at_once_if_passed() -> None:
    opened = case()
    reached = rules.at_dpd(opened, 31)
    assert reached == START + 21 * DAY
    assert rules.days_past_due(opened, reached) == 31
    assert rules.days_past_due(opened, reached - SECOND) == 30
    assert rules.at_dpd(opened, 10) == START  # the day it opened on
    assert rules.at_dpd(opened, 3) == START  # passed before the case opened


def test_a_case_is_the_collector_s_on_the_instant_it_reaches_collector_dpd() -> None:
    opened = case()
    reached = rules.at_dpd(opened, STRATEGY.stages.collector_dpd)
    assert rules.stage_by_dpd(opened, reached - SECOND) is Stage.EARLY
    assert rules.stage_by_dpd(opened, reached) is Stage.COLLECTOR


# --- the reminder that goes after a pause ---------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "index"),
    [
        (START + OFFSETS[1] * DAY - SECOND, 0),  # the first reminder is still the one due
        (START + OFFSETS[1] * DAY, 1),
        (START + OFFSETS[3] * DAY - SECOND, 2),
        (START + OFFSETS[3] * DAY, 3),
        (START + 90 * DAY, len(OFFSETS) - 1),  # the last reminder, never past the ladder
    ],
)
def test_after_a_pause_only_the_latest_reminder_due_goes(at: datetime, index: int) -> None:
    paused = replace(case(), paused_reason="customer in hospital")
    resumed, events = rules.resume(paused, ReasonInput("customer called back"), at)
    assert resumed.paused_reason == ""
    assert resumed.ladder_index == index
    skipped = (StaleStepsSkipped(skipped=index),) if index else ()
    assert events == (*skipped, Resumed("customer called back"))


def test_stale_reminders_are_counted_past_the_one_the_case_had_reached() -> None:
    paused = replace(case(), ladder_index=2, paused_reason="asked")
    resumed, events = rules.resume(paused, ReasonInput("back"), START + OFFSETS[3] * DAY)
    assert resumed.ladder_index == 3
    assert events == (StaleStepsSkipped(skipped=1), Resumed("back"))
    resumed, events = rules.resume(paused, ReasonInput("back"), START + OFFSETS[4] * DAY)
    assert resumed.ladder_index == 4
    assert events == (StaleStepsSkipped(skipped=2), Resumed("back"))


def test_a_strategy_without_reminders_for_the_segment_resumes_with_none_to_skip() -> None:
    bare = case(strategy=Strategy(name="bare", version="1"))
    resumed, events = rules.resume(bare, ReasonInput("back"), START + 90 * DAY)
    assert resumed.ladder_index == 0
    assert events == (Resumed("back"),)


def test_a_pause_names_its_reason() -> None:
    paused, events = rules.pause(case(), ReasonInput("customer in hospital"))
    assert paused.paused_reason == "customer in hospital"
    assert events == (Paused("customer in hospital"),)


# --- payments -------------------------------------------------------------------------------------


def test_every_payment_is_remembered_by_its_reference_so_a_repeat_is_recognised() -> None:
    paid, _ = rules.record_payment(case(), pay(1_000, "BANK-1"))
    paid, _ = rules.record_payment(paid, pay(2_000, "BANK-2"))
    assert paid.payment_refs == ["BANK-1", "BANK-2"]
    assert paid.paid_minor == 3_000


def test_the_payment_that_reaches_a_promise_s_tolerance_keeps_it_with_all_paid_since() -> None:
    made, _ = rules.make_promise(
        case(), PromiseToPayInput(10_000, "CNY", date(2026, 6, 5)), START, date(2026, 6, 1)
    )
    made.promises_kept = 1  # one kept before
    part, events = rules.record_payment(made, pay(5_000, "a"))
    assert events == (PaymentRecorded(5_000, "CNY", "a"),)
    kept, events = rules.record_payment(part, pay(4_500, "b"))  # 95 %: exactly the tolerance
    assert events == (
        PaymentRecorded(4_500, "CNY", "b"),
        PromiseKept(paid_minor=9_500, currency="CNY", by_payment=True),
    )
    assert events[1].detail() == "paid within tolerance"
    assert kept.promises_kept == 2
    assert kept.promise is not None and kept.promise.status == "kept"


def test_the_payment_that_closes_a_case_is_named_as_its_reason() -> None:
    paid, events = rules.record_payment(case(outstanding=100_000), pay(100_000, "BANK-9"))
    assert paid.closed_reason is ClosureReason.PAID
    assert events == (
        PaymentRecorded(100_000, "CNY", "BANK-9"),
        closing(ClosureReason.PAID, "payment BANK-9"),
    )
    cured, events = rules.record_payment(case(overdue=40_000), pay(40_000, "BANK-8"))
    assert (cured.outstanding_minor, cured.overdue_minor) == (60_000, 0)
    assert cured.closed_reason is ClosureReason.CURED
    assert events == (
        PaymentRecorded(40_000, "CNY", "BANK-8"),
        closing(ClosureReason.CURED, "payment BANK-8"),
    )


# --- the bank's daily file ------------------------------------------------------------------------


def test_the_bank_s_file_replaces_the_balances_and_names_them() -> None:
    refreshed, events = rules.refresh_balances(case(), account(90_000, 30_000))
    assert (refreshed.outstanding_minor, refreshed.overdue_minor) == (90_000, 30_000)
    assert refreshed.stage is Stage.EARLY
    assert events == (BalancesRefreshed(90_000, 30_000, "CNY"),)
    assert events[0].detail() == "outstanding 900.00 CNY, overdue 300.00 CNY"
    same = case()
    assert rules.refresh_balances(same, account(100_000, 40_000)) == (same, ())


@pytest.mark.parametrize(
    ("outstanding", "overdue", "reason", "why"),
    [
        (0, 0, ClosureReason.PAID, "the bank's file shows no balance"),
        (50_000, 0, ClosureReason.CURED, "the bank's file shows no arrears"),
        (1, 1, None, ""),  # a fen owed and overdue keeps it open
        (50_000, 1, None, ""),
    ],
)
def test_a_file_with_nothing_owed_or_nothing_overdue_closes_the_case(
    outstanding: int, overdue: int, reason: ClosureReason | None, why: str
) -> None:
    refreshed, events = rules.refresh_balances(case(), account(outstanding, overdue))
    assert (refreshed.outstanding_minor, refreshed.overdue_minor) == (outstanding, overdue)
    assert refreshed.closed_reason is reason
    assert refreshed.stage is (Stage.EARLY if reason is None else Stage.CLOSED)
    refreshed_event = BalancesRefreshed(outstanding, overdue, "CNY")
    closed = () if reason is None else (closing(reason, why),)
    assert events == (refreshed_event, *closed)


def test_a_case_closes_once_the_second_closing_names_no_stage_change() -> None:
    closed, _ = rules.close(case(), ClosureReason.WRITTEN_OFF, "board decision")
    payment = PaymentRecorded(100, "CNY", "late")
    again, events = rules.close(closed, ClosureReason.PAID, "payment late", (payment,))
    assert again.stage is Stage.CLOSED
    assert events == (payment,)


# --- promises -------------------------------------------------------------------------------------


def test_a_promise_made_after_midnight_counts_its_days_from_the_customer_s_date() -> None:
    """At 20:00 UTC it is already 04:00 the next day in Shanghai: a promise for that day waits
    its grace days only, not a day more."""
    now = datetime(2026, 6, 10, 20, 0, tzinfo=UTC)
    today = rules.local_date(now, "Asia/Shanghai")
    assert today == date(2026, 6, 11)
    promised = PromiseToPayInput(10_000, "CNY", today)
    made, _ = rules.make_promise(case(), promised, now, today, time_zone="Asia/Shanghai")
    assert made.promise is not None
    assert made.promise.made_at == now  # what the dossier shows
    # Judged when the last grace day ends in Shanghai: midnight there, 16:00 UTC the day before.
    last_day = today + timedelta(days=STRATEGY.promise.grace_days)
    assert made.promise.check_at == datetime.combine(last_day, datetime.min.time(), UTC) + (
        DAY - timedelta(hours=8)
    )


def test_the_customer_s_date_is_their_zone_s_whatever_the_machine_s() -> None:
    now = datetime(2026, 6, 11, 2, 0, tzinfo=UTC)  # 22:00 the day before in New York
    assert rules.local_date(now, "America/New_York") == date(2026, 6, 10)
    assert rules.local_date(now, "Asia/Shanghai") == date(2026, 6, 11)


def test_the_customer_s_day_begins_at_their_midnight_to_the_microsecond() -> None:
    now = datetime(2026, 6, 11, 2, 17, 43, 250_000, tzinfo=UTC)  # 22:17:43.25 in New York
    assert rules.start_of_day(now, "America/New_York", DAY) == datetime(2026, 6, 10, 4, tzinfo=UTC)
    # On a demo's clock, whose day is a minute, as much of that minute has gone.
    gone = timedelta(hours=22, minutes=17, seconds=43, microseconds=250_000) / DAY
    minute = timedelta(minutes=1)
    assert rules.start_of_day(now, "America/New_York", minute) == now - minute * gone


def test_a_promise_names_who_made_it_and_before_the_patch_is_judged_at_its_time_of_day() -> None:
    now = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)
    today = rules.local_date(now, "Asia/Shanghai")
    promised = PromiseToPayInput(10_000, "CNY", today + timedelta(days=3))

    made, _ = rules.make_promise(case(), promised, now, today, by="collector-7")
    unnamed, _ = rules.make_promise(case(), promised, now, today)
    legacy, _ = rules.make_promise(case(), promised, now, today, at_day_end=False)

    assert made.promise is not None and made.promise.made_by == "collector-7"
    assert unnamed.promise is not None and unnamed.promise.made_by == ""
    # Cases started before patch `promise-day-end-2026-12`: the date and its grace days, at
    # the time of day the promise was made.
    assert legacy.promise is not None
    assert legacy.promise.check_at == now + (3 + STRATEGY.promise.grace_days) * DAY


def test_without_grace_days_a_promise_for_today_is_not_broken_before_the_day_ends() -> None:
    no_grace = replace(STRATEGY, promise=PromiseRules(grace_days=0))
    now = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
    today = rules.local_date(now, "Asia/Shanghai")
    promised = PromiseToPayInput(10_000, "CNY", today)
    assert rules.promise_problem(case(strategy=no_grace), promised, today) is None  # taken
    made, _ = rules.make_promise(
        case(strategy=no_grace), promised, now, today, time_zone="Asia/Shanghai"
    )
    # An hour later it is 15:00 the same day for the customer: the promise still stands.
    assert rules.check_promise(made, now + timedelta(hours=1), "CNY") == (made, ())
    # At midnight in Shanghai (16:00 UTC) their day is over, and so is the promise.
    assert made.promise is not None
    assert made.promise.check_at == datetime(2026, 6, 10, 16, 0, tzinfo=UTC)
    broken, events = rules.check_promise(made, made.promise.check_at, "CNY")
    assert broken.promises_broken == 1 and events[0].KIND == "promise_broken"


def test_a_payment_on_the_evening_of_the_last_grace_day_keeps_the_promise() -> None:
    """Before patch `promise-day-end-2026-12` the promise was judged at the time of day it was
    made (14:00), so a payment at 20:00 on the last grace day came too late."""
    now = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
    today = rules.local_date(now, "Asia/Shanghai")
    promised = PromiseToPayInput(10_000, "CNY", today + timedelta(days=3))
    made, _ = rules.make_promise(case(), promised, now, today, time_zone="Asia/Shanghai")
    grace = STRATEGY.promise.grace_days
    last_evening = datetime.combine(
        today + timedelta(days=3 + grace),
        datetime.min.time().replace(hour=20),
        ZoneInfo("Asia/Shanghai"),
    )
    paid, events = rules.record_payment(made, RecordPaymentInput(10_000, "CNY", "LATE-1"))
    assert made.promise is not None and last_evening < made.promise.check_at
    assert any(e.KIND == "promise_kept" for e in events) and paid.promises_kept == 1
    legacy, _ = rules.make_promise(case(), promised, now, today, at_day_end=False)
    assert legacy.promise is not None and legacy.promise.check_at < last_evening


def open_promise(paid: int) -> CaseState:
    promised = Promise(
        amount_minor=10_000,
        promised_date=date(2026, 6, 5),
        made_at=START,
        check_at=START + 6 * DAY,
        paid_since_minor=paid,
    )
    return replace(case(), promise=promised, promises_kept=1, ladder_index=1)


def test_a_promise_found_paid_to_its_tolerance_on_its_date_is_kept_and_contact_resumes() -> None:
    """Payments keep a promise the moment they reach it; this is the check on its date meeting
    one already paid to its tolerance (a state carried from before, or built by hand)."""
    waiting = open_promise(paid=9_500)
    assert rules.check_promise(waiting, START + 6 * DAY - SECOND, "CNY") == (waiting, ())
    kept, events = rules.check_promise(waiting, START + OFFSETS[2] * DAY, "CNY")
    assert kept.promise is not None and kept.promise.status == "kept"
    assert (kept.promises_kept, kept.promises_broken) == (2, 0)
    assert kept.ladder_index == 2
    assert events == (
        PromiseKept(paid_minor=9_500, currency="CNY", by_payment=False),
        StaleStepsSkipped(skipped=1),
    )
    assert events[0].detail() == "95.00 CNY paid by the date"


def test_a_promise_short_by_a_fen_on_its_date_is_broken() -> None:
    broken, events = rules.check_promise(open_promise(paid=9_499), START + 6 * DAY, "CNY")
    assert broken.promise is not None and broken.promise.status == "broken"
    assert (broken.promises_kept, broken.promises_broken) == (1, 1)
    assert events == (PromiseBroken(paid_minor=9_499, amount_minor=10_000, currency="CNY"),)


def test_a_promise_already_kept_or_none_at_all_is_not_judged_on_the_date() -> None:
    kept = open_promise(paid=10_000)
    assert kept.promise is not None
    kept.promise.status = "kept"
    assert rules.check_promise(kept, START + 30 * DAY, "CNY") == (kept, ())
    none = case()
    assert rules.check_promise(none, START + 30 * DAY, "CNY") == (none, ())


def test_the_open_promise_the_case_shows_is_only_an_open_one() -> None:
    assert rules.open_promise_view(case()) is None
    waiting = open_promise(paid=2_000)
    assert rules.open_promise_view(waiting) == OpenPromise(
        amount_minor=10_000, promised_date=date(2026, 6, 5), paid_since_minor=2_000
    )
    assert waiting.promise is not None
    waiting.promise.status = "kept"
    assert rules.open_promise_view(waiting) is None


# --- disputes, hardship, opt-outs -----------------------------------------------------------------


def test_a_dispute_holds_the_case_and_upheld_closes_it_in_the_customer_s_favour() -> None:
    disputed, events = rules.raise_dispute(case(), ReasonInput("never took this loan"))
    assert disputed.dispute_reason == "never took this loan"
    assert events == (DisputeRaised("never took this loan"),)
    upheld = ResolveDisputeInput(upheld=True, reason="identity fraud confirmed")
    closed, events = rules.resolve_dispute(disputed, upheld, START + DAY)
    assert (closed.stage, closed.closed_reason) == (Stage.CLOSED, ClosureReason.DISPUTE_UPHELD)
    assert closed.dispute_reason == ""
    assert events == (
        DisputeResolved(upheld=True, reason="identity fraud confirmed"),
        closing(ClosureReason.DISPUTE_UPHELD, "identity fraud confirmed"),
    )


def test_a_rejected_dispute_resumes_collection_with_the_latest_reminder_due() -> None:
    disputed, _ = rules.raise_dispute(case(), ReasonInput("already paid"))
    rejected = ResolveDisputeInput(upheld=False, reason="no payment found")
    resumed, events = rules.resolve_dispute(disputed, rejected, START + OFFSETS[2] * DAY)
    assert (resumed.stage, resumed.dispute_reason, resumed.ladder_index) == (Stage.EARLY, "", 2)
    assert events == (
        DisputeResolved(upheld=False, reason="no payment found"),
        StaleStepsSkipped(skipped=2),
    )
    assert events[0].detail() == "rejected: no payment found"


def test_hardship_moves_the_case_to_risk_review_once() -> None:
    review, events = rules.report_hardship(case(), ReasonInput("lost job"))
    assert (review.stage, review.hardship_reason) == (Stage.RISK_REVIEW, "lost job")
    assert events == (
        StageChanged(Stage.EARLY, Stage.RISK_REVIEW, "hardship reported"),
        HardshipReported("lost job"),
    )
    again, events = rules.report_hardship(review, ReasonInput("also ill"))
    assert (again.stage, again.hardship_reason) == (Stage.RISK_REVIEW, "also ill")
    assert events == (HardshipReported("also ill"),)


def test_an_opt_out_holds_one_channel_until_the_customer_opts_back_in() -> None:
    out, events = rules.opt_out(case(), ChannelInput(Channel.SMS))
    assert out.opted_out == [Channel.SMS]
    assert events == (OptedOut("sms", "customer request"),)
    assert rules.opt_out(out, ChannelInput(Channel.SMS, "again")) == (out, ())
    both, events = rules.opt_out(out, ChannelInput(Channel.VOICE, "replied STOP"))
    assert both.opted_out == [Channel.SMS, Channel.VOICE]
    assert events == (OptedOut("voice", "replied STOP"),)
    back, events = rules.opt_in(both, ChannelInput(Channel.SMS))
    assert back.opted_out == [Channel.VOICE]
    assert events == (OptedIn("sms", "customer request"),)
    assert rules.opt_in(back, ChannelInput(Channel.SMS)) == (back, ())
    _, events = rules.opt_in(both, ChannelInput(Channel.VOICE, "asked for calls"))
    assert events == (OptedIn("voice", "asked for calls"),)


# --- what a case carries across continue-as-new ---------------------------------------------------


def test_the_latest_timeline_entries_and_payment_references_are_carried() -> None:
    """A payment sent again after a new run is still recognised by its reference."""
    carried = case()
    carried.timeline = [TimelineEvent(START + i * SECOND, "note", str(i)) for i in range(201)]
    carried.payment_refs = [f"P{i}" for i in range(501)]
    rules.trim_for_carry(carried, START)
    assert [e.detail for e in carried.timeline] == [str(i) for i in range(1, 201)]
    assert carried.payment_refs == [f"P{i}" for i in range(1, 501)]


# --- complaints -----------------------------------------------------------------------------------


def complaint(asks: str) -> ComplaintInput:
    return ComplaintInput(ComplaintCategory.CONTACT, ComplaintChannel.PHONE, asks)


def answer(key: str) -> ResolveComplaintInput:
    return ResolveComplaintInput(key, ComplaintOutcome.UPHELD, "we apologise; no calls at night")


def test_a_complaint_is_on_record_with_its_deadline_and_holds_collection() -> None:
    now = START + DAY
    held, events = complaint_rules.receive(case(), complaint("stop night calls"), now, "c1", "t1")
    deadline = now + STRATEGY.complaints.deadline_days * DAY
    [on_record] = held.complaints
    assert on_record.key == "c1" and on_record.task_key == "t1"
    assert on_record.category is ComplaintCategory.CONTACT
    assert on_record.channel is ComplaintChannel.PHONE
    assert on_record.asks == "stop night calls"
    assert (on_record.received_at, on_record.deadline) == (now, deadline)
    assert on_record.pauses_collection is True and complaint_rules.pausing(held)
    assert events == (
        ComplaintReceived(
            key="c1",
            category="contact",
            channel="phone",
            asks="stop night calls",
            answer_by=deadline.isoformat(),
            pauses_collection=True,
        ),
    )
    assert events[0].detail() == (
        "contact by phone, answer by 2026-06-17 01:00; collection paused: stop night calls"
    )
    both, _ = complaint_rules.receive(held, complaint("refund"), now, "c2", "t2")
    assert [c.key for c in both.complaints] == ["c1", "c2"]
    assert complaint_rules.open_complaint(both, "c2") is both.complaints[1]
    assert complaint_rules.open_complaint(both, "c3") is None


def test_a_complaint_under_a_strategy_that_does_not_pause_leaves_collection_going() -> None:
    going = replace(STRATEGY, complaints=ComplaintRules(pause_collection=False))
    held, events = complaint_rules.receive(
        case(strategy=going), complaint("too many texts"), START, "c1", "t1"
    )
    assert held.complaints[0].pauses_collection is False
    assert not complaint_rules.pausing(held)
    assert isinstance(events[0], ComplaintReceived) and events[0].pauses_collection is False


def test_a_complaint_answered_while_another_still_pauses_collection_keeps_it_paused() -> None:
    now = START + OFFSETS[2] * DAY  # two reminders went stale while collection was held
    held, _ = complaint_rules.receive(case(), complaint("night calls"), START, "c1", "t1")
    held, _ = complaint_rules.receive(held, complaint("rude collector"), START, "c2", "t2")
    one_left, events = complaint_rules.resolve(held, answer("c1"), now)
    assert [c.key for c in one_left.complaints] == ["c2"]
    assert complaint_rules.pausing(one_left)
    assert one_left.ladder_index == 0
    assert events == (ComplaintResolved("c1", "upheld", "we apologise; no calls at night"),)
    none_left, events = complaint_rules.resolve(one_left, answer("c2"), now)
    assert none_left.complaints == [] and not complaint_rules.pausing(none_left)
    assert none_left.ladder_index == 2
    assert events == (
        ComplaintResolved("c2", "upheld", "we apologise; no calls at night"),
        StaleStepsSkipped(skipped=2),
    )


def test_answering_a_complaint_that_never_held_collection_leaves_the_reminders_alone() -> None:
    going = replace(STRATEGY, complaints=ComplaintRules(pause_collection=False))
    held, _ = complaint_rules.receive(case(strategy=going), complaint("fees"), START, "c1", "t1")
    answered, events = complaint_rules.resolve(held, answer("c1"), START + OFFSETS[2] * DAY)
    assert answered.complaints == [] and answered.ladder_index == 0
    assert events == (ComplaintResolved("c1", "upheld", "we apologise; no calls at night"),)


# --- contact details ------------------------------------------------------------------------------

NEW_MOBILE = "+8613912345678"


def test_a_wrong_number_makes_both_phone_channels_unavailable_once() -> None:
    wrong, events = contact_rules.mark_number_wrong(case(), WrongNumberInput("a stranger answered"))
    assert wrong.unavailable == [Channel.SMS, Channel.VOICE]
    assert events == (NumberMarkedWrong("a stranger answered"),)
    landline = replace(case(), unavailable=[Channel.SMS])  # it could not take texts
    wrong, _ = contact_rules.mark_number_wrong(landline, WrongNumberInput("not theirs"))
    assert wrong.unavailable == [Channel.SMS, Channel.VOICE]


def test_a_new_number_opens_the_phone_channels_again_but_keeps_the_opt_outs() -> None:
    wrong, _ = contact_rules.mark_number_wrong(case(), WrongNumberInput("a stranger answered"))
    wrong.opted_out = [Channel.SMS]
    now = START + DAY
    new = ChangeMobileInput(NEW_MOBILE, ContactSource.COLLECTOR, verified=True)
    changed, events = contact_rules.change_mobile(wrong, new, now)
    assert changed.unavailable == []
    assert changed.opted_out == [Channel.SMS]
    assert changed.contact is not None
    assert (changed.contact.mobile, changed.contact.changed_at) == (NEW_MOBILE, now)
    assert changed.contact.mobile_source is ContactSource.COLLECTOR
    assert changed.contact.mobile_verified is True
    assert contact_rules.mobile_of(changed, "+8613800138000") == NEW_MOBILE
    assert events == (MobileChanged(source="collector", verified=True),)
    # The number is personal data: never in an event's fields or its text.
    assert "13912345678" not in f"{fields_of(events[0])} {events[0].detail()}"


def test_an_address_changes_alone_and_the_case_keeps_calling_the_number_it_had() -> None:
    assert contact_rules.mobile_of(case(), "+8613800138000") == "+8613800138000"
    address = ChangeAddressInput("1 Bund Road, Shanghai", ContactSource.CUSTOMER)
    moved, events = contact_rules.change_address(case(), address, START)
    assert moved.contact is not None
    assert moved.contact.address == "1 Bund Road, Shanghai"
    assert moved.contact.address_source is ContactSource.CUSTOMER
    assert moved.contact.address_verified is False
    assert moved.contact.changed_at == START
    assert contact_rules.mobile_of(moved, "+8613800138000") == "+8613800138000"
    assert events == (AddressChanged("customer", False),)
    assert "Bund" not in f"{fields_of(events[0])} {events[0].detail()}"
    # After a new number, a new address keeps that number; a wrong number stays wrong.
    new = ChangeMobileInput(NEW_MOBILE, ContactSource.CUSTOMER)
    renumbered, _ = contact_rules.change_mobile(case(), new, START)
    renumbered, _ = contact_rules.mark_number_wrong(renumbered, WrongNumberInput("disconnected"))
    verified = ChangeAddressInput("2 Bund Road", ContactSource.BANK, verified=True)
    moved, events = contact_rules.change_address(renumbered, verified, START + DAY)
    assert moved.contact is not None
    assert (moved.contact.mobile, moved.contact.address) == (NEW_MOBILE, "2 Bund Road")
    assert moved.contact.address_verified is True
    assert moved.unavailable == [Channel.SMS, Channel.VOICE]
    assert events == (AddressChanged("bank", True),)
