"""The ladder's rules at their edges: which step is due and on which channels, what a refusal or
a send's result means for the step, what a failed send says about the channels, what an attempt
leaves on record, and the policy's view of the case. No Temporal: the rules take a state and a
clock, and leave the state they were given as it was."""

from __future__ import annotations

from copy import deepcopy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from config.settings import POLICY_DIR
from config.strategy import load_strategy
from models.case_events import OptedOut, StaleStepsSkipped
from models.complaints import Complaint, ComplaintCategory, ComplaintChannel
from models.contact_events import ChannelUnavailable, ContactRefused, ContactSent
from models.contracts import (
    Assessment,
    AttemptStatus,
    CaseState,
    ClosureReason,
    PastContact,
    Promise,
    RefusalReason,
    SendResult,
    Stage,
)
from models.departments import DepartmentState
from models.strategy import Channel, LadderStep, Segment
from workflows import ladder_rules as ladder
from workflows.contact_policy import Decision
from workflows.ladder_rules import StepEnd

NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, inside the window
DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
STRATEGY = load_strategy(POLICY_DIR / "default.toml")  # medium ladder: days 0, 3, 7, 14, 21
SMS, VOICE = Channel.SMS, Channel.VOICE


def case(*, days_ago: int = 0, index: int = 0, **changes: Any) -> CaseState:
    assessment = Assessment(strategy=STRATEGY, score=40, segment=Segment.MEDIUM, lines=())
    state = CaseState(
        started_at=NOW - DAY * days_ago,
        initial_dpd=5,
        assessment=assessment,
        outstanding_minor=100_000,
        overdue_minor=40_000,
        ladder_index=index,
    )
    return replace(state, **changes)


def unchanged(rule: Any, state: CaseState, *args: Any) -> Any:
    """Runs the rule, and checks it left the state it was given as it was."""
    before = deepcopy(state)
    answer = rule(state, *args)
    assert state == before
    return answer


# --- the step ---------------------------------------------------------------------------------


def test_the_current_step_is_the_ladder_s_next_until_none_is_left() -> None:
    assert ladder.current_step(case()) == LadderStep(0, SMS, "reminder_friendly")
    assert ladder.current_step(case(index=4)) == LadderStep(21, SMS, "reminder_final")
    assert ladder.current_step(case(index=5)) is None


def test_after_a_pause_only_the_latest_overdue_step_goes() -> None:
    state = case(days_ago=7, retry_contact_at=NOW - DAY)
    changed, events = unchanged(ladder.due_step, state, NOW)
    assert changed.ladder_index == 2  # the steps of days 3 and 7 are due: day 7's goes
    assert changed.retry_contact_at is None
    assert events == (StaleStepsSkipped(2),)


def test_a_step_not_yet_stale_is_not_skipped() -> None:
    state = case(days_ago=7, retry_contact_at=NOW + DAY)
    changed, events = unchanged(ladder.due_step, state, NOW - TICK)
    assert (changed.ladder_index, changed.retry_contact_at, events) == (
        1,
        None,
        (StaleStepsSkipped(1),),
    )


def test_a_ladder_done_keeps_what_it_had() -> None:
    state = case(days_ago=40, index=5, retry_contact_at=NOW)
    assert unchanged(ladder.due_step, state, NOW) == (state, ())


@pytest.mark.parametrize(
    ("preferred", "unavailable", "channels"),
    [
        (SMS, [], [SMS, VOICE]),
        (VOICE, [], [VOICE, SMS]),
        (SMS, [SMS], [VOICE]),
        (VOICE, [SMS], [VOICE]),
        (SMS, [SMS, VOICE], [SMS]),
        (VOICE, [VOICE, SMS], [VOICE]),
    ],
)
def test_the_step_s_channel_goes_first_then_the_other_that_can_reach_the_customer(
    preferred: Channel, unavailable: list[Channel], channels: list[Channel]
) -> None:
    assert ladder.channels_for(case(unavailable=unavailable), preferred) == channels


@pytest.mark.parametrize(
    ("channel", "template", "sent"),
    [
        (SMS, "reminder_firm", "reminder_firm"),
        (SMS, "voice_reminder", "reminder_friendly"),
        (VOICE, "reminder_firm", "voice_reminder"),
        (VOICE, "voice_final", "voice_final"),
    ],
)
def test_a_step_s_template_is_the_one_its_channel_can_carry(
    channel: Channel, template: str, sent: str
) -> None:
    assert ladder.template_for(channel, template) == sent


@pytest.mark.parametrize("reason", [RefusalReason.OPTED_OUT, RefusalReason.CHANNEL_UNAVAILABLE])
def test_a_refusal_of_the_channel_tries_the_next(reason: RefusalReason) -> None:
    assert ladder.after_refusal(Decision(False, reason, NOW + DAY), NOW) is None


@pytest.mark.parametrize(
    ("earliest", "retry_at"),
    [
        (NOW + DAY, NOW + DAY),
        (NOW + MINUTE, NOW + MINUTE),
        (NOW + MINUTE - TICK, NOW + MINUTE),
        (NOW, NOW + MINUTE),
        (None, None),
    ],
)
def test_any_other_refusal_waits_a_minute_at_least_or_skips_the_step(
    earliest: datetime | None, retry_at: datetime | None
) -> None:
    decision = Decision(False, RefusalReason.OUTSIDE_WINDOW, earliest)
    assert ladder.after_refusal(decision, NOW) == StepEnd(retry_at=retry_at)


def result(status: AttemptStatus, code: int | None = None) -> SendResult:
    return SendResult(idempotency_key="case-1/0/c1", status=status, error_code=code)


@pytest.mark.parametrize("status", [AttemptStatus.QUEUED, AttemptStatus.SENT])
def test_a_send_that_went_out_ends_the_step_with_its_key(status: AttemptStatus) -> None:
    state = case()
    assert unchanged(ladder.after_send, state, SMS, result(status), NOW) == (
        (state, ()),
        StepEnd(key="case-1/0/c1"),
    )


def test_a_provider_unreachable_has_the_step_wait_an_hour() -> None:
    state = case()
    assert ladder.after_send(state, SMS, None, NOW) == ((state, ()), StepEnd(retry_at=NOW + HOUR))


def test_a_send_failed_for_no_channel_s_fault_skips_the_step() -> None:
    state = case()
    assert ladder.after_send(state, SMS, result(AttemptStatus.FAILED), NOW) == (
        (state, ()),
        StepEnd(),
    )


def test_a_send_failed_for_the_channel_s_fault_closes_it_and_tries_the_next() -> None:
    state = case()
    (changed, events), end = unchanged(
        ladder.after_send, state, SMS, result(AttemptStatus.FAILED, 30006), NOW
    )
    assert end is None
    assert changed.unavailable == [SMS]
    assert events == (ChannelUnavailable("sms", 30006),)


@pytest.mark.parametrize(
    ("channel", "code", "before", "after", "said"),
    [
        (SMS, 21211, [], [SMS, VOICE], "sms, voice"),
        (VOICE, 21211, [VOICE], [VOICE, SMS], "sms, voice"),
        (VOICE, 21614, [], [SMS], "sms"),
        (SMS, 21614, [SMS], [SMS], "sms"),
        (VOICE, 0, [], [VOICE], "voice"),
        (SMS, 21612, [VOICE], [VOICE, SMS], "sms"),
    ],
)
def test_what_a_provider_s_error_says_about_the_channels(
    channel: Channel, code: int, before: list[Channel], after: list[Channel], said: str
) -> None:
    state = case(unavailable=before)
    changed, events = unchanged(ladder.after_failure, state, channel, code)
    assert changed.unavailable == after
    assert changed.opted_out == []
    assert events == (ChannelUnavailable(said, code),)


@pytest.mark.parametrize(
    ("channel", "before", "after"),
    [(SMS, [], [SMS]), (VOICE, [], [VOICE]), (SMS, [VOICE, SMS], [VOICE, SMS])],
)
def test_an_unsubscribe_at_the_carrier_is_an_opt_out_of_the_channel(
    channel: Channel, before: list[Channel], after: list[Channel]
) -> None:
    state = case(opted_out=before)
    changed, events = unchanged(ladder.after_failure, state, channel, 21610)
    assert changed.opted_out == after
    assert changed.unavailable == []
    assert events == (OptedOut(channel, "unsubscribed at the carrier (21610)"),)


@pytest.mark.parametrize(
    ("end", "index", "retry_at"),
    [
        (StepEnd(key="case-1/0/c1"), 3, None),
        (StepEnd(key="case-1/0/c1", retry_at=NOW + DAY), 3, None),
        (StepEnd(), 3, None),
        (StepEnd(retry_at=NOW + DAY), 2, NOW + DAY),
    ],
)
def test_a_step_gone_out_or_skipped_moves_the_ladder_on_else_it_waits(
    end: StepEnd, index: int, retry_at: datetime | None
) -> None:
    state = case(index=2, retry_contact_at=NOW)
    changed = unchanged(ladder.end_step, state, end)
    assert (changed.ladder_index, changed.retry_contact_at) == (index, retry_at)


# --- what an attempt leaves on record ---------------------------------------------------------


def test_a_refusal_is_counted_with_its_reason_and_when_it_may_go() -> None:
    state = case(refused_count=4)
    later = Decision(False, RefusalReason.OUTSIDE_WINDOW, NOW + DAY)
    changed, events = unchanged(ladder.refused, state, VOICE, "voice_reminder", later)
    assert changed.refused_count == 5
    assert events == (
        ContactRefused("voice", "voice_reminder", "outside_window", "2026-06-11T02:00:00+00:00"),
    )
    never = Decision(False, RefusalReason.OPTED_OUT)
    assert ladder.refused(state, SMS, "reminder_firm", never)[1] == (
        ContactRefused("sms", "reminder_firm", "opted_out", ""),
    )


def test_an_allowed_contact_is_no_refusal() -> None:
    with pytest.raises(AssertionError):
        ladder.refused(case(), SMS, "reminder_firm", Decision(True))


def test_a_contact_that_went_out_is_counted_and_kept_for_the_policy() -> None:
    earlier = PastContact(NOW - DAY, SMS, AttemptStatus.DELIVERED, "case-1/0/c1")
    state = case(sent_count=1, contacts=[earlier])
    sent = PastContact(NOW, VOICE, AttemptStatus.QUEUED, "case-1/0/c2")
    changed, events = unchanged(ladder.sent, state, sent, "voice_reminder")
    assert changed.sent_count == 2
    assert changed.contacts == [earlier, sent]
    assert events == (ContactSent("voice", "voice_reminder"),)


# --- the policy's view of the case ------------------------------------------------------------


def context_of(state: CaseState, channel: Channel = SMS) -> Any:
    return ladder.policy_context(state, channel, NOW, time_zone="Asia/Shanghai")


def test_the_policy_sees_the_case_as_it_stands() -> None:
    contacts = [PastContact(NOW - DAY, SMS, AttemptStatus.DELIVERED, "c1")]
    state = case(
        contacts=contacts,
        opted_out=[VOICE],
        unavailable=[SMS],
        last_conversation_at=NOW - DAY,
    )
    context = context_of(state, VOICE)
    assert (context.now, context.channel, context.time_zone) == (NOW, VOICE, "Asia/Shanghai")
    assert context.rules == STRATEGY.contact
    assert context.history == tuple(contacts)
    assert (context.opted_out, context.unavailable) == (frozenset({VOICE}), frozenset({SMS}))
    assert context.last_conversation_at == NOW - DAY
    assert context.day_seconds == STRATEGY.day_seconds
    demo = replace(state.assessment, strategy=replace(STRATEGY, day_seconds=60))
    assert context_of(replace(state, assessment=demo)).day_seconds == 60
    assert not any(
        (
            context.dispute_open,
            context.paused,
            context.legal_hold,
            context.paid_in_full,
            context.closed,
        )
    )
    assert context.promise_until is None


COMPLAINT = Complaint(
    key="k",
    category=ComplaintCategory.FEES,
    channel=ComplaintChannel.LETTER,
    asks="refund",
    received_at=NOW,
    deadline=NOW + 15 * DAY,
    pauses_collection=True,
)


@pytest.mark.parametrize(
    ("changes", "dept", "paused"),
    [
        ({"paused_reason": "asked"}, {}, True),
        ({"hardship_reason": "ill"}, {}, True),
        ({}, {"plan_status": "active"}, True),
        ({}, {"plan_status": "kept"}, False),
        ({"complaints": [COMPLAINT]}, {}, True),
        ({"complaints": [replace(COMPLAINT, pauses_collection=False)]}, {}, False),
    ],
)
def test_what_pauses_contact(changes: dict[str, Any], dept: dict[str, Any], paused: bool) -> None:
    state = case(departments=DepartmentState(**dept), **changes)
    assert context_of(state).paused is paused


def promise(status: str = "open", check_at: datetime = NOW + 2 * DAY) -> Promise:
    return Promise(
        amount_minor=1,
        promised_date=date(2026, 6, 11),
        made_at=NOW,
        check_at=check_at,
        status=status,
    )


@pytest.mark.parametrize(
    ("held", "forbearance", "until"),
    [
        (promise(), None, NOW + 2 * DAY),
        (promise(status="kept"), None, None),
        (None, NOW + 5 * DAY, NOW + 5 * DAY),
        (promise(), NOW + DAY, NOW + 2 * DAY),
        (promise(check_at=NOW + DAY), NOW + 3 * DAY, NOW + 3 * DAY),
    ],
)
def test_a_promise_and_a_forbearance_hold_contact_until_the_later_ends(
    held: Promise | None, forbearance: datetime | None, until: datetime | None
) -> None:
    state = case(promise=held, departments=DepartmentState(forbearance_until=forbearance))
    assert context_of(state).promise_until == until


@pytest.mark.parametrize(
    ("referral", "allowed", "hold"),
    [("legal-1", False, True), ("legal-1", True, False), (None, False, False)],
)
def test_a_legal_referral_holds_contact_unless_legal_allows_it(
    referral: str | None, allowed: bool, hold: bool
) -> None:
    dept = DepartmentState(legal_referral=referral, legal_contact_allowed=allowed)
    assert context_of(case(departments=dept)).legal_hold is hold


def test_a_dispute_a_balance_paid_and_a_closed_case_are_seen() -> None:
    assert context_of(case(dispute_reason="not mine")).dispute_open
    assert context_of(case(outstanding_minor=0)).paid_in_full
    assert not context_of(case(outstanding_minor=1)).paid_in_full
    assert context_of(case(stage=Stage.CLOSED)).closed


def test_a_contact_allowed_now_stays_allowed_until_the_window_closes() -> None:
    late = NOW + 10 * HOUR + 30 * MINUTE  # 20:30 in Shanghai
    closes = NOW + 11 * HOUR  # 21:00
    for now in (late, closes - HOUR):
        until = ladder.allowed_until(replace(context_of(case()), now=now), HOUR)
        assert closes - timedelta(seconds=1) <= until < closes  # to the second
    just = replace(context_of(case()), now=closes - HOUR - TICK)
    assert ladder.allowed_until(just, HOUR) == closes - TICK
    # Halved down to a second: 1.7 s before the close, of 2 s, the first second is allowed.
    short = replace(context_of(case()), now=closes - timedelta(seconds=1.7))
    assert ladder.allowed_until(short, timedelta(seconds=2)) == short.now + timedelta(seconds=1)
    assert ladder.allowed_until(context_of(case()), HOUR) == NOW + HOUR


@pytest.mark.parametrize(
    ("reason", "changes", "template"),
    [
        (ClosureReason.PAID, {}, "closing_paid"),
        (ClosureReason.CURED, {}, "closing_cured"),
        (ClosureReason.SETTLED, {}, "closing_settled"),
        (ClosureReason.WRITTEN_OFF, {}, None),
        (None, {}, None),
        (ClosureReason.PAID, {"opted_out": [SMS]}, None),
        (ClosureReason.PAID, {"unavailable": [SMS]}, None),
        (ClosureReason.PAID, {"opted_out": [VOICE], "unavailable": [VOICE]}, "closing_paid"),
    ],
)
def test_a_closed_case_confirms_by_text_what_ended_it(
    reason: ClosureReason | None, changes: dict[str, Any], template: str | None
) -> None:
    assert ladder.closing_template(case(closed_reason=reason, **changes)) == template


def test_a_closing_message_is_not_collection() -> None:
    state = case(
        paused_reason="asked",
        dispute_reason="not mine",
        outstanding_minor=0,
        stage=Stage.CLOSED,
        opted_out=[VOICE],
        unavailable=[VOICE],
        promise=promise(),
        departments=DepartmentState(legal_referral="legal-1"),
    )
    full = replace(context_of(state), day_seconds=60)
    closing = ladder.closing_context(full)
    assert closing == replace(
        full,
        dispute_open=False,
        paused=False,
        promise_until=None,
        legal_hold=False,
        paid_in_full=False,
        closed=False,
        last_conversation_at=None,
    )
